// Sora in miniature (issue 33): the data, training and measurements of the text-to-video model
// (models/textToVideo.ts). Clips of the video world with their captions — rich ones as carried, weak and missing ones
// recaptioned from their nearest richly captioned neighbour in the autoencoder's latent space, as the article
// describes —, a few (ball colour, agent motion) pairs held out of training to test composition, the caption GPT of
// the "language model in the middle" variant, the training loop over varying clip shapes, and the card's metrics:
// caption agreement (course/captionAgreement.ts) against the null caption, shuffled captions and retrieval, temporal
// and 3D consistency, and guidance against agreement and diversity.

import { F, tensor, type Tensor } from "../engine/index.js";
import { NextframeError } from "../engine/errors";
import { Generator, hashSeed } from "../engine/generator.js";
import { AdamW, cosineSchedule, fit, makeTrainStep, type FitProgress } from "../optim/index.js";
import { BALL_COLORS, generateVideoClip, richCaption, type BallColor, type ClipAttributes, type VideoClip } from "../worlds/videoWorld";
import { GPT } from "../models/gpt";
import type { Autoencoder } from "../models/autoencoder";
import { captionGptConfig, captionTokens, TextToVideoDiT, TextToVideoSampler, textToVideoConfig, textToVideoDiffusion, type TextToVideoConfig, type TextToVideoSampleOptions } from "../models/textToVideo";
import { captionWordF1, nearestNeighbourRecaption } from "../metrics/recaption";
import { encodeClips } from "./autoencoder";
import { loadCheckpoint, readCard } from "./checkpoints";
import { AGREEMENT_CHECKS, legibleClip, parseCaption, readClip, scoreClip, type AgreementChecks, type DetectorOptions } from "./captionAgreement";

//################################################################################
//                                    Data                                       #
//################################################################################

/** (ball colour, agent motion) pairs no training clip shows together, nor any training caption says: the held-out combinations. */
export const HELDOUT_COMBOS: readonly { ball: BallColor; motion: ClipAttributes["agentMotion"] }[] = [
  { ball: "red", motion: "left" }, { ball: "blue", motion: "right" }, { ball: "green", motion: "toward" }, { ball: "yellow", motion: "away" },
];

/** The held-out combination a caption's attributes contain, or null. */
export function heldoutCombo(a: Pick<ClipAttributes, "balls" | "agentMotion"> | null): (typeof HELDOUT_COMBOS)[number] | null {
  if (!a) return null;
  return HELDOUT_COMBOS.find((h) => a.balls.includes(h.ball) && a.agentMotion === h.motion) ?? null;
}

/** The clip options of the text-to-video data: 16 frames at 32×32, a quarter of them panning, ball 0 heading behind the tree or into a wall; captions 75 % rich, 12.5 % poor, 12.5 % missing. */
export function textToVideoClip(seed: number, frames = 16): VideoClip {
  return generateVideoClip({
    seed, frames, size: 32, policy: "random", panProb: 0.25, setup: seed % 2 ? "hitWall" : "crossOccluder", captionMix: { rich: 0.75, poor: 0.125 },
  });
}

/** The text-to-video training set: clips without held-out combinations, the caption each trains with, and how recaptioning went. */
export interface TextToVideoData {
  /** Training clips (none shows a held-out combination) and the caption each trains with (carried rich, or recaptioned). */
  train: VideoClip[];
  captions: string[];
  /** Per training clip: its caption was borrowed from a neighbour (the clip's own was poor or missing). */
  recaptioned: boolean[];
  /** Share of recaptioned captions that equal the clip's true rich caption, and their mean word F1. */
  recaptionExact: number;
  recaptionF1: number;
  /** Clips dropped because they show a held-out combination, or because their borrowed caption says one. */
  droppedHeldout: number;
}

/**
 * The training set: `numTrain` clips from `seed`; clips whose true attributes hold a held-out combination are dropped,
 * weak captions are replaced by the nearest rich clip's (mean latent, cosine), and clips whose borrowed caption says a
 * held-out combination are dropped too.
 */
export async function textToVideoData(ae: Autoencoder, opts: { seed: number; numTrain: number }): Promise<TextToVideoData & { latents: Float32Array[] }> {
  const all = Array.from({ length: opts.numTrain }, (_, i) => textToVideoClip(hashSeed(opts.seed, "t2v-train", i)));
  const kept = all.filter((c) => !heldoutCombo(c.attributes));
  let dropped = all.length - kept.length;
  const raw = await encodeClips(ae, kept);
  const L = ae.latentShape.reduce((a, b) => a * b, 1);
  const X = new Float32Array(kept.length * L);
  kept.forEach((c, i) => { const z = raw[i]!; for (let t = 0; t < c.numFrames; t++) for (let k = 0; k < L; k++) X[i * L + k] += z[t * L + k]! / c.numFrames; });
  const rec = nearestNeighbourRecaption(X, L, kept.map((c) => c.caption), { isWeak: (_c, i) => kept[i]!.captionKind !== "rich" });
  const train: VideoClip[] = [], captions: string[] = [], recaptioned: boolean[] = [], latents: Float32Array[] = [];
  let exact = 0, f1 = 0, nRec = 0;
  kept.forEach((c, i) => {
    const cap = rec.captions[i]!;
    const borrowed = c.captionKind !== "rich";
    if (borrowed && heldoutCombo(parseCaption(cap))) { dropped++; return; }
    train.push(c); captions.push(cap); recaptioned.push(borrowed); latents.push(raw[i]!);
    if (borrowed) { nRec++; exact += cap === c.captions.rich ? 1 : 0; f1 += captionWordF1(cap, c.captions.rich); }
  });
  return { train, captions, recaptioned, recaptionExact: nRec ? exact / nRec : 0, recaptionF1: nRec ? f1 / nRec : 0, droppedHeldout: dropped, latents };
}

/** Std of all latent values (the model's latentScale). */
export function latentStd(latents: Float32Array[]): number {
  let s = 0, s2 = 0, n = 0;
  for (const z of latents) for (let i = 0; i < z.length; i++) { s += z[i]!; s2 += z[i]! * z[i]!; n++; }
  return Math.sqrt(s2 / n - (s / n) ** 2);
}

//################################################################################
//                                   Training                                    #
//################################################################################

/** The clip shapes training cycles through, step by step (frames, latent rows kept from the top, latent width): the same weights learn all three. */
/** 8-frame clips are the 16-frame clips at half the frame rate (every other frame); wide ones drop the top and bottom 4 pixel rows (24×32). */
export const TRAINING_SHAPES = [
  { frames: 16, rows: [0, 16], width: 16 }, { frames: 16, rows: [0, 16], width: 16 },
  { frames: 8, rows: [0, 16], width: 16 }, { frames: 16, rows: [2, 14], width: 16 },
] as const;

/** Trains a small GPT on the training captions (next-word prediction), to be frozen as the "gpt" text encoder. */
export async function trainCaptionGpt(config: TextToVideoConfig, captions: string[], opts: { steps: number; seed: number; batchSize?: number; lr?: number }): Promise<{ gpt: GPT; loss: number; seconds: number }> {
  const gpt = new GPT(captionGptConfig(config), {}, { seed: opts.seed });
  const L = config.textLength, B = opts.batchSize ?? 32;
  const toks = captionTokens(config, captions);
  const opt = new AdamW(gpt.parameters(), { lr: opts.lr ?? 3e-3, weightDecay: 0, maxGradNorm: 1 });
  const step = makeTrainStep(gpt, (x: Tensor, y: Tensor) => gpt.forward(x, y).loss!, opt);
  const rng = new Generator(hashSeed(opts.seed, "caption-gpt"));
  const r = await fit({
    steps: opts.steps,
    step: () => {
      // inputs: the caption's tokens as the text encoder will see them, [w1, …, w_L]; targets: the next ones, [w2, …, w_L, 0]
      const x = new Int32Array(B * L), y = new Int32Array(B * L);
      for (let b = 0; b < B; b++) {
        const c = rng.int(captions.length);
        for (let k = 0; k < L; k++) { x[b * L + k] = toks[c * L + k]!; y[b * L + k] = k + 1 < L ? toks[c * L + k + 1]! : 0; }
      }
      return step(tensor(x, { dtype: "int32", shape: [B, L] }), tensor(y, { dtype: "int32", shape: [B, L] }));
    },
  });
  return { gpt, loss: r.losses.slice(-50).reduce((a, b) => a + b, 0) / Math.min(50, r.losses.length), seconds: r.seconds };
}

/**
 * Options of trainTextToVideo: the latent clips and captions, the config and its overrides, steps, batch size,
 * learning rate, seed, the caption GPT's steps and the loss weighting.
 */
export interface TrainTextToVideoOptions {
  data: TextToVideoData & { latents: Float32Array[] };
  config: string | Partial<TextToVideoConfig>;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** For textEncoder "gpt": the caption GPT's training steps. */
  gptSteps?: number;
  /** Config fields over the named config (e.g. predict: "v"). */
  configOverrides?: Partial<TextToVideoConfig>;
  /**
   * Min-SNR-γ loss weighting (Hang et al. 2023, https://arxiv.org/abs/2303.09556): each clip's loss is weighted so
   * that, seen as an x₀ loss, its weight is min(SNR_t, γ) — high-noise steps, where the best guess is an average, count
   * less. null or absent: the plain loss on the config's prediction.
   */
  minSnrGamma?: number | null;
  /**
   * Continue from this model instead of a fresh one (e.g. `loadTextToVideo(dir)` of a checkpoint PyTorch trained): its
   * config and latent scale are kept (`config` and `configOverrides` are not read), and its caption GPT stays frozen
   * as it is, not retrained. The optimizer starts fresh.
   */
  init?: TextToVideoDiT;
  onProgress?: (p: FitProgress) => void | Promise<void>;
}

/**
 * Min-SNR-γ weight of one diffusion step for a prediction type: min(SNR, γ) divided by what the plain loss on that
 * prediction already weights the x₀ error with (x₀: 1, v: SNR + 1, ε: SNR), SNR = ᾱ / (1 − ᾱ).
 */
export function minSnrWeight(predict: TextToVideoConfig["predict"], alphaBar: number, gamma: number): number {
  const snr = alphaBar / (1 - alphaBar), w = Math.min(snr, gamma);
  return predict === "x0" ? w : predict === "v" ? w / (snr + 1) : w / snr;
}

/**
 * Trains the text-to-video DiT (MSE on the config's prediction — x₀, v or ε — over whole clips, optionally min-SNR-γ
 * weighted; captions dropped to ∅ with probability captionDropout).
 */
export async function trainTextToVideo(o: TrainTextToVideoOptions): Promise<{ model: TextToVideoDiT; losses: number[]; seconds: number; gptSeconds: number; gptLoss: number | null }> {
  const over = () => ({ ...o.configOverrides, latentScale: latentStd(o.data.latents) });
  const cfg = o.init ? o.init.config
    : typeof o.config === "string" ? textToVideoConfig(o.config, over()) : textToVideoConfig(null, { ...o.config, ...over() });
  const model = o.init ? o.init.train() : new TextToVideoDiT(cfg, {}, { seed: o.seed });
  let gptSeconds = 0, gptLoss: number | null = null;
  if (cfg.textEncoder === "gpt" && !o.init) {
    const g = await trainCaptionGpt(cfg, o.data.captions, { steps: o.gptSteps ?? 600, seed: o.seed });
    model.text_encoder.loadStateDict(Object.fromEntries(Object.entries(g.gpt.stateDict()).map(([k, v]) => [`gpt.${k}`, v])));
    (model.text_encoder as { freeze(): void }).freeze();
    gptSeconds = g.seconds; gptLoss = g.loss;
  }
  const d = textToVideoDiffusion(cfg);
  const opt = new AdamW(model.parameters().filter((p) => p.requiresGrad), { lr: cosineSchedule({ warmupSteps: Math.min(100, o.steps / 10), totalSteps: o.steps, maxLr: o.lr, minLr: o.lr / 10 }), weightDecay: 0, maxGradNorm: 1 });
  // sw (N, 1, 1, 1, 1): the square root of each clip's loss weight (1 without weighting), on the output and the target
  const step = makeTrainStep(model, (x: Tensor, t: Tensor, y: Tensor, target: Tensor, sw: Tensor) => F.mseLoss(model.forward(x, t, y).mul(sw), target.mul(sw)), opt);
  const rng = new Generator(hashSeed(o.seed, "t2v-batches"));
  const g = new Generator(hashSeed(o.seed, "t2v-noise"));
  const C = cfg.latentChannels, L = cfg.textLength, B = o.batchSize;
  const lat = o.data.latents, caps = o.data.captions;
  const r = await fit({
    steps: o.steps,
    onProgress: o.onProgress,
    step: (i) => {
      const shape = TRAINING_SHAPES[i % TRAINING_SHAPES.length]!;
      const Fr = shape.frames, [r0, r1] = shape.rows, h = r1 - r0, w = shape.width, per = Fr * C * h * w;
      const x = new Float32Array(B * per), target = new Float32Array(B * per), tt = new Float32Array(B), sw = new Float32Array(B).fill(1), chosen: (string | null)[] = [];
      for (let b = 0; b < B; b++) {
        const c = rng.int(lat.length), z = lat[c]!, T = z.length / (C * 16 * 16);
        const stride = Math.max(1, Math.floor(T / Fr));                 // 8 frames of a 16-frame clip: every other frame, so the caption still holds
        const t = rng.int(d.numTimesteps);
        const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
        let k = b * per;
        for (let f = 0; f < Fr; f++) for (let ch = 0; ch < C; ch++) for (let yy = r0; yy < r1; yy++) for (let xx = 0; xx < w; xx++, k++) {
          const v = z[(((f * stride) * C + ch) * 16 + yy) * 16 + xx]! / cfg.latentScale, e = g.normal();
          target[k] = cfg.predict === "x0" ? v : cfg.predict === "v" ? sa * e - s1 * v : e;
          x[k] = sa * v + s1 * e;
        }
        tt[b] = t;
        if (o.minSnrGamma) sw[b] = Math.sqrt(minSnrWeight(cfg.predict, d.c.alphasCumprod[t]!, o.minSnrGamma));
        chosen.push(rng.chance(cfg.captionDropout) ? null : caps[c]!);
      }
      return step(tensor(x, { shape: [B, Fr, C, h, w] }), tensor(tt, { shape: [B] }), tensor(captionTokens(cfg, chosen), { dtype: "int32", shape: [B, L] }), tensor(target, { shape: [B, Fr, C, h, w] }), tensor(sw, { shape: [B, 1, 1, 1, 1] }));
    },
  });
  return { model, losses: r.losses, seconds: r.seconds, gptSeconds, gptLoss };
}

//################################################################################
//                                  Generation                                   #
//################################################################################

/** Latent clips (n, F, C, h, w) → RGB frames (n·F, 2h, 2w, 3) uint8 through the autoencoder's decoder (any h, w). */
export async function decodeClips(ae: Autoencoder, latents: Float32Array, shape: readonly number[]): Promise<Uint8Array> {
  const [n, Fr, C, h, w] = shape as [number, number, number, number, number];
  const count = n * Fr;
  const x = (await ae.decode(tensor(latents, { shape: [count, C, h, w] })).data()) as Float32Array;
  const H = 2 * h, W = 2 * w, hw = H * W;                                     // the decoder doubles each side
  if (x.length !== count * 3 * hw) throw new NextframeError(`decodeClips: the decoder made ${x.length} values for ${count} frames of ${H}×${W}×3`);
  const out = new Uint8Array(count * hw * 3);
  for (let t = 0; t < count; t++) for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) {
    const v = Math.round((x[(t * 3 + c) * hw + p]! + 1) * 127.5);
    out[(t * hw + p) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Captions → RGB clips: sample latents with the shipped sampler settings (or `opts`), decode; frames (n, F, H, W, 3). */
export async function generateClips(sampler: TextToVideoSampler, ae: Autoencoder, captions: readonly (string | null)[], opts: TextToVideoSampleOptions = {}): Promise<{ frames: Uint8Array; shape: [number, number, number, number, number] }> {
  const { latents, shape } = await sampler.sample(captions, opts);
  const frames = await decodeClips(ae, latents, shape);
  return { frames, shape: [shape[0], shape[1], shape[3] * 2, shape[4] * 2, 3] };
}

//################################################################################
//                                 Measurements                                  #
//################################################################################

/** Evaluation captions: rich captions of held-out clips (seeds never used for training) that the pixels can show (legibleClip). */
export function evaluationClips(seed: number, count: number, opts: { heldout?: boolean; pan?: boolean } = {}): VideoClip[] {
  const out: VideoClip[] = [];
  for (let i = 0; out.length < count && i < 200 * count; i++) {
    const c = textToVideoClip(hashSeed(seed, opts.heldout ? "t2v-heldout" : opts.pan ? "t2v-pan" : "t2v-eval", i));
    if (!legibleClip(c) || !!heldoutCombo(c.attributes) !== !!opts.heldout || (opts.pan && !c.attributes.cameraPan)) continue;
    out.push(c);
  }
  return out;
}

/**
 * How much the caption helps the denoiser on held-out clips: mean x₀ MSE with the null caption minus with the true
 * caption, at fixed diffusion steps and noise (positive = the caption carries information the model uses). Cheap and
 * sensitive at small budgets, where sampled clips are still too rough for the detectors.
 */
export async function captionGain(model: TextToVideoDiT, ae: Autoencoder, clips: VideoClip[], steps: readonly number[] = [200, 400, 600, 800]): Promise<{ withCaption: number; nullCaption: number; gain: number }> {
  const cfg = model.config, d = textToVideoDiffusion(cfg), C = cfg.latentChannels, L = cfg.textLength;
  const lat = await encodeClips(ae, clips);
  const n = clips.length, per = lat[0]!.length;
  const g = new Generator(7);
  let withC = 0, nullC = 0;
  for (const t of steps) {
    const x = new Float32Array(n * per), target = new Float32Array(n * per);
    const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
    lat.forEach((z, i) => { for (let k = 0; k < per; k++) { const v = z[k]! / cfg.latentScale; target[i * per + k] = v; x[i * per + k] = sa * v + s1 * g.normal(); } });
    const xs = tensor(x, { shape: [n, 16, C, 16, 16] }), ts = tensor(new Float32Array(n).fill(t), { shape: [n] }), tg = tensor(target, { shape: [n, 16, C, 16, 16] });
    const x0 = (out: Tensor) => (cfg.predict === "v" ? xs.mul(sa).sub(out.mul(s1)) : cfg.predict === "epsilon" ? xs.sub(out.mul(s1)).div(sa) : out);
    const loss = async (caps: (string | null)[]) => ((await F.mseLoss(x0(model.forward(xs, ts, tensor(captionTokens(cfg, caps), { dtype: "int32", shape: [n, L] }))), tg).data()) as Float32Array)[0]!;
    withC += await loss(clips.map((c) => c.captions.rich)) / steps.length;
    nullC += await loss(clips.map(() => null)) / steps.length;
  }
  return { withCaption: withC, nullCaption: nullC, gain: nullC - withC };
}

/** Mean agreement score (and per check) of clips (n, F, H, W, 3) with captions (detector options: e.g. a wide clip's crop). */
export function agreementOf(frames: Uint8Array, shape: readonly number[], captions: readonly string[], opts: DetectorOptions = {}): { score: number; checks: Record<keyof AgreementChecks, number> } {
  const [n, Fr, H, W] = shape as [number, number, number, number];
  const per = Fr * H * W * 3;
  const checks = Object.fromEntries(AGREEMENT_CHECKS.map((k) => [k, 0])) as Record<keyof AgreementChecks, number>;
  let score = 0;
  for (let i = 0; i < n; i++) {
    const r = scoreClip(frames.subarray(i * per, (i + 1) * per), Fr, H, W, captions[i]!, opts);
    score += r.score;
    for (const k of AGREEMENT_CHECKS) checks[k] += r.checks[k] ? 1 / n : 0;
  }
  return { score: score / n, checks };
}

/** Retrieval baseline: the training clip whose caption is nearest (word F1; first on ties), for each caption. */
export function retrieve(data: Pick<TextToVideoData, "train" | "captions">, captions: readonly string[]): VideoClip[] {
  return captions.map((c) => {
    let best = 0, bestF = -1;
    data.captions.forEach((d, i) => { const f = captionWordF1(d, c); if (f > bestF) { bestF = f; best = i; } });
    return data.train[best]!;
  });
}

function stack(clips: VideoClip[]): Uint8Array {
  const per = clips[0]!.frames.length, out = new Uint8Array(clips.length * per);
  clips.forEach((c, i) => out.set(c.frames, i * per));
  return out;
}

/**
 * Flicker: how much the area of every drawn colour (balls, agent, burger, tree) changes from one frame to the next,
 * relative to its size — Σ|n_t − n_{t−1}| / Σ max(n_t, n_{t−1}) over colours and frames, mean over clips. Objects that
 * keep their colour and size score near 0; a colour that comes and goes scores near 1.
 */
export function flicker(frames: Uint8Array, shape: readonly number[]): number {
  const [n, Fr, H, W] = shape as [number, number, number, number];
  const per = Fr * H * W * 3;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = readClip(frames.subarray(i * per, (i + 1) * per), Fr, H, W);
    const tracks = [...BALL_COLORS.map((c) => r.balls[c]), r.agent, r.burger, r.tree];
    let num = 0, den = 0;
    for (const tr of tracks) for (let t = 1; t < Fr; t++) { num += Math.abs(tr.count[t]! - tr.count[t - 1]!); den += Math.max(tr.count[t]!, tr.count[t - 1]!); }
    total += den ? num / den : 0;
  }
  return total / n;
}

/**
 * 3D consistency under a pan, per clip: the near tree slides farther across the frame than the far burger (which stands
 * still in the world), and the tree's width stays within ±1 px. Returns the share of clips with parallax in the right
 * order (of those where both are seen) and the mean spread (max − min) of the tree's width in pixels.
 */
export function panConsistency(frames: Uint8Array, shape: readonly number[]): { parallaxOk: number; clips: number; treeSizeSpread: number } {
  const [n, Fr, H, W] = shape as [number, number, number, number];
  const per = Fr * H * W * 3;
  let ok = 0, counted = 0, spread = 0;
  for (let i = 0; i < n; i++) {
    const r = readClip(frames.subarray(i * per, (i + 1) * per), Fr, H, W);
    const slide = (cx: number[]) => { const v = cx.filter(Number.isFinite); return v.length >= 2 ? Math.abs(v[v.length - 1]! - v[0]!) : NaN; };
    const tree = slide(r.tree.cx), burger = slide(r.burger.cx);
    if (Number.isFinite(tree) && Number.isFinite(burger)) { counted++; if (tree > burger) ok++; }
    const widths = r.tree.left.map((l, t) => r.tree.right[t]! - l).filter(Number.isFinite);
    spread += widths.length ? Math.max(...widths) - Math.min(...widths) : W;
  }
  return { parallaxOk: counted ? ok / counted : 0, clips: counted, treeSizeSpread: spread / n };
}

/** Mean pairwise RGB distance (0–1 scale, root mean square) between clips generated for the same caption from different noise. */
export function diversity(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) { const d = (a[i]! - b[i]!) / 255; s += d * d; }
  return Math.sqrt(s / a.length);
}

/**
 * Options of evaluateTextToVideo: how many held-out, held-out-combination and pan captions, the noise seeds, the
 * guidance sweep and the sampler settings.
 */
export interface TextToVideoEvalOptions {
  /** Legible held-out captions scored per seed, held-out-combination captions, and pan captions (3D consistency). */
  captions: number;
  heldoutCaptions: number;
  panCaptions: number;
  /** Noise seeds (≥ 3). */
  seeds: number[];
  /** Guidance scales of the sweep (agreement and diversity), on the first `sweepCaptions` captions and two seeds. */
  guidanceSweep: number[];
  sweepCaptions: number;
  evalSeed: number;
  sampling?: TextToVideoSampleOptions;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => { const m = mean(v); return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1)); };

/** The card's measurements (see the top of this file). Every number is computed here from generated, retrieved and true clips. */
export async function evaluateTextToVideo(model: TextToVideoDiT, ae: Autoencoder, data: Pick<TextToVideoData, "train" | "captions">, o: TextToVideoEvalOptions) {
  const sampler = new TextToVideoSampler(model);
  const evalClips = evaluationClips(o.evalSeed, o.captions);
  const heldClips = evaluationClips(o.evalSeed, o.heldoutCaptions, { heldout: true });
  const caps = evalClips.map((c) => c.captions.rich), held = heldClips.map((c) => c.captions.rich);
  const n = caps.length, m = held.length;
  const shuffle = caps.map((_, i) => (i + 1 + (i % 3)) % n);            // a fixed derangement-like permutation
  const truthShape = [n, 16, 32, 32, 3];
  const truthAgreement = agreementOf(stack(evalClips), truthShape, caps);
  const per = { model: [] as number[], null: [] as number[], shuffled: [] as number[], heldModel: [] as number[] };
  const checks: Record<string, number>[] = [];
  const flickerModel: number[] = [];
  for (const seed of o.seeds) {
    const g = await generateClips(sampler, ae, [...caps, ...held], { ...o.sampling, seed: seed * 1000 });
    const clipBytes = 16 * 32 * 32 * 3;
    const mine = g.frames.subarray(0, n * clipBytes), mineHeld = g.frames.subarray(n * clipBytes);
    const a = agreementOf(mine, [n, 16, 32, 32], caps);
    per.model.push(a.score); checks.push(a.checks);
    per.heldModel.push(agreementOf(mineHeld, [m, 16, 32, 32], held).score);
    // shuffled: the model's clip for another caption, scored against this one
    const shuffled = new Uint8Array(n * clipBytes);
    shuffle.forEach((j, i) => shuffled.set(mine.subarray(j * clipBytes, (j + 1) * clipBytes), i * clipBytes));
    per.shuffled.push(agreementOf(shuffled, [n, 16, 32, 32], caps).score);
    const u = await generateClips(sampler, ae, caps.map(() => null), { ...o.sampling, seed: seed * 1000 });
    per.null.push(agreementOf(u.frames, [n, 16, 32, 32], caps).score);
    flickerModel.push(flicker(mine, [n, 16, 32, 32]));
  }
  const retrieved = retrieve(data, caps), retrievedHeld = retrieve(data, held);
  const retrieval = agreementOf(stack(retrieved), truthShape, caps).score;
  const heldRetrieval = agreementOf(stack(retrievedHeld), [m, 16, 32, 32, 3], held).score;
  const heldTruth = agreementOf(stack(heldClips), [m, 16, 32, 32, 3], held).score;
  // 3D consistency: held-out captions that say "the camera pans" (their own set, so n is not left to chance), model vs true clips
  const panClips = evaluationClips(o.evalSeed, o.panCaptions, { pan: true });
  const panGen = await generateClips(sampler, ae, panClips.map((c) => c.captions.rich), { ...o.sampling, seed: o.seeds[0]! * 1000 });
  const panModel = panClips.length ? panConsistency(panGen.frames, [panClips.length, 16, 32, 32]) : null;
  const panTruth = panClips.length ? panConsistency(stack(panClips), [panClips.length, 16, 32, 32]) : null;
  // other shapes from the same weights (first noise seed): wide 24×32 clips (the 32×32 view without its top and bottom
  // 4 rows, as trained) and 8-frame clips (every other frame), against the true clips cut the same way
  const shapeSeed = o.seeds[0]! * 1000, P = 32 * 32 * 3;
  const wideGen = await generateClips(sampler, ae, caps, { ...o.sampling, latentHeight: 12, seed: shapeSeed });
  const eightGen = await generateClips(sampler, ae, caps, { ...o.sampling, frames: 8, seed: shapeSeed });
  const wideTruth = new Uint8Array(n * 16 * 24 * 32 * 3), eightTruth = new Uint8Array(n * 8 * P);
  evalClips.forEach((c, i) => {
    for (let t = 0; t < 16; t++) wideTruth.set(c.frames.subarray(t * P + 4 * 32 * 3, t * P + 28 * 32 * 3), (i * 16 + t) * 24 * 32 * 3);
    for (let t = 0; t < 8; t++) eightTruth.set(c.frames.subarray(2 * t * P, (2 * t + 1) * P), (i * 8 + t) * P);
  });
  const crop = { cropTop: 4, fullHeight: 32 };
  const shapes = {
    wide_model: agreementOf(wideGen.frames, [n, 16, 24, 32], caps, crop).score, wide_truth: agreementOf(wideTruth, [n, 16, 24, 32], caps, crop).score,
    eight_frames_model: agreementOf(eightGen.frames, [n, 8, 32, 32], caps).score, eight_frames_truth: agreementOf(eightTruth, [n, 8, 32, 32], caps).score,
    square_model_same_seed: per.model[0]!,
  };
  // guidance sweep: agreement and diversity (two noise seeds per caption)
  const sweepCaps = caps.slice(0, o.sweepCaptions);
  const sweep = [];
  for (const s of o.guidanceSweep) {
    const a = await generateClips(sampler, ae, sweepCaps, { ...o.sampling, guidance: s, seed: 1 });
    const b = await generateClips(sampler, ae, sweepCaps, { ...o.sampling, guidance: s, seed: 2 });
    sweep.push({ guidance: s, agreement: (agreementOf(a.frames, [sweepCaps.length, 16, 32, 32], sweepCaps).score + agreementOf(b.frames, [sweepCaps.length, 16, 32, 32], sweepCaps).score) / 2, diversity: diversity(a.frames, b.frames) });
  }
  const perCheck = Object.fromEntries(AGREEMENT_CHECKS.map((k) => [k, mean(checks.map((c) => c[k]!))]));
  return {
    agreement: {
      model: mean(per.model), null_caption: mean(per.null), shuffled: mean(per.shuffled), retrieval,
      heldout_combos_model: mean(per.heldModel), heldout_combos_retrieval: heldRetrieval,
    },
    agreement_detail: {
      captions: n, heldout_captions: m, seeds: o.seeds, guidance: o.sampling?.guidance, sampling_steps: o.sampling?.steps,
      model_sd_over_seeds: sd(per.model), null_caption_sd: sd(per.null), heldout_combos_model_sd: sd(per.heldModel),
      per_seed: { model: per.model, null_caption: per.null, shuffled: per.shuffled, heldout_combos_model: per.heldModel },
      model_per_check: perCheck, truth: truthAgreement.score, truth_per_check: truthAgreement.checks, heldout_combos_truth: heldTruth,
      heldout_combos: HELDOUT_COMBOS.map((h) => `${h.ball} ball + agent ${h.motion}`),
    },
    consistency: {
      flicker_model: mean(flickerModel), flicker_truth: flicker(stack(evalClips), truthShape),
      pan_parallax_ok: panModel?.parallaxOk ?? null, pan_parallax_ok_truth: panTruth?.parallaxOk ?? null, pan_clips: panClips.length, pan_clips_scored: panModel?.clips ?? 0,
      tree_size_px_spread: panModel?.treeSizeSpread ?? null, tree_size_px_spread_truth: panTruth?.treeSizeSpread ?? null,
    },
    shapes,
    guidance_sweep: sweep,
  };
}

//################################################################################
//                                Prompt expander                                #
//################################################################################

/** Why a prompt could not be expanded. */
export class PromptError extends NextframeError {}

/**
 * The course's prompt expander (chapter 6) as a library function: a short prompt → the rich caption the model was
 * trained on (the world's caption grammar). It finds ball colours, the agent's motion, eating and panning; a prompt
 * with no ball colour, or with words for things this world does not have, gets a PromptError saying what it understood
 * and what it needs, instead of a caption it would make up.
 */
export function expandPrompt(prompt: string): string {
  const p = prompt.toLowerCase().trim();
  if (!p) throw new PromptError("expandPrompt: the prompt is empty; try e.g. \"red and blue balls, agent goes left, eats the burger\"");
  const balls = BALL_COLORS.filter((c) => new RegExp(`\\b${c}\\b`).test(p));
  const unknownColour = /\b(purple|pink|white|black|grey|gray|brown|violet|magenta)\b/.exec(p);
  const unknownThing = /\b(dog|cat|car|person|man|woman|people|tree[s]? (?:falls?|grows?)|rain|snow|fire|water|bird|city|street|ocean|sky)\b/.exec(p);
  if (unknownColour) throw new PromptError(`expandPrompt: this world has no ${unknownColour[1]} ball; its balls are ${BALL_COLORS.join(", ")}`);
  if (unknownThing) throw new PromptError(`expandPrompt: this world has no "${unknownThing[1]}": it shows balls (${BALL_COLORS.join(", ")}), an agent that walks and bites a burger, a tree, and a camera that may pan`);
  if (!balls.length) throw new PromptError(`expandPrompt: name at least one ball colour (${BALL_COLORS.join(", ")}), e.g. "a red ball, agent walks right"`);
  if (balls.length > 2) throw new PromptError(`expandPrompt: the training clips hold one or two balls; "${prompt}" names ${balls.length} (${balls.join(", ")})`);
  const agentMotion = /\bleft\b/.test(p) ? "left" : /\bright\b/.test(p) ? "right" : /\baway\b|\bfarther\b|\bback\b/.test(p) ? "away"
    : /\bcloser\b|\btoward|\bnear|\bcomes\b/.test(p) ? "toward" : "still";
  const hidden = /\bbehind\b|\bhides?\b|\btree\b/.test(p) ? balls.slice(0, 1) : [];
  return richCaption({ balls, hidden, agentMotion, ateBurger: /\beat|\bbite|\bburger/.test(p), bites: 0, cameraPan: /\bpan/.test(p) });
}


/** The shipped text-to-video model (notebooks/checkpoints/text-to-video.*): built from its card's config, weights loaded. */
export function loadTextToVideo(dir?: string, name = "text-to-video"): TextToVideoDiT {
  const model = new TextToVideoDiT(readCard(name, dir).config as Partial<TextToVideoConfig>);
  loadCheckpoint(name, model, dir);
  return model.eval();
}
