/**
 * Noise schedules and the closed-form coefficients of a Gaussian diffusion, in float64.
 * Follows DiT's diffusion/gaussian_diffusion.py, which is ADM's / improved DDPM's:
 * https://github.com/facebookresearch/DiT/blob/main/diffusion/gaussian_diffusion.py
 * https://github.com/openai/improved-diffusion/blob/main/improved_diffusion/gaussian_diffusion.py
 */

import { NextframeError } from "../engine/errors";

/** A β schedule by name: DDPM's "linear", or improved DDPM's "cosine" (diffusers' "squaredcos_cap_v2" is the same). */
export type BetaScheduleName = "linear" | "cosine" | "squaredcos_cap_v2";

/** np.linspace(start, stop, num, dtype=float64) */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) { out[0] = start; return out; }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = start + step * i;
  out[num - 1] = stop;
  return out;
}

/**
 * A β schedule that discretizes ᾱ(t) on [0, 1] (improved DDPM eq. 17):
 * βᵢ = min(1 − ᾱ((i+1)/T) / ᾱ(i/T), maxBeta).
 */
export function betasForAlphaBar(numDiffusionTimesteps: number, alphaBar: (t: number) => number, maxBeta = 0.999): Float64Array {
  const betas = new Float64Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps, t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * β schedules by name. "linear" is DDPM's (scaled so any T keeps the same endpoints as T = 1000);
 * "cosine" (= "squaredcos_cap_v2") is improved DDPM's ᾱ(t) = cos²((t + 0.008)/1.008 · π/2).
 */
export function getNamedBetaSchedule(name: BetaScheduleName | string, numDiffusionTimesteps: number): Float64Array {
  if (!Number.isInteger(numDiffusionTimesteps) || numDiffusionTimesteps < 1) {
    throw new NextframeError(`getNamedBetaSchedule: numDiffusionTimesteps must be a positive integer, got ${numDiffusionTimesteps}`);
  }
  if (name === "linear") {
    const scale = 1000 / numDiffusionTimesteps;
    return linspace(scale * 0.0001, scale * 0.02, numDiffusionTimesteps);
  }
  if (name === "cosine" || name === "squaredcos_cap_v2") {
    return betasForAlphaBar(numDiffusionTimesteps, (t) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2);
  }
  throw new NextframeError(`getNamedBetaSchedule: unknown beta schedule "${name}"; expected "linear" or "cosine"`);
}

/** Every per-timestep coefficient a Gaussian diffusion needs (names as in gaussian_diffusion.py, camelCased). */
export interface DiffusionCoefficients {
  numTimesteps: number;
  betas: Float64Array;
  alphasCumprod: Float64Array;            // ᾱ_t
  alphasCumprodPrev: Float64Array;        // ᾱ_{t-1}, with ᾱ_{-1} = 1
  alphasCumprodNext: Float64Array;        // ᾱ_{t+1}, with ᾱ_T = 0
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  logOneMinusAlphasCumprod: Float64Array;
  sqrtRecipAlphasCumprod: Float64Array;
  sqrtRecipm1AlphasCumprod: Float64Array;
  posteriorVariance: Float64Array;        // β̃_t = β_t (1 − ᾱ_{t-1}) / (1 − ᾱ_t)
  posteriorLogVarianceClipped: Float64Array; // log β̃_t with β̃_0 replaced by β̃_1 (β̃_0 = 0)
  posteriorMeanCoef1: Float64Array;       // coefficient of x₀ in μ̃_t
  posteriorMeanCoef2: Float64Array;       // coefficient of x_t in μ̃_t
}

/** Every per-timestep coefficient of DDPM (ᾱ_t, its square roots, the posterior's mean coefficients and log variance) from the betas, in float64. */
export function diffusionCoefficients(betasIn: ArrayLike<number>): DiffusionCoefficients {
  const T = betasIn.length;
  const betas = Float64Array.from(betasIn);
  for (let i = 0; i < T; i++) {
    if (!(betas[i] > 0 && betas[i] <= 1)) throw new NextframeError(`diffusionCoefficients: betas must lie in (0, 1], betas[${i}] = ${betas[i]}`);
  }
  const map = (f: (i: number) => number) => { const a = new Float64Array(T); for (let i = 0; i < T; i++) a[i] = f(i); return a; };
  const alphasCumprod = new Float64Array(T);
  let acc = 1;
  for (let i = 0; i < T; i++) { acc *= 1 - betas[i]; alphasCumprod[i] = acc; }
  const alphasCumprodPrev = map((i) => (i === 0 ? 1 : alphasCumprod[i - 1]));
  const alphasCumprodNext = map((i) => (i === T - 1 ? 0 : alphasCumprod[i + 1]));
  const posteriorVariance = map((i) => (betas[i] * (1 - alphasCumprodPrev[i])) / (1 - alphasCumprod[i]));
  const posteriorLogVarianceClipped = map((i) => Math.log(T > 1 && i === 0 ? posteriorVariance[1] : posteriorVariance[i]));
  return {
    numTimesteps: T,
    betas,
    alphasCumprod,
    alphasCumprodPrev,
    alphasCumprodNext,
    sqrtAlphasCumprod: map((i) => Math.sqrt(alphasCumprod[i])),
    sqrtOneMinusAlphasCumprod: map((i) => Math.sqrt(1 - alphasCumprod[i])),
    logOneMinusAlphasCumprod: map((i) => Math.log(1 - alphasCumprod[i])),
    sqrtRecipAlphasCumprod: map((i) => Math.sqrt(1 / alphasCumprod[i])),
    sqrtRecipm1AlphasCumprod: map((i) => Math.sqrt(1 / alphasCumprod[i] - 1)),
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1: map((i) => (betas[i] * Math.sqrt(alphasCumprodPrev[i])) / (1 - alphasCumprod[i])),
    posteriorMeanCoef2: map((i) => ((1 - alphasCumprodPrev[i]) * Math.sqrt(1 - betas[i])) / (1 - alphasCumprod[i])),
  };
}
