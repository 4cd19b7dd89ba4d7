import { test } from "node:test";
import assert from "node:assert/strict";
import { commHandlersSymbol, kernelSinkSymbol } from "../../shared/libraryContract";
import {
  display, isDisplayHandle, mimeBundleSymbol, onComm, sendComm, toMimeBundle, type KernelSink, type MimeBundle,
} from "./display";

type Shown = { bundle: MimeBundle; id: string; update: boolean };

function withSink(fn: (shown: Shown[], comms: [string, unknown][]) => Promise<void> | void) {
  return async () => {
    const shown: Shown[] = [];
    const comms: [string, unknown][] = [];
    const sink: KernelSink = {
      display: (bundle, id, update) => shown.push({ bundle, id, update }),
      comm: (target, data) => comms.push([target, data]),
    };
    (globalThis as Record<symbol, unknown>)[kernelSinkSymbol] = sink;
    try {
      await fn(shown, comms);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[kernelSinkSymbol];
    }
  };
}

test("display sends bundles to the kernel sink and updates by id", withSink((shown) => {
  const h = display("step 1");
  h.update("step 2");
  display.json({ a: 1 });
  assert.equal(shown.length, 3);
  assert.deepEqual(shown[0], { bundle: { "text/plain": "step 1" }, id: h.id, update: false });
  assert.deepEqual(shown[1], { bundle: { "text/plain": "step 2" }, id: h.id, update: true });
  assert.deepEqual(shown[2].bundle["application/json"], { a: 1 });
  assert.notEqual(shown[2].id, h.id);
  assert.equal(isDisplayHandle(h), true);
  assert.equal(isDisplayHandle({ id: h.id, update: h.update }), false);
}));

test("display awaits an object's asynchronous mime bundle", withSink(async (shown) => {
  const rich = { async [mimeBundleSymbol]() { return { "text/html": "<b>x</b>" }; } };
  display(rich);
  assert.equal(shown.length, 0, "an async bundle arrives after the promise resolves");
  await new Promise((r) => setImmediate(r));
  assert.equal(shown.length, 1);
  assert.equal(shown[0].bundle["text/html"], "<b>x</b>");
  assert.equal(typeof shown[0].bundle["text/plain"], "string", "text/plain is added when missing");
}));

test("display.png is base64, markdown/html/svg carry text/plain", withSink((shown) => {
  display.png(new Uint8Array([137, 80, 78, 71]));
  display.markdown("# hi");
  display.svg("<svg/>");
  assert.equal(shown[0].bundle["image/png"], "iVBORw==");
  assert.equal(shown[1].bundle["text/markdown"], "# hi");
  assert.equal(shown[2].bundle["image/svg+xml"], "<svg/>");
  for (const s of shown) assert.equal(typeof s.bundle["text/plain"], "string");
}));

test("without a kernel display prints text/plain to stdout", () => {
  const written: string[] = [];
  const orig = process.stdout.write;
  process.stdout.write = ((s: string) => { written.push(String(s)); return true; }) as typeof process.stdout.write;
  try {
    display.text("hello script");
    sendComm("worldViewer", { type: "frame" }); // no kernel: nothing happens, nothing throws
  } finally {
    process.stdout.write = orig;
  }
  assert.deepEqual(written, ["hello script\n"]);
});

test("onComm registers in the kernel's handler table and sendComm reaches the sink", withSink((_shown, comms) => {
  const off = onComm("worldViewer", (d) => ({ echo: d }));
  const table = (globalThis as Record<symbol, Map<string, (d: unknown) => unknown>>)[commHandlersSymbol];
  assert.deepEqual(table.get("worldViewer")!({ type: "action", action: "left" }), { echo: { type: "action", action: "left" } });
  off();
  assert.equal(table.has("worldViewer"), false);
  sendComm("worldViewer", { type: "frame", n: 1 });
  assert.deepEqual(comms, [["worldViewer", { type: "frame", n: 1 }]]);
}));

test("toMimeBundle rejects a bundle method that returns a non-object, naming the symbol", async () => {
  const bad = { [mimeBundleSymbol]: () => 42 as unknown as MimeBundle };
  await assert.rejects(toMimeBundle(bad), /nextframe\.mimeBundle.*got number/);
});
