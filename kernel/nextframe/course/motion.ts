// Chapter 7: does the model move what it sees? The motion test, next-latent error against copy-last, and the
// latent-space baselines (extrapolation with a fitted gain, a fitted local linear rule).

import { tensor } from "../engine/index.js";
import { Generator, hashSeed } from "../engine/generator.js";
import type { VideoClip } from "../worlds/videoWorld";
import { anchorDecoded, noisyNextLatent, windowFrameIndices, WorldModel, worldModelDiffusion } from "../models/worldModel";
import { Autoencoder, framesToTensor, tensorDataToFrames } from "../models/autoencoder";
import { findColorBlob, PERMANENCE_DEFAULTS, scoreReappearance } from "../metrics/permanence";
import { choleskySolve } from "../metrics/linearProbe";
import { LatentClips, latentClips } from "./worldModelTraining";
import { frameActions, rolloutFromTruth } from "./clipWindows";
import type { RolloutPredictor } from "./rollouts";
import { NextframeError } from "../engine/errors.js";

/** What motionTest measures: per object kind, how far from the truth the model and copy-last put moving objects after the horizon. */
export interface MotionReport {
  horizon: number;
  /**
   * Per object kind ("ball", "agent"): objects fully visible in the last context frame and in the truth at the horizon
   * that moved at least minMotion px in between. Mean centroid error (px) of where the prediction draws the object's
   * colour (over the objects it draws) and of copy-last (where it was); modelCloser counts objects the model puts
   * at least 0.25 px closer to the truth than copy-last does.
   */
  byKind: Record<string, { objects: number; modelDrawn: number; model: number; copyLast: number; modelCloser: number }>;
}

/**
 * Does the model move what it sees? From K true frames, roll out `horizon` frames with the true actions (windows every
 * `stride` frames) and locate each moving, fully visible ball and the agent by colour in the last predicted frame. A model
 * that has learned the world's motion puts them nearer the truth than copy-last; one that has not, at copy-last's place.
 * The step below permanence: a hidden ball can only come back where it should if visible balls already move where they should.
 */
export async function motionTest(sim: RolloutPredictor, clips: VideoClip[], opts: { horizon?: number; stride?: number; minMotion?: number } = {}): Promise<MotionReport> {
  const K = sim.contextFrames, H = opts.horizon ?? 4, stride = opts.stride ?? 4, minMotion = opts.minMotion ?? 1;
  for (const [name, v] of [["horizon", H], ["stride", stride]] as const) if (!Number.isInteger(v) || v < 1) throw new NextframeError(`motionTest: ${name} must be a positive integer, got ${v}`);
  const short = clips.find((c) => c.numFrames < K + H);
  if (short) throw new NextframeError(`motionTest: a clip has ${short.numFrames} frames; the model's context (${K}) plus the horizon (${H}) needs ${K + H}`);
  const sums: Record<string, { objects: number; modelDrawn: number; model: number; copyLast: number; modelCloser: number }> = {};
  for (const c of clips) {
    const size = c.size, F3 = size * size * 3, frame = (src: Uint8Array, t: number) => src.subarray(t * F3, (t + 1) * F3);
    for (let t = K; t + H <= c.numFrames; t += stride) {         // predicts frames t .. t+H−1 from frames t−K .. t−1
      const before = c.states[t - 1]!, after = c.states[t + H - 1]!;
      let pred: Uint8Array | null = null;
      for (const [id, o] of after.objects.entries()) {
        const o0 = before.objects[id]!;
        if (o.kind === "burger" || o0.visibleFraction < 1 || o.visibleFraction < 1 || Math.hypot(o.screenX - o0.screenX, o.screenY - o0.screenY) < minMotion) continue;
        const truth = findColorBlob(frame(c.frames, t + H - 1), size, size, o.rgb, PERMANENCE_DEFAULTS.tol);
        const last = findColorBlob(frame(c.frames, t - 1), size, size, o.rgb, PERMANENCE_DEFAULTS.tol);
        if (truth.count < PERMANENCE_DEFAULTS.minPixels || last.count < PERMANENCE_DEFAULTS.minPixels) continue;
        pred ??= frame(await rolloutFromTruth(sim, c, t, H), H - 1);
        const k = (sums[o.kind] ??= { objects: 0, modelDrawn: 0, model: 0, copyLast: 0, modelCloser: 0 });
        const copyErr = Math.hypot(last.cx - truth.cx, last.cy - truth.cy);
        const m = scoreReappearance(pred, size, o.rgb, truth.cx, truth.cy);
        k.objects++;
        k.copyLast += copyErr;
        if (!m.found) continue;
        k.modelDrawn++;
        k.model += m.error;
        if (m.error < copyErr - 0.25) k.modelCloser++;
      }
    }
  }
  for (const k of Object.values(sums)) { k.model = k.modelDrawn ? k.model / k.modelDrawn : NaN; k.copyLast /= k.objects; }
  return { horizon: H, byKind: sums };
}

/** Next-latent squared error of a predictor against copy-last (the next latent = the last one), over the same windows. */
export interface NextLatentScore { windows: number; model: number; copyLast: number; ratio: number }

/**
 * The one walk over next-latent windows (every `stride` frames of each clip: K context latents and the next one),
 * in batches of 16: `predict(windows)` returns the predicted next latents (B, L); scores it and copy-last on them.
 * Clip lengths and stride are checked before any encoding, with `name` in the message.
 */
async function scoreNextLatent(name: string, ae: Autoencoder, clips: VideoClip[], latentScale: number, K: number, stride: number,
  predict: (data: LatentClips, windows: [clip: number, start: number][]) => Promise<Float32Array>): Promise<NextLatentScore> {
  if (!Number.isInteger(stride) || stride < 1) throw new NextframeError(`${name}: stride must be a positive integer, got ${stride}`);
  if (clips.length === 0 || clips[0]!.numFrames < K + 1) throw new NextframeError(`${name}: needs clips of at least ${K + 1} frames (context ${K} + the next one), got ${clips.length} clip(s) of ${clips[0]?.numFrames ?? 0}`);
  const data = await latentClips(ae, clips, latentScale);
  const L = data.frameLength, starts: [number, number][] = [];
  for (let c = 0; c < clips.length; c++) for (let s = 0; s + K + 1 <= data.numFrames; s += stride) starts.push([c, s]);
  let sm = 0, sc = 0;
  for (let i = 0; i < starts.length; i += 16) {
    const win = starts.slice(i, i + 16), out = await predict(data, win);
    win.forEach(([c, s], b) => {
      const z = data.latents[c]!;
      for (let j = 0; j < L; j++) {
        const next = z[(s + K) * L + j]!;
        sm += (out[b * L + j]! - next) ** 2;
        sc += (z[(s + K - 1) * L + j]! - next) ** 2;
      }
    });
  }
  const n = starts.length * L;
  return { windows: starts.length, model: sm / n, copyLast: sc / n, ratio: sm / sc };
}

/**
 * The world model's own loss, where sampling uses it: squared error of its next-latent prediction from pure noise
 * (t = T − 1, the one-step sampler's only step) given K true latents and the true actions, against copy-last in latent
 * space (the next latent = the last one), over windows every `stride` frames. ratio < 1: the model predicts some change.
 * With `t` (a diffusion step) the noisy target it reads is instead the TRUE next latent noised to step t (q_sample), as
 * in training: a model that uses its noisy input does better at small t than from pure noise; one that ignores it does not.
 */
export async function nextLatentError(model: WorldModel, ae: Autoencoder, clips: VideoClip[], opts: { stride?: number; seed?: number; t?: number } = {}): Promise<NextLatentScore> {
  const { contextFrames: K, latentChannels: C, latentSize: Hs, diffusionSteps, latentScale } = model.config, Fr = model.frames;
  const step = opts.t ?? diffusionSteps - 1;
  if (!Number.isInteger(step) || step < 0 || step >= diffusionSteps) throw new NextframeError(`nextLatentError: t must be an integer diffusion step in [0, ${diffusionSteps}), got ${opts.t}`);
  const c = opts.t === undefined ? null : worldModelDiffusion(model.config).c;            // null: pure noise
  const g = new Generator(hashSeed(opts.seed ?? 0, "next-latent-error"));
  return scoreNextLatent("nextLatentError", ae, clips, latentScale, K, opts.stride ?? 3, async (data, win) => {
    const L = data.frameLength, B = win.length;
    const x = new Float32Array(B * Fr * L), a = new Int32Array(B * Fr);
    win.forEach(([clip, s], b) => {
      const frames = windowFrameIndices(model.config, s + K);     // recent context s .. s + K − 1 (and memory frames)
      const z = data.latents[clip]!, next = (s + K) * L;
      frames.slice(0, -1).forEach((f, k) => x.set(z.subarray(f * L, (f + 1) * L), (b * Fr + k) * L));
      const sa = c ? c.sqrtAlphasCumprod[step]! : 0, s1 = c ? c.sqrtOneMinusAlphasCumprod[step]! : 1;
      noisyNextLatent(model.config, z.subarray(next, next + L), x.subarray((b * Fr + Fr - 2) * L, (b * Fr + Fr - 1) * L), sa, s1, () => g.normal(), x, (b * Fr + Fr - 1) * L);
      frameActions(data.actions[clip]!, frames, a, b * Fr);
    });
    const t = tensor(new Float32Array(B).fill(step), { shape: [B] });
    return (await model.predictNext(tensor(x, { shape: [B, Fr, C, Hs, Hs] }), t, tensor(a, { shape: [B, Fr] })).data()) as Float32Array;
  });
}

/** A fitted local linear rule for the next latent (fitLocalLinearPredictor). */
/** A rule for the next latent from the last three (localLinearRollout and localLinearError run any such rule). */
export interface LatentRule {
  /** Latents are divided by this first (the world model's latentScale, so errors compare). */
  latentScale: number;
  /** The next latent from the last three scaled latents (3, C, H, W) → (C, H, W). */
  predict(last3: Float32Array): Float32Array;
}

/** A fitted local linear rule for the next latent (fitLocalLinearPredictor). */
export interface LocalLinearPredictor extends LatentRule {
  radius: number;
  /** (features, C) ridge weights; features = 3·C·(2r+1)² + 1 (bias last). */
  weights: Float64Array;
}

/**
 * Linear extrapolation in latent space: z_{t+1} = z_t + gain · (z_t − z_{t−1}). Gain 1 is the latent twin of pixel
 * linear extrapolation (everything keeps changing as it just did); 0 is copy-last; changeGain gives the gain that
 * minimises the squared error of the next latent.
 */
export function latentExtrapolation(gain: number, latentScale = 1): LatentRule {
  if (!Number.isFinite(gain)) throw new NextframeError(`latentExtrapolation: gain must be a finite number, got ${gain}`);
  if (!(latentScale > 0)) throw new NextframeError(`latentExtrapolation: latentScale must be > 0, got ${latentScale}`);
  return {
    latentScale,
    predict(last3: Float32Array) {
      if (last3.length === 0 || last3.length % 3) throw new NextframeError(`latentExtrapolation: expected 3 latents of equal size, got ${last3.length} values`);
      const L = last3.length / 3, out = new Float32Array(L);
      for (let i = 0; i < L; i++) out[i] = last3[2 * L + i]! + gain * (last3[2 * L + i]! - last3[L + i]!);
      return out;
    },
  };
}

/**
 * The least-squares gain of the next change on the last one over clips of latents ((T, …) each, numFrames frames):
 * g = Σ Δ_{t+1}·Δ_t / Σ Δ_t², the gain latentExtrapolation(g) needs to minimise the squared error of the next latent.
 * Below 1 when changes do not persist (bounces, stops, autoencoder jitter): squared error prefers to extrapolate less.
 */
export function changeGain(latents: readonly Float32Array[], numFrames: number): number {
  if (!Number.isInteger(numFrames) || numFrames < 3) throw new NextframeError(`changeGain: needs clips of at least 3 frames (two changes), got numFrames ${numFrames}`);
  let num = 0, den = 0;
  for (const z of latents) {
    const L = z.length / numFrames;
    if (!Number.isInteger(L) || L < 1) throw new NextframeError(`changeGain: a clip's latents (${z.length} values) do not split into ${numFrames} frames`);
    for (let t = 2; t < numFrames; t++) {
      for (let i = 0; i < L; i++) {
        const now = z[t * L + i]! - z[(t - 1) * L + i]!, before = z[(t - 1) * L + i]! - z[(t - 2) * L + i]!;
        num += now * before;
        den += before * before;
      }
    }
  }
  if (!(den > 0)) throw new NextframeError("changeGain: the latents never change, so no gain can be fitted");
  return num / den;
}

function localFeatures(z: Float32Array, f: number, C: number, H: number, r: number, y: number, x: number, out: Float64Array): void {
  const L = C * H * H;
  let k = 0;
  for (let c = 0; c < C; c++) for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
    const yy = y + dy, xx = x + dx, o = c * H * H + yy * H + xx, inside = yy >= 0 && xx >= 0 && yy < H && xx < H;
    const a = inside ? z[f * L + o]! : 0, b = inside ? z[(f - 1) * L + o]! : 0, d = inside ? z[(f - 2) * L + o]! : 0;
    out[k++] = a; out[k++] = a - b; out[k++] = b - d;
  }
  out[k] = 1;
}

/**
 * A learned baseline with the world model's inputs and no transformer: ridge regression (penalty `lambda`) of each
 * latent cell's next change from the (2r+1)² neighbourhood (all channels) of the last latent and of its last two
 * changes — one set of weights for every position, a linear convolution over three frames, fitted in closed form in
 * seconds. How much of the next change a local linear rule explains is how much a model of the same inputs has no
 * excuse to miss.
 */
export async function fitLocalLinearPredictor(ae: Autoencoder, clips: VideoClip[], opts: { latentScale: number; radius?: number; lambda?: number }): Promise<LocalLinearPredictor> {
  const r = opts.radius ?? 1, lambda = opts.lambda ?? 1e-3, { latentScale } = opts;
  if (!Number.isInteger(r) || r < 0 || r > 3) throw new NextframeError(`fitLocalLinearPredictor: radius must be an integer in [0, 3], got ${r}`);
  if (!(latentScale > 0)) throw new NextframeError(`fitLocalLinearPredictor: latentScale must be > 0, got ${latentScale}`);
  if (!(lambda > 0)) throw new NextframeError(`fitLocalLinearPredictor: lambda must be > 0, got ${lambda}`);
  if (clips.length === 0 || clips[0]!.numFrames < 4) throw new NextframeError(`fitLocalLinearPredictor: needs clips of at least 4 frames (3 in, 1 out), got ${clips.length} clip(s) of ${clips[0]?.numFrames ?? 0}`);
  const data = await latentClips(ae, clips, latentScale);
  const [C, H] = ae.latentShape, L = data.frameLength, P = 3 * C * (2 * r + 1) ** 2 + 1;
  const A = new Float64Array(P * P), B = new Float64Array(P * C), x = new Float64Array(P);
  for (const z of data.latents) for (let f = 2; f + 1 < data.numFrames; f++) for (let y = 0; y < H; y++) for (let xx = 0; xx < H; xx++) {
    localFeatures(z, f, C, H, r, y, xx, x);
    for (let i = 0; i < P; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      for (let j = i; j < P; j++) A[i * P + j] += xi * x[j]!;
      for (let c = 0; c < C; c++) { const o = c * H * H + y * H + xx; B[i * C + c] += xi * (z[(f + 1) * L + o]! - z[f * L + o]!); }
    }
  }
  for (let i = 0; i < P; i++) { for (let j = 0; j < i; j++) A[i * P + j] = A[j * P + i]!; A[i * P + i] += lambda; }
  const weights = choleskySolve(A, B, P, C);
  return {
    radius: r, latentScale, weights,
    predict(last3: Float32Array): Float32Array {
      if (last3.length !== 3 * L) throw new NextframeError(`LocalLinearPredictor.predict: expected 3 latents of ${C}×${H}×${H} (${3 * L} values), got ${last3.length}`);
      const out = new Float32Array(L), feat = new Float64Array(P);
      for (let y = 0; y < H; y++) for (let xx = 0; xx < H; xx++) {
        localFeatures(last3, 2, C, H, r, y, xx, feat);
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let i = 0; i < P; i++) s += feat[i]! * weights[i * C + c]!;
          const o = c * H * H + y * H + xx;
          out[o] = last3[2 * L + o]! + s;
        }
      }
      return out;
    },
  };
}

/**
 * A latent rule as a simulator (the local linear rule is the learned baseline of chapter 7's rollout, motion,
 * re-emergence and permanence tables; latentExtrapolation another rule): reset() encodes the context frames; rollout()
 * applies the rule to its own last three latents, frame after frame, and decodes them anchored on the last observed
 * frame, as WorldSimulator does. It sees no actions: what it gets right, motion alone explains.
 */
export function localLinearRollout(pred: LatentRule, ae: Autoencoder, contextFrames: number): RolloutPredictor & { ae: Autoencoder } {
  if (!Number.isInteger(contextFrames) || contextFrames < 3) throw new NextframeError(`localLinearRollout: contextFrames must be an integer ≥ 3 (the rule reads three latents), got ${contextFrames}`);
  const size = ae.config.imageSize, F3 = size * size * 3, [C, H] = ae.latentShape, L = C * H * H, scale = pred.latentScale;
  const decode = async (z: Float32Array, n: number) => (await ae.decode(tensor(z, { shape: [n, C, H, H] })).data()) as Float32Array;
  let state: { last: Float32Array; pixels: Float32Array; decoded: Float32Array } | null = null; // last: three latents / latentScale
  return {
    contextFrames, ae,
    async reset(frames: Uint8Array) {
      if (frames.length !== contextFrames * F3) throw new NextframeError(`localLinearRollout.reset: expected ${contextFrames} frames of ${size}×${size}×3 (${contextFrames * F3} bytes), got ${frames.length}`);
      const x = framesToTensor(frames.subarray((contextFrames - 3) * F3), 3, size);
      const z = (await ae.encode(x).data()) as Float32Array;
      state = { last: z.map((v) => v / scale), pixels: ((await x.data()) as Float32Array).slice(2 * 3 * size * size), decoded: await decode(z.slice(2 * L), 1) };
    },
    async rollout(actions: ArrayLike<number>) {
      if (!state) throw new NextframeError("localLinearRollout.rollout: call reset(frames, actions) first");
      const n = actions.length, z = new Float32Array(n * L);
      let last = state.last;
      for (let k = 0; k < n; k++) {
        const next = pred.predict(last);
        for (let j = 0; j < L; j++) z[k * L + j] = next[j]! * scale;
        const shifted = new Float32Array(3 * L);
        shifted.set(last.subarray(L), 0);
        shifted.set(next, 2 * L);
        last = shifted;
      }
      state.last = last;
      const x = await decode(z, n);
      anchorDecoded(x, state.pixels, state.decoded);
      return tensorDataToFrames(x, n, size);
    },
  };
}

/** nextLatentError's windows and copy-last, scored for a LatentRule such as a LocalLinearPredictor (it reads the last 3 of the K context latents). */
export async function localLinearError(pred: LatentRule, ae: Autoencoder, clips: VideoClip[], opts: { contextFrames: number; stride?: number }): Promise<NextLatentScore> {
  const K = opts.contextFrames;
  if (!Number.isInteger(K) || K < 3) throw new NextframeError(`localLinearError: contextFrames must be an integer ≥ 3, got ${K}`);
  return scoreNextLatent("localLinearError", ae, clips, pred.latentScale, K, opts.stride ?? 3, async (data, win) => {
    const L = data.frameLength, out = new Float32Array(win.length * L);
    win.forEach(([c, s], b) => out.set(pred.predict(data.latents[c]!.subarray((s + K - 3) * L, (s + K) * L)), b * L));
    return out;
  });
}
