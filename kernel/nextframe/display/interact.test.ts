import { test } from "node:test";
import assert from "node:assert/strict";
import { commHandlersSymbol, kernelSinkSymbol, type KernelSink, type MimeBundle } from "../../shared/libraryContract";
import { INTERACT_TARGET_PREFIX, MIME, type InteractPayload } from "../../shared/payloads";
import { interact, parseControl } from "./interact";
import { LineChart } from "./chart";

type Shown = { bundle: MimeBundle; id: string; update: boolean };

function withSink(fn: (shown: Shown[]) => Promise<void>) {
  return async () => {
    const shown: Shown[] = [];
    const sink: KernelSink = { display: (bundle, id, update) => shown.push({ bundle, id, update }), comm: () => {} };
    (globalThis as Record<symbol, unknown>)[kernelSinkSymbol] = sink;
    try {
      await fn(shown);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[kernelSinkSymbol];
    }
  };
}

const payloadOf = (s: Shown) => s.bundle[MIME.interact] as InteractPayload;
const comm = (target: string, data: unknown) =>
  (globalThis as Record<symbol, Map<string, (d: unknown) => unknown>>)[commHandlersSymbol].get(target)!(data);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("interact shows fn(defaults) with the controls, and a fallback that names them", withSink(async (shown) => {
  const h = interact(({ scale, sampler }) => `scale ${scale} with ${sampler}`, {
    scale: [0, 10, 0.5, 3], steps: [1, 50, 1], sampler: ["ddpm", "ddim"], eta: { min: 0, max: 1, step: 0.1, value: 0.2, label: "η" },
  });
  await h.settled();
  assert.equal(shown.length, 1);
  assert.equal(shown[0].update, false);
  assert.equal(shown[0].id, h.id);
  const p = payloadOf(shown[0]);
  assert.deepEqual(p.values, { scale: 3, steps: 26, sampler: "ddpm", eta: 0.2 }, "explicit defaults, the middle of a slider, the first choice");
  assert.equal(p.target, h.target);
  assert.ok(p.target.startsWith(INTERACT_TARGET_PREFIX));
  assert.deepEqual(p.output, { mime: "text/plain", data: "scale 3 with ddpm" });
  assert.deepEqual(p.controls.map((c) => c.label), ["scale", "steps", "sampler", "η"]);
  const text = String(shown[0].bundle["text/plain"]);
  assert.match(text, /^scale 3 with ddpm\n/);
  assert.match(text, /scale = 3 \(0…10, step 0\.5\), steps = 26 \(1…50, step 1\), sampler = "ddpm" \(one of ddpm, ddim\), η = 0\.2/);
  assert.match(String(shown[0].bundle["text/html"]), /<pre>scale 3 with ddpm<\/pre><p><em>Controls .*scale = 3/);
  h.close();
}));

test("a chart's output keeps its nextframe view for the renderer and its SVG fallback for Jupyter", withSink(async (shown) => {
  const h = interact(({ a }) => new LineChart({ series: [{ name: "y", y: [0, a, 2 * a] }] }), { a: [0, 4, 1, 2] });
  await h.settled();
  const p = payloadOf(shown[0]);
  assert.equal(p.output.mime, MIME.chart);
  assert.match(String(shown[0].bundle["text/html"]), /^<img src="data:image\/svg\+xml;base64,.*<p><em>Controls .*a = 2 \(0…4, step 1\)/s);
  h.close();
}));

test("bad control specs are refused with what was expected", () => {
  assert.throws(() => parseControl("scale", [0, 10]), /control "scale" is an array of 2 numbers; expected a slider \[min, max, step\].*got \[0,10\]/);
  assert.throws(() => parseControl("scale", [10, 0, 1]), /control "scale" needs min < max/);
  assert.throws(() => parseControl("scale", [0, 10, 0]), /needs a step > 0/);
  assert.throws(() => parseControl("scale", [0, 10, 1, 11]), /default 11 outside \[0, 10\]/);
  assert.throws(() => parseControl("s", { options: ["a", "b"], value: "c" }), /default "c" that is not one of its options/);
  assert.throws(() => parseControl("s", { min: 0, max: 1, stp: 0.1 }), /unknown field stp/);
  assert.throws(() => parseControl("s", 3), /control "s" is not an array or an object/);
  assert.throws(() => interact(() => 1, {}), /second argument must be an object of named controls/);
  assert.throws(() => interact(1 as never, { a: [0, 1, 1] }), /first argument must be a function/);
});

test("moving a control re-runs fn and updates the same display id; values are clamped and snapped", withSink(async (shown) => {
  const h = interact(({ scale }) => `scale=${scale}`, { scale: [0, 10, 0.5, 3] });
  await h.settled();
  comm(h.target, { values: { scale: 7.3 } });
  await h.settled();
  comm(h.target, { values: { scale: 99, unknown: 1 } });
  await h.settled();
  assert.deepEqual(shown.map((s) => [s.id, s.update]), [[h.id, false], [h.id, true], [h.id, true]]);
  assert.deepEqual(shown.map((s) => payloadOf(s).output.data), ["scale=3", "scale=7.5", "scale=10"]);
  assert.deepEqual(h.values, { scale: 10 });
  h.close();
}));

test("latest value wins: values that arrive while a slow fn runs are dropped except the newest", withSink(async (shown) => {
  const ran: number[] = [];
  const h = interact(async ({ n }) => { ran.push(n); await sleep(30); return `n=${n}`; }, { n: [0, 100, 1, 0] });
  await sleep(5); // the first run is in flight
  for (const n of [1, 2, 3, 4, 5]) comm(h.target, { values: { n } });
  await h.settled();
  assert.deepEqual(ran, [0, 5], "no run for 1..4");
  comm(h.target, { values: { n: 6 } });
  await sleep(5);
  comm(h.target, { values: { n: 7 } });
  comm(h.target, { values: { n: 8 } });
  await h.settled();
  assert.deepEqual(ran, [0, 5, 6, 8]);
  assert.deepEqual(shown.map((s) => payloadOf(s).output.data), ["n=0", "n=5", "n=6", "n=8"]);
  assert.ok(shown.every((s) => s.id === h.id));
  h.close();
}));

test("an error in fn is shown in the output, and the next values recover", withSink(async (shown) => {
  const h = interact(({ k }) => { if (k > 1) throw new RangeError(`k=${k} is too big`); return `k=${k}`; }, { k: [0, 3, 1, 0] });
  await h.set({ k: 2 });
  const p = payloadOf(shown[1]);
  assert.equal(p.fnError, "RangeError: k=2 is too big");
  assert.match(String(shown[1].bundle["text/plain"]), /interact: fn threw for k = 2 .*RangeError: k=2 is too big/);
  await h.set({ k: 1 });
  assert.equal(payloadOf(shown[2]).fnError, undefined);
  assert.equal(payloadOf(shown[2]).output.data, "k=1");
  h.close();
  assert.equal((globalThis as Record<symbol, Map<string, unknown>>)[commHandlersSymbol].has(h.target), false, "close removes the comm handler");
}));

test("what fn displays (showTable, lineChart) becomes the output, and nothing else reaches the cell", withSink(async (shown) => {
  const { showTable } = await import("./table");
  const { lineChart } = await import("./chart");
  const t = interact(({ n }) => showTable([{ n }]), { n: [0, 4, 1, 1] });
  await t.settled();
  await t.set({ n: 2 });
  assert.deepEqual(shown.map((s) => [s.id, Object.keys(s.bundle).includes(MIME.interact)]), [[t.id, true], [t.id, true]], "only interact outputs");
  assert.equal(payloadOf(shown[1]).output.mime, MIME.table);
  assert.match(JSON.stringify(payloadOf(shown[1]).output.data), /"n"/);
  assert.match(String(shown[1].bundle["text/plain"]), /2/);
  const c = interact(async ({ a }) => { lineChart({ series: [{ name: "y", y: [0, a] }] }); }, { a: [0, 4, 1, 3] });
  await c.settled();
  assert.equal(shown.length, 3);
  assert.equal(payloadOf(shown[2]).output.mime, MIME.chart, "the chart fn displayed (and returned nothing)");
  const none = interact(() => undefined, { a: [0, 1, 1] });
  await none.settled();
  assert.match(String(payloadOf(shown[3]).fnError), /returned undefined and displayed nothing/);
  for (const h of [t, c, none]) h.close();
}));
