/**
 * A DiT with DiT-S/8's width, heads and patch size (2 blocks, 16×16 latents, to stay well under a minute on
 * 2 cores) trained for 150 steps on a tiny 4-image dataset with DiT's loss (ε mse + learned-Σ vb) clearly
 * reduces the diffusion loss on a fixed evaluation batch (fixed t and noise, so the comparison is noiseless).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, tensor, type Tensor } from "../engine/index";
import { AdamW, makeTrainStep } from "../optim/index";
import { batchTensors, createDiffusion, diffusionLosses, prepareBatch, type CoefName } from "../diffusion/index";
import { DiT } from "./dit";

const COEFS: CoefName[] = ["sqrtRecipAcp", "sqrtRecipm1Acp", "sqrtAcp", "sqrt1mAcp", "postCoef1", "postCoef2", "postLogVar", "logBeta", "isT0"];

test("DiT-S/8-shaped model: a few hundred steps on a tiny dataset clearly reduce the diffusion loss", { timeout: 240_000 }, async () => {
  const S = 16, C = 4, B = 8, steps = 150;
  const model = new DiT("DiT-S/8", { depth: 2, inputSize: S, numClasses: 4 }, { seed: 0 });
  const diffusion = createDiffusion({}); // learned Σ, rescaled mse — DiT's training setup
  // four smooth "latents", one per class, each repeated twice in the batch
  const per = C * S * S;
  const x0 = new Float32Array(B * per);
  const y = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const k = b % 4;
    y[b] = k;
    for (let c = 0; c < C; c++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      x0[b * per + (c * S + i) * S + j] = 0.8 * Math.sin((k + 1) * (i / S) * Math.PI + c) * Math.cos((j / S) * Math.PI * (k % 2 ? 1 : 2));
    }
  }
  const shape = [B, C, S, S];
  const yT = tensor(y, { dtype: "int32", shape: [B] });
  const lossOf = (x0t: Tensor, xT: Tensor, target: Tensor, t: Tensor, yy: Tensor, ...cs: Tensor[]) => {
    const coefs = Object.fromEntries(COEFS.map((n, i) => [n, cs[i]])) as Record<CoefName, Tensor>;
    return diffusionLosses(diffusion, model.forward(xT, t, yy), { x0: x0t, xT, target, coefs });
  };
  const args = (seed: number, t?: Int32Array) => {
    const b = prepareBatch(diffusion, x0, shape, seed, t);
    const bt = batchTensors(b, x0, shape);
    return [bt.x0, bt.xT, bt.target, tensor(Float32Array.from(b.t), { shape: [B] }), yT, ...COEFS.map((k) => bt.coefs[k])];
  };
  // a fixed evaluation batch: timesteps spread over the schedule, fixed noise
  const evalArgs = args(12345, Int32Array.from({ length: B }, (_, i) => 50 + i * 120));
  const evalLoss = compile((...a: Tensor[]) => lossOf(...(a as [Tensor, Tensor, Tensor, Tensor, Tensor, ...Tensor[]])).mse.mean());
  const before = await (await evalLoss(...evalArgs)).item();

  const opt = new AdamW(model.parameters().filter((p) => p.requiresGrad), { lr: 1e-3, weightDecay: 0 });
  const step = makeTrainStep(model, (...a: Tensor[]) => lossOf(...(a as [Tensor, Tensor, Tensor, Tensor, Tensor, ...Tensor[]])).loss.mean(), opt);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await step(...args(i)));
  const after = await (await evalLoss(...evalArgs)).item();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(after < 0.5 * before, `eval mse ${before.toFixed(4)} → ${after.toFixed(4)}`);
  assert.ok(mean(losses.slice(-20)) < 0.7 * mean(losses.slice(0, 20)), `train loss ${mean(losses.slice(0, 20))} → ${mean(losses.slice(-20))}`);
});
