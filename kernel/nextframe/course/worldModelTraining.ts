// Chapter 7: training the next-frame world model on the autoencoder's latents (WORLD_MODEL_RECIPE's settings by
// default): latent clips, training batches, the training loop.

import { WORLD_MODEL_RECIPE } from "./recipes";
import { frameActions } from "./clipWindows";
import { F, tensor, type Tensor } from "../engine/index.js";
import { NextframeError } from "../engine/errors";
import { Generator, hashSeed } from "../engine/generator.js";
import { AdamW, cosineSchedule, fit, type FitProgress, makeTrainStep } from "../optim/index.js";
import type { VideoClip, VideoDataset } from "../worlds/videoWorld";
import { CAPTION_LENGTH, captionTokenizer, contextLevelStd, encodeCaptions, noisyNextLatent, windowFrameIndices, WORLD_MODEL_CONFIGS, WORLD_MODEL_DEFAULTS, WorldModel, type WorldModelConfig, worldModelConfig, worldModelDiffusion } from "../models/worldModel";
import type { GaussianDiffusion } from "../diffusion/index";
import { Autoencoder } from "../models/autoencoder";
import { videoWorldData } from "./videoData";
import { encodeClips } from "./autoencoder";

/** Latents of every clip, already divided by the model's latentScale, plus actions: what the world model trains on. */
export interface LatentClips {
  latents: Float32Array[];
  actions: Uint8Array[];
  numFrames: number;
  /** C·H·W of one latent frame. */
  frameLength: number;
  /** Each clip's carried caption (null = missing), for caption-conditioned models. */
  captions?: (string | null)[];
}

/** Std of all latent values (the world model's latentScale). */
function latentStd(latents: Float32Array[]): number {
  let s = 0, s2 = 0, n = 0;
  for (const z of latents) for (let i = 0; i < z.length; i++) { s += z[i]!; s2 += z[i]! * z[i]!; n++; }
  return Math.sqrt(s2 / n - (s / n) ** 2);
}

/**
 * Clips as the world model trains on them: each clip's autoencoder latents (encoded here unless `raw` is given) divided
 * by the latent scale, with its actions and caption.
 */
export async function latentClips(ae: Autoencoder, clips: VideoClip[], scale: number, raw?: Float32Array[]): Promise<LatentClips> {
  raw ??= await encodeClips(ae, clips);   // callers that already encoded the clips pass their latents
  return {
    latents: raw.map((z) => z.map((v) => v / scale)),
    actions: clips.map((c) => c.actions),
    numFrames: clips[0]!.numFrames,
    frameLength: ae.latentShape.reduce((a, b) => a * b, 1),
    captions: clips.map((c) => c.caption),
  };
}

/** Share of training windows whose caption is replaced by the null caption (classifier-free guidance, as DiT's labels). */
export const CAPTION_DROPOUT = 0.1;

/**
 * Motion-weighted loss: latent values whose true change from the last frame exceeds `threshold` (scaled latent units)
 * weigh 1 + `weight` in the squared error, the rest 1. Most of a frame does not change, so a plain mean squared error
 * is mostly about the still background; the agent's move (what the key decides) is a few latent pixels.
 */
export interface MotionWeighting { weight: number; threshold: number }

/**
 * One training batch: noisy target at a random diffusion step, noise-augmented context (with `motion`, also the
 * loss weights of the target's latent values: MotionWeighting); for caption-conditioned
 * models also (B, CAPTION_LENGTH) caption tokens, dropped to the null caption with probability CAPTION_DROPOUT.
 */
export function worldModelBatch(model: WorldModel, d: GaussianDiffusion, data: LatentClips, B: number, rng: Generator, normal: () => number, motion?: MotionWeighting): { x: Tensor; t: Tensor; a: Tensor; target: Tensor; caption?: Tensor; weight?: Tensor; level?: Tensor } {
  const Fr = model.frames, L = data.frameLength, { contextFrames: K, latentChannels: C, latentSize: H, contextNoise } = model.config;
  const x = new Float32Array(B * Fr * L), target = new Float32Array(B * L), tt = new Float32Array(B), a = new Int32Array(B * Fr), clipOf = new Int32Array(B);
  const weight = motion && motion.weight > 0 ? new Float32Array(B * L) : null;
  const levels = model.config.contextNoiseLevels, level = levels > 0 ? new Int32Array(B) : null;
  for (let b = 0; b < B; b++) {
    const c = rng.int(data.latents.length);
    const tgt = K + rng.int(data.numFrames - K);                      // any target with K recent frames before it
    const z = data.latents[c]!;
    const frames = windowFrameIndices(model.config, tgt);           // memory frames, K recent ones, the target
    // the older context frames get noise; the last one stays clean (a residual model adds its change to it) unless
    // config.lastContextNoise draws it a level of its own
    const lastSd = model.config.lastContextNoise > 0 ? model.config.lastContextNoise * rng.uniform() : 0;
    // with noise levels (GameNGen): one level per window for every context frame, told to the model
    if (level) level[b] = rng.int(levels);
    const levelSd = level ? contextLevelStd(model.config, level[b]!) : 0;
    for (let f = 0; f < Fr - 1; f++) {
      const sd = level ? levelSd : model.config.residual && f === Fr - 2 ? lastSd : contextNoise, o = frames[f]! * L;
      for (let i = 0; i < L; i++) x[(b * Fr + f) * L + i] = z[o + i]! + sd * normal();
    }
    const t = rng.int(d.numTimesteps);
    const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
    const next = z.subarray(tgt * L, (tgt + 1) * L);
    target.set(next, b * L);
    // the noisy target: on the latent, or on its change from the last (clean) context latent (config.deltaStd)
    noisyNextLatent(model.config, next, x.subarray((b * Fr + Fr - 2) * L, (b * Fr + Fr - 1) * L), sa, s1, normal, x, (b * Fr + Fr - 1) * L);
    tt[b] = t;
    frameActions(data.actions[c]!, frames, a, b * Fr);
    clipOf[b] = c;
    if (weight) for (let i = 0; i < L; i++) weight[b * L + i] = Math.abs(next[i]! - z[(tgt - 1) * L + i]!) > motion!.threshold ? 1 + motion!.weight : 1;
  }
  const batch = {
    x: tensor(x, { shape: [B, Fr, C, H, H] }), t: tensor(tt, { shape: [B] }), a: tensor(a, { shape: [B, Fr] }), target: tensor(target, { shape: [B, C, H, H] }),
    ...(weight ? { weight: tensor(weight, { shape: [B, C, H, H] }) } : {}),
    ...(level ? { level: tensor(level, { shape: [B] }) } : {}),
  };
  if (model.config.captionVocab === 0) return batch;
  if (!data.captions) throw new NextframeError("worldModelBatch: the model is caption-conditioned but the latent clips carry no captions");
  const caps = Array.from(clipOf, (c) => (rng.chance(CAPTION_DROPOUT) ? null : data.captions![c]!));
  return { ...batch, caption: tensor(encodeCaptions(captionTokenizer(), caps), { shape: [B, CAPTION_LENGTH] }) };
}

/**
 * Options of trainWorldModel: the autoencoder, data, config, steps, batch size, learning rate, seed, progress callback,
 * a model to continue and the motion weighting.
 */
export interface TrainWorldModelOptions {
  ae: Autoencoder;
  data?: VideoDataset;
  /** A named config or overrides of one; default: "wm-xs-16" for 16×16 latents (the shipped autoencoder), else "wm-xs". */
  config?: Partial<WorldModelConfig> | string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onProgress?: (p: FitProgress) => void | Promise<void>;
  /** Continue training this model (its config and latentScale are kept) instead of a fresh one. */
  init?: WorldModel;
  /** Motion-weighted loss (MotionWeighting; default none: plain mean squared error). */
  motion?: MotionWeighting;
}

/** Trains the world model on the autoencoder's latents of the video world (x₀-prediction, MSE). */
export async function trainWorldModel(opts: TrainWorldModelOptions): Promise<{ model: WorldModel; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? videoWorldData();
  const seed = opts.seed ?? WORLD_MODEL_RECIPE.seed;
  const raw = await encodeClips(opts.ae, data.train);
  const [zc, zs] = opts.ae.latentShape;
  // without a config: the first named size (smallest first) made for these latents
  const fits = Object.entries(WORLD_MODEL_CONFIGS).filter(([, c]) => ((c as Partial<WorldModelConfig>).latentSize ?? WORLD_MODEL_DEFAULTS.latentSize) === zs).map(([n]) => n);
  const named = fits[0] ?? "wm-xs";
  if (!opts.init && opts.config === undefined && fits.length === 0) {
    throw new NextframeError(`trainWorldModel: no named world-model config is made for ${opts.ae.latentShape.join("×")} latents (have ${Object.keys(WORLD_MODEL_CONFIGS).join(", ")}); pass config: { latentSize: ${zs}, ... }`);
  }
  const base = opts.init?.config ?? (typeof opts.config === "string" ? worldModelConfig(opts.config) : worldModelConfig(named, opts.config));
  if (base.latentChannels !== zc || base.latentSize !== zs) throw new NextframeError(`trainWorldModel: config expects ${base.latentChannels}×${base.latentSize}×${base.latentSize} latents, the autoencoder makes ${opts.ae.latentShape.join("×")}`);
  const model = opts.init ?? new WorldModel({ ...base, latentScale: latentStd(raw) }, {}, { seed });
  const scale = model.config.latentScale;
  const clips = await latentClips(opts.ae, data.train, scale, raw);
  const d = worldModelDiffusion(model.config);
  const steps = opts.steps ?? WORLD_MODEL_RECIPE.steps, lr = opts.lr ?? WORLD_MODEL_RECIPE.lr, B = opts.batchSize ?? WORLD_MODEL_RECIPE.batchSize;
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: Math.min(100, steps / 10), totalSteps: steps, maxLr: lr, minLr: lr / 10 }), weightDecay: 0, maxGradNorm: 1 });
  const captions = model.config.captionVocab > 0, motion = opts.motion;
  if (motion && (!(motion.weight >= 0) || !(motion.threshold > 0))) throw new NextframeError(`trainWorldModel: motion needs weight ≥ 0 and threshold > 0, got ${JSON.stringify(motion)}`);
  if (motion && captions) throw new NextframeError("trainWorldModel: the motion-weighted loss is for action-conditioned models; this one is caption-conditioned");
  const levels = model.config.contextNoiseLevels > 0;
  if (levels && (captions || motion)) throw new NextframeError("trainWorldModel: context-noise levels (config.contextNoiseLevels) train without captions and without the motion-weighted loss");
  const step = captions
    ? makeTrainStep(model, (x, t, a, target, cap) => F.mseLoss(model.predictNext(x, t, a, cap), target), opt)
    : makeTrainStep(model, (x, t, a, target) => F.mseLoss(model.predictNext(x, t, a), target), opt);
  const leveled = makeTrainStep(model, (x, t, a, target, level) => F.mseLoss(model.predictNext(x, t, a, undefined, level), target), opt);
  const weighted = makeTrainStep(model, (x, t, a, target, w) => model.predictNext(x, t, a).sub(target).square().mul(w).mean(), opt);
  const rng = new Generator(hashSeed(seed, "wm-batches"));
  const g = new Generator(hashSeed(seed, "wm-noise"));
  const normal = () => g.normal();
  const r = await fit({
    steps,
    step: () => {
      const b = worldModelBatch(model, d, clips, B, rng, normal, motion);
      return b.caption ? step(b.x, b.t, b.a, b.target, b.caption) : b.weight ? weighted(b.x, b.t, b.a, b.target, b.weight) : b.level ? leveled(b.x, b.t, b.a, b.target, b.level) : step(b.x, b.t, b.a, b.target);
    },
    onProgress: opts.onProgress,
  });
  return { model, losses: r.losses, seconds: r.seconds, steps };
}
