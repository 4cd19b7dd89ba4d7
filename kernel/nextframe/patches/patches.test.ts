import { test } from "node:test";
import assert from "node:assert/strict";
import {
  additiveMask, get2dSincosPosEmbed, get3dSincosPosEmbed, packImages, packedAttentionMask, packedPosEmbed,
  patchify2d, patchify3d, unpackImages, unpackTokens, unpatchify2d, unpatchify3d,
} from "./index";

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

test("patchify2d ↔ unpatchify2d round trip is exact; token layout is DiT's (p, q, c)", () => {
  const N = 2, C = 3, H = 4, W = 6, p = 2;
  const x = iota(N * C * H * W);
  const pt = patchify2d(x, [N, C, H, W], p);
  assert.deepEqual(pt.shape, [2, 6, 12]);
  assert.deepEqual(pt.grid, [2, 3]);
  // token (n=0, i=0, j=1), element (a=1, b=0, c=2) = x[0, 2, 1, 2]
  assert.equal(pt.data[(0 * 6 + 1) * 12 + (1 * 2 + 0) * 3 + 2], ((0 * C + 2) * H + 1) * W + 2);
  const back = unpatchify2d(pt.data, pt.shape, pt.grid, p, C);
  assert.deepEqual(back.shape, [N, C, H, W]);
  assert.deepEqual(back.data, x);
});

test("patchify3d ↔ unpatchify3d round trip with tubelets t×p×p", () => {
  const N = 1, F = 4, C = 2, H = 4, W = 4;
  const x = iota(N * F * C * H * W);
  const pt = patchify3d(x, [N, F, C, H, W], [2, 2]);
  assert.deepEqual(pt.shape, [1, 2 * 2 * 2, 2 * 2 * 2 * 2]);
  assert.deepEqual(pt.grid, [2, 2, 2]);
  // token (f=1, i=0, j=1) element (s=1, a=0, b=1, c=0) = x[0, 3, 0, 0, 3]
  assert.equal(pt.data[((1 * 2 + 0) * 2 + 1) * 16 + ((1 * 2 + 0) * 2 + 1) * 2 + 0], ((3 * C + 0) * H + 0) * W + 3);
  assert.deepEqual(unpatchify3d(pt.data, pt.shape, pt.grid, [2, 2], C).data, x);
  // tubelet length 1 equals per-frame 2D patches
  const p1 = patchify3d(x, [N, F, C, H, W], [1, 2]);
  const f0 = patchify2d(x.slice(0, C * H * W), [1, C, H, W], 2);
  assert.deepEqual(p1.data.slice(0, f0.data.length), f0.data);
});

test("patch errors name the sizes", () => {
  assert.throws(() => patchify2d(iota(30), [1, 1, 5, 6], 2), /image size 5×6 is not divisible by the patch size 2/);
  assert.throws(() => patchify2d(iota(10), [1, 1, 4, 4], 2), /data has 10 elements, shape \[1, 1, 4, 4\] needs 16/);
  assert.throws(() => patchify3d(iota(48), [1, 3, 1, 4, 4], [2, 2]), /3 frames are not divisible by the tubelet length 2/);
  assert.throws(() => unpatchify2d(iota(16), [1, 4, 4], [2, 2], 2, 2), /token width 4 ≠ p·p·C/);
});

test("2D sin-cos embedding equals DiT's get_2d_sincos_pos_embed (values from the numpy reference)", () => {
  const e = get2dSincosPosEmbed(16, 4);
  assert.equal(e.length, 16 * 16);
  // (token, dim) → value printed by DiT's numpy code for embed_dim=16, grid_size=4
  const ref: [number, number, number][] = [
    [0, 0, 0.0], [1, 0, 0.8414709848078965], [1, 4, 0.5403023058681398], [4, 8, 0.8414709848078965],
    [5, 9, 0.09983341664682815], [6, 13, 0.9950041652780258], [15, 3, 0.002999995500002025],
    [15, 15, 0.999995500003375], [9, 11, 0.0019999986666669333],
  ];
  for (const [m, d, v] of ref) assert.ok(Math.abs(e[m * 16 + d] - v) < 1e-15, `(${m}, ${d}): ${e[m * 16 + d]} vs ${v}`);
  // rectangular grid: row-major tokens, first half encodes the column
  const r = get2dSincosPosEmbed(8, [2, 3]);
  assert.equal(r[(1 * 3 + 2) * 8 + 0], Math.sin(2)); // col 2
  assert.equal(r[(1 * 3 + 2) * 8 + 4], Math.sin(1)); // row 1
});

test("3D sin-cos embedding: spatial part repeats across frames, temporal part across positions", () => {
  const D = 32, e = get3dSincosPosEmbed(D, [3, 2, 2]);
  const s = get2dSincosPosEmbed(24, [2, 2]);
  for (let k = 0; k < 3; k++) for (let m = 0; m < 4; m++) {
    for (let d = 0; d < 24; d++) assert.equal(e[(k * 4 + m) * D + d], s[m * 24 + d]);
    assert.equal(e[(k * 4 + m) * D + 24], Math.sin(k));
  }
  assert.throws(() => get3dSincosPosEmbed(24, [1, 1, 1]), /divisible by 16/);
});

test("NaViT packing: round trip, per-image positions, block-diagonal mask with padding", () => {
  const a = { data: iota(2 * 4 * 6), shape: [2, 4, 6] as const };
  const b = { data: iota(2 * 6 * 2).map((v) => -v), shape: [2, 6, 2] as const };
  const pk = packImages([a, b], 2, { length: 10 });
  assert.deepEqual(pk.shape, [10, 8]);
  assert.deepEqual([...pk.imageIds], [0, 0, 0, 0, 0, 0, 1, 1, 1, -1]);
  assert.deepEqual([...pk.rows], [0, 0, 0, 1, 1, 1, 0, 1, 2, -1]);
  assert.deepEqual([...pk.cols], [0, 1, 2, 0, 1, 2, 0, 0, 0, -1]);
  const imgs = unpackImages(pk.tokens, pk);
  assert.deepEqual(imgs[0].shape, [2, 4, 6]); assert.deepEqual(imgs[0].data, a.data);
  assert.deepEqual(imgs[1].shape, [2, 6, 2]); assert.deepEqual(imgs[1].data, b.data);
  const m = packedAttentionMask(pk.imageIds);
  assert.equal(m[0 * 10 + 5], 1); assert.equal(m[0 * 10 + 6], 0); assert.equal(m[7 * 10 + 8], 1);
  assert.equal(m[9 * 10 + 9], 1); assert.equal(m[9 * 10 + 8], 0); assert.equal(m[8 * 10 + 9], 0);
  for (let i = 0; i < 10; i++) assert.ok(m.slice(i * 10, i * 10 + 10).some((v) => v === 1), `row ${i} empty`);
  assert.equal(additiveMask(m)[6], Math.fround(-1e30));
  // per-image positions: packed embedding of image b's tokens equals b's own grid embedding
  const pe = packedPosEmbed(pk, 8), own = get2dSincosPosEmbed(8, [3, 1]);
  for (let i = 0; i < 3 * 8; i++) assert.ok(Math.abs(pe[6 * 8 + i] - own[i]) < 1e-7);
  assert.ok(pe.slice(9 * 8).every((v) => v === 0));
  assert.equal(unpackTokens(iota(20), 2, pk)[1].length, 6);
  assert.throws(() => packImages([a, b], 2, { length: 5 }), /9 tokens do not fit in a sequence of length 5/);
  assert.throws(() => packImages([a, { data: iota(5 * 4 * 4), shape: [5, 4, 4] }], 2), /image 1 has 5 channels, image 0 has 2/);
});
