/**
 * Diffusion training losses as engine ops, so they differentiate and compile into one training graph.
 * DiT's `training_losses` (gaussian_diffusion.py): mse on the prediction, plus — when Σ is learned — the
 * variational-bound term with the mean frozen (improved DDPM's L_hybrid), scaled by T/1000 for "rescaled" losses.
 * https://github.com/facebookresearch/DiT/blob/main/diffusion/gaussian_diffusion.py
 * https://github.com/facebookresearch/DiT/blob/main/diffusion/diffusion_utils.py (normal_kl, discretized LL)
 *
 * Everything that depends on t is computed on the host (`prepareBatch`) and enters the graph as small
 * (N, 1, …) tensors, so a compiled training step is traced once and fed new timesteps every call.
 */
import { Tensor, tensor, where } from "../engine/index";
import { GaussianDiffusion } from "./gaussianDiffusion";
import { Generator } from "../engine/generator.js";
import { NextframeError } from "../engine/errors";

/** Host-side data for one training batch: timesteps, noise, x_t, target and per-sample coefficients. */
export interface TrainingBatch {
  t: Int32Array;             // (N) sampled uniformly
  noise: Float32Array;       // ε
  xT: Float32Array;          // q_sample(x0, t, ε)
  target: Float32Array;      // ε, x0 or v
  coefs: Record<CoefName, Float32Array>; // (N) each
}

const COEF_NAMES = ["sqrtRecipAcp", "sqrtRecipm1Acp", "sqrtAcp", "sqrt1mAcp", "postCoef1", "postCoef2", "postLogVar", "logBeta", "isT0"] as const;
/** The names of the per-timestep diffusion coefficients the training loss graph reads. */
export type CoefName = typeof COEF_NAMES[number];

/** Samples t ~ U{0..T−1} and ε ~ N(0, I) (seeded) and computes x_t, the target and the t-dependent coefficients. */
export function prepareBatch(d: GaussianDiffusion, x0: Float32Array, shape: readonly number[], seed: number, t?: Int32Array): TrainingBatch {
  const N = shape[0];
  const rng = new Generator(seed);
  const tt = t ?? rng.randint(0, d.numTimesteps, N);
  const noise = rng.randn(x0.length);
  const xT = d.qSample(x0, shape, tt, noise);
  const target = d.trainingTarget(x0, noise, shape, tt);
  const c = d.c;
  const pick = (f: (i: number) => number) => Float32Array.from(tt, (i) => f(i));
  const coefs: Record<CoefName, Float32Array> = {
    sqrtRecipAcp: pick((i) => c.sqrtRecipAlphasCumprod[i]),
    sqrtRecipm1Acp: pick((i) => c.sqrtRecipm1AlphasCumprod[i]),
    sqrtAcp: pick((i) => c.sqrtAlphasCumprod[i]),
    sqrt1mAcp: pick((i) => c.sqrtOneMinusAlphasCumprod[i]),
    postCoef1: pick((i) => c.posteriorMeanCoef1[i]),
    postCoef2: pick((i) => c.posteriorMeanCoef2[i]),
    postLogVar: pick((i) => c.posteriorLogVarianceClipped[i]),
    logBeta: pick((i) => Math.log(c.betas[i])),
    isT0: pick((i) => (i === 0 ? 1 : 0)),
  };
  return { t: tt, noise, xT, target, coefs };
}

/** The batch as engine tensors: x0, xT, target shaped like x; each coefficient shaped (N, 1, …, 1). */
export function batchTensors(b: TrainingBatch, x0: Float32Array, shape: readonly number[]): { x0: Tensor; xT: Tensor; target: Tensor; coefs: Record<CoefName, Tensor> } {
  const bshape = [shape[0], ...shape.slice(1).map(() => 1)];
  const coefs = Object.fromEntries(COEF_NAMES.map((k) => [k, tensor(b.coefs[k], { shape: bshape })])) as Record<CoefName, Tensor>;
  return { x0: tensor(x0, { shape: [...shape] }), xT: tensor(b.xT, { shape: [...shape] }), target: tensor(b.target, { shape: [...shape] }), coefs };
}

const meanFlat = (x: Tensor) => x.mean(Array.from({ length: x.rank - 1 }, (_, i) => i + 1)); // (N)

/** KL(N(μ1, e^{lv1}) ‖ N(μ2, e^{lv2})) elementwise. */
export function normalKl(mean1: Tensor, logvar1: Tensor, mean2: Tensor, logvar2: Tensor): Tensor {
  return logvar2.sub(logvar1).add(-1).add(logvar1.sub(logvar2).exp()).add(mean1.sub(mean2).square().mul(logvar2.neg().exp())).mul(0.5);
}

/** Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) — the approximation DiT/ADM use. */
function approxStandardNormalCdf(x: Tensor): Tensor {
  return x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1).mul(0.5);
}

/** log-likelihood of data in [−1, 1] discretized to 256 bins under N(means, e^{2·logScales}). */
export function discretizedGaussianLogLikelihood(x: Tensor, means: Tensor, logScales: Tensor): Tensor {
  const centered = x.sub(means);
  const invStdv = logScales.neg().exp();
  const cdfPlus = approxStandardNormalCdf(centered.add(1 / 255).mul(invStdv));
  const cdfMin = approxStandardNormalCdf(centered.sub(1 / 255).mul(invStdv));
  const logCdfPlus = cdfPlus.clamp(1e-12).log();
  const logOneMinusCdfMin = cdfMin.neg().add(1).clamp(1e-12).log();
  const logProbs = cdfPlus.sub(cdfMin).clamp(1e-12).log();
  return where(x.lt(-0.999), logCdfPlus, where(x.gt(0.999), logOneMinusCdfMin, logProbs));
}

/**
 * DiT's training losses for a model output (N, k·C, …) at x_t: { loss, mse, vb } (each (N)).
 * learned-range Σ: vb uses the model's variance with the mean prediction detached (improved DDPM).
 */
export function diffusionLosses(d: GaussianDiffusion, modelOutput: Tensor, b: { x0: Tensor; xT: Tensor; target: Tensor; coefs: Record<CoefName, Tensor> }):
  { loss: Tensor; mse: Tensor; vb: Tensor | null } {
  const C = b.x0.shape[1];
  const k = d.learnsSigma ? 2 : 1;
  if (modelOutput.shape[1] !== k * C) {
    throw new NextframeError(`diffusionLosses: model output has ${modelOutput.shape[1]} channels, expected ${k * C} (${k === 2 ? "prediction + variance" : "prediction"})`);
  }
  const pred = k === 2 ? modelOutput.slice(1, 0, C) : modelOutput;
  const mse = meanFlat(b.target.sub(pred).square());
  if (k === 1) return { loss: mse, mse, vb: null };
  if (d.modelVarType !== "learnedRange") throw new NextframeError(`diffusionLosses: only the learnedRange variance is supported for the vb term, got ${d.modelVarType}`);
  const v = modelOutput.slice(1, C);
  const c = b.coefs;
  // p(x_{t-1}|x_t) with the mean frozen
  const predFrozen = pred.detach();
  let x0Pred: Tensor;
  if (d.modelMeanType === "epsilon") x0Pred = c.sqrtRecipAcp.mul(b.xT).sub(c.sqrtRecipm1Acp.mul(predFrozen));
  else if (d.modelMeanType === "x0") x0Pred = predFrozen;
  else x0Pred = c.sqrtAcp.mul(b.xT).sub(c.sqrt1mAcp.mul(predFrozen));
  const modelMean = c.postCoef1.mul(x0Pred).add(c.postCoef2.mul(b.xT));
  const frac = v.add(1).mul(0.5);
  const modelLogVar = frac.mul(c.logBeta).add(frac.neg().add(1).mul(c.postLogVar));
  // true posterior q(x_{t-1}|x_t, x0)
  const trueMean = c.postCoef1.mul(b.x0).add(c.postCoef2.mul(b.xT));
  const kl = meanFlat(normalKl(trueMean, c.postLogVar, modelMean, modelLogVar)).mul(1 / Math.LN2);
  const nll = meanFlat(discretizedGaussianLogLikelihood(b.x0, modelMean, modelLogVar.mul(0.5)).neg()).mul(1 / Math.LN2);
  const isT0 = c.isT0.reshape([c.isT0.shape[0]]);
  let vb = where(isT0.gt(0.5), nll, kl);
  if (d.lossType === "rescaledMse" || d.lossType === "rescaledKl") vb = vb.mul(d.numTimesteps / 1000);
  return { loss: mse.add(vb), mse, vb };
}
