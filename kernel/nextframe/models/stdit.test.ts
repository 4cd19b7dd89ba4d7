import { test } from "node:test";
import assert from "node:assert/strict";
import { randn, tensor, withCapture } from "../engine/index";
import { Generator } from "../engine/generator.js";
import { STDiT, stditComplexity, stditConfig } from "./stdit";

const base = { hiddenSize: 32, depth: 2, numHeads: 2, patchSize: 4, frames: 4, inputSize: 8, inChannels: 2, numClasses: 3 };

function randomize(model: STDiT, seed = 1): void {
  const rng = new Generator(seed);
  for (const [name, p] of model.namedParameters()) {
    if (name === "pos_embed") continue;
    const v = p._value as Float32Array;
    for (let i = 0; i < v.length; i++) v[i] += 0.1 * rng.normal();
  }
}
const t2 = tensor(Float32Array.of(10, 500), { shape: [2] });
const y2 = tensor(Int32Array.of(0, 3), { dtype: "int32", shape: [2] });

test("STDiT factorized: spatial maps are per frame, temporal maps per position; output shape is the video's", async () => {
  const model = new STDiT(base);
  randomize(model);
  const x = randn([2, 4, 2, 8, 8], { seed: 1 });
  const { output, captured } = withCapture(() => model.forward(x, t2, y2));
  assert.deepEqual(output.shape, [2, 4, 2, 8, 8]);
  assert.deepEqual(captured.get("blocks.0.attn.spatial")!.shape, [2 * 4, 2, 4, 4]);   // (N·F, h, S, S)
  assert.deepEqual(captured.get("blocks.0.attn.temporal")!.shape, [2 * 4, 2, 4, 4]);  // (N·S, h, F, F)
  const tp = (await captured.get("blocks.1.attn.temporal")!.data()) as Float32Array;
  for (let r = 0; r < tp.length / 4; r++) assert.ok(Math.abs(tp.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.ok(((await output.data()) as Float32Array).some((v) => v !== 0));
});

test("causal in time: changing a later frame never changes earlier frames' outputs (factorized and full)", async () => {
  for (const attention of ["factorized", "full"] as const) {
    const model = new STDiT({ ...base, attention, causal: true });
    randomize(model, 2);
    const x = new Generator(3).randn(2 * 4 * 2 * 8 * 8);
    const x2 = Float32Array.from(x);
    const perFrame = 2 * 8 * 8;
    for (let i = 2 * perFrame; i < 3 * perFrame; i++) x2[i] += 1; // sample 0, frame 2
    const o1 = (await model.forward(tensor(x, { shape: [2, 4, 2, 8, 8] }), t2, y2).data()) as Float32Array;
    const o2 = (await model.forward(tensor(x2, { shape: [2, 4, 2, 8, 8] }), t2, y2).data()) as Float32Array;
    let before = 0, after = 0;
    for (let i = 0; i < 2 * perFrame; i++) before = Math.max(before, Math.abs(o1[i] - o2[i]));
    for (let i = 2 * perFrame; i < 4 * perFrame; i++) after = Math.max(after, Math.abs(o1[i] - o2[i]));
    assert.ok(before < 1e-6, `${attention}: frames 0-1 changed by ${before}`);
    assert.ok(after > 1e-3, `${attention}: frames 2-3 did not react (${after})`);
    // without causal, earlier frames do see the change
    const nc = new STDiT({ ...base, attention, causal: false });
    randomize(nc, 2);
    const p1 = (await nc.forward(tensor(x, { shape: [2, 4, 2, 8, 8] }), t2, y2).data()) as Float32Array;
    const p2 = (await nc.forward(tensor(x2, { shape: [2, 4, 2, 8, 8] }), t2, y2).data()) as Float32Array;
    let nb = 0;
    for (let i = 0; i < 2 * perFrame; i++) nb = Math.max(nb, Math.abs(p1[i] - p2[i]));
    assert.ok(nb > 1e-3, `${attention} non-causal: frames 0-1 should react`);
  }
});

test("full attention sees all f·S tokens; factorized costs fewer attention MACs, more so with more frames", () => {
  const full = new STDiT({ ...base, attention: "full" });
  const { captured, output } = withCapture(() => full.forward(randn([2, 4, 2, 8, 8]), t2, y2));
  assert.deepEqual(output.shape, [2, 4, 2, 8, 8]);
  assert.deepEqual(captured.get("blocks.0.attn")!.shape, [2, 2, 16, 16]);
  const cost = (frames: number, attention: "full" | "factorized") => stditComplexity(stditConfig({ ...base, frames, inputSize: 32, attention })).attentionMacs;
  assert.ok(cost(4, "full") > cost(4, "factorized"));
  assert.ok(cost(16, "full") / cost(16, "factorized") > cost(4, "full") / cost(4, "factorized"));
  assert.throws(() => stditConfig({ ...base, frames: 5, tubelet: 2 }), /5 frames are not divisible by the tubelet length 2/);
  assert.throws(() => new STDiT(base).forward(randn([1, 3, 2, 8, 8]), t2, y2), /x must be \(N, 4, 2, 8, 8\)/);
});

test("tubelets (pt = 2) and adaLN-Zero init: the model starts at 0", async () => {
  const m = new STDiT({ ...base, tubelet: 2 });
  const o = m.forward(randn([2, 4, 2, 8, 8]), t2, y2);
  assert.deepEqual(o.shape, [2, 4, 2, 8, 8]);
  assert.ok(((await o.data()) as Float32Array).every((v) => v === 0));
});
