/**
 * Patches are the tokens of vision (ViT, "An Image is Worth 16x16 Words", https://arxiv.org/abs/2010.11929);
 * video is cut into spacetime tubelets (ViViT, https://arxiv.org/abs/2103.15691; Sora's "spacetime patches").
 *
 * Pure index math on typed arrays. The token layout is DiT's: `unpatchify` in
 * https://github.com/facebookresearch/DiT/blob/main/models.py reshapes (N, T, p·p·C) → (N, h, w, p, p, C),
 * so a token vector is ordered (p_row, p_col, channel) and tokens run row-major over the (h, w) grid.
 * For video the vector is (pt, p_row, p_col, channel) and tokens run over (t, h, w).
 *
 * Letters: N batch, C channels, H/W image size, F frames, p patch side, pt tubelet length, T tokens.
 */

import { NextframeError } from "../engine/errors";

/** The float arrays patchify works on (float32 or float64). */
export type TypedFloat = Float32Array | Float64Array;

/** The tokens patchify returns: data, their (N, T, D) shape and the patch grid. */
export interface Patched<A extends TypedFloat = Float32Array> {
  data: A;
  shape: [number, number, number]; // (N, T, D) with D = p·p·C (or pt·p·p·C)
  grid: number[];                  // (h, w) or (f, h, w) token grid
}

function check(cond: boolean, msg: string): void { if (!cond) throw new NextframeError(msg); }

function like<A extends TypedFloat>(x: A, n: number): A {
  return (x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as A;
}

/** (N, C, H, W) → (N, H/p · W/p, p·p·C). H and W must be multiples of p. */
export function patchify2d<A extends TypedFloat>(x: A, shape: readonly number[], p: number): Patched<A> {
  check(shape.length === 4, `patchify2d: expected an image batch (N, C, H, W), got shape [${shape.join(", ")}]`);
  const [N, C, H, W] = shape;
  check(x.length === N * C * H * W, `patchify2d: data has ${x.length} elements, shape [${shape.join(", ")}] needs ${N * C * H * W}`);
  check(Number.isInteger(p) && p >= 1, `patchify2d: patch size must be a positive integer, got ${p}`);
  check(H % p === 0 && W % p === 0, `patchify2d: image size ${H}×${W} is not divisible by the patch size ${p}`);
  const h = H / p, w = W / p, D = p * p * C, T = h * w;
  const out = like(x, x.length);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const tok = (n * T + i * w + j) * D;
        for (let a = 0; a < p; a++)
          for (let b = 0; b < p; b++)
            for (let c = 0; c < C; c++)
              out[tok + (a * p + b) * C + c] = x[((n * C + c) * H + i * p + a) * W + j * p + b];
      }
  return { data: out, shape: [N, T, D], grid: [h, w] };
}

/** (N, h·w, p·p·C) → (N, C, h·p, w·p); the exact inverse of patchify2d (DiT's `unpatchify`). */
export function unpatchify2d<A extends TypedFloat>(tokens: A, shape: readonly number[], grid: readonly [number, number] | readonly number[], p: number, channels: number): { data: A; shape: [number, number, number, number] } {
  check(shape.length === 3, `unpatchify2d: expected tokens (N, T, D), got shape [${shape.join(", ")}]`);
  const [N, T, D] = shape;
  const [h, w] = grid;
  check(h * w === T, `unpatchify2d: grid ${h}×${w} has ${h * w} tokens, got T = ${T}`);
  check(D === p * p * channels, `unpatchify2d: token width ${D} ≠ p·p·C = ${p}·${p}·${channels}`);
  check(tokens.length === N * T * D, `unpatchify2d: data has ${tokens.length} elements, shape needs ${N * T * D}`);
  const C = channels, H = h * p, W = w * p;
  const out = like(tokens, tokens.length);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const tok = (n * T + i * w + j) * D;
        for (let a = 0; a < p; a++)
          for (let b = 0; b < p; b++)
            for (let c = 0; c < C; c++)
              out[((n * C + c) * H + i * p + a) * W + j * p + b] = tokens[tok + (a * p + b) * C + c];
      }
  return { data: out, shape: [N, C, H, W] };
}

/** Spacetime tubelets: (N, F, C, H, W) → (N, F/pt · H/p · W/p, pt·p·p·C); tokens ordered (f, h, w). */
export function patchify3d<A extends TypedFloat>(x: A, shape: readonly number[], tubelet: readonly [number, number] | readonly [number, number, number]): Patched<A> {
  check(shape.length === 5, `patchify3d: expected a video batch (N, F, C, H, W), got shape [${shape.join(", ")}]`);
  const [N, F, C, H, W] = shape;
  const [pt, ph, pw] = tubelet.length === 2 ? [tubelet[0], tubelet[1], tubelet[1]] : tubelet;
  check(x.length === N * F * C * H * W, `patchify3d: data has ${x.length} elements, shape [${shape.join(", ")}] needs ${N * F * C * H * W}`);
  check(F % pt === 0, `patchify3d: ${F} frames are not divisible by the tubelet length ${pt}`);
  check(H % ph === 0 && W % pw === 0, `patchify3d: frame size ${H}×${W} is not divisible by the patch size ${ph}×${pw}`);
  const f = F / pt, h = H / ph, w = W / pw, D = pt * ph * pw * C, T = f * h * w;
  const out = like(x, x.length);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < f; k++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const tok = (n * T + (k * h + i) * w + j) * D;
          for (let s = 0; s < pt; s++)
            for (let a = 0; a < ph; a++)
              for (let b = 0; b < pw; b++)
                for (let c = 0; c < C; c++)
                  out[tok + ((s * ph + a) * pw + b) * C + c] = x[(((n * F + k * pt + s) * C + c) * H + i * ph + a) * W + j * pw + b];
        }
  return { data: out, shape: [N, T, D], grid: [f, h, w] };
}

/** Inverse of patchify3d: (N, f·h·w, pt·p·p·C) → (N, f·pt, C, h·p, w·p). */
export function unpatchify3d<A extends TypedFloat>(tokens: A, shape: readonly number[], grid: readonly number[], tubelet: readonly [number, number] | readonly [number, number, number], channels: number): { data: A; shape: [number, number, number, number, number] } {
  check(shape.length === 3, `unpatchify3d: expected tokens (N, T, D), got shape [${shape.join(", ")}]`);
  const [N, T, D] = shape;
  const [f, h, w] = grid;
  const [pt, ph, pw] = tubelet.length === 2 ? [tubelet[0], tubelet[1], tubelet[1]] : tubelet;
  const C = channels;
  check(f * h * w === T, `unpatchify3d: grid ${f}×${h}×${w} has ${f * h * w} tokens, got T = ${T}`);
  check(D === pt * ph * pw * C, `unpatchify3d: token width ${D} ≠ pt·p·p·C = ${pt}·${ph}·${pw}·${C}`);
  check(tokens.length === N * T * D, `unpatchify3d: data has ${tokens.length} elements, shape needs ${N * T * D}`);
  const F = f * pt, H = h * ph, W = w * pw;
  const out = like(tokens, tokens.length);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < f; k++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const tok = (n * T + (k * h + i) * w + j) * D;
          for (let s = 0; s < pt; s++)
            for (let a = 0; a < ph; a++)
              for (let b = 0; b < pw; b++)
                for (let c = 0; c < C; c++)
                  out[(((n * F + k * pt + s) * C + c) * H + i * ph + a) * W + j * pw + b] = tokens[tok + ((s * ph + a) * pw + b) * C + c];
        }
  return { data: out, shape: [N, F, C, H, W] };
}
