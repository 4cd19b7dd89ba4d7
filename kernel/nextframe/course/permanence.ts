// Chapter 7: object permanence and interaction persistence in rollouts, the re-emergence test from true context,
// and the last-sighting tracker baseline.

import { BALL_COLORS, PALETTE, type VideoClip } from "../worlds/videoWorld";
import { copyLastFrame, linearExtrapolation } from "../metrics/image";
import { appearanceStrength, colorMatches, findColorBlob, interactionPersistence, objectPermanence, PERMANENCE_DEFAULTS, type PermanenceEvent, scoreReappearance } from "../metrics/permanence";
import type { RolloutPredictor } from "./rollouts";
import { rolloutFromTruth } from "./clipWindows";
import { NextframeError } from "../engine/errors";

/** What evaluatePermanence measures: object permanence over whole rollouts for the model, copy-last and linear extrapolation, and the burger's bite persistence. */
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

/** What reemergenceTest measures: for occlusions shorter than the context, whether the model, copy-last and linear extrapolation draw the ball back. */
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

/** Share of re-emergence events where the ball is drawn at all, drawn at the right place, and how strongly (mean appearanceStrength). */
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
  if (!Number.isInteger(size) || size < 1) throw new NextframeError(`lastSightingTracker: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(contextFrames) || contextFrames < 2) throw new NextframeError(`lastSightingTracker: contextFrames must be an integer ≥ 2 (a velocity needs two sightings), got ${contextFrames}`);
  const history = opts.historyFrames ?? contextFrames;
  if (!Number.isInteger(history) || history < contextFrames) throw new NextframeError(`lastSightingTracker: historyFrames must be an integer ≥ contextFrames (${contextFrames}), got ${history}`);
  const F3 = size * size * 3, tol = opts.tol ?? PERMANENCE_DEFAULTS.tol, minPixels = opts.minPixels ?? PERMANENCE_DEFAULTS.minPixels;
  let ctx: Uint8Array | null = null, made = 0, given = contextFrames;   // frames reset() was given (K to history)
  const frame = (t: number) => ctx!.subarray(t * F3, (t + 1) * F3);
  return {
    contextFrames,
    historyFrames: history,
    async reset(frames: Uint8Array) {
      const n = frames.length / F3;
      if (!Number.isInteger(n) || n < contextFrames || n > history) throw new NextframeError(`lastSightingTracker.reset: expected ${history === contextFrames ? contextFrames : `${contextFrames} to ${history}`} frames of ${size}×${size}×3 (${F3} bytes each), got ${frames.length} bytes`);
      ctx = frames.slice();
      given = n;
      made = 0;
    },
    async rollout(actions: ArrayLike<number>) {
      if (!ctx) throw new NextframeError("lastSightingTracker.rollout: call reset(frames, actions) first");
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
