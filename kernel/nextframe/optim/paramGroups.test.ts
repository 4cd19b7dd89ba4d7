import { test } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { AdamW, decayGroups, makeTrainStep } from "./index.js";
import { Embedding, LayerNorm, Linear, Module, Parameter } from "../nn/index.js";
import { F, NextframeError, Tensor, grad, manualSeed, tensor } from "../engine/index.js";

/** A weight (2-D) and a bias (1-D) whose loss sum((W·x)²) leaves the bias's gradient at exactly 0. */
class WeightAndBias extends Module {
  w = new Parameter(tensor([[0.5, -1], [2, 0.25]], { dtype: "float64" }));
  b = new Parameter(tensor([1, -3], { dtype: "float64" }));
  loss(x: Tensor): Tensor { return x.matmul(this.w).square().sum().add(this.b.mul(0).sum()); }
}
const X = [1, 2];

/**
 * torch.optim.AdamW's update per parameter group, written out in float64 (torch/optim/adamw.py, single-tensor path):
 * p ← p·(1 − lr·λ_group); m, v as Adam; p ← p − lr·m̂/(√v̂ + ε).
 */
function reference(steps: number, lr: number, wdW: number, wdB: number): { w: number[]; b: number[] } {
  const w = [0.5, -1, 2, 0.25], b = [1, -3];
  const mw = [0, 0, 0, 0], vw = [0, 0, 0, 0], mb = [0, 0], vb = [0, 0];
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const adam = (p: number[], g: number[], m: number[], v: number[], wd: number, t: number) => p.forEach((x, i) => {
    m[i] = b1 * m[i]! + (1 - b1) * g[i]!; v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
    p[i] = x * (1 - lr * wd) - lr * (m[i]! / (1 - b1 ** t)) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
  });
  for (let t = 1; t <= steps; t++) {
    // y = x·W (1×2), loss = Σ y², dL/dW[i][j] = 2·x_i·y_j
    const y = [X[0]! * w[0]! + X[1]! * w[2]!, X[0]! * w[1]! + X[1]! * w[3]!];
    const gw = [2 * X[0]! * y[0]!, 2 * X[0]! * y[1]!, 2 * X[1]! * y[0]!, 2 * X[1]! * y[1]!];
    adam(w, gw, mw, vw, wdW, t);
    adam(b, [0, 0], mb, vb, wdB, t);
  }
  return { w, b };
}

const values = async (t: Tensor) => Array.from(await t.data(), Number);
const near = (got: number[], want: number[], tol: number, what: string) =>
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= tol, `${what}: ${got} vs ${want}`));

test("decayGroups: ≥ 2-D weights (matmuls, embeddings) decayed, biases and LayerNorm parameters not (nanoGPT's configure_optimizers)", () => {
  class Net extends Module { emb = new Embedding(5, 4); ln = new LayerNorm(4); fc = new Linear(4, 3); }
  const net = new Net();
  net.fc.bias!.requiresGrad = false;
  const [decay, noDecay] = decayGroups(net.parameters(), 0.1);
  assert.deepEqual([...decay.params].map((p) => p.shape), [[5, 4], [3, 4]]);
  assert.equal(decay.weightDecay, 0.1);
  assert.deepEqual([...noDecay.params].map((p) => p.shape), [[4], [4]], "LayerNorm weight and bias; the frozen fc.bias is left out");
  assert.equal(noDecay.weightDecay, 0);
  const opt = new AdamW(decayGroups(net.parameters(), 0.1), { lr: 1e-3 });
  assert.deepEqual(opt.weightDecays, [0.1, 0.1, 0, 0]);
  assert.deepEqual(opt.paramGroups.map((g) => [g.params.length, g.weightDecay]), [[2, 0.1], [2, 0]]);
});

test("parameter groups follow torch's per-group AdamW: the 1-D bias is not decayed, the weight is (eager step)", async () => {
  const m = new WeightAndBias();
  const opt = new AdamW([{ params: [m.w], weightDecay: 0.5 }, { params: [m.b], weightDecay: 0 }], { lr: 0.1 });
  const g = grad(() => m.loss(tensor([X], { dtype: "float64" })), { params: [m.w, m.b] });
  for (let t = 0; t < 3; t++) await opt.step(await g());
  const ref = reference(3, 0.1, 0.5, 0);
  near(await values(m.w), ref.w, 1e-12, "weight");
  assert.deepEqual(await values(m.b), [1, -3], "a bias with λ = 0 and zero gradient does not move");
  // the same with one group of λ 0.5: the bias shrinks by (1 − 0.1·0.5) a step
  const m2 = new WeightAndBias();
  const opt2 = new AdamW(m2.parameters(), { lr: 0.1, weightDecay: 0.5 });
  const g2 = grad(() => m2.loss(tensor([X], { dtype: "float64" })), { params: [m2.w, m2.b] });
  for (let t = 0; t < 3; t++) await opt2.step(await g2());
  near(await values(m2.b), reference(3, 0.1, 0.5, 0.5).b, 1e-12, "decayed bias");
  near(await values(m2.b), [0.95 ** 3, -3 * 0.95 ** 3], 1e-12, "decayed bias");
});

for (const resident of [false, true]) test(`the fused train step applies each group's weight decay (checked against the reference${resident ? ", resident" : ""})`, async () => {
  const m = new WeightAndBias();
  const opt = new AdamW(decayGroups(m.parameters(), 0.5), { lr: 0.1 });
  const step = makeTrainStep(m, (x) => m.loss(x), opt, { resident });
  for (let t = 0; t < 4; t++) await step(tensor([X], { dtype: "float64" }));
  const ref = reference(4, 0.1, 0.5, 0);
  near(await values(m.w), ref.w, 1e-12, "weight");
  assert.deepEqual(await values(m.b), [1, -3]);
  assert.equal(opt.stepCount, 4);
});

test("a float32 model trains with two groups in one fused graph, as the eager step does, and its state resumes exactly", async () => {
  class Net extends Module {
    fc1 = new Linear(3, 8); ln = new LayerNorm(8); fc2 = new Linear(8, 2);
    forward(x: Tensor) { return this.fc2.forward(this.ln.forward(this.fc1.forward(x)).tanh()); }
  }
  const make = () => { manualSeed(7); return new Net(); };
  const x = tensor([[1, 0, -1], [0.5, 2, 0], [-1, 1, 1], [0, 0, 2]]), y = tensor([[1, 0], [0, 1], [1, 1], [0, 0]]);
  const opts = { lr: 0.05, maxGradNorm: 1 };
  // fused, 6 steps straight
  const a = make(), optA = new AdamW(decayGroups(a.parameters(), 0.2), opts);
  const stepA = makeTrainStep(a, (x, y) => F.mseLoss(a.forward(x), y), optA);
  for (let t = 0; t < 6; t++) await stepA(x, y);
  // eager, 3 steps, state saved; a fresh model and optimizer load both and go on fused for 3 more
  const b = make(), optB = new AdamW(decayGroups(b.parameters(), 0.2), opts);
  const gb = grad(() => F.mseLoss(b.forward(x), y), { params: optB.params });
  for (let t = 0; t < 3; t++) await optB.step(await gb());
  const weights = Object.fromEntries(Object.entries(b.stateDict()).map(([k, t]) => [k, tensor((t._value as Float32Array).slice(), { shape: t.shape })]));
  const state = await optB.stateDict();
  assert.deepEqual(Array.from(state["param_groups.weight_decay"]!._value as Float64Array), [0.2, 0]);
  assert.deepEqual(Array.from(state["param_groups.size"]!._value as Int32Array), [2, 4]);
  const c = make();
  c.loadStateDict(weights);
  const optC = new AdamW(decayGroups(c.parameters(), 0.2), opts);
  optC.loadStateDict(state);
  assert.equal(optC.stepCount, 3);
  const stepC = makeTrainStep(c, (x, y) => F.mseLoss(c.forward(x), y), optC);
  for (let t = 0; t < 3; t++) await stepC(x, y);
  const pa = a.parameters(), pc = c.parameters();
  for (let i = 0; i < pa.length; i++) near(await values(pc[i]!), await values(pa[i]!), 1e-5, `parameter ${i}`);
  // the biases and LayerNorm parameters were not decayed: with λ on them too the result differs
  const d = make(), optD = new AdamW(d.parameters(), { ...opts, weightDecay: 0.2 });
  const stepD = makeTrainStep(d, (x, y) => F.mseLoss(d.forward(x), y), optD);
  for (let t = 0; t < 6; t++) await stepD(x, y);
  const diff = Math.max(...(await values(d.ln.weight!)).map((v, i) => Math.abs(v - (a.ln.weight!._value as Float32Array)[i]!)));
  assert.ok(diff > 1e-4, `LayerNorm gain decayed or not should differ, max |diff| ${diff}`);
});

test("parameter groups and optimizer state: clear errors", async () => {
  const m = new WeightAndBias();
  assert.throws(() => new AdamW([{ params: [m.w] }, { params: [m.w, m.b] }], { lr: 1 }), /more than one parameter group/);
  assert.throws(() => new AdamW([{ params: [m.w], lr: 0.1 } as never], { lr: 1 }), /may set only params and weightDecay/);
  assert.throws(() => new AdamW([{ params: [m.w], weightDecay: -1 }], { lr: 1 }), /weightDecay must be ≥ 0/);
  assert.throws(() => new AdamW([m.w, { params: [m.b] }] as never, { lr: 1 }), /not a mix/);
  assert.throws(() => new AdamW([{ params: [] }], { lr: 1 }), NextframeError);
  const grouped = new AdamW(decayGroups(m.parameters(), 0.1), { lr: 1 });
  const plain = new AdamW(m.parameters(), { lr: 1, weightDecay: 0.1 });
  assert.throws(() => plain.loadStateDict(new Map()), /missing step/);
  const sd = await grouped.stateDict();
  assert.throws(() => plain.loadStateDict(sd), /param_groups.size is \[1,1\].*\[2\].*param_groups.weight_decay is \[0.1,0\]/);
  // with two groups of different λ, update() needs a λ per tensor when it is not given the parameters themselves
  const s = { lr: tensor(0.1), biasCorrection1: tensor(0.1), sqrtBiasCorrection2: tensor(0.1) };
  assert.throws(() => grouped.update([m.w], [m.w], [m.w], [m.w], s), /weight decays/);
});

// torch.optim.AdamW itself, with the same two groups and the same gradients, in float64 (Debian's python3-torch;
// $NEXTFRAME_PYTHON overrides). Skips, saying why, where torch is missing, except in CI, which installs it.
const PY = process.env.NEXTFRAME_PYTHON ?? "/usr/bin/python3";
const torchMissing = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" }).status === 0 ? null : `${PY} cannot import torch`;
const TORCH_ADAMW = `
import json, sys, torch
d = json.load(sys.stdin)
ps = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in d["params"]]
groups = [{"params": [ps[i] for i in g["idx"]], "weight_decay": g["wd"]} for g in d["groups"]]
opt = torch.optim.AdamW(groups, lr=d["lr"], betas=tuple(d["betas"]), eps=d["eps"])
for grads in d["grads"]:
    for p, g in zip(ps, grads): p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()
json.dump([p.detach().flatten().tolist() for p in ps], sys.stdout)
`;

for (const fused of [false, true]) test(`parameter groups equal torch.optim.AdamW's (${fused ? "fused train step" : "eager step"}, float64, 5 steps)`, { skip: torchMissing && process.env.CI !== "true" ? `${torchMissing}; install python3-torch (CI installs it)` : false }, async () => {
  const init = [[[0.5, -1, 0.3], [2, 0.25, -0.7]], [1, -3, 0.5], [1.2, 0.8]];
  const W = new Parameter(tensor(init[0]!, { dtype: "float64" })), b = new Parameter(tensor(init[1]!, { dtype: "float64" }));
  const g = new Parameter(tensor(init[2]!, { dtype: "float64" }));
  class Net extends Module { W = W; b = b; g = g; }
  const net = new Net();
  const grads = Array.from({ length: 5 }, (_, t) => [
    [[0.3 - t, 0.1 * t, -0.5], [1, -0.2 * t, 0.05]], [0.2 * t, -0.4, 1 - t], [0.7, -0.1 * t * t],
  ]);
  const lr = 0.05, betas: [number, number] = [0.85, 0.99], eps = 1e-6;
  const opt = new AdamW(decayGroups(net.parameters(), 0.3), { lr, betas, eps });
  assert.deepEqual(opt.paramGroups.map((gr) => gr.params.length), [1, 2]);
  if (fused) {
    const step = makeTrainStep(net, (gW, gb, gg) => W.mul(gW).sum().add(b.mul(gb).sum()).add(g.mul(gg).sum()), opt);
    for (const [gW, gb, gg] of grads) await step(tensor(gW!, { dtype: "float64" }), tensor(gb!, { dtype: "float64" }), tensor(gg!, { dtype: "float64" }));
  } else {
    for (const gs of grads) await opt.step(gs.map((x) => tensor(x, { dtype: "float64" })));
  }
  const r = spawnSync(PY, ["-c", TORCH_ADAMW], {
    encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" },
    input: JSON.stringify({ params: init, groups: [{ idx: [0], wd: 0.3 }, { idx: [1, 2], wd: 0 }], lr, betas, eps, grads }),
  });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as number[][];
  const got = [await values(W), await values(b), await values(g)];
  got.forEach((p, i) => near(p, want[i]!, 1e-12, `parameter ${i}`));
  assert.ok(want[1]!.some((v, i) => v !== init[1]![i]), "the bias moved (its gradient is not zero), without decay");
});
