/**
 * Gaussian diffusion: forward noising, posterior, and the DDPM / DDIM samplers.
 * Follows DiT's diffusion/gaussian_diffusion.py (ADM / improved DDPM):
 * https://github.com/facebookresearch/DiT/blob/main/diffusion/gaussian_diffusion.py
 *
 * Samples live in Float32Arrays of shape (N, C, ...) — batch first, channels second; the model is any
 * `DenoiseFn`, so the same samplers drive a library DiT, a compiled graph or an external ONNX file.
 * Coefficients are float64 and indexed per sample by its timestep.
 */
import { diffusionCoefficients, type DiffusionCoefficients } from "./schedule";
import { Generator } from "../engine/generator.js";
import { halt, onHalt, shouldHalt } from "../engine/interrupt";
import { NextframeError } from "../engine/errors";

/** What the model predicts. */
export type ModelMeanType = "epsilon" | "x0" | "v";
/**
 * How the reverse-process variance is chosen.
 * - fixedSmall: β̃_t (posterior variance); fixedLarge: β_t;
 * - learnedRange: the model outputs v ∈ [-1, 1] per element and log Σ = frac·log β_t + (1−frac)·log β̃_t,
 *   frac = (v + 1)/2 (improved DDPM eq. 15; what DiT uses with learn_sigma=True);
 * - learned: the model outputs log Σ directly.
 */
export type ModelVarType = "fixedSmall" | "fixedLarge" | "learnedRange" | "learned";
/** mse: simple loss only; rescaledMse/kl with a learned Σ add the variational bound term. */
export type LossType = "mse" | "rescaledMse" | "kl" | "rescaledKl";

/**
 * A denoiser: x (N, C, ...) at timesteps t (N) with optional labels y (N) → output (N, C·k, ...) where
 * k = 2 when the variance is learned. Timesteps are those of the original schedule (respacing maps them).
 */
export type DenoiseFn = (x: Float32Array, shape: readonly number[], t: Int32Array, y?: Int32Array) => Promise<Float32Array>;

/** Progress of a sampler: the step number, how many in all, and the timestep t. */
export interface SampleProgress { step: number; total: number; t: number }

/** Options of the samplers: class labels, starting noise or a seed, clipping of x₀, a progress callback and DDIM's η. */
export interface SampleOptions {
  /** labels (N) for a class-conditional model */
  y?: Int32Array;
  /** starting noise x_T (defaults to seeded N(0, I)) */
  noise?: Float32Array;
  seed?: number;
  clipDenoised?: boolean;
  /** called after each step, e.g. to update a progress bar */
  onProgress?: (p: SampleProgress) => void;
  /** DDIM only: η = 0 is deterministic DDIM, η = 1 matches DDPM's variance */
  eta?: number;
}

/** The reverse step's Gaussian at one timestep: its mean and log variance, and the predicted x₀ and ε. */
export interface MeanVariance {
  mean: Float32Array;
  logVariance: Float64Array;   // per element
  predXstart: Float32Array;
  predEps: Float32Array;
}

/** Options of GaussianDiffusion: the betas, what the model's mean output is, its variance type and the loss type. */
export interface GaussianDiffusionOptions {
  betas: ArrayLike<number>;
  modelMeanType?: ModelMeanType;
  modelVarType?: ModelVarType;
  lossType?: LossType;
}

function batchOf(shape: readonly number[], n: number, what: string): { N: number; per: number } {
  if (shape.length < 2) throw new NextframeError(`${what}: expected a shape (N, C, ...), got [${shape.join(", ")}]`);
  const N = shape[0];
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== n) throw new NextframeError(`${what}: data has ${n} elements but shape [${shape.join(", ")}] needs ${size}`);
  return { N, per: size / N };
}

/** DiT's GaussianDiffusion: the forward noising q(x_t | x_0), training targets and losses, and the DDPM and DDIM samplers over a β schedule. */
export class GaussianDiffusion {
  readonly modelMeanType: ModelMeanType;
  readonly modelVarType: ModelVarType;
  readonly lossType: LossType;
  readonly c: DiffusionCoefficients;
  readonly numTimesteps: number;

  constructor(opts: GaussianDiffusionOptions) {
    this.modelMeanType = opts.modelMeanType ?? "epsilon";
    this.modelVarType = opts.modelVarType ?? "fixedSmall";
    this.lossType = opts.lossType ?? "mse";
    this.c = diffusionCoefficients(opts.betas);
    this.numTimesteps = this.c.numTimesteps;
  }

  get learnsSigma(): boolean { return this.modelVarType === "learnedRange" || this.modelVarType === "learned"; }

  /** The timesteps the model sees for these indices (identity here; respaced diffusions map them). */
  mapTimesteps(t: Int32Array): Int32Array { return t; }

  private checkT(t: Int32Array, N: number, what: string): void {
    if (t.length !== N) throw new NextframeError(`${what}: got ${t.length} timesteps for a batch of ${N}`);
    for (const ti of t) {
      if (!(Number.isInteger(ti) && ti >= 0 && ti < this.numTimesteps)) {
        throw new NextframeError(`${what}: timestep ${ti} out of range [0, ${this.numTimesteps - 1}]`);
      }
    }
  }

  /** Mean and variance of q(x_t | x_0): sqrt(ᾱ_t) x₀ and (1 − ᾱ_t). */
  qMeanVariance(x0: Float32Array, shape: readonly number[], t: Int32Array): { mean: Float32Array; variance: Float64Array } {
    const { N, per } = batchOf(shape, x0.length, "qMeanVariance");
    this.checkT(t, N, "qMeanVariance");
    const mean = new Float32Array(x0.length), variance = new Float64Array(N);
    for (let b = 0; b < N; b++) {
      const s = this.c.sqrtAlphasCumprod[t[b]];
      variance[b] = 1 - this.c.alphasCumprod[t[b]];
      for (let i = b * per; i < (b + 1) * per; i++) mean[i] = s * x0[i];
    }
    return { mean, variance };
  }

  /** Forward noising: x_t = sqrt(ᾱ_t) x₀ + sqrt(1 − ᾱ_t) ε. */
  qSample(x0: Float32Array, shape: readonly number[], t: Int32Array, noise?: Float32Array, seed = 0): Float32Array {
    const { N, per } = batchOf(shape, x0.length, "qSample");
    this.checkT(t, N, "qSample");
    const eps = noise ?? new Generator(seed).randn(x0.length);
    if (eps.length !== x0.length) throw new NextframeError(`qSample: noise has ${eps.length} elements, x0 has ${x0.length}`);
    const out = new Float32Array(x0.length);
    for (let b = 0; b < N; b++) {
      const a = this.c.sqrtAlphasCumprod[t[b]], s = this.c.sqrtOneMinusAlphasCumprod[t[b]];
      for (let i = b * per; i < (b + 1) * per; i++) out[i] = a * x0[i] + s * eps[i];
    }
    return out;
  }

  /** Posterior q(x_{t-1} | x_t, x₀): mean μ̃ = coef1·x₀ + coef2·x_t, variance β̃_t. */
  qPosteriorMeanVariance(x0: Float32Array, xT: Float32Array, shape: readonly number[], t: Int32Array):
    { mean: Float32Array; variance: Float64Array; logVarianceClipped: Float64Array } {
    const { N, per } = batchOf(shape, x0.length, "qPosteriorMeanVariance");
    const mean = new Float32Array(x0.length), variance = new Float64Array(N), logVarianceClipped = new Float64Array(N);
    for (let b = 0; b < N; b++) {
      const c1 = this.c.posteriorMeanCoef1[t[b]], c2 = this.c.posteriorMeanCoef2[t[b]];
      variance[b] = this.c.posteriorVariance[t[b]];
      logVarianceClipped[b] = this.c.posteriorLogVarianceClipped[t[b]];
      for (let i = b * per; i < (b + 1) * per; i++) mean[i] = c1 * x0[i] + c2 * xT[i];
    }
    return { mean, variance, logVarianceClipped };
  }

  /** The regression target for this model mean type: ε, x₀, or v = sqrt(ᾱ) ε − sqrt(1−ᾱ) x₀ (Salimans & Ho 2022). */
  trainingTarget(x0: Float32Array, noise: Float32Array, shape: readonly number[], t: Int32Array): Float32Array {
    const { N, per } = batchOf(shape, x0.length, "trainingTarget");
    this.checkT(t, N, "trainingTarget");
    if (this.modelMeanType === "epsilon") return Float32Array.from(noise);
    if (this.modelMeanType === "x0") return Float32Array.from(x0);
    const out = new Float32Array(x0.length);
    for (let b = 0; b < N; b++) {
      const a = this.c.sqrtAlphasCumprod[t[b]], s = this.c.sqrtOneMinusAlphasCumprod[t[b]];
      for (let i = b * per; i < (b + 1) * per; i++) out[i] = a * noise[i] - s * x0[i];
    }
    return out;
  }

  /**
   * Runs the model and turns its output into p(x_{t-1} | x_t): mean, log-variance, predicted x₀ and ε
   * (gaussian_diffusion.py `p_mean_variance`).
   */
  async pMeanVariance(model: DenoiseFn, x: Float32Array, shape: readonly number[], t: Int32Array,
    opts: { y?: Int32Array; clipDenoised?: boolean } = {}): Promise<MeanVariance> {
    const { N, per } = batchOf(shape, x.length, "pMeanVariance");
    this.checkT(t, N, "pMeanVariance");
    const out = await model(x, shape, this.mapTimesteps(t), opts.y);
    const k = this.learnsSigma ? 2 : 1;
    if (out.length !== k * x.length) {
      throw new NextframeError(`pMeanVariance: model returned ${out.length} values for input [${shape.join(", ")}]; expected ${k * x.length} `
        + (k === 2 ? "(2·C channels: prediction and variance values, since the variance is learned)" : "(C channels)"));
    }
    const c = this.c;
    const mean = new Float32Array(x.length), predXstart = new Float32Array(x.length), predEps = new Float32Array(x.length);
    const logVariance = new Float64Array(x.length);
    for (let b = 0; b < N; b++) {
      const tb = t[b];
      const outBase = b * per * k; // model output sample b: [prediction (per), variance values (per)]
      const fixedLog = this.modelVarType === "fixedLarge"
        ? Math.log(tb === 0 ? c.posteriorVariance[Math.min(1, this.numTimesteps - 1)] : c.betas[tb])
        : c.posteriorLogVarianceClipped[tb];
      const minLog = c.posteriorLogVarianceClipped[tb], maxLog = Math.log(c.betas[tb]);
      const sa = c.sqrtAlphasCumprod[tb], s1a = c.sqrtOneMinusAlphasCumprod[tb];
      const rA = c.sqrtRecipAlphasCumprod[tb], rm1 = c.sqrtRecipm1AlphasCumprod[tb];
      const c1 = c.posteriorMeanCoef1[tb], c2 = c.posteriorMeanCoef2[tb];
      for (let j = 0; j < per; j++) {
        const i = b * per + j;
        const o = out[outBase + j];
        let lv: number;
        if (this.modelVarType === "learnedRange") {
          const frac = (out[outBase + per + j] + 1) / 2;
          lv = frac * maxLog + (1 - frac) * minLog;
        } else if (this.modelVarType === "learned") {
          lv = out[outBase + per + j];
        } else {
          lv = fixedLog;
        }
        logVariance[i] = lv;
        let x0: number;
        if (this.modelMeanType === "epsilon") x0 = rA * x[i] - rm1 * o;
        else if (this.modelMeanType === "x0") x0 = o;
        else x0 = sa * x[i] - s1a * o; // v-prediction
        if (opts.clipDenoised) x0 = Math.max(-1, Math.min(1, x0));
        predXstart[i] = x0;
        predEps[i] = (rA * x[i] - x0) / rm1;
        mean[i] = c1 * x0 + c2 * x[i];
      }
    }
    return { mean, logVariance, predXstart, predEps };
  }

  /** One ancestral DDPM step x_t → x_{t-1}: μ + [t > 0]·exp(½ log Σ)·z. */
  async pSample(model: DenoiseFn, x: Float32Array, shape: readonly number[], t: Int32Array, rng: Generator,
    opts: { y?: Int32Array; clipDenoised?: boolean } = {}): Promise<{ sample: Float32Array; predXstart: Float32Array }> {
    const mv = await this.pMeanVariance(model, x, shape, t, opts);
    const { per } = batchOf(shape, x.length, "pSample");
    const sample = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const z = rng.normal();
      const nonzero = t[Math.floor(i / per)] !== 0 ? 1 : 0;
      sample[i] = mv.mean[i] + nonzero * Math.exp(0.5 * mv.logVariance[i]) * z;
    }
    return { sample, predXstart: mv.predXstart };
  }

  /** Ancestral sampling from x_T ~ N(0, I) through every timestep (gaussian_diffusion.py `p_sample_loop`). */
  async pSampleLoop(model: DenoiseFn, shape: readonly number[], opts: SampleOptions = {}): Promise<Float32Array> {
    return this.loop(shape, opts, (x, t, rng) => this.pSample(model, x, shape, t, rng, opts).then((r) => r.sample));
  }

  /**
   * One DDIM step (Song et al. 2021, eq. 12): x_{t-1} = sqrt(ᾱ_{t-1}) x̂₀ + sqrt(1 − ᾱ_{t-1} − σ²) ε̂ + σ z,
   * σ = η · sqrt((1 − ᾱ_{t-1})/(1 − ᾱ_t)) · sqrt(1 − ᾱ_t/ᾱ_{t-1}).
   */
  async ddimSample(model: DenoiseFn, x: Float32Array, shape: readonly number[], t: Int32Array, rng: Generator,
    opts: { y?: Int32Array; clipDenoised?: boolean; eta?: number } = {}): Promise<{ sample: Float32Array; predXstart: Float32Array }> {
    const eta = opts.eta ?? 0;
    const mv = await this.pMeanVariance(model, x, shape, t, opts);
    const { N, per } = batchOf(shape, x.length, "ddimSample");
    const sample = new Float32Array(x.length);
    for (let b = 0; b < N; b++) {
      const ab = this.c.alphasCumprod[t[b]], abPrev = this.c.alphasCumprodPrev[t[b]];
      const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
      const nonzero = t[b] !== 0 ? 1 : 0;
      const cEps = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma)), cX0 = Math.sqrt(abPrev);
      for (let i = b * per; i < (b + 1) * per; i++) {
        const z = eta > 0 ? rng.normal() : 0;
        sample[i] = mv.predXstart[i] * cX0 + cEps * mv.predEps[i] + nonzero * sigma * z;
      }
    }
    return { sample, predXstart: mv.predXstart };
  }

  /** DDIM sampling through every timestep of this diffusion (respace it for fewer steps). */
  async ddimSampleLoop(model: DenoiseFn, shape: readonly number[], opts: SampleOptions = {}): Promise<Float32Array> {
    return this.loop(shape, opts, (x, t, rng) => this.ddimSample(model, x, shape, t, rng, opts).then((r) => r.sample));
  }

  private async loop(shape: readonly number[], opts: SampleOptions,
    step: (x: Float32Array, t: Int32Array, rng: Generator) => Promise<Float32Array>): Promise<Float32Array> {
    const size = shape.reduce((a, b) => a * b, 1);
    const N = shape[0];
    const rng = new Generator(opts.seed ?? 0);
    let x = opts.noise ? Float32Array.from(opts.noise) : rng.randn(size);
    if (x.length !== size) throw new NextframeError(`sample: noise has ${x.length} elements, shape [${shape.join(", ")}] needs ${size}`);
    if (opts.y && opts.y.length !== N) throw new NextframeError(`sample: got ${opts.y.length} labels for a batch of ${N}`);
    const total = this.numTimesteps;
    for (let i = total - 1, k = 0; i >= 0; i--, k++) {
      // an interrupted cell's sampling stops here for good (engine/interrupt.ts: the promise never settles)
      if (shouldHalt()) return halt(`sample: interrupted before denoising step ${k + 1} of ${total} (t = ${i})`);
      const t = new Int32Array(N).fill(i);
      x = await onHalt(null, () => step(x, t, rng), () => `sample: interrupted during denoising step ${k + 1} of ${total} (t = ${i})`);
      opts.onProgress?.({ step: k + 1, total, t: i });
    }
    return x;
  }
}

/**
 * Classifier-free guidance (Ho & Salimans 2022) as a model wrapper: one batched call on [x; x] with labels
 * [y; null], then ε = ε_uncond + s·(ε_cond − ε_uncond) on the first C (prediction) channels; the remaining
 * (variance) channels come from the conditional half. Scale 1 is the conditional model.
 */
export function classifierFreeGuidance(model: DenoiseFn, opts: { scale: number; nullClass: number }): DenoiseFn {
  return async (x, shape, t, y) => {
    if (!y) throw new NextframeError("classifierFreeGuidance: labels y are required (the guided model is class-conditional)");
    const N = shape[0], C = shape[1];
    const per = x.length / N, spatial = per / C;
    const x2 = new Float32Array(2 * x.length);
    x2.set(x, 0); x2.set(x, x.length);
    const t2 = new Int32Array(2 * N); t2.set(t, 0); t2.set(t, N);
    const y2 = new Int32Array(2 * N); y2.set(y, 0); y2.fill(opts.nullClass, N);
    const out2 = await model(x2, [2 * N, ...shape.slice(1)], t2, y2);
    const outPer = out2.length / (2 * N);
    const out = new Float32Array(N * outPer);
    const s = opts.scale;
    for (let b = 0; b < N; b++) {
      for (let j = 0; j < outPer; j++) {
        const cond = out2[b * outPer + j];
        if (j < C * spatial) {
          const uncond = out2[(N + b) * outPer + j];
          out[b * outPer + j] = uncond + s * (cond - uncond);
        } else {
          out[b * outPer + j] = cond;
        }
      }
    }
    return out;
  };
}
