// World Viewer message validation: only known commands/actions of bounded size cross the webview boundary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BESIDE, COLUMN_ONE, parseKernelMessage, parsePanelMessage, placeViewer, toKernelMessage, MAX_PANEL_MESSAGE_BYTES } from "./messages";
import { worldViewerHtml } from "./worldViewerHtml";

test("panel messages: known commands pass, everything else is dropped with a reason", () => {
  assert.deepEqual(parsePanelMessage({ command: "action", action: "left" }), { ok: true, value: { command: "action", action: "left" } });
  assert.deepEqual(parsePanelMessage({ command: "reset", extra: 1 }), { ok: true, value: { command: "reset" } });
  const bad = [null, "action", [1], { command: "eval", code: "x" }, { command: "action", action: "rm" },
    { command: "action", action: "left", pad: "x".repeat(MAX_PANEL_MESSAGE_BYTES) }];
  for (const m of bad) assert.equal(parsePanelMessage(m).ok, false, JSON.stringify(m)?.slice(0, 40));
  assert.deepEqual(parsePanelMessage({ command: "stop", action: "x" }), { ok: true, value: { command: "stop" } });
  for (const m of [{ command: "toString" }, { command: "__proto__" }, { command: "constructor" }]) assert.equal(parsePanelMessage(m).ok, false, m.command);
  assert.deepEqual(toKernelMessage({ command: "action", action: "space" }), { type: "action", action: "space" });
  assert.deepEqual(toKernelMessage({ command: "stop" }), { type: "stop" });
  assert.deepEqual(toKernelMessage({ command: "reset" }), { type: "reset" });
  // a panel that has loaded asks the kernel for the live session (it may have opened after playWorld ran)
  assert.deepEqual(toKernelMessage({ command: "ready" }), { type: "sync" });
});

test("kernel messages: frame needs frame+step; unknown types dropped", () => {
  assert.equal(parseKernelMessage({ type: "frame", frame: { count: 1 }, step: 2 }).ok, true);
  assert.equal(parseKernelMessage({ type: "frame", step: 2 }).ok, false);
  assert.equal(parseKernelMessage({ type: "run", code: "x" }).ok, false);
  assert.equal(parseKernelMessage({ type: "state", status: "live", steps: 0 }).ok, true);
  assert.equal(parseKernelMessage({ type: "state", status: "stopped", steps: 3, message: "why" }).ok, true);
  assert.equal(parseKernelMessage({ type: "state", status: "paused", steps: 0 }).ok, false);
  assert.equal(parseKernelMessage({ type: "state", status: "live" }).ok, false);
});

test("placement: a new viewer opens beside the notebook, an open one is never moved by kernel messages", () => {
  // new panel: the column right of the notebook's, without taking focus
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "session", notebookColumn: 1 }), { kind: "create", column: 2, preserveFocus: true });
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "message", notebookColumn: 2 }), { kind: "create", column: 3, preserveFocus: true });
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "session", notebookColumn: 9 }), { kind: "create", column: 9, preserveFocus: true });
  // remembered column, unless it is the notebook's own
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "session", notebookColumn: 1, rememberedColumn: 3 }), { kind: "create", column: 3, preserveFocus: true });
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "session", notebookColumn: 1, rememberedColumn: 1 }), { kind: "create", column: 2, preserveFocus: true });
  // no notebook editor: remembered, else beside the active editor, else column one
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "command", rememberedColumn: 2 }), { kind: "create", column: 2, preserveFocus: false });
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "command", hasActiveEditor: true }), { kind: "create", column: BESIDE, preserveFocus: false });
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "command" }), { kind: "create", column: COLUMN_ONE, preserveFocus: false });
  // a session that ended does not open a closed viewer
  assert.deepEqual(placeViewer({ exists: false, visible: false, reason: "ended", notebookColumn: 1 }), { kind: "none" });
  // open panel: frames (key replies) and a stop never reveal it, visible or not, wherever the notebook is
  for (const visible of [true, false]) {
    for (const reason of ["message", "ended"] as const) {
      assert.deepEqual(placeViewer({ exists: true, visible, reason, notebookColumn: 1, hasActiveEditor: false }), { kind: "none" });
    }
  }
  // a new session brings a hidden viewer forward in its own group without focus; the command focuses it
  assert.deepEqual(placeViewer({ exists: true, visible: false, reason: "session", notebookColumn: 1 }), { kind: "reveal", preserveFocus: true });
  assert.deepEqual(placeViewer({ exists: true, visible: true, reason: "session", notebookColumn: 1 }), { kind: "none" });
  assert.deepEqual(placeViewer({ exists: true, visible: true, reason: "command" }), { kind: "reveal", preserveFocus: false });
});

test("World Viewer HTML: nonce CSP, no inline handlers, script only by nonce", () => {
  const html = worldViewerHtml({ scriptUri: "https://x/worldViewer.js", cspSource: "https://x", nonce: "abc123" });
  assert.match(html, /default-src 'none'/);
  assert.match(html, /script-src 'nonce-abc123' 'strict-dynamic'/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.match(html, /<script type="module" nonce="abc123" src="https:\/\/x\/worldViewer.js">/);
});
