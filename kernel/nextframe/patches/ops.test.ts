import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../engine/index";
import { patchify2d, patchify3d } from "./patchify";
import { patchify3dOp, patchifyOp, unpatchify3dOp, unpatchifyOp } from "./ops";

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

test("engine-op patchify/unpatchify match the typed-array versions and round-trip", async () => {
  const x = iota(2 * 3 * 4 * 6);
  const t = tensor(x, { shape: [2, 3, 4, 6] });
  const p = patchifyOp(t, 2);
  assert.deepEqual(p.shape, [2, 6, 12]);
  assert.deepEqual(await p.data(), patchify2d(x, [2, 3, 4, 6], 2).data);
  assert.deepEqual(await unpatchifyOp(p, 2, 3, [2, 3]).data(), x);
  const v = iota(1 * 4 * 2 * 4 * 6);
  const tv = tensor(v, { shape: [1, 4, 2, 4, 6] });
  const p3 = patchify3dOp(tv, 2, 2);
  assert.deepEqual(p3.shape, [1, 2 * 2 * 3, 16]);
  assert.deepEqual(await p3.data(), patchify3d(v, [1, 4, 2, 4, 6], [2, 2]).data);
  assert.deepEqual(await unpatchify3dOp(p3, 2, 2, 2, [2, 2, 3]).data(), v);
  assert.throws(() => patchifyOp(tensor(iota(30), { shape: [1, 1, 5, 6] }), 2), /5×6 is not divisible by the patch size 2/);
});
