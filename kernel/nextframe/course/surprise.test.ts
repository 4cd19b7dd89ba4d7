// Chapter 8's surprise test on the shipped world model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WorldSimulator } from "../models/worldModel";
import { checkpointsDir, loadAutoencoder, loadWorldModel, surpriseTest } from "./index";

const dir = checkpointsDir();

// Per kind (two seeds, 8 pairs each, while choosing this test): teleports 8/8 and 8/8 more surprising than their lawful twin,
// passing through a wall 5/8 and 6/8, vanishing behind the occluder 0/8 and 0/8 — the model does not expect the ball
// back (no permanence), so the lawful reappearance is the surprising one. Only the teleport side is asserted.
test("surprise on the shipped world model: a teleport is more surprising than its lawful twin; per-kind counts add up", async () => {
  const sim = new WorldSimulator(loadWorldModel(dir), loadAutoencoder(dir));
  const s = await surpriseTest(sim, { count: 12, seed: 5 });
  assert.deepEqual(Object.keys(s.byKind).sort(), ["passThroughWall", "teleport", "vanish"]);
  assert.equal(Object.values(s.byKind).reduce((n, k) => n + k.pairs, 0), 12);
  assert.equal(Object.values(s.byKind).reduce((n, k) => n + k.moreSurprised, 0), s.moreSurprised);
  assert.ok(s.byKind.teleport!.moreSurprised >= 3, `teleport more surprising in ${s.byKind.teleport!.moreSurprised} of 4 pairs`);
});
