/**
 * What the torch engine's tests do with checkpoints: read one's tensors, compare two, and make the output folder a
 * trainer writes into (with the shipped autoencoder it encodes clips with).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors } from "../nextframe/io/safetensors";
import { checkpointsDir } from "../nextframe/course/index";

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
