// What a clip window and a rollout from true context take: the actions that produced given frames, and a predictor
// reset on a clip's true frames and rolled out under its true actions. Shared by the course's training and
// evaluation code; not part of the public API (course/index.ts does not export this file).

import { Action, type VideoClip } from "../worlds/videoWorld";
import type { RolloutPredictor } from "./rollouts";

/** The action that produced each listed frame of a clip: frame f was produced by actions[f − 1] (Noop for frame 0). */
export function frameActions(actions: Uint8Array, frames: readonly number[], out: Int32Array, o: number): void {
  frames.forEach((f, k) => { out[o + k] = f > 0 ? actions[f - 1]! : Action.Noop; });
}

/** Actions of the Fr consecutive frames start .. start + Fr − 1 (frameActions). */
export function windowActions(actions: Uint8Array, start: number, Fr: number, out: Int32Array, o: number): void {
  frameActions(actions, Array.from({ length: Fr }, (_, f) => start + f), out, o);
}

/**
 * The simulator reset to clip c's true frames start − K .. start − 1 (further back, up to its historyFrames, for a
 * predictor with a memory), with the actions that made them, and rolled out
 * `horizon` frames with the clip's true actions: its guess of frames start .. start + horizon − 1, (horizon, H, W, 3).
 */
export async function rolloutFromTruth(sim: RolloutPredictor, c: VideoClip, start: number, horizon: number): Promise<Uint8Array> {
  const n = Math.min(start, sim.historyFrames ?? sim.contextFrames), F3 = c.size * c.size * 3;   // K, or more for a memory
  const acts = new Int32Array(n);
  windowActions(c.actions, start - n, n, acts, 0);
  await sim.reset(c.frames.slice((start - n) * F3, start * F3), acts);
  return sim.rollout(Array.from({ length: horizon }, (_, k) => c.actions[start - 1 + k]!));
}
