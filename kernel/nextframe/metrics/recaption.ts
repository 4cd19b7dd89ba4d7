// Recaptioning by nearest neighbour in latent space (chapter 6).
//
// DALL·E 3 (Betker et al. 2023, "Improving Image Generation with Better Captions") and Sora train on
// re-captioned data: weak or missing captions are replaced by better ones. The cheapest version, measurable
// here: a clip whose caption is missing (or weak) borrows the caption of its nearest well-captioned
// neighbour in the model's latent space. If the latent space encodes what the captions talk about, caption
// accuracy goes up.

import { NextframeError } from "../engine/errors";

/** Options of nearestNeighbourRecaption: which captions count as weak, the latent distance, and true captions to score against. */
export interface RecaptionOptions {
  /** Which captions to replace. Default: only missing (null) ones. */
  isWeak?: (caption: string | null, index: number) => boolean;
  distance?: "cosine" | "euclidean";
  /** True captions, to score accuracy before and after. */
  truth?: readonly string[];
}

/** Captions after the nearest-neighbour transfer, each one's donor, and coverage and accuracy before and after. */
export interface RecaptionResult {
  /** Captions after transfer (kept ones unchanged). */
  captions: (string | null)[];
  /** Index of the donor clip for replaced captions, −1 for kept ones. */
  source: Int32Array;
  replaced: number;
  /** Fraction of clips with a non-weak caption, before and after. */
  coverageBefore: number;
  coverageAfter: number;
  /** Exact-match accuracy against `truth` (weak/missing count as wrong before), when truth is given. */
  accuracyBefore?: number;
  accuracyAfter?: number;
  /** Mean word-level F1 against truth (partial credit), when truth is given. */
  wordF1Before?: number;
  wordF1After?: number;
}

/** Word-level F1 between two captions (bag of words, punctuation ignored). */
export function captionWordF1(a: string | null, b: string | null): number {
  if (a === null || b === null) return 0;
  const words = (s: string) => s.toLowerCase().replace(/[^a-z0-9 ]/g, " ").split(/\s+/).filter(Boolean);
  const wa = words(a), wb = words(b);
  if (wa.length === 0 && wb.length === 0) return 1;
  const cb = new Map<string, number>();
  for (const w of wb) cb.set(w, (cb.get(w) ?? 0) + 1);
  let overlap = 0;
  for (const w of wa) {
    const c = cb.get(w) ?? 0;
    if (c > 0) { overlap++; cb.set(w, c - 1); }
  }
  if (overlap === 0) return 0;
  const p = overlap / wa.length, r = overlap / wb.length;
  return (2 * p * r) / (p + r);
}

/**
 * Fill weak/missing captions from the nearest strong-captioned neighbour. `latents` is (n × dim), one row
 * per clip (e.g. the mean latent of its frames).
 */
export function nearestNeighbourRecaption(latents: ArrayLike<number>, dim: number, captions: readonly (string | null)[], opts: RecaptionOptions = {}): RecaptionResult {
  const n = captions.length;
  if (!Number.isInteger(dim) || dim < 1) throw new NextframeError(`nearestNeighbourRecaption: dim must be a positive integer, got ${dim}`);
  if (latents.length !== n * dim) throw new NextframeError(`nearestNeighbourRecaption: latents has ${latents.length} values, expected ${n} clips × ${dim} = ${n * dim}`);
  if (opts.truth && opts.truth.length !== n) throw new NextframeError(`nearestNeighbourRecaption: truth has ${opts.truth.length} captions, expected ${n}`);
  const isWeak = opts.isWeak ?? ((c: string | null) => c === null);
  const weak = captions.map((c, i) => isWeak(c, i));
  const donors: number[] = [];
  weak.forEach((w, i) => { if (!w) donors.push(i); });
  const cosine = (opts.distance ?? "cosine") === "cosine";
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += latents[i * dim + j] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const out = captions.slice();
  const source = new Int32Array(n).fill(-1);
  let replaced = 0;
  if (donors.length > 0) {
    for (let i = 0; i < n; i++) {
      if (!weak[i]) continue;
      let best = -1, bestD = Infinity;
      for (const k of donors) {
        let d = 0;
        if (cosine) {
          let dot = 0;
          for (let j = 0; j < dim; j++) dot += latents[i * dim + j] * latents[k * dim + j];
          d = 1 - dot / (norms[i] * norms[k]);
        } else {
          for (let j = 0; j < dim; j++) d += (latents[i * dim + j] - latents[k * dim + j]) ** 2;
        }
        if (d < bestD) { bestD = d; best = k; }
      }
      out[i] = captions[best];
      source[i] = best;
      replaced++;
    }
  }
  const result: RecaptionResult = {
    captions: out, source, replaced,
    coverageBefore: donors.length / n,
    coverageAfter: donors.length ? 1 : 0,
  };
  if (opts.truth) {
    const t = opts.truth;
    const before = captions.map((c, i) => (weak[i] ? null : c));
    result.accuracyBefore = before.filter((c, i) => c === t[i]).length / n;
    result.accuracyAfter = out.filter((c, i) => c === t[i]).length / n;
    result.wordF1Before = before.reduce((s, c, i) => s + captionWordF1(c, t[i]), 0) / n;
    result.wordF1After = out.reduce((s, c, i) => s + captionWordF1(c, t[i]), 0) / n;
  }
  return result;
}
