/**
 * What the torch engine's tests do with checkpoints: read one's tensors, compare two, make the output folder a
 * trainer writes into (with the shipped autoencoder it encodes clips with), and the world model's round trip.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../nextframe/io/safetensors";
import { checkpointsDir, loadAutoencoder, loadWorldModel, readCard, saveCheckpoint, trainWorldModel } from "../nextframe/course/index";

/** The float32 tensors of DIR/NAME.safetensors, by name. */
export function checkpointWeights(dir: string, name: string): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const [k, v] of loadSafetensors(join(dir, `${name}.safetensors`)).tensors) m.set(k, v.data as Float32Array);
  return m;
}

/** Largest |a − b| over the tensors `only` keeps (all by default); the two must hold the same names. */
export function maxWeightDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>, only = (_k: string) => true): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), "the checkpoints hold different tensors");
  let d = 0;
  for (const [k, x] of a) {
    if (!only(k)) continue;
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

/** A new folder ROOT/NAME holding copies of the shipped checkpoint files `files` (the autoencoder by default). */
export function freshOutput(root: string, name: string, files = ["autoencoder.json", "autoencoder.safetensors"]): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  for (const f of files) copyFileSync(join(checkpointsDir(), f), join(out, f));
  return out;
}

/**
 * A world model's round trip between the engines, as both world-model recipes' tests check it: a TypeScript-trained
 * checkpoint continues under torch (`resumeUnderTorch` runs one torch step on the folder with --resume and returns its
 * output), starting from its weights and moving them by at most one AdamW step; and the torch checkpoint in `torchDir`
 * loads into the TypeScript model exactly and takes a TypeScript step. Returns the TS→torch folder and torch's output.
 */
export async function assertWorldModelRoundTrip(o: {
  name: string; root: string; config: string; clips: Parameters<typeof trainWorldModel>[0]["data"]; torchDir: string;
  resumeUnderTorch(dir: string): Promise<string> | string;
}): Promise<{ fromTs: string; out: string }> {
  const weights = (dir: string) => checkpointWeights(dir, o.name);
  const ae = loadAutoencoder(checkpointsDir());
  // TypeScript → torch
  const fromTs = freshOutput(o.root, "from-ts");
  const ts = await trainWorldModel({ ae, data: o.clips, config: o.config, steps: 2, batchSize: 2, lr: 2e-3, seed: 3 });
  saveCheckpoint(o.name, ts.model, { name: o.name, model: "WorldModel", config: { ...ts.model.config }, dataSeed: 2, steps: 2,
    trainSeconds: ts.seconds, parameters: ts.model.numParameters(), metrics: {} }, fromTs);
  const before = weights(fromTs);
  const out = await o.resumeUnderTorch(fromTs);
  assert.match(out, /starting from the ts checkpoint's weights \(2 steps\), fresh optimizer/);
  assert.equal(readCard(o.name, fromTs).config.latentScale, ts.model.config.latentScale, "the TypeScript latentScale was not kept");
  // one AdamW step moves each weight by about its learning rate at most (2e-3; a 0.1-step warm-up starts at the full
  // rate; decoupled weight decay adds lr·λ·|w|);
  // a fresh torch initialisation would be far from the TypeScript weights
  const d = maxWeightDiff(weights(fromTs), before);
  assert.ok(d > 1e-4 && d <= 2.05e-3, `one torch step from the TypeScript weights moved them by up to ${d}`);
  // torch → TypeScript: the torch checkpoint, one step of the TypeScript trainer from its weights
  const wm = loadWorldModel(o.torchDir, o.name);
  const loaded = new Map(Object.entries(wm.stateDict()).map(([k, v]) => [k, Float32Array.from(v._value as Float32Array)]));
  assert.equal(maxWeightDiff(loaded, weights(o.torchDir)), 0, "the TypeScript model did not load the torch weights exactly");
  const cont = await trainWorldModel({ ae, data: o.clips, init: wm, steps: 1, batchSize: 2, lr: 1e-3, seed: 5 });
  const after = new Map(Object.entries(cont.model.stateDict()).map(([k, v]) => [k, v._value as Float32Array]));
  const d2 = maxWeightDiff(after, loaded);
  assert.ok(d2 > 1e-5 && d2 <= 1.05e-3, `one TypeScript step from the torch weights moved them by up to ${d2}`);
  return { fromTs, out };
}
