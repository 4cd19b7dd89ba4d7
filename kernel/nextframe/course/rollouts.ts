// Chapter 7: rollouts against baselines. RolloutPredictor is what every rollout metric needs from a predictor; the
// oracles bound what any model can score; evaluateRollouts gives PSNR/SSIM curves vs copy-last and linear
// extrapolation.

import { NextframeError } from "../engine/errors";
import type { VideoClip } from "../worlds/videoWorld";
import { Autoencoder } from "../models/autoencoder";
import { copyLastFrame, horizonCurve, linearExtrapolation, meanCurve } from "../metrics/image";
import { decodeLatents, encodeClips } from "./autoencoder";
import { rolloutFromTruth } from "./clipWindows";

/**
 * PSNR and SSIM per horizon of the model's rollouts, copy-last, linear extrapolation and the autoencoder's
 * reconstruction, over the same clips.
 */
export interface RolloutCurves {
  horizon: number;
  clips: number;
  /**
   * At horizons 1..H (index 0 = one frame ahead): PSNR of the mean squared error over clips (dB; a clip where
   * nothing moves cannot dominate with an infinite PSNR) and mean SSIM over clips.
   */
  model: { psnr: number[]; ssim: number[] };
  copyLast: { psnr: number[]; ssim: number[] };
  linear: { psnr: number[]; ssim: number[] };
  /** The autoencoder's reconstruction of the true frames: the ceiling of any latent-space model. */
  reconstruction: { psnr: number[] };
}

/**
 * What the rollout metrics (evaluateRollouts, evaluatePermanence, reemergenceTest, motionTest) need from a predictor:
 * its context length K, a reset to K true frames (RGB uint8 (K, H, W, 3)) and the actions that made them, and a
 * rollout under given actions. A WorldSimulator is one; so are truthOracle and autoencoderOracle, which bound what
 * any world model (in the autoencoder's latent space) can score.
 */
export interface RolloutPredictor {
  readonly contextFrames: number;
  /** The most true frames reset() takes when the clip has them (older ones feed a memory); default contextFrames. */
  readonly historyFrames?: number;
  reset(frames: Uint8Array, actions: ArrayLike<number>): Promise<void>;
  rollout(actions: ArrayLike<number>): Promise<Uint8Array>;
}

/**
 * A stand-in predictor that knows the future: reset() finds which of `clips` the context came from (and where);
 * rollout() returns that clip's next true frames — passed through the autoencoder `through` when given. The raw
 * truth is the perfect pixel predictor (the metrics' own sanity check); through an autoencoder it is
 * autoencoderOracle.
 */
export function truthOracle(clips: VideoClip[], contextFrames: number, opts: { through?: Autoencoder } = {}): RolloutPredictor {
  const ae = opts.through;
  if (!Number.isInteger(contextFrames) || contextFrames < 1) throw new NextframeError(`truthOracle: contextFrames must be a positive integer, got ${contextFrames}`);
  if (clips.length === 0) throw new NextframeError("truthOracle: needs at least one clip to replay");
  const size = ae?.config.imageSize ?? clips[0]!.size, F3 = size * size * 3;
  const wrong = clips.find((c) => c.size !== size);
  if (wrong) throw new NextframeError(`truthOracle: ${ae ? "the autoencoder takes" : "the first clip has"} ${size}×${size} frames, a clip has ${wrong.size}×${wrong.size}`);
  let at: { clip: VideoClip; next: number } | null = null;
  return {
    contextFrames,
    async reset(frames: Uint8Array) {
      if (frames.length !== contextFrames * F3) throw new NextframeError(`truthOracle.reset: expected ${contextFrames} frames of ${size}×${size}×3 (${contextFrames * F3} bytes), got ${frames.length}`);
      const key = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength);
      const view = (clip: VideoClip, from: number, n: number) => Buffer.from(clip.frames.buffer, clip.frames.byteOffset + from * F3, n * F3);
      let found: { clip: VideoClip; next: number } | null = null;
      for (const [ci, clip] of clips.entries()) for (let s = 0; s + contextFrames <= clip.numFrames; s++) {
        if (!key.equals(view(clip, s, contextFrames))) continue;
        const here = { clip, next: s + contextFrames };
        if (!found) { found = here; continue; }
        // the same frames again (a scene where nothing moves, a repeated clip): fine while the futures agree
        const n = Math.min(found.clip.numFrames - found.next, clip.numFrames - here.next);
        if (!view(found.clip, found.next, n).equals(view(clip, here.next, n))) {
          throw new NextframeError(`truthOracle.reset: these frames appear in the clips twice with different futures (clip ${clips.indexOf(found.clip)} frame ${found.next - contextFrames}, clip ${ci} frame ${s}); give it only the clips the context can come from`);
        }
      }
      if (!found) throw new NextframeError("truthOracle.reset: these frames are not a window of any clip it was given");
      at = found;
    },
    async rollout(actions: ArrayLike<number>) {
      if (!at) throw new NextframeError("truthOracle.rollout: call reset(frames, actions) first");
      const n = actions.length, { clip, next } = at;
      if (next + n > clip.numFrames) throw new NextframeError(`truthOracle.rollout: the clip has ${clip.numFrames - next} frames left, asked for ${n}`);
      const truth = clip.frames.slice(next * F3, (next + n) * F3);
      at = { clip, next: next + n };
      return ae ? decodeLatents(ae, (await encodeClips(ae, [{ ...clip, frames: truth, numFrames: n }]))[0]!, n) : truth;
    },
  };
}

/**
 * The ceiling of a latent world model: the true future through the autoencoder, decode(encode(true frames))
 * (truthOracle with `through: ae`). What it scores in motionTest, reemergenceTest or evaluatePermanence is what a
 * perfect next-latent predictor would score: what the latent space itself loses (blur, colour) rather than what
 * the model failed to learn.
 */
export function autoencoderOracle(ae: Autoencoder, clips: VideoClip[], contextFrames: number): RolloutPredictor & { ae: Autoencoder } {
  return { ...truthOracle(clips, contextFrames, { through: ae }), ae };
}

/**
 * Rolls the world model out from K ground-truth frames of each clip, fed the clip's true actions, and scores
 * PSNR/SSIM per horizon against copy-last-frame and linear extrapolation (metrics/image.ts).
 */
export async function evaluateRollouts(sim: RolloutPredictor & { ae: Autoencoder }, clips: VideoClip[], opts: { horizon?: number; start?: number } = {}): Promise<RolloutCurves & { frames: Uint8Array[] }> {
  const K = sim.contextFrames, H = opts.horizon ?? 8;
  const start = opts.start ?? K; // first predicted frame index
  const size = clips[0]!.size, F3 = size * size * 3;
  const shape = { height: size, width: size, channels: 3 };
  const acc = { model: [[], []], copy: [[], []], lin: [[], []], rec: [[]] } as Record<string, Float64Array[][]>;
  const frames: Uint8Array[] = [];
  for (const c of clips) {
    if (start + H > c.numFrames || start < K) throw new NextframeError(`evaluateRollouts: clip has ${c.numFrames} frames; start ${start} (≥ K = ${K}) + horizon ${H} does not fit`);
    const ctx = c.frames.slice((start - K) * F3, start * F3);
    const pred = await rolloutFromTruth(sim, c, start, H);
    frames.push(pred);
    const truth = c.frames.slice(start * F3, (start + H) * F3);
    const copy = copyLastFrame(ctx, F3, H), lin = linearExtrapolation(ctx, F3, H);
    // the truth through the autoencoder, encoded here rather than by autoencoderOracle: its reset() finds the clip by
    // searching for the context frames, which a clip where nothing moves repeats at several starts
    const rec = await decodeLatents(sim.ae, (await encodeClips(sim.ae, [{ ...c, frames: truth, numFrames: H }]))[0]!, H);
    for (const [key, p] of [["model", pred], ["copy", copy], ["lin", lin]] as const) {
      acc[key]![0]!.push(horizonCurve(p, truth, { ...shape, metric: "mse" }));
      acc[key]![1]!.push(horizonCurve(p, truth, { ...shape, metric: "ssim" }));
    }
    acc.rec![0]!.push(horizonCurve(rec, truth, { ...shape, metric: "mse" }));
  }
  const toDb = (mse: number) => (mse === 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255) / mse)));
  const m = (k: string, i: number) => Array.from(meanCurve(acc[k]![i]!), i === 0 ? toDb : (v: number) => v);
  return {
    horizon: H, clips: clips.length, frames,
    model: { psnr: m("model", 0), ssim: m("model", 1) },
    copyLast: { psnr: m("copy", 0), ssim: m("copy", 1) },
    linear: { psnr: m("lin", 0), ssim: m("lin", 1) },
    reconstruction: { psnr: m("rec", 0) },
  };
}
