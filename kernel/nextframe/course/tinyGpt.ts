// Chapter 1: a tiny GPT on the text world. trainTinyGpt (GPT_TEXTWORLD_RECIPE's settings by default), evaluateGpt
// (loss vs unigram/bigram, legal-move rate vs a bigram writer) and probeGpt (linear probes vs chance and vs a
// randomly initialised GPT).

import { GPT_TEXTWORLD_RECIPE } from "./recipes";
import { tensor, type Tensor } from "../engine/index.js";
import { AdamW, cosineSchedule, decayGroups, fit, type FitProgress, makeTrainStep } from "../optim/index.js";
import { GPT, gptConfig, type GPTConfig } from "../models/gpt";
import { Generator, hashSeed } from "../engine/generator.js";
import { checkContinuation, generateTextWorldDataset, type NgramBaselines, ngramBaselines, probeLabels, type TextProbeTarget, type TextWorldConfig, type TextWorldDataset, validContinuationRate } from "../worlds/textWorld";
import { type Tokenizer, wordTokenizer } from "../worlds/tokenizer";
import { linearProbe, type LinearProbeOptions } from "../metrics/linearProbe";
import { NextframeError } from "../engine/errors.js";

/** A probe's held-out accuracy next to chance (majority class on the same rows). */
export interface ProbeResult {
  accuracy: number;
  chance: number;
  numTrain: number;
  numTest: number;
  classes: number;
}

/** metrics/linearProbe (softmax regression, whole groups held out) reduced to the numbers the chapters print. */
function probeAccuracy(X: ArrayLike<number>, D: number, labels: ArrayLike<number>, groups: ArrayLike<number>, opts: LinearProbeOptions = {}): ProbeResult {
  const r = linearProbe(X, labels, D, { method: "softmax", groups, seed: 0, testFraction: 0.5, ...opts });
  return { accuracy: r.test, chance: r.chance, numTrain: r.nTrain, numTest: r.nTest, classes: r.classes };
}


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
  const dataset = generateTextWorldDataset({ seed: opts.seed ?? GPT_TEXTWORLD_RECIPE.dataSeed, numTrain: opts.numTrain ?? GPT_TEXTWORLD_RECIPE.numTrain, numVal: opts.numVal ?? GPT_TEXTWORLD_RECIPE.numVal, config: opts.config ?? CHAPTER1_TEXT_WORLD });
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

/** Options of trainTinyGpt: the data, config overrides, steps, batch size, learning rate, seed and a progress callback (GPT_TEXTWORLD_RECIPE's values where left out). */
export interface TrainTinyGptOptions {
  data?: TextWorldData;
  config?: Partial<GPTConfig>;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onProgress?: (p: FitProgress) => void | Promise<void>;
}

/** Trains the chapter-1 GPT ("gpt-textworld" config) on episode-aligned windows; GPT_TEXTWORLD_RECIPE's settings unless given. Deterministic in `seed`. */
export async function trainTinyGpt(opts: TrainTinyGptOptions = {}): Promise<{ model: GPT; data: TextWorldData; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? textWorldData();
  const r = GPT_TEXTWORLD_RECIPE;
  const seed = opts.seed ?? r.seed;
  const config = gptConfig("gpt-textworld", { vocabSize: data.tokenizer.vocabSize, blockSize: data.blockSize, ...opts.config });
  const model = new GPT(config, {}, { seed });
  const steps = opts.steps ?? r.steps;
  const B = opts.batchSize ?? r.batchSize, lr = opts.lr ?? r.lr;
  const schedule = cosineSchedule({ warmupSteps: Math.min(50, steps / 10), totalSteps: steps, maxLr: lr, minLr: lr / 10 });
  const opt = new AdamW(decayGroups(model.parameters(), r.weightDecay), { lr: schedule, maxGradNorm: 1 });
  const step = makeTrainStep(model, (x, y) => model.forward(x, y).loss!, opt);
  const rng = new Generator(hashSeed(seed, "gpt-batches"));
  const T = config.blockSize;
  const res = await fit({
    steps,
    step: async () => {
      const starts = Array.from({ length: B }, () => data.trainStarts[rng.int(data.trainStarts.length)]!);
      const { x, y } = textBatch(data.train, starts, T);
      return step(x, y);
    },
    onProgress: opts.onProgress,
  });
  return { model, data, losses: res.losses, seconds: res.seconds, steps };
}

/** What evaluateGpt measures: validation loss beside the n-gram baselines, and the share of legal sentences the model writes beside a bigram writer's. */
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
function bigramSampler(train: Int32Array, V: number): (prev: number, rng: Generator) => number {
  const counts = new Float64Array(V * V);
  for (let i = 1; i < train.length; i++) counts[train[i - 1]! * V + train[i]!]++;
  return (prev, rng) => {
    let s = 0;
    for (let j = 0; j < V; j++) s += counts[prev * V + j]!;
    let u = rng.uniform() * s;
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
  const rng = new Generator(hashSeed(opts.seed ?? 7, "continuations"));
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

/** A linear probe from one layer's residual stream to a hidden-state target, on the trained GPT and on a random-init GPT of the same shape. */
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
  if (layer < 0 || layer > model.config.nLayer) throw new NextframeError(`probeGpt: layer must be in [0, ${model.config.nLayer}], got ${layer}`);
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
