import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, globalGenerator, hashSeed, manualSeed } from "./generator";
import * as nf from "../index";
import { NextframeError } from "./errors";

// Numbers the one generator draws for fixed seeds. Every dataset, training batch, initialiser, sampler and shipped
// checkpoint depends on these streams: a change here must come with a retraining of the course's models.
// DATA is the stream the worlds and datasets drew before the library had one generator (sfc32, as worlds/random.ts
// at 4c4f36e): it did not move, so every clip, episode and split is the same as before.
const DATA = { u32: [2645548363, 1586565064], uniform: 0.35886400286108255, normal: -0.4917289529060199, int: 20,
  hash: [2804012497, 3900923005, 3551891108] };
const TENSORS = {
  u32: [2076895766, 3006737255, 2700427390], uniform: [0.5857381792739034, 0.024840339785441756],
  normal: [-0.41043146819432896, -0.08240746630146482, -0.8637036818340429], seed: 195236268,
  randn: [-0.7486640810966492, -1.5288630723953247, -0.41401079297065735, -0.6972168684005737, -1.2577857971191406],
  randint: [386, 979, 784, 520], afterRandint: -0.40474313439984255, global: [0.9229188442695886, -0.04953795352011182],
};

test("a Generator draws the worlds' data stream as before (sfc32 through hashSeed)", () => {
  const r = new Generator(7);
  assert.deepEqual([r.nextU32(), r.nextU32()], DATA.u32);
  assert.equal(r.uniform(), DATA.uniform);
  assert.equal(r.normal(), DATA.normal);
  assert.equal(r.int(1000), DATA.int);
  assert.deepEqual([hashSeed(1, "val", 2), hashSeed(0), hashSeed(2 ** 40 + 3, "ae-batches")], DATA.hash);
});

test("tensors, initialisers and samplers draw pinned numbers for a fixed seed, and manualSeed resets the global one", () => {
  const g = new Generator(42);
  assert.deepEqual([g.nextU32(), g.nextU32(), g.nextU32()], TENSORS.u32);
  assert.deepEqual([g.uniform(), g.uniform()], TENSORS.uniform);
  assert.deepEqual([g.normal(), g.normal(), g.normal()], TENSORS.normal);
  assert.equal(g.nextSeed(), TENSORS.seed);
  const n = new Generator(3);
  assert.deepEqual(Array.from(n.randn(5)), TENSORS.randn);
  assert.deepEqual(Array.from(n.randint(0, 1000, 4)), TENSORS.randint);
  assert.equal(n.normal(), TENSORS.afterRandint);
  manualSeed(5);
  assert.deepEqual([globalGenerator().uniform(), globalGenerator().normal()], TENSORS.global);
  manualSeed(5);
  assert.deepEqual([globalGenerator().uniform(), globalGenerator().normal()], TENSORS.global);
});

test("seed() restarts a stream, nearby seeds give unrelated streams, and a uniform stays in [low, high)", () => {
  const a = new Generator(1), b = new Generator(2);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  a.seed(1);
  assert.deepEqual(Array.from({ length: 5 }, () => a.uniform()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => b.uniform()), xs);
  const c = new Generator(9);
  for (let i = 0; i < 10000; i++) { const u = c.uniform(-2, 3); assert.ok(u >= -2 && u < 3, String(u)); }
  const normals = new Generator(10).randn(20000);
  const mean = normals.reduce((s, v) => s + v, 0) / normals.length;
  const variance = normals.reduce((s, v) => s + (v - mean) ** 2, 0) / normals.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.04, `mean ${mean}, variance ${variance}`);
  assert.deepEqual(new Generator(4).shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
});

test("bad input is refused with a NextframeError that says what came", () => {
  assert.throws(() => new Generator(NaN), (e: unknown) => e instanceof NextframeError && /finite number, got NaN/.test(e.message));
  assert.throws(() => new Generator(1).int(0), (e: unknown) => e instanceof NextframeError && /≥ 1, got 0/.test(e.message));
  assert.throws(() => new Generator(1).pick([]), (e: unknown) => e instanceof NextframeError && /non-empty/.test(e.message));
});

test("the public names are this module's: Generator, manualSeed and hashSeed at the top level, nowhere else", () => {
  assert.equal(nf.Generator, Generator);
  assert.equal(nf.manualSeed, manualSeed);
  assert.equal(nf.hashSeed, hashSeed);
  assert.equal((nf.worlds as Record<string, unknown>).hashSeed, undefined);
  assert.equal((nf.worlds as Record<string, unknown>).Rng, undefined);
});
