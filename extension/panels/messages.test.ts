// World Viewer message validation: only known commands/actions of bounded size cross the webview boundary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKernelMessage, parsePanelMessage, toKernelMessage, MAX_PANEL_MESSAGE_BYTES } from "./messages";
import { worldViewerHtml } from "./worldViewerHtml";

test("panel messages: known commands pass, everything else is dropped with a reason", () => {
  assert.deepEqual(parsePanelMessage({ command: "action", action: "left" }), { ok: true, value: { command: "action", action: "left" } });
  assert.deepEqual(parsePanelMessage({ command: "reset", extra: 1 }), { ok: true, value: { command: "reset" } });
  const bad = [null, "action", [1], { command: "eval", code: "x" }, { command: "action", action: "rm" },
    { command: "action", action: "left", pad: "x".repeat(MAX_PANEL_MESSAGE_BYTES) }];
  for (const m of bad) assert.equal(parsePanelMessage(m).ok, false, JSON.stringify(m)?.slice(0, 40));
  assert.deepEqual(toKernelMessage({ command: "action", action: "space" }), { type: "action", action: "space" });
  assert.equal(toKernelMessage({ command: "ready" }), undefined);
});

test("kernel messages: frame needs frame+step; unknown types dropped", () => {
  assert.equal(parseKernelMessage({ type: "frame", frame: { count: 1 }, step: 2 }).ok, true);
  assert.equal(parseKernelMessage({ type: "frame", step: 2 }).ok, false);
  assert.equal(parseKernelMessage({ type: "run", code: "x" }).ok, false);
});

test("World Viewer HTML: nonce CSP, no inline handlers, script only by nonce", () => {
  const html = worldViewerHtml({ scriptUri: "https://x/worldViewer.js", cspSource: "https://x", nonce: "abc123" });
  assert.match(html, /default-src 'none'/);
  assert.match(html, /script-src 'nonce-abc123' 'strict-dynamic'/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.match(html, /<script type="module" nonce="abc123" src="https:\/\/x\/worldViewer.js">/);
});
