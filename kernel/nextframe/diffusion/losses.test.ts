import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../engine/index";
import { createDiffusion } from "./index";
import { Generator } from "../engine/generator.js";
import { batchTensors, diffusionLosses, prepareBatch } from "./losses";

// host float64 references (diffusion_utils.py)
const kl = (m1: number, lv1: number, m2: number, lv2: number) => 0.5 * (-1 + lv2 - lv1 + Math.exp(lv1 - lv2) + (m1 - m2) ** 2 * Math.exp(-lv2));
const cdf = (x: number) => 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
function dgll(x: number, mean: number, logScale: number): number {
  const c = x - mean, inv = Math.exp(-logScale);
  const cp = cdf(inv * (c + 1 / 255)), cm = cdf(inv * (c - 1 / 255));
  if (x < -0.999) return Math.log(Math.max(cp, 1e-12));
  if (x > 0.999) return Math.log(Math.max(1 - cm, 1e-12));
  return Math.log(Math.max(cp - cm, 1e-12));
}

test("diffusionLosses: mse and the learned-Σ vb term match a float64 host computation (incl. t = 0)", async () => {
  const d = createDiffusion({}); // DiT defaults: learned sigma, rescaled mse
  const N = 3, C = 2, H = 2, W = 2, per = C * H * W;
  const rng = new Generator(3);
  const x0 = rng.randn(N * per).map((v) => Math.max(-1, Math.min(1, v * 0.5)));
  x0[0] = 1; x0[1] = -1; // exercise the edge bins
  const shape = [N, C, H, W];
  const batch = prepareBatch(d, x0, shape, 11, Int32Array.of(0, 7, 640));
  const out = rng.randn(N * 2 * per).map((v, i) => (Math.floor(i / per) % 2 === 1 ? Math.tanh(v) : v));
  const bt = batchTensors(batch, x0, shape);
  const { loss, mse, vb } = diffusionLosses(d, tensor(out, { shape: [N, 2 * C, H, W] }), bt);
  const [lossV, mseV, vbV] = [await loss.data(), await mse.data(), await vb!.data()] as Float32Array[];
  // reference
  const model = async () => out;
  const mv = await d.pMeanVariance(model, batch.xT, shape, batch.t);
  const post = d.qPosteriorMeanVariance(x0, batch.xT, shape, batch.t);
  for (let b = 0; b < N; b++) {
    let m = 0, k = 0, nll = 0;
    for (let j = 0; j < per; j++) {
      const i = b * per + j;
      m += (batch.noise[i] - out[b * 2 * per + j]) ** 2;
      k += kl(post.mean[i], post.logVarianceClipped[b], mv.mean[i], mv.logVariance[i]);
      nll -= dgll(x0[i], mv.mean[i], 0.5 * mv.logVariance[i]);
    }
    const vbRef = (batch.t[b] === 0 ? nll : k) / per / Math.LN2;
    assert.ok(Math.abs(mseV[b] - m / per) < 1e-4 * (1 + m / per), `mse ${b}`);
    assert.ok(Math.abs(vbV[b] - vbRef) < 2e-3 * (1 + Math.abs(vbRef)), `vb ${b}: ${vbV[b]} vs ${vbRef}`);
    assert.ok(Math.abs(lossV[b] - (mseV[b] + vbV[b])) < 1e-4 * (1 + Math.abs(lossV[b])));
  }
  assert.throws(() => diffusionLosses(d, tensor(out.slice(0, N * per), { shape: [N, C, H, W] }), bt), /expected 4 \(prediction \+ variance\)/);
});

test("fixed-variance diffusion: loss is plain mse against ε, x0 or v", async () => {
  for (const predict of ["epsilon", "x0", "v"] as const) {
    const d = createDiffusion({ learnSigma: false, predict });
    const x0 = new Generator(1).randn(8), shape = [2, 1, 2, 2];
    const b = prepareBatch(d, x0, shape, 5);
    const { loss, vb } = diffusionLosses(d, tensor(b.target, { shape }), batchTensors(b, x0, shape));
    assert.equal(vb, null);
    assert.deepEqual([...(await loss.data())], [0, 0]);
  }
});
