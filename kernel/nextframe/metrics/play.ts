// Play metrics (issue 32): does a learned simulator follow the keys, and does it keep the world's look over a long
// live rollout? Every score comes from real rollouts of the predictor against the true simulator stepped with the
// same keys (replayClip): no model inside, any predictor with reset/rollout can be scored — a world model, the true
// simulator itself (which scores 1 / 0 where it should), or a frozen copy-last predictor.
//
//   action_follow_rate          held ← or → for `moves` steps from true context: share of the rollouts where the true
//                               agent moves ≥ moveThreshold px the commanded way in which the predicted agent does too
//   agent_error_vs_copy_last_8  mean distance of the predicted agent to the true one after `moves` held moves, over the
//                               same distance for copy-last (which leaves the agent where it was: the truth's motion)
//   lr_separation               share of the clips whose true "left" and "right" futures end ≥ moveThreshold px apart
//                               (left of right) in which the predicted ones do too (chapter 8's counterfactual test)
//   palette_fidelity_64         after `longSteps` random keys, the share of the predicted frame's pixels whose colour
//                               lies within L1 ≤ paletteTol of a colour the true frames of the same rollout use
//   agent_visible_64            share of the clips whose true frame `longSteps` shows the agent where the predicted one does
//   fps                         predicted frames per second in the long rollouts, one frame per call as play mode steps
//
// The agent is found by its own colour (COLORS.agent within agentTol, Chebyshev) as a compact blob: ≥ minPixels pixels
// whose rms spread around their centroid is ≤ maxSpreadFraction of the frame size (a smear of purple is no agent).

import { NextframeError } from "../engine/errors";
import { Generator, hashSeed } from "../engine/generator.js";
import { Action, COLORS, NUM_ACTIONS, replayClip, type VideoClip } from "../worlds/videoWorld";
import { findColorBlob } from "./permanence";

/** What the play metrics need from a predictor: reset on K true frames (and their actions), roll out under keys. */
export interface PlayPredictor {
  readonly contextFrames: number;
  reset(frames: Uint8Array, actions: ArrayLike<number>): Promise<void>;
  /** Next frames (n, H, W, 3) RGB uint8 for n actions, continuing from where the last call stopped. */
  rollout(actions: ArrayLike<number>): Promise<Uint8Array>;
}

/**
 * Defaults of evaluatePlay: held-key moves, the long rollout's length, colour tolerances, what counts as a move or a
 * lost agent, and how often the random player changes key.
 */
export const PLAY_DEFAULTS = {
  /** Held-key moves for action_follow_rate, agent_error_vs_copy_last_8 and lr_separation. */
  moves: 8,
  /** Length of the random-key rollout for palette_fidelity_64 and agent_visible_64. */
  longSteps: 64,
  /** L1 distance (0–255 RGB summed over channels) within which a colour counts as one the world draws. */
  paletteTol: 24,
  /** Agent colour tolerance (Chebyshev, as chapter 8's counterfactual test). */
  agentTol: 40,
  minPixels: 2,
  maxSpreadFraction: 1 / 8,
  /** Smallest displacement (px) that counts as a move, for the truth and for the predictor alike. */
  moveThreshold: 1,
  /** Error charged for a predicted frame that lost the agent, as a fraction of the frame size (8 px at 32×32). */
  lostErrorFraction: 1 / 4,
  /** Probability that the random player changes key at a step (otherwise it holds the last one, as a person does). */
  keyChange: 0.25,
} as const;

/** Options of evaluatePlay: overrides of PLAY_DEFAULTS, the clips for left/right separation and the seed of the random keys. */
export type PlayOptions = { -readonly [k in keyof typeof PLAY_DEFAULTS]?: number } & {
  /** Clips for chapter 8's left/right separation (default: the same clips). */
  lrClips?: VideoClip[];
  /** Seed of the random keys of the long rollouts. */
  seed?: number;
};

/** The agent in an (size, size, 3) frame: its centroid when a compact blob of its colour is there, else found = false. */
export function findAgent(frame: ArrayLike<number>, size: number, opts: { agentTol?: number; minPixels?: number; maxSpreadFraction?: number } = {}): { found: boolean; x: number; y: number } {
  const b = findColorBlob(frame, size, size, COLORS.agent, opts.agentTol ?? PLAY_DEFAULTS.agentTol);
  const found = b.count >= (opts.minPixels ?? PLAY_DEFAULTS.minPixels) && b.spread <= size * (opts.maxSpreadFraction ?? PLAY_DEFAULTS.maxSpreadFraction);
  return { found, x: found ? b.cx : NaN, y: found ? b.cy : NaN };
}

/**
 * Share of the pixels of `frame` whose colour lies within L1 ≤ tol of a colour of `palette` (any RGB uint8 frames;
 * every colour they use counts). A frame the world drew itself scores 1; blur and bloom draw colours it never does.
 */
export function paletteFidelity(frame: ArrayLike<number>, palette: ArrayLike<number>, tol: number = PLAY_DEFAULTS.paletteTol): number {
  if (frame.length % 3 || palette.length % 3 || palette.length === 0) throw new NextframeError(`paletteFidelity: frame (${frame.length} values) and palette (${palette.length}) must be non-empty RGB triples`);
  const colours = new Set<number>();
  for (let o = 0; o < palette.length; o += 3) colours.add((palette[o]! << 16) | (palette[o + 1]! << 8) | palette[o + 2]!);
  const list = Int32Array.from(colours);
  let inside = 0;
  for (let o = 0; o < frame.length; o += 3) {
    const r = frame[o]!, g = frame[o + 1]!, b = frame[o + 2]!;
    for (let k = 0; k < list.length; k++) {
      const c = list[k]!;
      if (Math.abs(r - (c >> 16)) + Math.abs(g - ((c >> 8) & 255)) + Math.abs(b - (c & 255)) <= tol) { inside++; break; }
    }
  }
  return inside / (frame.length / 3);
}

/** The true simulator's frames for `actions` from clip c's frame `from` (replayClip): (n, size, size, 3). */
export function trueFuture(c: VideoClip, from: number, actions: ArrayLike<number>): Uint8Array {
  const w = replayClip(c, from), F3 = c.size * c.size * 3, out = new Uint8Array(actions.length * F3);
  for (let h = 0; h < actions.length; h++) { w.step(actions[h]!); out.set(w.render(c.size).rgb, h * F3); }
  return out;
}

/** The random keys of a long rollout: sticky (a key is held, changed with probability keyChange), all six actions. */
export function randomKeys(n: number, seed: number, keyChange: number = PLAY_DEFAULTS.keyChange): number[] {
  const rng = new Generator(hashSeed(seed, "play-keys"));
  let a = rng.int(NUM_ACTIONS);
  return Array.from({ length: n }, () => (rng.chance(keyChange) ? (a = rng.int(NUM_ACTIONS)) : a));
}

/**
 * How playable a world model is (issue 32): held keys followed, agent error against copy-last, left/right separation,
 * palette and agent after 64 keys, frames per second, and the counts behind them.
 */
export interface PlayMetrics {
  action_follow_rate: number;
  agent_error_vs_copy_last_8: number;
  lr_separation: number;
  palette_fidelity_64: number;
  agent_visible_64: number;
  fps: number;
  /** What each rate is out of, and the numbers behind the ratios. */
  counts: {
    clips: number;
    /** Held-key rollouts where the true agent moved the commanded way, and those where the predicted one did too. */
    followRollouts: number; followed: number;
    /** Rollouts scored for the position error, the predicted agents lost among them, the mean errors (px). */
    errorRollouts: number; lostAgents: number; modelError: number; copyLastError: number;
    lrClips: number; lrTruthSeparates: number; lrSeparated: number;
    /** Clips whose true frame longSteps shows the agent, and those whose predicted one does too. */
    truthShowsAgent64: number; modelShowsAgent64: number;
    /** Palette fidelity of the predicted frames at steps 1, 8, 16, 32 and longSteps (mean over clips). */
    paletteByStep: Record<string, number>;
  };
  settings: { moves: number; longSteps: number; paletteTol: number; moveThreshold: number; seed: number };
}

/** The play metrics' column titles, as tables show them (fps as measured on one thread). */
export const PLAY_METRIC_TITLES = {
  action_follow_rate: "follows a held key",
  agent_error_vs_copy_last_8: "agent error ÷ copy-last's",
  lr_separation: "left/right separate",
  palette_fidelity_64: "world's colours at step 64",
  agent_visible_64: "agent kept at step 64",
  fps: "fps (1 thread)",
} as const;

/** The play metrics by name, as PlayMetrics and the cards record them. */
export type PlayMetricName = keyof typeof PLAY_METRIC_TITLES;

/**
 * One table row: `model` then each play metric under its title (PLAY_METRIC_TITLES). A value may be a number, or
 * text such as a count ("7/21") or a target ("≥ 0.9"); anything else (missing: copy-last has no fps) shows "—".
 * Other fields of `values` (counts, settings) are left out, so a card's `metrics.play` can be passed as it is.
 */
export function playMetricsRow(model: string, values: Partial<Record<PlayMetricName, unknown>>): Record<string, string | number> {
  const row: Record<string, string | number> = { model };
  for (const [k, title] of Object.entries(PLAY_METRIC_TITLES)) {
    const v = values[k as PlayMetricName];
    row[title] = typeof v === "number" || typeof v === "string" ? v : "—";
  }
  return row;
}

/**
 * Scores a predictor in play (see the top of this file). Each clip gives the context: its first K true frames and the
 * actions that made them; the truth continues from frame K − 1 with the same keys.
 */
export async function evaluatePlay(p: PlayPredictor, clips: VideoClip[], opts: PlayOptions = {}): Promise<PlayMetrics> {
  const o = { ...PLAY_DEFAULTS, ...opts };
  const seed = opts.seed ?? 0, lrClips = opts.lrClips ?? clips, K = p.contextFrames;
  if (clips.length === 0) throw new NextframeError("evaluatePlay: needs at least one clip");
  for (const [name, v] of [["moves", o.moves], ["longSteps", o.longSteps]] as const) if (!Number.isInteger(v) || v < 1) throw new NextframeError(`evaluatePlay: ${name} must be a positive integer, got ${v}`);
  const size = clips[0]!.size, F3 = size * size * 3, lostError = size * o.lostErrorFraction;
  const short = [...clips, ...lrClips].find((c) => c.size !== size || c.numFrames < K);
  if (short) throw new NextframeError(`evaluatePlay: every clip must be ${size}×${size} with at least K = ${K} frames; one is ${short.size}×${short.size} with ${short.numFrames}`);
  const frame = (f: Uint8Array, h: number) => f.subarray(h * F3, (h + 1) * F3);
  const agent = (f: Uint8Array) => findAgent(f, size, o);
  const reset = (c: VideoClip) => p.reset(c.frames.slice(0, K * F3), Array.from({ length: K }, (_, k) => (k > 0 ? c.actions[k - 1]! : Action.Noop)));

  /** Held key from clip c's context: the agent's start, where it is after `moves` moves in the truth and the prediction. */
  async function held(c: VideoClip, a: Action) {
    await reset(c);
    const keys = new Array<number>(o.moves).fill(a);
    const pred = await p.rollout(keys), truth = trueFuture(c, K - 1, keys);
    return { start: agent(frame(c.frames, K - 1)), model: agent(frame(pred, o.moves - 1)), truth: agent(frame(truth, o.moves - 1)) };
  }

  let followRollouts = 0, followed = 0, errorRollouts = 0, lostAgents = 0, modelErr = 0, copyErr = 0;
  for (const c of clips) {
    for (const [a, dir] of [[Action.Left, -1], [Action.Right, 1]] as const) {
      const { start, model, truth } = await held(c, a);
      if (!start.found || !truth.found) continue;                       // no agent to follow in the context or the truth
      if (dir * (truth.x - start.x) >= o.moveThreshold) {
        followRollouts++;
        if (model.found && dir * (model.x - start.x) >= o.moveThreshold) followed++;
      }
      errorRollouts++;
      copyErr += Math.hypot(start.x - truth.x, start.y - truth.y);
      if (model.found) modelErr += Math.hypot(model.x - truth.x, model.y - truth.y);
      else { modelErr += lostError; lostAgents++; }
    }
  }

  let lrTruth = 0, lrModel = 0;
  for (const c of lrClips) {
    const L = await held(c, Action.Left), R = await held(c, Action.Right);
    if (!L.start.found || !L.truth.found || !R.truth.found || R.truth.x - L.truth.x < o.moveThreshold) continue;
    lrTruth++;
    if (L.model.found && R.model.found && R.model.x - L.model.x >= o.moveThreshold) lrModel++;
  }

  const marks = [...new Set([1, 8, 16, 32, o.longSteps].filter((s) => s <= o.longSteps))];
  const paletteSum = new Map<number, number>(marks.map((s) => [s, 0]));
  let truthShows = 0, modelShows = 0, seconds = 0, frames = 0;
  for (const [ci, c] of clips.entries()) {
    const keys = randomKeys(o.longSteps, hashSeed(seed, "clip", ci), o.keyChange);
    await reset(c);
    const pred = new Uint8Array(o.longSteps * F3);
    const t0 = performance.now();
    for (let h = 0; h < o.longSteps; h++) pred.set(await p.rollout([keys[h]!]), h * F3);   // one frame per call, as play mode
    seconds += (performance.now() - t0) / 1000;
    frames += o.longSteps;
    const truth = trueFuture(c, K - 1, keys);
    for (const s of marks) paletteSum.set(s, paletteSum.get(s)! + paletteFidelity(frame(pred, s - 1), truth, o.paletteTol));
    if (agent(frame(truth, o.longSteps - 1)).found) {
      truthShows++;
      if (agent(frame(pred, o.longSteps - 1)).found) modelShows++;
    }
  }
  const paletteByStep = Object.fromEntries(marks.map((s) => [String(s), paletteSum.get(s)! / clips.length]));
  const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
  return {
    action_follow_rate: ratio(followed, followRollouts),
    agent_error_vs_copy_last_8: ratio(modelErr, copyErr),
    lr_separation: ratio(lrModel, lrTruth),
    palette_fidelity_64: paletteByStep[String(o.longSteps)]!,
    agent_visible_64: ratio(modelShows, truthShows),
    fps: frames / seconds,
    counts: {
      clips: clips.length, followRollouts, followed, errorRollouts, lostAgents,
      modelError: ratio(modelErr, errorRollouts), copyLastError: ratio(copyErr, errorRollouts),
      lrClips: lrClips.length, lrTruthSeparates: lrTruth, lrSeparated: lrModel,
      truthShowsAgent64: truthShows, modelShowsAgent64: modelShows, paletteByStep,
    },
    settings: { moves: o.moves, longSteps: o.longSteps, paletteTol: o.paletteTol, moveThreshold: o.moveThreshold, seed },
  };
}

/**
 * The true simulator as a predictor (the metrics' own check: it scores 1, and 0 error): reset() finds which clip the
 * context frames open (its first K frames), rollout() steps that clip's world with the keys given.
 */
export function simulatorPredictor(clips: VideoClip[], contextFrames: number): PlayPredictor {
  if (!Number.isInteger(contextFrames) || contextFrames < 1) throw new NextframeError(`simulatorPredictor: contextFrames must be a positive integer, got ${contextFrames}`);
  let world: ReturnType<typeof replayClip> | null = null, size = 0;
  return {
    contextFrames,
    async reset(frames: Uint8Array) {
      const c = clips.find((c) => c.frames.length >= frames.length && Buffer.from(c.frames.buffer, c.frames.byteOffset, frames.length).equals(Buffer.from(frames.buffer, frames.byteOffset, frames.length)));
      if (!c) throw new NextframeError("simulatorPredictor.reset: these frames do not open any clip it was given");
      world = replayClip(c, contextFrames - 1);
      size = c.size;
    },
    async rollout(actions: ArrayLike<number>) {
      if (!world) throw new NextframeError("simulatorPredictor.rollout: call reset(frames, actions) first");
      const F3 = size * size * 3, out = new Uint8Array(actions.length * F3);
      for (let h = 0; h < actions.length; h++) { world.step(actions[h]!); out.set(world.render(size).rgb, h * F3); }
      return out;
    },
  };
}

/** A frozen predictor (copy-last): every frame it draws is the last context frame, whatever the key. */
export function frozenPredictor(contextFrames: number): PlayPredictor {
  let last: Uint8Array | null = null;
  return {
    contextFrames,
    async reset(frames: Uint8Array) { last = frames.slice(frames.length - frames.length / contextFrames); },
    async rollout(actions: ArrayLike<number>) {
      if (!last) throw new NextframeError("frozenPredictor.rollout: call reset(frames, actions) first");
      const out = new Uint8Array(actions.length * last.length);
      for (let h = 0; h < actions.length; h++) out.set(last, h * last.length);
      return out;
    },
  };
}
