// The course's checkpoints: notebooks/checkpoints/<name>.safetensors with a <name>.json card beside it (config,
// data seed, steps, measured metrics). `npm run train` writes them; the chapters and tests load them.

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tensor, type Tensor } from "../engine/index.js";
import { Module } from "../nn/index.js";
import { checkStateDict, loadSafetensors, type SafetensorsInput, saveSafetensors } from "../io/safetensors";
import { writeFileAtomic } from "../io/atomic";
import { WorldModel, type WorldModelConfig } from "../models/worldModel";
import { Autoencoder, type AutoencoderConfig } from "../models/autoencoder";
import { NextframeError } from "../engine/errors.js";
import type { PlayMetrics } from "../metrics/play";

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
  // kernel/nextframe/course; bundle: dist/nextframe; installed extension: <ext>/dist/nextframe)
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
    if (t._value === null) throw new NextframeError(`saveCheckpoint: ${name}: tensor "${k}" has no value`);
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
  if (!existsSync(p)) throw new NextframeError(`readCard: no checkpoint card ${p}; train it with \`npm run train -- ${name}\``);
  return JSON.parse(readFileSync(p, "utf8")) as CheckpointCard;
}

/** The play metrics a world model's card records (`metrics.play`, evaluatePlay's), copy-last's beside them. */
export type CardPlayMetrics = PlayMetrics & { copyLast: Omit<PlayMetrics, "fps"> };

/** A world model card's play metrics; throws, naming the card, when it has none (only world models are played). */
export function cardPlayMetrics(card: CheckpointCard): CardPlayMetrics {
  const play = (card.metrics as { play?: CardPlayMetrics }).play;
  if (!play || typeof play.action_follow_rate !== "number" || !play.copyLast) {
    throw new NextframeError(`cardPlayMetrics: card "${card.name}" has no metrics.play with copyLast; ` +
      `world-model cards get them from \`npm run train -- ${card.name} --eval-only\``);
  }
  return play;
}

/**
 * One variant a checkpoint's "what was tried" record lists: its name, how it trained, and what it measured then
 * (`card`: its card's metrics; records may add their own measurements, e.g. on validation data).
 */
export interface TriedVariant {
  variant: string;
  config?: string;
  steps?: number;
  trainSeconds?: number;
  card?: Record<string, number | string | number[]>;
  note?: string;
  [k: string]: unknown;
}

/**
 * Reads notebooks/checkpoints/<name>.tried.json: the variants tried for a shipped checkpoint, one row each, and what
 * the record is about (how they were trained and compared). `Row` names the record's own measurements.
 */
export function readTried<Row extends TriedVariant = TriedVariant>(name: string, dir = checkpointsDir()): { about: string; rows: Row[] } {
  const p = join(dir, `${name}.tried.json`);
  if (!existsSync(p)) throw new NextframeError(`readTried: no record ${p}; only checkpoints whose variants were compared have one`);
  const record = JSON.parse(readFileSync(p, "utf8")) as { about?: unknown; rows?: unknown };
  if (!Array.isArray(record.rows)) throw new NextframeError(`readTried: ${p} has no "rows" list`);
  return { about: typeof record.about === "string" ? record.about : "", rows: record.rows as Row[] };
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
