import { test } from "node:test";
import assert from "node:assert/strict";
import { AdamW, cosineSchedule, EMA, fit, makeTrainStep } from "./index.js";
import { Module, Linear, LayerNorm, Embedding, ModuleList, Parameter } from "../nn/index.js";
import { F, Tensor, tensor, manualSeed, NonFiniteGradientError, NonFiniteLossError, randn, arange, grad, zeros } from "../engine/index.js";
import { normal_ } from "../nn/init.js";
import { Generator } from "../engine/generator.js";

class MLP extends Module {
  fc1 = new Linear(2, 16);
  fc2 = new Linear(16, 1);
  forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).tanh()); }
}

// resident: parameters and moments kept in onnxruntime's tensors between steps (the default on a GPU), run
// here on the cpu so that its bookkeeping is tested everywhere
for (const resident of [false, true]) test(`an MLP learns XOR with the fused train step${resident ? " (resident)" : ""}`, async () => {
  manualSeed(1);
  const model = new MLP();
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tensor([[0], [1], [1], [0]]);
  const opt = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
  const step = makeTrainStep(model, (x, y) => F.mseLoss(model.forward(x), y), opt, { resident });
  let loss = Infinity;
  for (let i = 0; i < 300; i++) loss = await step(x, y);
  assert.ok(loss < 1e-3, `loss ${loss}`);
  assert.equal(step.traces, 1);
  assert.equal(step.step, 300);
  const pred = Array.from(await model.forward(x).data(), Number);
  assert.deepEqual(pred.map((p) => Math.abs(Math.round(p))), [0, 1, 1, 0]);
});

class Block extends Module {
  ln1 = new LayerNorm(32); qkv = new Linear(32, 96); proj = new Linear(32, 32);
  ln2 = new LayerNorm(32); fc1 = new Linear(32, 64); fc2 = new Linear(64, 32);
  forward(x: Tensor): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const qkv = this.qkv.forward(this.ln1.forward(x)).reshape([B, T, 3, 2, 16]).permute([2, 0, 3, 1, 4]); // (3, B, nh, T, hs)
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0));
    const a = F.scaledDotProductAttention(q!, k!, v!, { causal: true }).permute([0, 2, 1, 3]).reshape([B, T, 32]);
    x = x.add(this.proj.forward(a));
    return x.add(this.fc2.forward(F.gelu(this.fc1.forward(this.ln2.forward(x)), "tanh")));
  }
}
class TinyGPT extends Module {
  wte = new Embedding(10, 32); wpe = new Embedding(16, 32);
  h = new ModuleList([new Block(), new Block()]);
  lnF = new LayerNorm(32); head = new Linear(32, 10);
  forward(idx: Tensor): Tensor {
    const T = idx.shape[1]!;
    let x = this.wte.forward(idx).add(this.wpe.forward(arange(T)));
    for (const b of this.h) x = b.forward(x);
    return this.head.forward(this.lnF.forward(x));
  }
}

test("a 2-layer transformer overfits a short sequence to near-zero loss", async () => {
  manualSeed(2);
  const model = new TinyGPT();
  const seq = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9];
  const x = tensor([seq.slice(0, -1)], { dtype: "int64" });
  const y = tensor([seq.slice(1)], { dtype: "int64" });
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: 10, totalSteps: 150, maxLr: 1e-2, minLr: 1e-3 }), maxGradNorm: 1 });
  const step = makeTrainStep(model, (x, y) => F.crossEntropy(model.forward(x), y), opt);
  const { losses } = await fit({ steps: 150, step: () => step(x, y) });
  assert.ok(losses[0]! > 1.5, `first loss ${losses[0]}`);
  assert.ok(losses.at(-1)! < 0.02, `final loss ${losses.at(-1)}`);
  assert.ok(Number.isFinite(opt.lastGradNorm));
});

for (const resident of [false, true]) test(`NaN loss stops with a message naming the step and keeps the last good weights${resident ? " (resident)" : ""}`, async () => {
  manualSeed(3);
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  const step = makeTrainStep(model, (x) => model.forward(x).log().mean(), opt, { resident });
  const ok = tensor([[2, 3]]);
  // make the output positive so log is finite at first
  model.fc2.bias!._value![0] = 50;
  await step(ok);
  const good = model.parameters().map((p) => Array.from(p._value as Float32Array));
  const bad = tensor([[NaN, 1]]);
  await assert.rejects(step(bad), (e: Error) => e instanceof NonFiniteLossError && /loss is NaN at step 1/.test(e.message) && /weights are those after step 0/.test(e.message));
  assert.deepEqual(model.parameters().map((p) => Array.from(p._value as Float32Array)), good);
  assert.equal(opt.stepCount, 1);
  await step(ok); // continues from the good weights
  assert.equal(opt.stepCount, 2);
  const first = step(ok);
  await assert.rejects(step(ok), /the previous step is still running/);
  await first;
});

for (const resident of [false, true]) test(`a NaN gradient under a finite loss skips the update: weights and moments bit-identical, next step trains${resident ? " (resident)" : ""}`, async () => {
  manualSeed(4);
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 0.01, maxGradNorm: 1 });
  // k = 0: sqrt(0)'s gradient is Inf, times the 0 of mul(k) it is NaN, while the loss is exactly 1
  const step = makeTrainStep(model, (x, k) => model.forward(x).square().mul(k).sqrt().mean().add(1), opt, { resident });
  const x = tensor([[2, 3], [-1, 0.5]]);
  await step(x, tensor(1));
  await step(x, tensor(1));
  const bytes = async () => {
    await opt.syncMoments();
    const copy = (a: ArrayBufferView) => Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return [...model.parameters().map((p) => copy(p._value!)), ...opt.m.map(copy), ...opt.v.map(copy)];
  };
  const before = await bytes();
  await assert.rejects(step(x, tensor(0)), (e: Error) => {
    assert.ok(e instanceof NonFiniteGradientError && e instanceof NonFiniteLossError, String(e));
    assert.match(e.message, /trainStep: gradient norm is NaN at step 2 \(loss 1 is finite\); the update was skipped and the weights are those after step 1/);
    assert.equal((e as NonFiniteGradientError).step, 2);
    return true;
  });
  assert.equal(opt.stepCount, 2);
  assert.deepEqual(await bytes(), before);
  // the next good batch trains on from the kept state
  const loss = await step(x, tensor(1));
  assert.ok(Number.isFinite(loss) && Number.isFinite(opt.lastGradNorm));
  assert.equal(opt.stepCount, 3);
  const after = await bytes();
  assert.notDeepEqual(after, before);
  assert.ok(model.parameters().every((p) => Array.from(p._value as Float32Array).every(Number.isFinite)));
});

test("AdamW.step with a NaN gradient given by hand keeps the parameters and moments", async () => {
  manualSeed(5);
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  const ps = model.parameters();
  await opt.step(ps.map((p) => randn(p.shape)));
  const before = [...ps.map((p) => Array.from(p._value as Float32Array)), ...opt.m.map((a) => Array.from(a as Float32Array)), ...opt.v.map((a) => Array.from(a as Float32Array))];
  const grads = ps.map((p, i) => (i === 1 ? tensor(new Float32Array(p.size).fill(NaN), { shape: p.shape }) : randn(p.shape)));
  await assert.rejects(opt.step(grads), /AdamW\.step: gradient norm is NaN at step 1; the update was skipped and the weights are those after step 0/);
  assert.deepEqual([...ps.map((p) => Array.from(p._value as Float32Array)), ...opt.m.map((a) => Array.from(a as Float32Array)), ...opt.v.map((a) => Array.from(a as Float32Array))], before);
  assert.equal(opt.stepCount, 1);
});

test("loss function errors surface with the op's message", async () => {
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  const step = makeTrainStep(model, (x) => model.forward(x).mean(), opt);
  await assert.rejects(step(zeros([4, 3])), /linear: input \[4, 3\] has 3 features but weight \[16, 2\] expects 2/);
  const step2 = makeTrainStep(model, (x) => model.forward(x), opt);
  await assert.rejects(step2(zeros([4, 2])), /makeTrainStep: the loss must be a scalar, got shape \[4, 1\]/);
});

test("AdamW eager step matches a scalar reference; cosine schedule; EMA", async () => {
  const p = new Parameter(tensor([1, -2], { dtype: "float64" }));
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5, betas: [0.9, 0.99], eps: 1e-8 });
  const gfn = grad(() => p.mul(p).sum(), { params: [p] });
  let ref = [1, -2];
  const m = [0, 0], v = [0, 0];
  for (let t = 1; t <= 3; t++) {
    const [g] = await gfn();
    await opt.step([g!]);
    ref = ref.map((x, i) => {
      const gi = 2 * x;
      m[i] = 0.9 * m[i]! + 0.1 * gi; v[i] = 0.99 * v[i]! + 0.01 * gi * gi;
      const x1 = x - 0.1 * 0.5 * x;
      return x1 - 0.1 * (m[i]! / (1 - 0.9 ** t)) / (Math.sqrt(v[i]! / (1 - 0.99 ** t)) + 1e-8);
    });
  }
  const got = Array.from(await p.data(), Number);
  got.forEach((x, i) => assert.ok(Math.abs(x - ref[i]!) < 1e-12, `${got} vs ${ref}`));

  const s = cosineSchedule({ warmupSteps: 10, totalSteps: 110, maxLr: 1, minLr: 0.1 });
  assert.equal(s(0), 0.1); assert.equal(s(9), 1); assert.ok(Math.abs(s(60) - 0.55) < 1e-12); assert.equal(s(500), 0.1);
  // a fractional warm-up (trainers use steps / 10) never overshoots maxLr: 1 step → 0.1 warm-up steps, 15 → 1.5
  assert.equal(cosineSchedule({ warmupSteps: 0.1, totalSteps: 1, maxLr: 2e-3 })(0), 2e-3);
  assert.equal(cosineSchedule({ warmupSteps: 1.5, totalSteps: 15, maxLr: 1 })(1), 1);

  const model = new MLP();
  const ema = new EMA(model, 0.5);
  const before = Array.from(model.fc1.bias!._value as Float32Array);
  (model.fc1.bias!._value as Float32Array).fill(1);
  ema.update();
  const avg = ema.stateDict()["fc1.bias"]!;
  Array.from(await avg.data(), Number).forEach((x, i) => assert.ok(Math.abs(x - (0.5 * before[i]! + 0.5)) < 1e-6));
});

test("fit reports progress and stops on a non-finite loss", async () => {
  const seen: number[] = [];
  const r = await fit({ steps: 5, step: async (i) => 1 / (i + 1), onProgress: (p) => { seen.push(p.step); }, progressEveryMs: 0 });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(r.losses.length, 5);
  await assert.rejects(fit({ steps: 3, step: async (i) => (i === 1 ? Infinity : 1) }), /fit: loss is Infinity at step 1/);
  void randn;
});

for (const resident of [false, true]) test(`weights loaded or re-initialised between steps are adopted by the fused step${resident ? " (resident)" : ""}`, async () => {
  manualSeed(4);
  const model = new MLP(), other = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 1e-6, weightDecay: 0 });
  const step = makeTrainStep(model, (x) => model.forward(x).square().mean(), opt, { resident });
  const x = tensor([[1, 2]]);
  await step(x);
  model.loadStateDict(other.stateDict());
  await step(x);
  const a = Array.from(await model.fc1.weight.data(), Number), b = Array.from(await other.fc1.weight.data(), Number);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${v} vs ${b[i]}`));
  assert.notEqual(model.fc1.weight._value, other.fc1.weight._value);
  // re-initialised in place (nn.init bumps the version): the next step starts from the new values
  normal_(model.fc2.weight, 0, 0, new Generator(1));
  await step(x);
  assert.ok(Array.from(model.fc2.weight._value as Float32Array).every((v) => Math.abs(v) < 1e-4), "fc2 was zeroed before the step");
});

test("fused and eager steps share the optimizer's moments (on a GPU the fused step keeps them there)", async () => {
  // Run under NEXTFRAME_DEVICE=webgpu this checks the moments kept on the GPU: syncMoments brings them back,
  // and moments replaced on the host (an eager step) are the ones the next fused step continues from.
  const make = () => { manualSeed(5); const m = new MLP(); return { m, opt: new AdamW(m.parameters(), { lr: 0.05, weightDecay: 0.1, maxGradNorm: 1 }) }; };
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), y = tensor([[0], [1], [1], [0]]);
  const loss = (m: MLP) => F.mseLoss(m.forward(x), y);
  const eager = async (m: MLP, opt: AdamW) => opt.step(await grad(() => loss(m), { params: opt.params })());
  for (const resident of [false, true]) {
  const a = make(), b = make();
  const fused = makeTrainStep(a.m, () => loss(a.m), a.opt, { resident });
  for (let i = 0; i < 3; i++) { await fused(); await eager(b.m, b.opt); }
  await a.opt.syncMoments();
  const close = (u: ArrayLike<number>, w: ArrayLike<number>, what: string) =>
    Array.from(u).forEach((v, i) => assert.ok(Math.abs(v - w[i]!) < 1e-5, `${what}[${i}]: ${v} vs ${w[i]}`));
  const compare = (when: string) => {
    a.opt.params.forEach((p, i) => {
      close(p._value as Float32Array, b.opt.params[i]!._value as Float32Array, `${when} param ${i}`);
      close(a.opt.m[i] as Float32Array, b.opt.m[i] as Float32Array, `${when} m ${i}`);
      close(a.opt.v[i] as Float32Array, b.opt.v[i] as Float32Array, `${when} v ${i}`);
    });
  };
  compare("after 3 fused steps");
  assert.ok(a.opt.m.some((m) => (m as Float32Array).some((v) => v !== 0)), "moments were synced (not all zero)");
  await eager(a.m, a.opt); await eager(b.m, b.opt);
  await fused(); await eager(b.m, b.opt);
  await a.opt.syncMoments();
  compare("after eager then fused");
  assert.equal(a.opt.stepCount, 5);
  }
});

test("a float32 model's train step has no float64 value, so onnxruntime optimises it fully; a float64 parameter keeps exact scalars", async () => {
  // any float64 value sends a graph to "basic" optimisation (engine/session.ts); lr and the bias corrections
  // used to be fed as float64 and cost every float32 train step its extended fusions (FusedMatMul, ...)
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  assert.equal(opt.scalarDType, "float32");
  const step = makeTrainStep(model, (x, y) => F.mseLoss(model.forward(x), y), opt);
  await step(randn([4, 2]), randn([4, 1]));
  const types = [...step.session!.inputMetadata, ...step.session!.outputMetadata].map((m) => ("type" in m ? m.type : "?"));
  assert.ok(types.length > 5 && types.every((t) => t === "float32"), `types ${types}`);
  const p64 = new Parameter(tensor([1, -2], { dtype: "float64" }));
  assert.equal(new AdamW([p64, ...model.parameters()], { lr: 0.01 }).scalarDType, "float64");
});
