// Experiments the chapters run: each function trains or loads a model on one of the worlds and measures a
// claim of the article against a named baseline (DESIGN §1, chapters 1, 6, 7, 8). The notebooks call these;
// the training scripts (kernel/train/) call the same functions, so the checkpoint cards hold numbers the
// notebooks recompute.
//
//   chapter 1   trainTinyGpt · evaluateGpt (loss vs unigram/bigram, legal-move rate) · probeGpt (vs chance,
//               vs a randomly initialised GPT)
//   chapter 7   rollout curves vs copy-last / linear extrapolation · permanence · interaction persistence
//   chapter 8   depth probe (latents vs pixels) · surprise (rule-breaking vs lawful clips)
//   chapter 6   recaptioning by nearest neighbour in latent space
//
// Checkpoints live in notebooks/checkpoints/<name>.safetensors with a <name>.json card beside them.

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { F, manualSeed, tensor, type Tensor } from "../engine/index.js";
import { Generator } from "../engine/random.js";
import { Module } from "../nn/index.js";
import { AdamW, cosineSchedule, fit, makeTrainStep, type FitProgress } from "../optim/index.js";
import { loadSafetensors, saveSafetensors, checkStateDict, type SafetensorsInput } from "../io/safetensors";
import { writeFileAtomic } from "../io/atomic";
import { GPT, gptConfig, type GPTConfig } from "../models/gpt";
import { hashSeed, Rng } from "./random";
import {
  generateTextWorldDataset, ngramBaselines, probeLabels, checkContinuation, validContinuationRate,
  type TextProbeTarget, type TextWorldConfig, type TextWorldDataset, type NgramBaselines,
} from "./textWorld";
import { wordTokenizer, type Tokenizer } from "./tokenizer";
import { Action, BALL_COLORS, PALETTE, clipLabels, generateSurpriseSet, generateVideoDataset, type VideoClip, type VideoDataset } from "./videoWorld";
import { CAPTION_LENGTH, WORLD_MODEL_CONFIGS, WORLD_MODEL_DEFAULTS, WorldModel, WorldSimulator, anchorDecoded, captionTokenizer, encodeCaptions, windowFrameIndices, worldModelConfig, worldModelDiffusion, type WorldModelConfig } from "../models/worldModel";
import type { GaussianDiffusion } from "../diffusion/index";
import { Autoencoder, framesToTensor, tensorDataToFrames, type AutoencoderConfig } from "../models/autoencoder";
import { copyLastFrame, horizonCurve, linearExtrapolation, meanCurve, psnr, surpriseScore } from "../metrics/image";
import { PERMANENCE_DEFAULTS, appearanceStrength, colorMatches, findColorBlob, interactionPersistence, objectPermanence, scoreReappearance, type PermanenceEvent } from "../metrics/permanence";
import { nearestNeighbourRecaption, type RecaptionResult } from "../metrics/recaption";
import { choleskySolve, linearProbe, type LinearProbeOptions } from "../metrics/linearProbe";

// ───────────────────────────── checkpoints ─────────────────────────────

/** What a checkpoint's JSON card holds (config, data seed, steps, final metrics). */
export interface CheckpointCard {
  name: string;
  model: string;
  config: Record<string, unknown>;
  dataSeed: number;
  steps: number;
  trainSeconds: number;
  parameters: number;
  metrics: Record<string, unknown>;
  [k: string]: unknown;
}

/**
 * The checkpoint folder: $NEXTFRAME_CHECKPOINTS, else the first notebooks/checkpoints (or checkpoints/) found
 * walking up from the working directory, then from the library's own folder (so the shipped ones are found from anywhere).
 */
export function checkpointsDir(): string {
  if (process.env.NEXTFRAME_CHECKPOINTS) return resolve(process.env.NEXTFRAME_CHECKPOINTS);
  // the notebook's folder and its parents first, then the library's own location and its parents (source tree:
  // kernel/nextframe/worlds; bundle: dist/nextframe; installed extension: <ext>/dist/nextframe)
  for (const start of [process.cwd(), __dirname]) {
    for (let d = start; ; d = dirname(d)) {
      for (const c of [join(d, "notebooks", "checkpoints"), join(d, "checkpoints")]) if (existsSync(c)) return c;
      if (dirname(d) === d) break;
    }
  }
  return resolve(__dirname, "..", "..", "..", "notebooks", "checkpoints");
}

/** Writes <dir>/<name>.safetensors (atomically, via io/safetensors) and <name>.json. */
export function saveCheckpoint(name: string, model: Module, card: CheckpointCard, dir = checkpointsDir()): { weights: string; card: string } {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [k, t] of Object.entries(model.stateDict())) {
    if (t._value === null) throw new Error(`saveCheckpoint: ${name}: tensor "${k}" has no value`);
    tensors[k] = { shape: t.shape, data: t._value as Float32Array };
  }
  const weights = join(dir, `${name}.safetensors`);
  saveSafetensors(weights, tensors, { format: "pt", model: card.model });
  const cardPath = join(dir, `${name}.json`);
  writeFileAtomic(cardPath, JSON.stringify(card, null, 2) + "\n");
  return { weights, card: cardPath };
}

/** Reads a card without loading weights. */
export function readCard(name: string, dir = checkpointsDir()): CheckpointCard {
  const p = join(dir, `${name}.json`);
  if (!existsSync(p)) throw new Error(`readCard: no checkpoint card ${p}; train it with \`npm run train -- ${name}\``);
  return JSON.parse(readFileSync(p, "utf8")) as CheckpointCard;
}

/** Loads <name>.safetensors into `model` (names and shapes checked, every mismatch listed). */
export function loadCheckpoint(name: string, model: Module, dir = checkpointsDir()): CheckpointCard {
  const card = readCard(name, dir);
  const file = loadSafetensors(join(dir, `${name}.safetensors`));
  const sd = model.stateDict();
  checkStateDict(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { shape: t.shape }])), file);
  const src: Record<string, Tensor> = {};
  for (const [k, t] of file.tensors) src[k] = tensor(t.data as Float32Array, { shape: t.shape });
  model.loadStateDict(src);
  return card;
}

/** The shipped autoencoder (notebooks/checkpoints/autoencoder.*): built from its card's config, weights loaded. */
export function loadAutoencoder(dir = checkpointsDir()): Autoencoder {
  const ae = new Autoencoder(readCard("autoencoder", dir).config as Partial<AutoencoderConfig>);
  loadCheckpoint("autoencoder", ae, dir);
  return ae;
}

/** A shipped world model (notebooks/checkpoints/<name>.*, default "world-model"): built from its card's config, weights loaded. */
export function loadWorldModel(dir = checkpointsDir(), name = "world-model"): WorldModel {
  const wm = new WorldModel(readCard(name, dir).config as Partial<WorldModelConfig>);
  loadCheckpoint(name, wm, dir);
  return wm;
}

// ───────────────────────────── linear probes ─────────────────────────────

/** A probe's held-out accuracy next to chance (majority class on the same rows). */
export interface ProbeResult {
  accuracy: number;
  chance: number;
  numTrain: number;
  numTest: number;
  classes: number;
}

/** metrics/linearProbe (softmax regression, whole groups held out) reduced to the numbers the chapters print. */
export function probeAccuracy(X: ArrayLike<number>, D: number, labels: ArrayLike<number>, groups: ArrayLike<number>, opts: LinearProbeOptions = {}): ProbeResult {
  const r = linearProbe(X, labels, D, { method: "softmax", groups, seed: 0, testFraction: 0.5, ...opts });
  return { accuracy: r.test, chance: r.chance, numTrain: r.nTrain, numTest: r.nTest, classes: r.classes };
}

// ───────────────────────────── chapter 1: a tiny GPT on the text world ─────────────────────────────

/**
 * Chapter 1's room: 3×3, so most cells touch a wall and a legal move depends on where the agent stands, and
 * the agent always picks up an object it stands on, so what happens next depends on where things lie. The
 * hidden state must matter for the next token, or a language model has no reason to track it.
 */
export const CHAPTER1_TEXT_WORLD: Partial<TextWorldConfig> = { width: 3, height: 3, pickupProb: 1, dropProb: 0.3 };

/** The text world as token streams: every episode is "\n" + its words, and training windows start at an episode. */
export interface TextWorldData {
  dataset: TextWorldDataset;
  tokenizer: Tokenizer;
  train: Int32Array;
  val: Int32Array;
  /** Offsets of each episode's leading "\n" in the streams. */
  trainStarts: number[];
  valStarts: number[];
  blockSize: number;
}

function streamOf(tok: Tokenizer, episodes: string[]): { ids: Int32Array; starts: number[] } {
  const parts = episodes.map((e) => tok.encode("\n " + e));
  const ids = new Int32Array(parts.reduce((s, p) => s + p.length, 0) + 1);
  const starts: number[] = [];
  let o = 0;
  for (const p of parts) { starts.push(o); ids.set(p, o); o += p.length; }
  ids[o] = tok.encode("\n")[0]!;
  return { ids, starts };
}

/** Generates the text-world dataset from a seed and tokenizes it at word level. */
export function textWorldData(opts: { seed?: number; numTrain?: number; numVal?: number; blockSize?: number; config?: Partial<TextWorldConfig> } = {}): TextWorldData {
  const dataset = generateTextWorldDataset({ seed: opts.seed ?? 1, numTrain: opts.numTrain ?? 2000, numVal: opts.numVal ?? 200, config: opts.config ?? CHAPTER1_TEXT_WORLD });
  const tokenizer = wordTokenizer([...dataset.train, ...dataset.val]);
  const tr = streamOf(tokenizer, dataset.train), va = streamOf(tokenizer, dataset.val);
  return { dataset, tokenizer, train: tr.ids, val: va.ids, trainStarts: tr.starts, valStarts: va.starts, blockSize: opts.blockSize ?? 128 };
}

/** Windows (B, T) of inputs and next-token targets starting at the given stream offsets (wrapping at the end). */
export function textBatch(stream: Int32Array, starts: readonly number[], T: number): { x: Tensor; y: Tensor } {
  const B = starts.length;
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  starts.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      x[b * T + t] = stream[(s + t) % stream.length]!;
      y[b * T + t] = stream[(s + t + 1) % stream.length]!;
    }
  });
  return { x: tensor(x, { shape: [B, T] }), y: tensor(y, { shape: [B, T] }) };
}

export interface TrainTinyGptOptions {
  data?: TextWorldData;
  config?: Partial<GPTConfig>;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onProgress?: (p: FitProgress) => void | Promise<void>;
}

/** Trains the chapter-1 GPT ("gpt-textworld" config) on episode-aligned windows. Deterministic in `seed`. */
export async function trainTinyGpt(opts: TrainTinyGptOptions = {}): Promise<{ model: GPT; data: TextWorldData; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? textWorldData();
  const seed = opts.seed ?? 1337;
  const config = gptConfig("gpt-textworld", { vocabSize: data.tokenizer.vocabSize, blockSize: data.blockSize, ...opts.config });
  const model = new GPT(config, {}, { seed });
  const steps = opts.steps ?? 600;
  const B = opts.batchSize ?? 16;
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: Math.min(50, steps / 10), totalSteps: steps, maxLr: opts.lr ?? 3e-3, minLr: (opts.lr ?? 3e-3) / 10 }), weightDecay: 0.01, maxGradNorm: 1 });
  const step = makeTrainStep(model, (x, y) => model.forward(x, y).loss!, opt);
  const rng = new Rng(hashSeed(seed, "gpt-batches"));
  const T = config.blockSize;
  const r = await fit({
    steps,
    step: async () => {
      const starts = Array.from({ length: B }, () => data.trainStarts[rng.int(data.trainStarts.length)]!);
      const { x, y } = textBatch(data.train, starts, T);
      return step(x, y);
    },
    onProgress: opts.onProgress,
  });
  return { model, data, losses: r.losses, seconds: r.seconds, steps };
}

export interface GptEvaluation {
  /** Mean next-token cross-entropy on validation windows, nats/token. */
  valLoss: number;
  baselines: NgramBaselines;
  /** Sentences the model writes after a validation prefix that obey the world's rules (vs a bigram sampler). */
  legalRate: number;
  bigramLegalRate: number;
  sentencesChecked: number;
}

/** Sampling from the bigram table (the baseline writer for the legal-move rate). */
function bigramSampler(train: Int32Array, V: number): (prev: number, rng: Rng) => number {
  const counts = new Float64Array(V * V);
  for (let i = 1; i < train.length; i++) counts[train[i - 1]! * V + train[i]!]++;
  return (prev, rng) => {
    let s = 0;
    for (let j = 0; j < V; j++) s += counts[prev * V + j]!;
    let u = rng.next() * s;
    for (let j = 0; j < V; j++) { u -= counts[prev * V + j]!; if (u <= 0) return j; }
    return V - 1;
  };
}

/**
 * Chapter 1's numbers: validation loss against unigram/bigram baselines, and the legal-move rate of sampled
 * continuations (prefix = header + a few actions of a validation episode) against a bigram writer.
 */
export async function evaluateGpt(model: GPT, data: TextWorldData, opts: { numEpisodes?: number; continuations?: number; seed?: number } = {}): Promise<GptEvaluation> {
  const T = model.config.blockSize;
  const n = Math.min(opts.numEpisodes ?? 64, data.valStarts.length);
  let total = 0, count = 0;
  for (let i = 0; i < n; i += 16) {
    const starts = data.valStarts.slice(i, Math.min(n, i + 16));
    const { x, y } = textBatch(data.val, starts, T);
    const loss = await model.forward(x, y).loss!.item();
    total += loss * starts.length;
    count += starts.length;
  }
  const baselines = ngramBaselines(data.train, data.val, data.tokenizer.vocabSize);
  // legal-move rate
  const tok = data.tokenizer;
  const nCont = Math.min(opts.continuations ?? 12, data.dataset.val.length);
  const rng = new Rng(hashSeed(opts.seed ?? 7, "continuations"));
  const bigram = bigramSampler(data.train, tok.vocabSize);
  const nl = tok.encode("\n")[0]!;
  const model_checks = [], bigram_checks = [];
  for (let i = 0; i < nCont; i++) {
    const ep = data.dataset.val[i]!;
    const words = ep.split(" ");
    const cut = 20 + 4 * (2 + rng.int(8)); // header (20 words) + a few action sentences
    const prefix = words.slice(0, Math.min(cut, words.length - 1)).join(" ");
    const ctx = tok.encode("\n " + prefix);
    const gen = await model.generate(ctx, 24, { temperature: 1, seed: hashSeed(opts.seed ?? 7, i), stopToken: nl });
    const cont = tok.decode(gen.slice(ctx.length).filter((t) => t !== nl));
    model_checks.push(checkContinuation(prefix, " " + cont, data.dataset.config));
    const bg = [...ctx];
    for (let k = 0; k < 24; k++) { const t = bigram(bg[bg.length - 1]!, rng); if (t === nl) break; bg.push(t); }
    bigram_checks.push(checkContinuation(prefix, " " + tok.decode(bg.slice(ctx.length)), data.dataset.config));
  }
  const m = validContinuationRate(model_checks), b = validContinuationRate(bigram_checks);
  return { valLoss: total / count, baselines, legalRate: m.rate, bigramLegalRate: b.rate, sentencesChecked: m.total };
}

/** Hidden states of every position of validation episodes at one layer, with probe labels. */
async function gptFeatures(model: GPT, data: TextWorldData, layer: number, target: TextProbeTarget, episodes: number): Promise<{ X: Float32Array; labels: Int32Array; groups: Int32Array }> {
  const T = model.config.blockSize, C = model.config.nEmbd;
  const xs: Float32Array[] = [], ls: number[] = [], gs: number[] = [];
  for (let i = 0; i < episodes; i += 16) {
    const idx = Array.from({ length: Math.min(16, episodes - i) }, (_, k) => i + k);
    const { x } = textBatch(data.val, idx.map((k) => data.valStarts[k]!), T);
    const h = (await model.forward(x).hidden[layer]!.data()) as Float32Array; // (B, T, C)
    idx.forEach((k, b) => {
      const lab = probeLabels(data.dataset.val[k]!, target, "word", data.dataset.config);
      // stream position p = 1 + word index (the leading "\n")
      for (let w = 0; w < lab.length && w + 1 < T; w++) {
        if (lab[w]! < 0) continue;
        xs.push(h.slice((b * T + w + 1) * C, (b * T + w + 2) * C));
        ls.push(lab[w]!);
        gs.push(k);
      }
    });
  }
  const X = new Float32Array(xs.length * C);
  xs.forEach((v, i) => X.set(v, i * C));
  return { X, labels: Int32Array.from(ls), groups: Int32Array.from(gs) };
}

export interface GptProbeReport {
  target: TextProbeTarget;
  layer: number;
  trained: ProbeResult;
  /** The same probe on a randomly initialised GPT of the same shape (what architecture alone gives). */
  randomInit: ProbeResult;
}

/**
 * Linear probes from the residual stream to the hidden world state (Othello-GPT, small): train on the first
 * half of the validation episodes, test on the second half; the same probe on a random-init GPT as a control.
 */
export async function probeGpt(model: GPT, data: TextWorldData, opts: { target?: TextProbeTarget; layer?: number; episodes?: number; randomSeed?: number } = {}): Promise<GptProbeReport> {
  const target = opts.target ?? "agentCell";
  const layer = opts.layer ?? model.config.nLayer;
  if (layer < 0 || layer > model.config.nLayer) throw new Error(`probeGpt: layer must be in [0, ${model.config.nLayer}], got ${layer}`);
  const episodes = Math.min(opts.episodes ?? 64, data.valStarts.length);
  const run = async (m: GPT): Promise<ProbeResult> => {
    const f = await gptFeatures(m, data, layer, target, episodes);
    return probeAccuracy(f.X, m.config.nEmbd, f.labels, f.groups);
  };
  const trained = await run(model);
  const random = new GPT(model.config, {}, { seed: opts.randomSeed ?? 4242 });
  const randomInit = await run(random);
  return { target, layer, trained, randomInit };
}

// ───────────────────────────── video world data ─────────────────────────────

/** The clips chapters 6–8 train and evaluate on (32×32, seeded; captions rich/poor/missing). */
export function videoWorldData(opts: { seed?: number; numTrain?: number; numVal?: number; frames?: number; size?: number } = {}): VideoDataset {
  return generateVideoDataset({
    seed: opts.seed ?? 2, numTrain: opts.numTrain ?? 256, numVal: opts.numVal ?? 32, frames: opts.frames ?? 32, size: opts.size ?? 32,
    policy: "random", captionMix: { rich: 0.5, poor: 0.25 },
  });
}

// ───────────────────────────── latents: the autoencoder ─────────────────────────────

/** Random frames from random clips as a (B, 3, H, W) tensor in [-1, 1]. */
function frameBatch(clips: VideoClip[], B: number, rng: Rng): Tensor {
  const size = clips[0]!.size, F3 = size * size * 3;
  const buf = new Uint8Array(B * F3);
  for (let b = 0; b < B; b++) {
    const c = clips[rng.int(clips.length)]!;
    const t = rng.int(c.numFrames);
    buf.set(c.frames.subarray(t * F3, (t + 1) * F3), b * F3);
  }
  return framesToTensor(buf, B, size);
}

export async function trainAutoencoder(opts: { data?: VideoDataset; steps?: number; batchSize?: number; lr?: number; seed?: number; config?: Partial<AutoencoderConfig> & { name?: string }; onProgress?: (p: FitProgress) => void | Promise<void> } = {}): Promise<{ model: Autoencoder; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? videoWorldData();
  const seed = opts.seed ?? 1;
  manualSeed(seed);
  const model = new Autoencoder({ imageSize: data.train[0]!.size, ...opts.config });
  const steps = opts.steps ?? 800;
  const lr = opts.lr ?? 2e-3;
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: Math.min(50, steps / 10), totalSteps: steps, maxLr: lr, minLr: lr / 20 }), weightDecay: 0 });
  const step = makeTrainStep(model, (x) => model.forward(x).loss, opt);
  const rng = new Rng(hashSeed(seed, "ae-batches"));
  const B = opts.batchSize ?? 32;
  const r = await fit({ steps, step: () => step(frameBatch(data.train, B, rng)), onProgress: opts.onProgress });
  return { model, losses: r.losses, seconds: r.seconds, steps };
}

/** Encodes clips' frames: (T, zc, h, w) latents per clip (float32, batched through the encoder). */
export async function encodeClips(ae: Autoencoder, clips: VideoClip[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const c of clips) out.push((await ae.encode(framesToTensor(c.frames, c.numFrames, c.size)).data()) as Float32Array);
  return out;
}

/** Decodes latents (T, zc, h, w) to RGB uint8 frames (T, H, W, 3). */
export async function decodeLatents(ae: Autoencoder, z: Float32Array, count: number): Promise<Uint8Array> {
  const [zc, h, w] = ae.latentShape;
  const x = (await ae.decode(tensor(z, { shape: [count, zc, h, w] })).data()) as Float32Array;
  return tensorDataToFrames(x, count, ae.config.imageSize);
}

/** Reconstruction PSNR (dB, uint8 frames) over every frame of the given clips. */
export async function autoencoderPsnr(ae: Autoencoder, clips: VideoClip[]): Promise<number> {
  let total = 0, n = 0;
  for (const c of clips) {
    const z = (await ae.encode(framesToTensor(c.frames, c.numFrames, c.size)).data()) as Float32Array;
    const rec = await decodeLatents(ae, z, c.numFrames);
    const F3 = c.size * c.size * 3;
    for (let t = 0; t < c.numFrames; t++) { total += psnr(rec.subarray(t * F3, (t + 1) * F3), c.frames.subarray(t * F3, (t + 1) * F3)); n++; }
  }
  return total / n;
}

// ───────────────────────────── chapter 7: the next-frame world model ─────────────────────────────

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
export function latentStd(latents: Float32Array[]): number {
  let s = 0, s2 = 0, n = 0;
  for (const z of latents) for (let i = 0; i < z.length; i++) { s += z[i]!; s2 += z[i]! * z[i]!; n++; }
  return Math.sqrt(s2 / n - (s / n) ** 2);
}

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

/** The action that produced each listed frame of a clip: frame f was produced by actions[f − 1] (Noop for frame 0). */
function frameActions(actions: Uint8Array, frames: readonly number[], out: Int32Array, o: number): void {
  frames.forEach((f, k) => { out[o + k] = f > 0 ? actions[f - 1]! : Action.Noop; });
}

/** Actions of the Fr consecutive frames start .. start + Fr − 1 (frameActions). */
function windowActions(actions: Uint8Array, start: number, Fr: number, out: Int32Array, o: number): void {
  frameActions(actions, Array.from({ length: Fr }, (_, f) => start + f), out, o);
}

/** Share of training windows whose caption is replaced by the null caption (classifier-free guidance, as DiT's labels). */
export const CAPTION_DROPOUT = 0.1;

/**
 * One training batch: noisy target at a random diffusion step, noise-augmented context; for caption-conditioned
 * models also (B, CAPTION_LENGTH) caption tokens, dropped to the null caption with probability CAPTION_DROPOUT.
 */
export function worldModelBatch(model: WorldModel, d: GaussianDiffusion, data: LatentClips, B: number, rng: Rng, normal: () => number): { x: Tensor; t: Tensor; a: Tensor; target: Tensor; caption?: Tensor } {
  const Fr = model.frames, L = data.frameLength, { contextFrames: K, latentChannels: C, latentSize: H, contextNoise } = model.config;
  const x = new Float32Array(B * Fr * L), target = new Float32Array(B * L), tt = new Float32Array(B), a = new Int32Array(B * Fr), clipOf = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const c = rng.int(data.latents.length);
    const tgt = K + rng.int(data.numFrames - K);                      // any target with K recent frames before it
    const z = data.latents[c]!;
    const frames = windowFrameIndices(model.config, tgt);           // memory frames, K recent ones, the target
    // the older context frames get noise; the last one stays clean: a residual model adds its change to it
    for (let f = 0; f < Fr - 1; f++) {
      const sd = model.config.residual && f === Fr - 2 ? 0 : contextNoise, o = frames[f]! * L;
      for (let i = 0; i < L; i++) x[(b * Fr + f) * L + i] = z[o + i]! + sd * normal();
    }
    const t = rng.int(d.numTimesteps);
    const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
    for (let i = 0; i < L; i++) {
      const z0 = z[tgt * L + i]!;
      target[b * L + i] = z0;
      x[(b * Fr + Fr - 1) * L + i] = sa * z0 + s1 * normal();
    }
    tt[b] = t;
    frameActions(data.actions[c]!, frames, a, b * Fr);
    clipOf[b] = c;
  }
  const batch = { x: tensor(x, { shape: [B, Fr, C, H, H] }), t: tensor(tt, { shape: [B] }), a: tensor(a, { shape: [B, Fr] }), target: tensor(target, { shape: [B, C, H, H] }) };
  if (model.config.captionVocab === 0) return batch;
  if (!data.captions) throw new Error("worldModelBatch: the model is caption-conditioned but the latent clips carry no captions");
  const caps = Array.from(clipOf, (c) => (rng.chance(CAPTION_DROPOUT) ? null : data.captions![c]!));
  return { ...batch, caption: tensor(encodeCaptions(captionTokenizer(), caps), { shape: [B, CAPTION_LENGTH] }) };
}

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
}

/** Trains the world model on the autoencoder's latents of the video world (x₀-prediction, MSE). */
export async function trainWorldModel(opts: TrainWorldModelOptions): Promise<{ model: WorldModel; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? videoWorldData();
  const seed = opts.seed ?? 3;
  const raw = await encodeClips(opts.ae, data.train);
  const [zc, zs] = opts.ae.latentShape;
  // without a config: the first named size (smallest first) made for these latents
  const fits = Object.entries(WORLD_MODEL_CONFIGS).filter(([, c]) => ((c as Partial<WorldModelConfig>).latentSize ?? WORLD_MODEL_DEFAULTS.latentSize) === zs).map(([n]) => n);
  const named = fits[0] ?? "wm-xs";
  if (!opts.init && opts.config === undefined && fits.length === 0) {
    throw new Error(`trainWorldModel: no named world-model config is made for ${opts.ae.latentShape.join("×")} latents (have ${Object.keys(WORLD_MODEL_CONFIGS).join(", ")}); pass config: { latentSize: ${zs}, ... }`);
  }
  const base = opts.init?.config ?? (typeof opts.config === "string" ? worldModelConfig(opts.config) : worldModelConfig(named, opts.config));
  if (base.latentChannels !== zc || base.latentSize !== zs) throw new Error(`trainWorldModel: config expects ${base.latentChannels}×${base.latentSize}×${base.latentSize} latents, the autoencoder makes ${opts.ae.latentShape.join("×")}`);
  const model = opts.init ?? new WorldModel({ ...base, latentScale: latentStd(raw) }, {}, { seed });
  const scale = model.config.latentScale;
  const clips = await latentClips(opts.ae, data.train, scale, raw);
  const d = worldModelDiffusion(model.config);
  const steps = opts.steps ?? 1500, lr = opts.lr ?? 1e-3, B = opts.batchSize ?? 32;
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: Math.min(100, steps / 10), totalSteps: steps, maxLr: lr, minLr: lr / 10 }), weightDecay: 0, maxGradNorm: 1 });
  const captions = model.config.captionVocab > 0;
  const step = captions
    ? makeTrainStep(model, (x, t, a, target, cap) => F.mseLoss(model.predictNext(x, t, a, cap), target), opt)
    : makeTrainStep(model, (x, t, a, target) => F.mseLoss(model.predictNext(x, t, a), target), opt);
  const rng = new Rng(hashSeed(seed, "wm-batches"));
  const g = new Generator(hashSeed(seed, "wm-noise"));
  const normal = () => g.normal();
  const r = await fit({
    steps,
    step: () => { const b = worldModelBatch(model, d, clips, B, rng, normal); return b.caption ? step(b.x, b.t, b.a, b.target, b.caption) : step(b.x, b.t, b.a, b.target); },
    onProgress: opts.onProgress,
  });
  return { model, losses: r.losses, seconds: r.seconds, steps };
}

// ───────────────────────────── rollouts against baselines ─────────────────────────────

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
  if (!Number.isInteger(contextFrames) || contextFrames < 1) throw new Error(`truthOracle: contextFrames must be a positive integer, got ${contextFrames}`);
  if (clips.length === 0) throw new Error("truthOracle: needs at least one clip to replay");
  const size = ae?.config.imageSize ?? clips[0]!.size, F3 = size * size * 3;
  const wrong = clips.find((c) => c.size !== size);
  if (wrong) throw new Error(`truthOracle: ${ae ? "the autoencoder takes" : "the first clip has"} ${size}×${size} frames, a clip has ${wrong.size}×${wrong.size}`);
  let at: { clip: VideoClip; next: number } | null = null;
  return {
    contextFrames,
    async reset(frames: Uint8Array) {
      if (frames.length !== contextFrames * F3) throw new Error(`truthOracle.reset: expected ${contextFrames} frames of ${size}×${size}×3 (${contextFrames * F3} bytes), got ${frames.length}`);
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
          throw new Error(`truthOracle.reset: these frames appear in the clips twice with different futures (clip ${clips.indexOf(found.clip)} frame ${found.next - contextFrames}, clip ${ci} frame ${s}); give it only the clips the context can come from`);
        }
      }
      if (!found) throw new Error("truthOracle.reset: these frames are not a window of any clip it was given");
      at = found;
    },
    async rollout(actions: ArrayLike<number>) {
      if (!at) throw new Error("truthOracle.rollout: call reset(frames, actions) first");
      const n = actions.length, { clip, next } = at;
      if (next + n > clip.numFrames) throw new Error(`truthOracle.rollout: the clip has ${clip.numFrames - next} frames left, asked for ${n}`);
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
 * The simulator reset to clip c's true frames start − K .. start − 1 (further back, up to its historyFrames, for a
 * predictor with a memory), with the actions that made them, and rolled out
 * `horizon` frames with the clip's true actions: its guess of frames start .. start + horizon − 1, (horizon, H, W, 3).
 */
async function rolloutFromTruth(sim: RolloutPredictor, c: VideoClip, start: number, horizon: number): Promise<Uint8Array> {
  const n = Math.min(start, sim.historyFrames ?? sim.contextFrames), F3 = c.size * c.size * 3;   // K, or more for a memory
  const acts = new Int32Array(n);
  windowActions(c.actions, start - n, n, acts, 0);
  await sim.reset(c.frames.slice((start - n) * F3, start * F3), acts);
  return sim.rollout(Array.from({ length: horizon }, (_, k) => c.actions[start - 1 + k]!));
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
    if (start + H > c.numFrames || start < K) throw new Error(`evaluateRollouts: clip has ${c.numFrames} frames; start ${start} (≥ K = ${K}) + horizon ${H} does not fit`);
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

// ───────────────────────────── permanence and interaction ─────────────────────────────

export interface PermanenceReport {
  clips: number;
  events: number;
  /** Fraction of occlusion events where the ball is back in the prediction at its re-emergence frame, and at the right place. */
  model: { reappearRate: number; correctRate: number; meanError: number };
  copyLast: { reappearRate: number; correctRate: number; meanError: number };
  linear: { reappearRate: number; correctRate: number; meanError: number };
  /** Interaction persistence on clips where the burger gets bitten during the rollout (model vs copy-last). */
  persistence: { frames: number; model: number; copyLast: number };
}

/**
 * Rolls out from the first K frames of each clip to its end (true actions) and scores object permanence
 * (metrics/permanence.ts) for the model and both baselines, plus interaction persistence.
 */
export async function evaluatePermanence(sim: RolloutPredictor, clips: VideoClip[]): Promise<PermanenceReport & { rollouts: Uint8Array[] }> {
  const K = sim.contextFrames;
  const tally = { model: [] as PermanenceEvent[], copy: [] as PermanenceEvent[], lin: [] as PermanenceEvent[] };
  const pers = { frames: 0, model: 0, copy: 0 };
  const rollouts: Uint8Array[] = [];
  for (const c of clips) {
    const size = c.size, F3 = size * size * 3, H = c.numFrames - K;
    const ctx = c.frames.slice(0, K * F3);
    const pred = await rolloutFromTruth(sim, c, K, H);
    rollouts.push(pred);
    const full = (p: Uint8Array) => { const o = new Uint8Array(c.numFrames * F3); o.set(ctx); o.set(p, K * F3); return o; };
    const m = full(pred), cp = full(copyLastFrame(ctx, F3, H)), li = full(linearExtrapolation(ctx, F3, H));
    const opts = { size, from: K, truthFrames: c.frames };
    tally.model.push(...objectPermanence(c.states, m, opts).events);
    tally.copy.push(...objectPermanence(c.states, cp, opts).events);
    tally.lin.push(...objectPermanence(c.states, li, opts).events);
    const pm = interactionPersistence(c.states, m, { size, from: K }), pc = interactionPersistence(c.states, cp, { size, from: K });
    if (pm.frames > 0) { pers.frames += pm.frames; pers.model += pm.persistentRate * pm.frames; pers.copy += pc.persistentRate * pc.frames; }
  }
  const sum = (ev: PermanenceEvent[]) => {
    const found = ev.filter((e) => e.found);
    return {
      reappearRate: ev.length ? found.length / ev.length : NaN,
      correctRate: ev.length ? ev.filter((e) => e.correct).length / ev.length : NaN,
      meanError: found.length ? found.reduce((s, e) => s + e.error, 0) / found.length : NaN,
    };
  };
  return {
    clips: clips.length, events: tally.model.length, rollouts,
    model: sum(tally.model), copyLast: sum(tally.copy), linear: sum(tally.lin),
    persistence: { frames: pers.frames, model: pers.frames ? pers.model / pers.frames : NaN, copyLast: pers.frames ? pers.copy / pers.frames : NaN },
  };
}

export interface ReemergenceReport {
  /** Occlusion events with K true frames up to the ball's last fully hidden frame. */
  events: number;
  /**
   * Of those, the ones hidden for fewer frames than the predictor reads (K, or its historyFrames when it has a
   * memory): the ball's last sighting is still in what it sees, so memory could help.
   */
  withinContext: number;
  /** For each of those, how many frames the predictor rolls out: from the last fully hidden frame to the re-emergence. */
  horizons: number[];
  /**
   * Over the within-context events: the ball's colour in the predicted frame at all, within size/8 px of the truth,
   * and how much of it is drawn (mean appearanceStrength: 1 as in the truth, 0 not at all, between: a ghost).
   */
  model: ReemergenceScore;
  copyLast: ReemergenceScore;
  linear: ReemergenceScore;
}

export interface ReemergenceScore { found: number; correct: number; strength: number }

/**
 * Object permanence without long-rollout drift: for each occlusion shorter than the model's context (K frames, or
 * historyFrames for a model with a memory), the model gets the TRUE frames up to the last one in which the ball is
 * fully hidden (so its last sighting is still in what it reads) and rolls out, with the true actions, to the frame
 * where the ball is at least half visible again (a few frames: `horizons` lists them). Copy-last and linear
 * extrapolation get the same frames: copy-last cannot show the ball, linear extrapolation only by growing the faint
 * anti-aliased edge a ball shows as it comes out (no pixel centre). Separates "forgets the hidden ball" from "drifts
 * over a long rollout".
 */
export async function reemergenceTest(sim: RolloutPredictor, clips: VideoClip[], opts: { tol?: number; minPixels?: number } = {}): Promise<ReemergenceReport> {
  const K = sim.contextFrames, reach = sim.historyFrames ?? K, tol = opts.tol ?? PERMANENCE_DEFAULTS.tol;
  let strengthEvents = 0;
  const r = { events: 0, withinContext: 0, horizons: [] as number[], model: { found: 0, correct: 0, strength: 0 }, copyLast: { found: 0, correct: 0, strength: 0 }, linear: { found: 0, correct: 0, strength: 0 } };
  for (const c of clips) {
    const size = c.size, F3 = size * size * 3, frame = (src: Uint8Array, t: number) => src.subarray(t * F3, (t + 1) * F3);
    for (const e of objectPermanence(c.states, c.frames, { size, from: K }).events) {   // the truth's own events
      if (e.hiddenTo + 1 < K) continue;                          // needs K true frames up to the last hidden one
      r.events++;
      if (e.hiddenTo - e.hiddenFrom + 1 >= reach) continue;
      r.withinContext++;
      const t = e.reappearFrame, last = e.hiddenTo, H = t - last, rgb = c.states[t]!.objects[e.object]!.rgb;
      r.horizons.push(H);
      const truth = findColorBlob(frame(c.frames, t), size, size, rgb, tol);
      // strength is averaged over the events where the ball has new pixels (NaN for every predictor otherwise)
      const hasNew = !Number.isNaN(appearanceStrength(frame(c.frames, t), frame(c.frames, t), frame(c.frames, last), rgb, tol));
      strengthEvents += +hasNew;
      const score = (frames: Uint8Array, into: ReemergenceScore) => {
        const s = scoreReappearance(frame(frames, H - 1), size, rgb, truth.cx, truth.cy, opts);
        into.found += +s.found;
        into.correct += +s.correct;
        if (hasNew) into.strength += appearanceStrength(frame(frames, H - 1), frame(c.frames, t), frame(c.frames, last), rgb, tol);
      };
      score(await rolloutFromTruth(sim, c, last + 1, H), r.model);   // context: frames last + 1 − K (or − reach) .. last
      score(copyLastFrame(c.frames.subarray(last * F3, (last + 1) * F3), F3, H), r.copyLast);
      score(linearExtrapolation(c.frames.subarray((last - 1) * F3, (last + 1) * F3), F3, H), r.linear);
    }
  }
  for (const k of [r.model, r.copyLast, r.linear]) k.strength = strengthEvents ? k.strength / strengthEvents : NaN;
  return r;
}

/**
 * A hand-written rule with object permanence and nothing else, to ask whether a hidden ball's return is predictable
 * from the context at all: reset() keeps the context frames (K, or up to historyFrames); rollout() copies the last one and, for every ball
 * colour of the world's palette that the last frame does not show (fewer than minPixels), finds the last two
 * context frames in which that ball shows at least half of its largest pixel count in the window ("full
 * sightings"), extrapolates its centroid at their constant velocity and pastes its sprite from the later one there
 * (over the occluder too: it knows nothing of depth). Visible balls stay where they are, as in copy-last. Pixels only: it reads no world state.
 * With `historyFrames` > K it takes up to that many frames (a memory as long as a world model's memoryFrames reach).
 */
export function lastSightingTracker(size: number, contextFrames: number, opts: { tol?: number; minPixels?: number; historyFrames?: number } = {}): RolloutPredictor {
  if (!Number.isInteger(size) || size < 1) throw new Error(`lastSightingTracker: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(contextFrames) || contextFrames < 2) throw new Error(`lastSightingTracker: contextFrames must be an integer ≥ 2 (a velocity needs two sightings), got ${contextFrames}`);
  const history = opts.historyFrames ?? contextFrames;
  if (!Number.isInteger(history) || history < contextFrames) throw new Error(`lastSightingTracker: historyFrames must be an integer ≥ contextFrames (${contextFrames}), got ${history}`);
  const F3 = size * size * 3, tol = opts.tol ?? PERMANENCE_DEFAULTS.tol, minPixels = opts.minPixels ?? PERMANENCE_DEFAULTS.minPixels;
  let ctx: Uint8Array | null = null, made = 0, given = contextFrames;   // frames reset() was given (K to history)
  const frame = (t: number) => ctx!.subarray(t * F3, (t + 1) * F3);
  return {
    contextFrames,
    historyFrames: history,
    async reset(frames: Uint8Array) {
      const n = frames.length / F3;
      if (!Number.isInteger(n) || n < contextFrames || n > history) throw new Error(`lastSightingTracker.reset: expected ${history === contextFrames ? contextFrames : `${contextFrames} to ${history}`} frames of ${size}×${size}×3 (${F3} bytes each), got ${frames.length} bytes`);
      ctx = frames.slice();
      given = n;
      made = 0;
    },
    async rollout(actions: ArrayLike<number>) {
      if (!ctx) throw new Error("lastSightingTracker.rollout: call reset(frames, actions) first");
      const n = actions.length, out = new Uint8Array(n * F3), last = frame(given - 1);
      for (let k = 0; k < n; k++) out.set(last, k * F3);
      for (const color of BALL_COLORS) {
        const rgb = PALETTE[color];
        const blobs = Array.from({ length: given }, (_, t) => findColorBlob(frame(t), size, size, rgb, tol));
        if (blobs[given - 1]!.count >= minPixels) continue;                     // in view: copy-last has it
        const full = Math.max(...blobs.map((b) => b.count)) / 2;
        const seen = blobs.flatMap((b, t) => (b.count >= minPixels && b.count >= full ? [t] : []));
        if (seen.length < 2) continue;
        const j = seen[seen.length - 1]!, i = seen[seen.length - 2]!;
        const vx = (blobs[j]!.cx - blobs[i]!.cx) / (j - i), vy = (blobs[j]!.cy - blobs[i]!.cy) / (j - i);
        for (let k = 0; k < n; k++) {
          const steps = given - 1 + made + k + 1 - j, dx = Math.round(vx * steps), dy = Math.round(vy * steps);
          const src = frame(j), dst = out.subarray(k * F3, (k + 1) * F3);
          for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
            const o = (y * size + x) * 3, X = x + dx, Y = y + dy;
            if (X < 0 || Y < 0 || X >= size || Y >= size || !colorMatches(src, o, rgb, tol)) continue;
            dst.set(src.subarray(o, o + 3), (Y * size + X) * 3);
          }
        }
      }
      made += n;
      return out;
    },
  };
}

// ───────────────────────────── does the model move what it sees? ─────────────────────────────

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
  for (const [name, v] of [["horizon", H], ["stride", stride]] as const) if (!Number.isInteger(v) || v < 1) throw new Error(`motionTest: ${name} must be a positive integer, got ${v}`);
  const short = clips.find((c) => c.numFrames < K + H);
  if (short) throw new Error(`motionTest: a clip has ${short.numFrames} frames; the model's context (${K}) plus the horizon (${H}) needs ${K + H}`);
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
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`${name}: stride must be a positive integer, got ${stride}`);
  if (clips.length === 0 || clips[0]!.numFrames < K + 1) throw new Error(`${name}: needs clips of at least ${K + 1} frames (context ${K} + the next one), got ${clips.length} clip(s) of ${clips[0]?.numFrames ?? 0}`);
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
  if (!Number.isInteger(step) || step < 0 || step >= diffusionSteps) throw new Error(`nextLatentError: t must be an integer diffusion step in [0, ${diffusionSteps}), got ${opts.t}`);
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
      for (let j = 0; j < L; j++) x[(b * Fr + Fr - 1) * L + j] = sa * z[next + j]! + s1 * g.normal();
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
  if (!Number.isFinite(gain)) throw new Error(`latentExtrapolation: gain must be a finite number, got ${gain}`);
  if (!(latentScale > 0)) throw new Error(`latentExtrapolation: latentScale must be > 0, got ${latentScale}`);
  return {
    latentScale,
    predict(last3: Float32Array) {
      if (last3.length === 0 || last3.length % 3) throw new Error(`latentExtrapolation: expected 3 latents of equal size, got ${last3.length} values`);
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
  if (!Number.isInteger(numFrames) || numFrames < 3) throw new Error(`changeGain: needs clips of at least 3 frames (two changes), got numFrames ${numFrames}`);
  let num = 0, den = 0;
  for (const z of latents) {
    const L = z.length / numFrames;
    if (!Number.isInteger(L) || L < 1) throw new Error(`changeGain: a clip's latents (${z.length} values) do not split into ${numFrames} frames`);
    for (let t = 2; t < numFrames; t++) {
      for (let i = 0; i < L; i++) {
        const now = z[t * L + i]! - z[(t - 1) * L + i]!, before = z[(t - 1) * L + i]! - z[(t - 2) * L + i]!;
        num += now * before;
        den += before * before;
      }
    }
  }
  if (!(den > 0)) throw new Error("changeGain: the latents never change, so no gain can be fitted");
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
  if (!Number.isInteger(r) || r < 0 || r > 3) throw new Error(`fitLocalLinearPredictor: radius must be an integer in [0, 3], got ${r}`);
  if (!(latentScale > 0)) throw new Error(`fitLocalLinearPredictor: latentScale must be > 0, got ${latentScale}`);
  if (!(lambda > 0)) throw new Error(`fitLocalLinearPredictor: lambda must be > 0, got ${lambda}`);
  if (clips.length === 0 || clips[0]!.numFrames < 4) throw new Error(`fitLocalLinearPredictor: needs clips of at least 4 frames (3 in, 1 out), got ${clips.length} clip(s) of ${clips[0]?.numFrames ?? 0}`);
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
      if (last3.length !== 3 * L) throw new Error(`LocalLinearPredictor.predict: expected 3 latents of ${C}×${H}×${H} (${3 * L} values), got ${last3.length}`);
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
  if (!Number.isInteger(contextFrames) || contextFrames < 3) throw new Error(`localLinearRollout: contextFrames must be an integer ≥ 3 (the rule reads three latents), got ${contextFrames}`);
  const size = ae.config.imageSize, F3 = size * size * 3, [C, H] = ae.latentShape, L = C * H * H, scale = pred.latentScale;
  const decode = async (z: Float32Array, n: number) => (await ae.decode(tensor(z, { shape: [n, C, H, H] })).data()) as Float32Array;
  let state: { last: Float32Array; pixels: Float32Array; decoded: Float32Array } | null = null; // last: three latents / latentScale
  return {
    contextFrames, ae,
    async reset(frames: Uint8Array) {
      if (frames.length !== contextFrames * F3) throw new Error(`localLinearRollout.reset: expected ${contextFrames} frames of ${size}×${size}×3 (${contextFrames * F3} bytes), got ${frames.length}`);
      const x = framesToTensor(frames.subarray((contextFrames - 3) * F3), 3, size);
      const z = (await ae.encode(x).data()) as Float32Array;
      state = { last: z.map((v) => v / scale), pixels: ((await x.data()) as Float32Array).slice(2 * 3 * size * size), decoded: await decode(z.slice(2 * L), 1) };
    },
    async rollout(actions: ArrayLike<number>) {
      if (!state) throw new Error("localLinearRollout.rollout: call reset(frames, actions) first");
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
  if (!Number.isInteger(K) || K < 3) throw new Error(`localLinearError: contextFrames must be an integer ≥ 3, got ${K}`);
  return scoreNextLatent("localLinearError", ae, clips, pred.latentScale, K, opts.stride ?? 3, async (data, win) => {
    const L = data.frameLength, out = new Float32Array(win.length * L);
    win.forEach(([c, s], b) => out.set(pred.predict(data.latents[c]!.subarray((s + K - 3) * L, (s + K) * L)), b * L));
    return out;
  });
}

// ───────────────────────────── chapter 8: depth probe and surprise ─────────────────────────────

export interface DepthProbeReport {
  target: string;
  /** "frame": features of the whole frame; "object": features at the object's place only (see depthProbe). */
  at: "frame" | "object";
  /** Held-out R² (regression) of a linear probe on autoencoder latents vs on pixels; predicting the mean is 0. */
  latents: number;
  pixels: number;
  /** The same probe on the world model's hidden state of the frame (its last block's tokens), when a model is given. */
  worldModel?: number;
  samples: number;
  /** The ridge strength each probe used (chosen from DEPTH_PROBE_LAMBDAS on the training clips unless given). */
  lambdas: Record<string, number>;
}

/** Ridge strengths depthProbe chooses from for each feature set, by validation on the training clips. */
export const DEPTH_PROBE_LAMBDAS = [0.01, 0.1, 1, 10, 100] as const;

/**
 * Is depth linearly readable? Ridge probes to the depth z of object `id` (default: the agent) from each frame's
 * autoencoder latent, from its pixels, and — with `model` — from the world model's hidden state of that frame
 * (WorldModel.hiddenStates, frames from K − 1 on so each has a full context); all on the same frames, whole clips
 * held out. `at: "frame"` (default) probes whole frames (C·h·w latent values, 2×2-pooled pixels, S·D hidden
 * values). `at: "object"` probes what sits at the object's projected centre: the 3×3 latent cells around it, the
 * pixels those cells cover, and the world model's token of the patch it is in — an object-centred probe, so the
 * probe need not also find the object; frames where less than half of it is visible are left out. Each probe's
 * ridge strength is chosen from DEPTH_PROBE_LAMBDAS by grouped validation on the training clips (`lambda` fixes it).
 */
export async function depthProbe(ae: Autoencoder, clips: VideoClip[], opts: { id?: number; target?: "depth" | "nearer"; lambda?: number | readonly number[]; model?: WorldModel; at?: "frame" | "object" } = {}): Promise<DepthProbeReport> {
  const target = opts.target ?? "depth", id = opts.id, model = opts.model, at = opts.at ?? "frame";
  const lat = await encodeClips(ae, clips);
  const size = clips[0]!.size;
  const [C, h, w] = ae.latentShape as [number, number, number];
  const L = C * h * w, cell = size / h;                         // one latent cell covers cell × cell pixels
  const K = model?.config.contextFrames ?? 1, first = K - 1;   // first probed frame of each clip
  const perClip = clips[0]!.numFrames - first;
  if (perClip < 1 || clips.some((c) => c.numFrames !== clips[0]!.numFrames)) throw new Error(`depthProbe: clips must all have the same number of frames, more than ${first}`);
  // rows of features: frame = whole latent, 2×2-pooled pixels (16×16×3 at 32×32), all tokens; object = 3×3 cells, their pixels, one token
  const S2 = size / 2, g = model ? model.config.latentSize / model.config.patchSize : 0, D = model?.config.hiddenSize ?? 0;
  const X: number[] = [], Y: number[] = [], Hm: number[] = [], y: number[] = [], groups: number[] = [];
  for (const [ci, c] of clips.entries()) {
    // the agent has one colour in every clip (ball colours are shuffled per clip, so "ball 0" is no fixed look)
    const who = id ?? c.states[0]!.objects.findIndex((ob) => ob.kind === "agent");
    const other = c.states[0]!.objects.findIndex((ob, k) => k !== who && ob.kind === "ball");
    const labels = clipLabels(c, target, who, other);
    let hs: Float32Array | null = null;
    if (model) {
      // one window per probed frame f: context frames f − K + 1 .. f, hidden state of the last context slot
      const { latentSize: H, latentScale: sc } = model.config;
      const z = lat[ci]!, ctx = new Float32Array(perClip * K * L), acts = new Int32Array(perClip * (K + 1));
      for (let f = first; f < c.numFrames; f++) {
        const wi = f - first;
        for (let i = 0; i < K * L; i++) ctx[wi * K * L + i] = z[(f - K + 1) * L + i]! / sc;
        windowActions(c.actions, f - K + 1, K + 1, acts, wi * (K + 1));
      }
      hs = (await model.hiddenStates(tensor(ctx, { shape: [perClip, K, C, H, H] }), tensor(acts, { shape: [perClip, K + 1] })).data()) as Float32Array;
    }
    for (let f = first; f < c.numFrames; f++) {
      const z = lat[ci]!.subarray(f * L, (f + 1) * L), px = c.frames.subarray(f * size * size * 3, (f + 1) * size * size * 3);
      const hidden = hs ? hs.subarray(((f - first) * K + K - 1) * g * g * D, ((f - first) * K + K) * g * g * D) : null;
      if (at === "frame") {
        X.push(...z);
        for (let yy = 0; yy < S2; yy++) for (let xx = 0; xx < S2; xx++) for (let ch = 0; ch < 3; ch++) {
          let v = 0;
          for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) v += px[((2 * yy + dy) * size + 2 * xx + dx) * 3 + ch]!;
          Y.push(v / (4 * 255));
        }
        if (hidden) Hm.push(...hidden);
      } else {
        const o = c.states[f]!.objects[who]!;
        if (!o.exists || o.visibleFraction < 0.5 || !Number.isFinite(o.screenX)) continue;
        // 3×3 latent cells around the centre, shifted inside the grid at the borders
        const cx = Math.min(w - 2, Math.max(1, Math.floor(o.screenX / cell))), cy = Math.min(h - 2, Math.max(1, Math.floor(o.screenY / cell)));
        for (let ch = 0; ch < C; ch++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) X.push(z[(ch * h + cy + dy) * w + cx + dx]!);
        for (let yy = (cy - 1) * cell; yy < (cy + 2) * cell; yy++) for (let xx = (cx - 1) * cell; xx < (cx + 2) * cell; xx++) {
          for (let ch = 0; ch < 3; ch++) Y.push(px[(yy * size + xx) * 3 + ch]! / 255);
        }
        if (hidden) {
          const patch = size / g, tok = Math.min(g - 1, Math.floor(o.screenY / patch)) * g + Math.min(g - 1, Math.floor(o.screenX / patch));
          Hm.push(...hidden.subarray(tok * D, (tok + 1) * D));
        }
      }
      y.push(labels[f]!);
      groups.push(ci);
    }
  }
  const n = y.length;
  if (n < 8) throw new Error(`depthProbe: only ${n} frames show the object well enough to probe; give more or longer clips`);
  const yv = Float64Array.from(y), gv = Int32Array.from(groups);
  const lambdas: Record<string, number> = {};
  const probe = (name: string, F: number[]) => {
    const r = linearProbe(Float32Array.from(F), yv, F.length / n, { task: "regression", method: "ridge", groups: gv, seed: 0, testFraction: 0.5, lambda: opts.lambda ?? DEPTH_PROBE_LAMBDAS });
    lambdas[name] = r.lambda;
    return r.test;
  };
  const latents = probe("latents", X), pixels = probe("pixels", Y), worldModel = model ? probe("worldModel", Hm) : undefined;
  return {
    target: `${target}(${id === undefined ? "agent" : `object ${id}`})`, at, latents, pixels,
    ...(worldModel !== undefined ? { worldModel } : {}), samples: n, lambdas,
  };
}

/**
 * The world model's surprise on a clip: the x₀-prediction error (MSE in scaled latent space) of each frame from
 * frame `from` on, predicted from the true previous K frames at fixed noise levels (seeded), reduced over
 * frames by "max" (the surprise peak, default: a rule break is one moment) or "mean".
 */
export async function clipSurprise(sim: WorldSimulator, clip: VideoClip, opts: { from?: number; levels?: number[]; seed?: number; reduce?: "max" | "mean" } = {}): Promise<number> {
  const model = sim.model, K = model.config.contextFrames, Fr = model.frames;
  const { latentChannels: C, latentSize: H, latentScale: s } = model.config;
  const L = C * H * H;
  const z = (await encodeClips(sim.ae, [clip]))[0]!.map((v) => v / s);
  const d = worldModelDiffusion(model.config);
  const levels = opts.levels ?? [100, 300, 500];
  const g = new Generator(opts.seed ?? 11);
  const from = Math.max(K, opts.from ?? K);
  const rows: { x: Float32Array; a: Int32Array; t: number; target: Float32Array }[] = [];
  for (let f = from; f < clip.numFrames; f++) {
    for (const t of levels) {
      const x = new Float32Array(Fr * L), frames = windowFrameIndices(model.config, f);   // true frames f − K .. f − 1 (and memory)
      frames.slice(0, -1).forEach((w, k) => x.set(z.subarray(w * L, (w + 1) * L), k * L));
      const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
      for (let i = 0; i < L; i++) x[(Fr - 1) * L + i] = sa * z[f * L + i]! + s1 * g.normal();
      const a = new Int32Array(Fr);
      frameActions(clip.actions, frames, a, 0);
      rows.push({ x, a, t, target: z.slice(f * L, (f + 1) * L) });
    }
  }
  const B = rows.length;
  const xb = new Float32Array(B * Fr * L), ab = new Int32Array(B * Fr), tb = new Float32Array(B);
  rows.forEach((r, i) => { xb.set(r.x, i * Fr * L); ab.set(r.a, i * Fr); tb[i] = r.t; });
  const pred = (await model.predictNext(tensor(xb, { shape: [B, Fr, C, H, H] }), tensor(tb, { shape: [B] }), tensor(ab, { shape: [B, Fr] })).data()) as Float32Array;
  const perFrame = new Float64Array(clip.numFrames - from);
  rows.forEach((r, i) => {
    let se = 0;
    for (let k = 0; k < L; k++) se += (pred[i * L + k]! - r.target[k]!) ** 2;
    perFrame[Math.floor(i / levels.length)] += se / (L * levels.length);
  });
  return (opts.reduce ?? "max") === "max" ? Math.max(...perFrame) : perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
}

/** One kind of violation in surpriseTest: how often the rule-breaking clip beats its own lawful twin, and the AUC. */
export interface SurpriseByKind {
  pairs: number;
  /** Pairs where the rule-breaking clip is more surprising than its twin (same clip up to the violation). */
  moreSurprised: number;
  auc: number;
}

/**
 * Surprise on rule-breaking clips vs their lawful twins, scored from the violation frame on (metrics surpriseScore),
 * overall and per kind of violation (kinds cycle teleport → vanish → passThroughWall, so count 3k gives k of each).
 */
export async function surpriseTest(sim: WorldSimulator, opts: { seed?: number; count?: number } = {}): Promise<ReturnType<typeof surpriseScore> & { lawful: number[]; violating: number[]; kinds: string[]; moreSurprised: number; byKind: Record<string, SurpriseByKind> }> {
  const set = generateSurpriseSet({ seed: opts.seed ?? 5, count: opts.count ?? 6, frames: 32, size: sim.ae.config.imageSize });
  const lawful: number[] = [], violating: number[] = [], kinds: string[] = [];
  for (let i = 0; i < set.violating.length; i++) {
    const bad = set.violating[i]!, good = set.lawful[i]!;
    const from = Math.max(sim.model.config.contextFrames, bad.violation!.frame);
    violating.push(await clipSurprise(sim, bad, { from, seed: i }));
    lawful.push(await clipSurprise(sim, good, { from, seed: i }));
    kinds.push(bad.violation!.kind);
  }
  const byKind: Record<string, SurpriseByKind> = {};
  for (const k of new Set(kinds)) {
    const idx = kinds.flatMap((kk, i) => (kk === k ? [i] : []));
    byKind[k] = {
      pairs: idx.length,
      moreSurprised: idx.filter((i) => violating[i]! > lawful[i]!).length,
      auc: surpriseScore(idx.map((i) => lawful[i]!), idx.map((i) => violating[i]!)).auc,
    };
  }
  const moreSurprised = violating.filter((v, i) => v > lawful[i]!).length;
  return { ...surpriseScore(lawful, violating), lawful, violating, kinds, moreSurprised, byKind };
}

// ───────────────────────────── chapter 6: recaptioning ─────────────────────────────

/**
 * Nearest-neighbour recaptioning in latent space (metrics/recaption.ts): clips whose caption is poor or
 * missing borrow the rich caption of the nearest richly captioned clip (mean autoencoder latent of the
 * clip's frames). Accuracy is exact match and word F1 against each clip's true rich caption.
 */
export async function recaptionExperiment(ae: Autoencoder, clips: VideoClip[]): Promise<RecaptionResult> {
  const lat = await encodeClips(ae, clips);
  const L = ae.latentShape.reduce((a, b) => a * b, 1);
  const X = new Float32Array(clips.length * L);
  clips.forEach((c, i) => {
    const z = lat[i]!;
    for (let t = 0; t < c.numFrames; t++) for (let k = 0; k < L; k++) X[i * L + k] += z[t * L + k]! / c.numFrames;
  });
  return nearestNeighbourRecaption(X, L, clips.map((c) => c.caption), {
    isWeak: (_c, i) => clips[i]!.captionKind !== "rich",
    truth: clips.map((c) => c.captions.rich),
  });
}
