import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, Rng, globalGenerator, hashSeed, manualSeed } from "./index";
import * as nf from "../index";

// Numbers drawn by the generators as they were before they moved into this module (engine/random.ts,
// diffusion/rng.ts, worlds/random.ts at 4c4f36e). Every dataset, training batch, sampler and shipped checkpoint
// depends on these streams: a change here must come with a retraining of the course's models.
const BEFORE = {
  gU32: [3704290710, 166753127, 957952423], gUniform: [0.34091850451629024, 0.5421278032709529],
  gNormal: [-0.16805858697804482, -1.1119275104106856, -0.7139551360504562], gSeed: 181163834,
  nRandn: [1.4765828847885132, -1.0713012218475342, 0.043268874287605286, -0.455186665058136, 0.7817451357841492],
  nRandint: [207, 520, 306, 875], nNormal: 1.605667612740977, global: [0.833323940702374, -0.28847105215740465],
  rU32: [2645548363, 1586565064], rNext: 0.35886400286108255, rNormal: -0.4917289529060199, rInt: 20,
  hash: [2804012497, 3900923005, 3551891108],
};

test("Generator (xoshiro128**) draws the same numbers as before for a fixed seed (also as diffusion's former NormalRng)", () => {
  const g = new Generator(42);
  assert.deepEqual([g.nextU32(), g.nextU32(), g.nextU32()], BEFORE.gU32);
  assert.deepEqual([g.uniform(), g.uniform()], BEFORE.gUniform);
  assert.deepEqual([g.normal(), g.normal(), g.normal()], BEFORE.gNormal);
  assert.equal(g.nextSeed(), BEFORE.gSeed);
  const n = new Generator(3);
  assert.deepEqual(Array.from(n.randn(5)), BEFORE.nRandn);
  assert.deepEqual(Array.from(n.randint(0, 1000, 4)), BEFORE.nRandint);
  assert.equal(n.normal(), BEFORE.nNormal);
  manualSeed(5);
  assert.deepEqual([globalGenerator().uniform(), globalGenerator().normal()], BEFORE.global);
});

test("the worlds' Rng (sfc32) and hashSeed draw the same numbers as before for a fixed seed", () => {
  const r = new Rng(7);
  assert.deepEqual([r.nextU32(), r.nextU32()], BEFORE.rU32);
  assert.equal(r.next(), BEFORE.rNext);
  assert.equal(r.normal(), BEFORE.rNormal);
  assert.equal(r.int(1000), BEFORE.rInt);
  assert.deepEqual([hashSeed(1, "val", 2), hashSeed(0), hashSeed(2 ** 40 + 3, "ae-batches")], BEFORE.hash);
});

test("the public names are this module's classes: Generator and manualSeed, worlds.Rng and worlds.hashSeed", () => {
  assert.equal(nf.Generator, Generator);
  assert.equal(nf.manualSeed, manualSeed);
  assert.equal(nf.worlds.Rng, Rng);
  assert.equal(nf.worlds.hashSeed, hashSeed);
});
