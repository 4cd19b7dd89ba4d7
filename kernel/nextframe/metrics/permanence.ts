// Object permanence and interaction persistence, measured in predicted pixels against the video world's
// ground truth (chapter 7: "the dog behind passers-by", "the bitten burger").
//
// Both metrics only need predicted RGB frames aligned with the truth states (frame t of the prediction is
// the model's guess of frame t of the clip); frames before `from` are the context and are not scored.
// Objects are found by colour: every ball has a palette colour no other drawable uses.

import { burgerGeometry, COLORS, type FrameState } from "../worlds/videoWorld";
import { NextframeError } from "../engine/errors";

/** The pixels of one colour in a frame: how many, their centroid and their spread. */
export interface Blob {
  /** Pixels within `tol` of the colour (Chebyshev distance in RGB). */
  count: number;
  /** Centroid in pixel coordinates (pixel centres at +0.5); NaN when count is 0. */
  cx: number;
  cy: number;
  /** Root-mean-square distance of those pixels from the centroid (pixels); NaN when count is 0. A ball is compact. */
  spread: number;
}

/** Is the pixel at offset o of an RGB frame within tol of the colour (Chebyshev distance)? */
export function colorMatches(frame: ArrayLike<number>, o: number, rgb: readonly number[], tol: number): boolean {
  return Math.abs(frame[o] - rgb[0]) <= tol && Math.abs(frame[o + 1] - rgb[1]) <= tol && Math.abs(frame[o + 2] - rgb[2]) <= tol;
}

/** Locate the pixels of one colour in an (H, W, 3) frame. */
export function findColorBlob(frame: ArrayLike<number>, width: number, height: number, rgb: readonly number[], tol = 50): Blob {
  if (frame.length !== width * height * 3) throw new NextframeError(`findColorBlob: frame has ${frame.length} values, expected ${width}×${height}×3 = ${width * height * 3}`);
  let count = 0, sx = 0, sy = 0, sxx = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (colorMatches(frame, (y * width + x) * 3, rgb, tol)) {
      count++;
      sx += x + 0.5;
      sy += y + 0.5;
      sxx += (x + 0.5) ** 2 + (y + 0.5) ** 2;
    }
  }
  if (!count) return { count, cx: NaN, cy: NaN, spread: NaN };
  const cx = sx / count, cy = sy / count;
  return { count, cx, cy, spread: Math.sqrt(Math.max(0, sxx / count - cx * cx - cy * cy)) };
}

/**
 * What every permanence score counts as "the object is back": colour tolerance, fewest matching pixels, largest spread
 * of those pixels (rms distance from their centroid) and largest centroid error, both as fractions of the frame size.
 * The spread bound keeps a frame that dissolved into colour noise, with the ball's colour scattered over it, from
 * counting as a ball (a ball of the video world spreads its pixels over 1 to 2 px rms at 32×32).
 */
export const PERMANENCE_DEFAULTS = { tol: 50, minPixels: 2, maxSpreadFraction: 1 / 8, maxErrorFraction: 1 / 8 } as const;

/** Whether an object is in a frame, and whether it is where it should be. */
export interface Reappearance {
  found: boolean;
  /** Centroid distance in pixels to where the object should be (NaN when not found). */
  error: number;
  correct: boolean;
}

/**
 * Is the object of colour `rgb` in an (size, size, 3) frame — at least minPixels of its colour, spread no more than
 * maxSpread (default size / 8) around their centroid — and within maxError (default size / 8) of (tx, ty)?
 */
export function scoreReappearance(frame: ArrayLike<number>, size: number, rgb: readonly number[], tx: number, ty: number, opts: { tol?: number; minPixels?: number; maxSpread?: number; maxError?: number } = {}): Reappearance {
  const blob = findColorBlob(frame, size, size, rgb, opts.tol ?? PERMANENCE_DEFAULTS.tol);
  const found = blob.count >= (opts.minPixels ?? PERMANENCE_DEFAULTS.minPixels) && blob.spread <= (opts.maxSpread ?? size * PERMANENCE_DEFAULTS.maxSpreadFraction);
  const error = found ? Math.hypot(blob.cx - tx, blob.cy - ty) : NaN;
  return { found, error, correct: found && error <= (opts.maxError ?? size * PERMANENCE_DEFAULTS.maxErrorFraction) };
}

/**
 * How much of a re-appearing object a prediction draws, as a number rather than a yes/no: over the pixels where the
 * true frame shows the object (colour `rgb` within tol) and `before` (the last context frame) does not, the
 * least-squares α in  pred − before ≈ α·(truth − before). 1: drawn as in the truth; 0: not drawn (copy-last); in between:
 * a faint ghost, what a mean prediction under uncertainty draws. NaN when no pixel of the object is new.
 */
export function appearanceStrength(pred: ArrayLike<number>, truth: ArrayLike<number>, before: ArrayLike<number>, rgb: readonly number[], tol: number = PERMANENCE_DEFAULTS.tol): number {
  if (pred.length !== truth.length || before.length !== truth.length) throw new NextframeError(`appearanceStrength: frames must have the same length, got pred ${pred.length}, truth ${truth.length}, before ${before.length}`);
  let num = 0, den = 0;
  for (let o = 0; o < truth.length; o += 3) {
    if (!colorMatches(truth, o, rgb, tol) || colorMatches(before, o, rgb, tol)) continue;
    for (let ch = 0; ch < 3; ch++) {
      const d = truth[o + ch] - before[o + ch];
      num += (pred[o + ch] - before[o + ch]) * d;
      den += d * d;
    }
  }
  return den > 0 ? num / den : NaN;
}

/** Options of objectPermanence: the frame size, the first predicted frame, the truth frames and what counts as the object being back. */
export interface PermanenceOptions {
  /** Frame size (square frames, as the world renders). */
  size: number;
  /** First predicted frame (earlier frames are context). Events whose reappearance is before it are skipped. */
  from?: number;
  /** Truth frames: when given, the target position is the truth blob's centroid (what is actually visible). */
  truthFrames?: ArrayLike<number>;
  /** Colour tolerance for blob finding. */
  tol?: number;
  /** Fewest matching pixels that count as "the object is there". */
  minPixels?: number;
  /** Largest rms spread of those pixels around their centroid that still counts as one object; default size / 8. */
  maxSpread?: number;
  /** Largest centroid error (pixels) that counts as reappearing at the right place; default size / 8. */
  maxError?: number;
}

/** One occlusion of a ball: when it hid and reappeared, and whether the prediction shows it back in the right place. */
export interface PermanenceEvent {
  object: number;
  color: string;
  /** First and last fully hidden frame. */
  hiddenFrom: number;
  hiddenTo: number;
  /** First frame after the occlusion with at least half of the object visible in the truth. */
  reappearFrame: number;
  found: boolean;
  /** Centroid distance in pixels (NaN when not found). */
  error: number;
  correct: boolean;
}

/** Object permanence over a rollout: every occlusion event, the share where the ball comes back, and back at the right place. */
export interface PermanenceResult {
  events: PermanenceEvent[];
  /** Fraction of events where the object is in the predicted frame at all. */
  reappearRate: number;
  /** Fraction where it is there and within maxError of the truth. */
  correctRate: number;
  /** Mean error over found events (NaN if none). */
  meanError: number;
}

/**
 * For every ball that disappears fully behind the occluder and re-emerges inside the scored range, look
 * for its colour in the predicted frame at the re-emergence: is it there, and where?
 */
export function objectPermanence(states: FrameState[], predFrames: ArrayLike<number>, opts: PermanenceOptions): PermanenceResult {
  const { size } = opts;
  const F = size * size * 3;
  if (!Number.isInteger(size) || size < 1) throw new NextframeError(`objectPermanence: size must be a positive integer, got ${size}`);
  if (predFrames.length !== states.length * F) {
    throw new NextframeError(`objectPermanence: predFrames has ${predFrames.length} values, expected ${states.length} frames × ${size}×${size}×3 = ${states.length * F}`);
  }
  if (opts.truthFrames && opts.truthFrames.length !== predFrames.length) {
    throw new NextframeError(`objectPermanence: truthFrames has ${opts.truthFrames.length} values, predFrames has ${predFrames.length}`);
  }
  const from = opts.from ?? 0, tol = opts.tol ?? PERMANENCE_DEFAULTS.tol;
  const events: PermanenceEvent[] = [];
  const frameOf = (src: ArrayLike<number>, t: number): ArrayLike<number> =>
    "subarray" in src ? (src as Uint8Array).subarray(t * F, (t + 1) * F) : Array.prototype.slice.call(src, t * F, (t + 1) * F);
  if (states.length === 0) return { events, reappearRate: NaN, correctRate: NaN, meanError: NaN };
  const nObj = states[0].objects.length;
  for (let id = 0; id < nObj; id++) {
    if (states[0].objects[id].kind !== "ball") continue;
    let t = 0;
    while (t < states.length) {
      const hidden = (s: FrameState) => s.objects[id].exists && s.objects[id].behindOccluder && s.objects[id].visiblePixels === 0;
      if (!hidden(states[t])) { t++; continue; }
      const h0 = t;
      while (t < states.length && hidden(states[t])) t++;
      const h1 = t - 1;
      let r = t;
      while (r < states.length && states[r].objects[id].exists && states[r].objects[id].visibleFraction < 0.5) r++;
      if (r >= states.length || !states[r].objects[id].exists) break;
      t = r;
      if (r < from) continue;
      const o = states[r].objects[id];
      let tx = o.screenX, ty = o.screenY;
      if (opts.truthFrames) {
        const tb = findColorBlob(frameOf(opts.truthFrames, r), size, size, o.rgb, tol);
        if (tb.count > 0) { tx = tb.cx; ty = tb.cy; }
      }
      events.push({ object: id, color: o.color, hiddenFrom: h0, hiddenTo: h1, reappearFrame: r, ...scoreReappearance(frameOf(predFrames, r), size, o.rgb, tx, ty, opts) });
    }
  }
  const n = events.length;
  const foundEv = events.filter((e) => e.found);
  return {
    events,
    reappearRate: n ? foundEv.length / n : NaN,
    correctRate: n ? events.filter((e) => e.correct).length / n : NaN,
    meanError: foundEv.length ? foundEv.reduce((s, e) => s + e.error, 0) / foundEv.length : NaN,
  };
}

const BURGER_COLORS = [COLORS.bunTop, COLORS.lettuce, COLORS.patty, COLORS.bunBottom];

function isBurgerColor(frame: ArrayLike<number>, o: number, tol: number): boolean {
  for (const c of BURGER_COLORS) {
    if (Math.abs(frame[o] - c[0]) <= tol && Math.abs(frame[o + 1] - c[1]) <= tol && Math.abs(frame[o + 2] - c[2]) <= tol) return true;
  }
  return false;
}

/** Whether the burger's bite marks stay in a prediction: the share of scored frames where they do, and how much regrows. */
export interface PersistenceResult {
  /** Frames scored (truth has ≥ 1 bite, burger unoccluded, at least one bitten pixel). */
  frames: number;
  /** Fraction of scored frames where the bite stays eaten (< half of the bitten pixels look like burger) and the burger is still there. */
  persistentRate: number;
  /** Mean fraction of bitten pixels that look like burger again ("regrown"). */
  meanRegrown: number;
  /** Mean fraction of the remaining burger pixels that still look like burger. */
  meanPresent: number;
}

/**
 * Interaction persistence: once the agent has bitten the burger, the bite marks must stay. For every
 * scored frame the bitten region comes from the truth geometry (bite circles inside the burger's
 * silhouette); the prediction should show no burger there, and burger everywhere else in the silhouette.
 */
export function interactionPersistence(states: FrameState[], predFrames: ArrayLike<number>, opts: { size: number; from?: number; tol?: number; /** Defaults to the state's. */ maxBites?: number }): PersistenceResult {
  const { size } = opts;
  const F = size * size * 3;
  if (predFrames.length !== states.length * F) {
    throw new NextframeError(`interactionPersistence: predFrames has ${predFrames.length} values, expected ${states.length} frames × ${size}×${size}×3`);
  }
  const from = opts.from ?? 0, tol = opts.tol ?? 40;
  let frames = 0, persistent = 0, sumRegrown = 0, sumPresent = 0;
  for (let t = from; t < states.length; t++) {
    const st = states[t];
    const b = st.objects.find((o) => o.kind === "burger");
    if (!b || st.bites === 0 || b.visibleFraction < 0.95) continue;
    const g = burgerGeometry(b.screenX, b.screenY, b.screenRadius, st.bites, opts.maxBites ?? st.maxBites);
    let bitten = 0, regrown = 0, rest = 0, present = 0;
    const x0 = Math.max(0, Math.floor(b.screenX - g.rx)), x1 = Math.min(size - 1, Math.ceil(b.screenX + g.rx));
    const y0 = Math.max(0, Math.floor(b.screenY - g.ry)), y1 = Math.min(size - 1, Math.ceil(b.screenY + g.ry));
    for (let py = y0; py <= y1; py++) for (let px = x0; px <= x1; px++) {
      const dx = (px + 0.5 - b.screenX) / g.rx, dy = (py + 0.5 - b.screenY) / g.ry;
      if (dx * dx + dy * dy > 1) continue;
      const inBite = g.bitesAt.some(([bx, by, br]) => (px + 0.5 - bx) ** 2 + (py + 0.5 - by) ** 2 < br * br);
      const isB = isBurgerColor(predFrames, t * F + (py * size + px) * 3, tol);
      if (inBite) { bitten++; if (isB) regrown++; } else { rest++; if (isB) present++; }
    }
    if (bitten === 0 || rest === 0) continue;
    frames++;
    const rg = regrown / bitten, pr = present / rest;
    sumRegrown += rg;
    sumPresent += pr;
    if (rg < 0.5 && pr > 0.5) persistent++;
  }
  return {
    frames,
    persistentRate: frames ? persistent / frames : NaN,
    meanRegrown: frames ? sumRegrown / frames : NaN,
    meanPresent: frames ? sumPresent / frames : NaN,
  };
}
