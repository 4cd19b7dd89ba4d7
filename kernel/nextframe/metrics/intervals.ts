/**
 * Error bars for small samples — the course compares models on a handful of clips, pairs or seeds, and a margin
 * inside the noise is not a win:
 *
 *   bootstrapInterval(n, stat)   percentile bootstrap of any statistic of n units (clips, pairs), resampled with
 *                                replacement; `stat` gets the resampled indices, so a paired statistic resamples both
 *                                sides together (e.g. the PSNR gap of two models on the same clips)
 *   meanInterval(values)         the bootstrap interval of a mean
 *   wilsonInterval(k, n)         Wilson's score interval of a share k / n (sound at k = 0 or k = n, unlike p ± z·se)
 *
 * Seeded (the library's Generator), so a notebook's numbers are the same on every run. (An AUC of surprise scores is
 * surpriseScore's, in image.ts.)
 */
import { Generator } from "../engine/generator.js";

/** Options of the bootstrap intervals: resamples, coverage and seed. */
export interface BootstrapOptions {
  /** resamples (default 2000) */
  reps?: number;
  /** coverage of the interval (default 0.95) */
  level?: number;
  /** seed of the resampling (default 0) */
  seed?: number;
}

function checkLevel(where: string, level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`${where}: level must lie in (0, 1), e.g. 0.95; got ${level}`);
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must lie in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Percentile bootstrap interval of `stat` over `n` units: each resample draws n unit indices with replacement and
 * calls `stat(indices)`. Resamples whose statistic is not finite are dropped (e.g. a ratio with an empty side).
 */
export function bootstrapInterval(n: number, stat: (indices: readonly number[]) => number, opts: BootstrapOptions = {}): [number, number] {
  const { reps = 2000, level = 0.95, seed = 0 } = opts;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrapInterval: n must be a positive integer (the number of units), got ${n}`);
  if (!Number.isInteger(reps) || reps < 10) throw new RangeError(`bootstrapInterval: reps must be an integer ≥ 10, got ${reps}`);
  checkLevel("bootstrapInterval", level);
  const rng = new Generator(seed);
  const stats: number[] = [];
  const idx = new Array<number>(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const s = stat(idx);
    if (Number.isFinite(s)) stats.push(s);
  }
  if (stats.length < reps / 2) throw new RangeError(`bootstrapInterval: the statistic was not finite in ${reps - stats.length} of ${reps} resamples`);
  stats.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [stats[Math.floor(tail * stats.length)], stats[Math.ceil((1 - tail) * stats.length) - 1]];
}

/** Bootstrap interval of the mean of `values`. */
export function meanInterval(values: readonly number[], opts: BootstrapOptions = {}): [number, number] {
  if (values.length === 0) throw new RangeError("meanInterval: no values");
  return bootstrapInterval(values.length, (ix) => ix.reduce((s, i) => s + values[i], 0) / ix.length, opts);
}

/** Wilson's score interval of the share k / n (default 95 %); k may be fractional (a share times n). */
export function wilsonInterval(k: number, n: number, level = 0.95): [number, number] {
  if (!Number.isInteger(n) || n < 1 || !(k >= 0 && k <= n)) {
    throw new RangeError(`wilsonInterval: expected 0 ≤ k ≤ n with a whole number n ≥ 1, got k = ${k}, n = ${n}`);
  }
  checkLevel("wilsonInterval", level);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = k / n, d = 1 + (z * z) / n;
  const mid = (p + (z * z) / (2 * n)) / d;
  const half = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, mid - half), Math.min(1, mid + half)];
}
