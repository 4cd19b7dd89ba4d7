import { test } from "node:test";
import assert from "node:assert/strict";
import { VIEWER_ACTIONS, playableWorldModel } from "./worldViewer";
import { WORLD_ACTIONS } from "../../shared/payloads";
import { WorldModel, WorldSimulator } from "../models/worldModel";
import { Autoencoder } from "../models/autoencoder";
import { generateVideoClip } from "../worlds/videoWorld";

test("every key the World Viewer sends maps to an action of the video world", () => {
  assert.deepEqual(Object.keys(VIEWER_ACTIONS).sort(), [...WORLD_ACTIONS].sort());
});

test("playableWorldModel: reset shows the last true context frame, a key steps the simulator, an unknown key is named", async () => {
  const model = new WorldModel({ hiddenSize: 32, depth: 2, numHeads: 2, contextFrames: 3, latentSize: 8, patchSize: 4 }, {}, { seed: 1 });
  const sim = new WorldSimulator(model, new Autoencoder(), { steps: 1 });
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 });
  const F3 = 32 * 32 * 3;
  const world = playableWorldModel(sim, { frames: clip.frames.slice(0, 3 * F3), actions: [0, 1, 2] });
  const r0 = await world.reset();
  assert.deepEqual(r0.frame.data, clip.frames.slice(2 * F3, 3 * F3));
  assert.deepEqual(r0.frame.shape, [32, 32, 3]);
  assert.equal((await world.step("left")).frame.data.length, F3);
  assert.equal(sim.t, 1);
  await assert.rejects(world.step("jump"), /unknown key "jump"/);
});
