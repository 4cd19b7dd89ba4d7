/**
 * Fixed sin-cos positional embeddings.
 * 2D: exactly DiT's get_2d_sincos_pos_embed (from MAE):
 * https://github.com/facebookresearch/DiT/blob/main/models.py (bottom) and
 * https://github.com/facebookresearch/mae/blob/main/util/pos_embed.py.
 * 3D (time × height × width): 3/4 of the width for space (2D as above) and 1/4 for time, concatenated
 * per token [spatial | temporal], as in CogVideoX's get_3d_sincos_pos_embed.
 */

import { NextframeError } from "../engine/errors";

/** 1D: for positions m and D/2 frequencies ω_d = 1/10000^(2d/D): [sin(m·ω), cos(m·ω)] → (M, D), float64. */
export function sincos1d(embedDim: number, positions: ArrayLike<number>): Float64Array {
  if (embedDim % 2 !== 0) throw new NextframeError(`sincos1d: embed dim must be even, got ${embedDim}`);
  const half = embedDim / 2, M = positions.length;
  const out = new Float64Array(M * embedDim);
  const omega = new Float64Array(half);
  for (let d = 0; d < half; d++) omega[d] = 1 / 10000 ** (d / (embedDim / 2));
  for (let m = 0; m < M; m++) {
    const pos = Math.fround(positions[m]); // DiT builds the grid in float32
    for (let d = 0; d < half; d++) {
      const v = pos * omega[d];
      out[m * embedDim + d] = Math.sin(v);
      out[m * embedDim + half + d] = Math.cos(v);
    }
  }
  return out;
}

/**
 * 2D from per-token (row, col) positions: [1d(D/2, col) | 1d(D/2, row)]. (DiT's meshgrid puts w first, so
 * the first half encodes the column.) Used directly for packed sequences with per-image positions.
 */
export function sincos2dFromPositions(embedDim: number, rows: ArrayLike<number>, cols: ArrayLike<number>): Float64Array {
  if (embedDim % 4 !== 0) throw new NextframeError(`sincos2d: embed dim must be divisible by 4, got ${embedDim}`);
  if (rows.length !== cols.length) throw new NextframeError(`sincos2d: ${rows.length} rows but ${cols.length} cols`);
  const half = embedDim / 2, M = rows.length;
  const eCol = sincos1d(half, cols), eRow = sincos1d(half, rows);
  const out = new Float64Array(M * embedDim);
  for (let m = 0; m < M; m++) {
    out.set(eCol.subarray(m * half, (m + 1) * half), m * embedDim);
    out.set(eRow.subarray(m * half, (m + 1) * half), m * embedDim + half);
  }
  return out;
}

/** The (h·w, D) grid embedding, tokens row-major; `get2dSincosPosEmbed(D, g)` equals DiT's for a square grid g. */
export function get2dSincosPosEmbed(embedDim: number, gridSize: number | readonly [number, number]): Float64Array {
  const [h, w] = typeof gridSize === "number" ? [gridSize, gridSize] : gridSize;
  const rows = new Float64Array(h * w), cols = new Float64Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) { rows[i * w + j] = i; cols[i * w + j] = j; }
  return sincos2dFromPositions(embedDim, rows, cols);
}

/**
 * (f·h·w, D) for tokens ordered (f, h, w): [2D spatial (3D/4) | 1D temporal (D/4)]. D must be divisible by 16.
 * `frameTimes` (f numbers) places the frames in time when they are not 0, 1, …, f − 1 (a window with gaps).
 */
export function get3dSincosPosEmbed(embedDim: number, grid: readonly [number, number, number], frameTimes?: ArrayLike<number>): Float64Array {
  if (embedDim % 16 !== 0) throw new NextframeError(`get3dSincosPosEmbed: embed dim must be divisible by 16, got ${embedDim}`);
  const [f, h, w] = grid;
  if (frameTimes && frameTimes.length !== f) throw new NextframeError(`get3dSincosPosEmbed: frameTimes has ${frameTimes.length} entries for ${f} frames`);
  const Ds = (3 * embedDim) / 4, Dt = embedDim / 4;
  const spatial = get2dSincosPosEmbed(Ds, [h, w]);
  const frames = new Float64Array(f);
  for (let k = 0; k < f; k++) frames[k] = frameTimes ? frameTimes[k]! : k;
  const temporal = sincos1d(Dt, frames);
  const S = h * w;
  const out = new Float64Array(f * S * embedDim);
  for (let k = 0; k < f; k++)
    for (let s = 0; s < S; s++) {
      const o = (k * S + s) * embedDim;
      out.set(spatial.subarray(s * Ds, (s + 1) * Ds), o);
      out.set(temporal.subarray(k * Dt, (k + 1) * Dt), o + Ds);
    }
  return out;
}
