import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapInterval, meanInterval, normalQuantile, wilsonInterval } from "./intervals";

test("normalQuantile matches the standard normal's quantiles", () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
  assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-6);
  assert.throws(() => normalQuantile(1), /p must lie in \(0, 1\)/);
});

test("wilsonInterval: known values, sound at 0 and n, narrower with more data", () => {
  const [lo, hi] = wilsonInterval(2, 8);
  assert.ok(Math.abs(lo - 0.0715) < 1e-3 && Math.abs(hi - 0.5907) < 1e-3, `${lo} ${hi}`);
  assert.equal(wilsonInterval(0, 6)[0], 0);
  assert.ok(wilsonInterval(0, 6)[1] > 0.3, "0 of 6 does not rule out a share of a third");
  assert.ok(Math.abs(wilsonInterval(8, 8)[1] - 1) < 1e-12 && wilsonInterval(8, 8)[0] < 0.7);
  const w = (k: number, n: number) => { const [a, b] = wilsonInterval(k, n); return b - a; };
  assert.ok(w(50, 200) < w(5, 20));
  assert.ok(w(5, 20) > wilsonInterval(5, 20, 0.5)[1] - wilsonInterval(5, 20, 0.5)[0], "a lower level is narrower");
  assert.throws(() => wilsonInterval(9, 8), /0 ≤ k ≤ n with a whole number n/);
});

test("meanInterval covers the mean, is seeded, and narrows with n", () => {
  const small = [0.1, 0.5, 0.3, 0.9, 0.2, 0.4];
  const [lo, hi] = meanInterval(small, { seed: 3 });
  const mean = small.reduce((a, b) => a + b) / small.length;
  assert.ok(lo < mean && mean < hi && lo >= 0.1 && hi <= 0.9);
  assert.deepEqual(meanInterval(small, { seed: 3 }), [lo, hi]);
  const big = Array.from({ length: 96 }, (_, i) => small[i % small.length]);
  const [lb, hb] = meanInterval(big, { seed: 3 });
  assert.ok(hb - lb < (hi - lo) / 2, "16× the data: much narrower");
  assert.deepEqual(meanInterval([2, 2, 2]), [2, 2]);
});

test("bootstrapInterval resamples units, so a paired gap keeps its pairs", () => {
  // model b is a fixed 1 above model a on every clip, and clips vary a lot: the paired gap is exactly 1
  const a = [0, 10, 20, 30, 40, 50], b = a.map((x) => x + 1);
  const paired = bootstrapInterval(a.length, (ix) => ix.reduce((s, i) => s + b[i] - a[i], 0) / ix.length);
  assert.deepEqual(paired, [1, 1]);
  const unpaired = [meanInterval(b, { seed: 1 }), meanInterval(a, { seed: 2 })];
  assert.ok(unpaired[0][0] < unpaired[1][1], "unpaired intervals overlap: only pairing shows the gap");
  assert.throws(() => bootstrapInterval(0, () => 0), /positive integer/);
  assert.throws(() => bootstrapInterval(4, () => NaN), /not finite in 2000 of 2000/);
});
