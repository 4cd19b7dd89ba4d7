/**
 * Engine-op versions of patchify/unpatchify (reshape + permute), for use inside graphs (compile, autodiff).
 * Same token layouts as patchify.ts: a 2D token is (p_row, p_col, c); a tubelet token is (pt, p_row, p_col, c).
 */
import type { Tensor } from "../engine/index";
import { NextframeError } from "../engine/errors";

function need(cond: boolean, msg: string): void { if (!cond) throw new NextframeError(msg); }

/** (N, C, H, W) → (N, H/p · W/p, p·p·C). */
export function patchifyOp(x: Tensor, p: number): Tensor {
  need(x.rank === 4, `patchify: expected (N, C, H, W), got [${x.shape.join(", ")}]`);
  const [N, C, H, W] = x.shape;
  need(H % p === 0 && W % p === 0, `patchify: image size ${H}×${W} is not divisible by the patch size ${p}`);
  const h = H / p, w = W / p;
  return x.reshape([N, C, h, p, w, p]).permute([0, 2, 4, 3, 5, 1]).reshape([N, h * w, p * p * C]); // nchpwq → nhwpqc
}

/** (N, h·w, p·p·C) → (N, C, h·p, w·p). */
export function unpatchifyOp(x: Tensor, p: number, channels: number, grid: readonly [number, number]): Tensor {
  need(x.rank === 3, `unpatchify: expected (N, T, D), got [${x.shape.join(", ")}]`);
  const [N, T, D] = x.shape;
  const [h, w] = grid;
  need(h * w === T, `unpatchify: grid ${h}×${w} has ${h * w} tokens, got T = ${T}`);
  need(D === p * p * channels, `unpatchify: token width ${D} ≠ p·p·C = ${p}·${p}·${channels}`);
  return x.reshape([N, h, w, p, p, channels]).permute([0, 5, 1, 3, 2, 4]).reshape([N, channels, h * p, w * p]); // nhwpqc → nchpwq
}

/** (N, F, C, H, W) → (N, F/pt · H/p · W/p, pt·p·p·C), tokens ordered (f, h, w). */
export function patchify3dOp(x: Tensor, pt: number, p: number): Tensor {
  need(x.rank === 5, `patchify3d: expected (N, F, C, H, W), got [${x.shape.join(", ")}]`);
  const [N, F, C, H, W] = x.shape;
  need(F % pt === 0, `patchify3d: ${F} frames are not divisible by the tubelet length ${pt}`);
  need(H % p === 0 && W % p === 0, `patchify3d: frame size ${H}×${W} is not divisible by the patch size ${p}`);
  const f = F / pt, h = H / p, w = W / p;
  return x.reshape([N, f, pt, C, h, p, w, p]).permute([0, 1, 4, 6, 2, 5, 7, 3]).reshape([N, f * h * w, pt * p * p * C]);
}

/** (N, f·h·w, pt·p·p·C) → (N, f·pt, C, h·p, w·p). */
export function unpatchify3dOp(x: Tensor, pt: number, p: number, channels: number, grid: readonly [number, number, number]): Tensor {
  need(x.rank === 3, `unpatchify3d: expected (N, T, D), got [${x.shape.join(", ")}]`);
  const [N, T, D] = x.shape;
  const [f, h, w] = grid;
  need(f * h * w === T, `unpatchify3d: grid ${f}×${h}×${w} has ${f * h * w} tokens, got T = ${T}`);
  need(D === pt * p * p * channels, `unpatchify3d: token width ${D} ≠ pt·p·p·C = ${pt}·${p}·${p}·${channels}`);
  // (N, f, h, w, pt, p, q, c) → (N, f, pt, c, h, p, w, q)
  return x.reshape([N, f, h, w, pt, p, p, channels]).permute([0, 1, 4, 7, 2, 5, 3, 6]).reshape([N, f * pt, channels, h * p, w * p]);
}
