import { test } from "node:test";
import assert from "node:assert/strict";
import { VIEWER_ACTIONS, playableWorldModel } from "./worldViewer";
import { WORLD_ACTIONS } from "../../shared/payloads";
import { WorldModel, WorldSimulator } from "../models/worldModel";
import { Autoencoder } from "../models/autoencoder";
import { Action, generateVideoClip, replayClip } from "../worlds/videoWorld";

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

test("playableWorldModel with the clip: the ground truth starts at the last context frame and follows the same keys", async () => {
  const model = new WorldModel({ hiddenSize: 32, depth: 2, numHeads: 2, contextFrames: 3, latentSize: 8, patchSize: 4 }, {}, { seed: 1 });
  const sim = new WorldSimulator(model, new Autoencoder(), { steps: 1 });
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 }), F3 = 32 * 32 * 3, K = 3;
  const start = { frames: clip.frames.slice(0, K * F3), actions: [0, 1, 2], clip };
  const world = playableWorldModel(sim, start);
  const r0 = await world.reset();
  assert.deepEqual(r0.truth!.data, clip.frames.slice((K - 1) * F3, K * F3), "the truth starts where the model does");
  // the clip's own next action: the truth is the clip's next frame
  const keyOf = (a: number) => Object.entries(VIEWER_ACTIONS).find(([, v]) => v === a)![0];
  const r1 = await world.step(keyOf(clip.actions[K - 1]!));
  assert.deepEqual(r1.truth!.data, clip.frames.slice(K * F3, (K + 1) * F3));
  assert.equal(r1.frame.data.length, F3);
  // another key: the truth is that clip's world stepped with it, and reset starts it again
  await world.reset();
  const other = clip.actions[K - 1] === Action.Left ? Action.Right : Action.Left;
  const w = replayClip(clip, K - 1);
  w.step(other);
  assert.deepEqual((await world.step(keyOf(other))).truth!.data, w.render(32).rgb);
  // without the clip, no truth; with frames that are not the clip's, a clear error
  assert.equal((await playableWorldModel(sim, { frames: start.frames, actions: start.actions }).reset()).truth, undefined);
  assert.throws(() => playableWorldModel(sim, { ...start, frames: clip.frames.slice(F3, (K + 1) * F3) }),
    /start\.frames must be the first 3 frames of start\.clip at 32×32 .* starts differently/);
});
