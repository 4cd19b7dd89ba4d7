import { test } from "node:test";
import assert from "node:assert/strict";
import { ClearTracker, ERROR_MIME, STDERR_MIME, STDOUT_MIME, StreamBatcher, bundleToItems, displayIdOf, toOutputData } from "./outputs";

const text = (d: Uint8Array) => new TextDecoder().decode(d);

test("bundles become items richest first, png decoded, JSON serialized", () => {
  const items = bundleToItems({
    "text/plain": "[chart]",
    "image/png": Buffer.from([137, 80, 78, 71]).toString("base64"),
    "application/vnd.nextframe.chart+json": { series: [1, 2] },
    "text/html": "<b>x</b>",
  });
  assert.deepEqual(items.map((i) => i.mime), ["application/vnd.nextframe.chart+json", "text/html", "image/png", "text/plain"]);
  assert.deepEqual(JSON.parse(text(items[0].data)), { series: [1, 2] });
  assert.deepEqual([...items[2].data], [137, 80, 78, 71]);
  assert.equal(text(items[3].data), "[chart]");
});

test("outputs carry ipynb metadata; display ids are recoverable", () => {
  const d = toOutputData({ kind: "display", bundle: { "text/plain": "1%" }, displayId: "nf-1", update: false });
  assert.equal(d.metadata.outputType, "display_data");
  assert.equal(displayIdOf(d.metadata), "nf-1");
  const r = toOutputData({ kind: "result", bundle: { "text/plain": "42" } }, 7);
  assert.deepEqual(r.metadata, { outputType: "execute_result", executionCount: 7 });
  assert.equal(displayIdOf(r.metadata), undefined);
  const s = toOutputData({ kind: "stream", name: "stderr", text: "warn\n" });
  assert.equal(s.items[0].mime, STDERR_MIME);
  const e = toOutputData({ kind: "error", ename: "RangeError", evalue: "too big", traceback: ["RangeError: too big", "    at f (cell:2:3)"] });
  assert.equal(e.items[0].mime, ERROR_MIME);
  assert.deepEqual(JSON.parse(text(e.items[0].data)), { name: "RangeError", message: "too big", stack: "RangeError: too big\n    at f (cell:2:3)" });
});

test("stream batches join adjacent text of one stream and keep the order across streams", () => {
  const b = new StreamBatcher();
  b.push("stdout", "a\n");
  b.push("stdout", "b\n");
  b.push("stderr", "c\n");
  b.push("stdout", "d\n");
  assert.deepEqual(b.take().map((o) => [o.name, o.text]), [["stdout", "a\nb\n"], ["stderr", "c\n"], ["stdout", "d\n"]]);
  assert.equal(b.empty, true);
  assert.equal(toOutputData(b.take()[0] ?? { kind: "stream", name: "stdout", text: "" }).items[0].mime, STDOUT_MIME);
});

test("clearOutput clears at once, or with wait just before the next output (once)", () => {
  const c = new ClearTracker();
  assert.equal(c.beforeOutput(), false, "nothing to clear at first");
  assert.equal(c.clear(false), true);
  assert.equal(c.beforeOutput(), false);
  assert.equal(c.clear(true), false, "wait: not yet");
  assert.equal(c.beforeOutput(), true, "the next output clears first");
  assert.equal(c.beforeOutput(), false, "and only that one");
  assert.equal(c.clear(true), false);
  assert.equal(c.clear(false), true, "a clear without wait after one with wait clears at once");
  assert.equal(c.beforeOutput(), false, "and the waiting one is done with it");
});
