// Frame-quality metrics and frame-space baselines for next-frame prediction (chapter 7).
//
// PSNR (peak signal-to-noise ratio) and SSIM (Wang, Bovik, Sheikh, Simoncelli 2004, "Image quality
// assessment: from error visibility to structural similarity", https://www.cns.nyu.edu/pub/eero/wang03-reprint.pdf)
// on typed arrays in (H, W, C) layout; rollouts are (T, H, W, C). The two baselines every world model must
// beat: copy the last frame, and extrapolate linearly from the last two.

import { NextframeError } from "../engine/errors";

/** Frame pixels as a typed array in (H, W, C) layout, or (T, H, W, C) for a rollout. */
export type Pixels = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;

/** A frame's height, width and channel count, for metrics that take flat pixel arrays. */
export interface FrameShape {
  height: number;
  width: number;
  /** 1 (grayscale) or 3 (RGB); any count works. */
  channels: number;
}

function sameLength(op: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new NextframeError(`${op}: arrays differ in length (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new NextframeError(`${op}: empty arrays`);
}

function frameSize(op: string, s: FrameShape): number {
  for (const k of ["height", "width", "channels"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new NextframeError(`${op}: ${k} must be a positive integer, got ${s[k]}`);
  }
  return s.height * s.width * s.channels;
}

/** Mean squared error. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength("mse", a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
}

/** PSNR in dB: 10·log10(max² / MSE). Identical inputs give Infinity. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, maxVal = 255): number {
  const m = mse(a, b);
  return m === 0 ? Infinity : 10 * Math.log10((maxVal * maxVal) / m);
}

/** Options of ssim: the frame shape, the pixel range, the window (the paper's 11×11 Gaussian or 8×8 boxes) and luma-only. */
export interface SsimOptions extends FrameShape {
  maxVal?: number;
  /** "gaussian": 11×11, σ = 1.5 (the paper's); "box8": 8×8 uniform windows. Shrinks to fit small frames. */
  window?: "gaussian" | "box8";
  /** Convert RGB to luma (ITU-R BT.601) first, as many papers do; else average SSIM over channels. */
  grayscale?: boolean;
}

function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) { k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)); s += k[i]; }
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

/** 'valid' separable filtering of an (H, W) plane with a 1-D kernel along both axes. */
function filterValid(x: Float64Array, H: number, W: number, k: Float64Array): Float64Array {
  const K = k.length, Ho = H - K + 1, Wo = W - K + 1;
  const tmp = new Float64Array(H * Wo);
  for (let y = 0; y < H; y++) for (let xo = 0; xo < Wo; xo++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += k[j] * x[y * W + xo + j];
    tmp[y * Wo + xo] = s;
  }
  const out = new Float64Array(Ho * Wo);
  for (let yo = 0; yo < Ho; yo++) for (let xo = 0; xo < Wo; xo++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += k[j] * tmp[(yo + j) * Wo + xo];
    out[yo * Wo + xo] = s;
  }
  return out;
}

function ssimPlane(x: Float64Array, y: Float64Array, H: number, W: number, k: Float64Array, L: number): number {
  const C1 = (0.01 * L) ** 2, C2 = (0.03 * L) ** 2;
  const n = H * W;
  const xx = new Float64Array(n), yy = new Float64Array(n), xy = new Float64Array(n);
  for (let i = 0; i < n; i++) { xx[i] = x[i] * x[i]; yy[i] = y[i] * y[i]; xy[i] = x[i] * y[i]; }
  const mx = filterValid(x, H, W, k), my = filterValid(y, H, W, k);
  const sxx = filterValid(xx, H, W, k), syy = filterValid(yy, H, W, k), sxy = filterValid(xy, H, W, k);
  let s = 0;
  for (let i = 0; i < mx.length; i++) {
    const vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cxy = sxy[i] - mx[i] * my[i];
    s += ((2 * mx[i] * my[i] + C1) * (2 * cxy + C2)) / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
  }
  return s / mx.length;
}

/** Mean SSIM of two frames in (H, W, C) layout. Identical frames give exactly 1. */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, opts: SsimOptions): number {
  sameLength("ssim", a, b);
  const size = frameSize("ssim", opts);
  if (a.length !== size) throw new NextframeError(`ssim: frame has ${a.length} values, expected height·width·channels = ${size}`);
  const { height: H, width: W, channels: C } = opts;
  const L = opts.maxVal ?? 255;
  const maxK = Math.min(H, W);
  let k: Float64Array;
  if ((opts.window ?? "gaussian") === "gaussian") {
    let K = Math.min(11, maxK % 2 ? maxK : maxK - 1);
    if (K < 1) K = 1;
    k = gaussianKernel(K, 1.5);
  } else {
    const K = Math.min(8, maxK);
    k = new Float64Array(K).fill(1 / K);
  }
  const planes: [Float64Array, Float64Array][] = [];
  if (opts.grayscale && C === 3) {
    const x = new Float64Array(H * W), y = new Float64Array(H * W);
    for (let i = 0; i < H * W; i++) {
      x[i] = 0.299 * a[3 * i] + 0.587 * a[3 * i + 1] + 0.114 * a[3 * i + 2];
      y[i] = 0.299 * b[3 * i] + 0.587 * b[3 * i + 1] + 0.114 * b[3 * i + 2];
    }
    planes.push([x, y]);
  } else {
    for (let c = 0; c < C; c++) {
      const x = new Float64Array(H * W), y = new Float64Array(H * W);
      for (let i = 0; i < H * W; i++) { x[i] = a[i * C + c]; y[i] = b[i * C + c]; }
      planes.push([x, y]);
    }
  }
  let s = 0;
  for (const [x, y] of planes) s += ssimPlane(x, y, H, W, k, L);
  return s / planes.length;
}

// ───────────────────────────── curves over the horizon ─────────────────────────────

/** Options of horizonCurve: the frame shape, the metric (PSNR, SSIM or MSE) and its settings. */
export interface CurveOptions extends FrameShape {
  metric: "psnr" | "ssim" | "mse";
  maxVal?: number;
  /** PSNR of a perfect frame is Infinity; curves cap it here so means stay finite (default 100 dB). */
  capDb?: number;
  window?: SsimOptions["window"];
  grayscale?: boolean;
}

/**
 * Metric per frame of a rollout against the truth, both (T, H, W, C) with the same T: curve[k] is the
 * quality at horizon k + 1 when the rollout starts right after the context.
 */
export function horizonCurve(pred: Pixels, truth: Pixels, opts: CurveOptions): Float64Array {
  const F = frameSize("horizonCurve", opts);
  sameLength("horizonCurve", pred, truth);
  if (pred.length % F !== 0) throw new NextframeError(`horizonCurve: length ${pred.length} is not a whole number of ${opts.height}×${opts.width}×${opts.channels} frames`);
  const T = pred.length / F;
  const out = new Float64Array(T);
  const cap = opts.capDb ?? 100;
  for (let t = 0; t < T; t++) {
    const p = pred.subarray(t * F, (t + 1) * F), g = truth.subarray(t * F, (t + 1) * F);
    out[t] =
      opts.metric === "psnr" ? Math.min(cap, psnr(p, g, opts.maxVal ?? 255)) :
      opts.metric === "mse" ? mse(p, g) :
      ssim(p, g, { ...opts, maxVal: opts.maxVal ?? 255 });
  }
  return out;
}

/** Element-wise mean of several equally long curves (e.g. one per clip). */
export function meanCurve(curves: ArrayLike<number>[]): Float64Array {
  if (curves.length === 0) throw new NextframeError("meanCurve: no curves");
  const T = curves[0].length;
  const out = new Float64Array(T);
  curves.forEach((c, i) => {
    if (c.length !== T) throw new NextframeError(`meanCurve: curve ${i} has ${c.length} points, curve 0 has ${T}`);
    for (let t = 0; t < T; t++) out[t] += c[t] / curves.length;
  });
  return out;
}

// ───────────────────────────── baselines ─────────────────────────────

function contextFrames(op: string, context: Pixels, F: number, need: number): number {
  if (!Number.isInteger(F) || F < 1) throw new NextframeError(`${op}: frameSize must be a positive integer, got ${F}`);
  if (context.length % F !== 0) throw new NextframeError(`${op}: context length ${context.length} is not a multiple of frameSize ${F}`);
  const T = context.length / F;
  if (T < need) throw new NextframeError(`${op}: needs at least ${need} context frame${need > 1 ? "s" : ""}, got ${T}`);
  return T;
}

function alloc<A extends Pixels>(like: A, n: number): A {
  return new (like.constructor as new (n: number) => A)(n);
}

/** Predict `horizon` frames by repeating the last context frame. */
export function copyLastFrame<A extends Pixels>(context: A, frameSize: number, horizon: number): A {
  const T = contextFrames("copyLastFrame", context, frameSize, 1);
  if (!Number.isInteger(horizon) || horizon < 0) throw new NextframeError(`copyLastFrame: horizon must be a non-negative integer, got ${horizon}`);
  const last = context.subarray((T - 1) * frameSize, T * frameSize);
  const out = alloc(context, horizon * frameSize);
  for (let k = 0; k < horizon; k++) out.set(last, k * frameSize);
  return out;
}

/**
 * Predict `horizon` frames by extending the last change per pixel: f(T−1+k) = f(T−1) + k·(f(T−1) − f(T−2)).
 * Uint8 outputs are clamped to [0, 255]; float outputs to `clamp` when given.
 */
export function linearExtrapolation<A extends Pixels>(context: A, frameSize: number, horizon: number, clamp?: [number, number]): A {
  const T = contextFrames("linearExtrapolation", context, frameSize, 2);
  if (!Number.isInteger(horizon) || horizon < 0) throw new NextframeError(`linearExtrapolation: horizon must be a non-negative integer, got ${horizon}`);
  const a = context.subarray((T - 2) * frameSize, (T - 1) * frameSize);
  const b = context.subarray((T - 1) * frameSize, T * frameSize);
  const out = alloc(context, horizon * frameSize);
  const isByte = context instanceof Uint8Array || context instanceof Uint8ClampedArray;
  const [lo, hi] = clamp ?? (isByte ? [0, 255] : [-Infinity, Infinity]);
  for (let k = 1; k <= horizon; k++) {
    const o = (k - 1) * frameSize;
    for (let i = 0; i < frameSize; i++) {
      const v = b[i] + k * (b[i] - a[i]);
      out[o + i] = v < lo ? lo : v > hi ? hi : isByte ? Math.round(v) : v;
    }
  }
  return out;
}

// ───────────────────────────── surprise ─────────────────────────────

/**
 * Surprise test summary (chapter 8): losses of a model on lawful clips vs clips that break the world's
 * rules. `auc` is the probability that a random violating clip has a higher loss than a random lawful one
 * (0.5 = the model cannot tell them apart).
 */
export function surpriseScore(lawful: ArrayLike<number>, violating: ArrayLike<number>): { meanLawful: number; meanViolating: number; ratio: number; auc: number } {
  if (lawful.length === 0 || violating.length === 0) throw new NextframeError("surpriseScore: need at least one lawful and one violating loss");
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;
  let wins = 0;
  for (let i = 0; i < violating.length; i++) for (let j = 0; j < lawful.length; j++) {
    wins += violating[i] > lawful[j] ? 1 : violating[i] === lawful[j] ? 0.5 : 0;
  }
  const ml = mean(lawful), mv = mean(violating);
  return { meanLawful: ml, meanViolating: mv, ratio: mv / ml, auc: wins / (lawful.length * violating.length) };
}
