import { test } from "node:test";
import assert from "node:assert/strict";
import { randn, tensor, withCapture } from "../engine/index";
import { NormalRng } from "../diffusion/rng";
import { WorldModel, WorldSimulator, playableWorldModel, worldModelConfig, worldModelDiffusion } from "./worldModel";
import { Autoencoder } from "./autoencoder";
import { generateVideoClip } from "../worlds/videoWorld";

const small = { hiddenSize: 32, depth: 2, numHeads: 2, contextFrames: 3, patchSize: 4 };

/** adaLN-Zero starts every block as the identity and the output at 0; perturb so outputs depend on inputs. */
function randomize(model: WorldModel, seed = 1): void {
  const rng = new NormalRng(seed);
  for (const [name, p] of model.namedParameters()) {
    if (name === "pos_embed") continue;
    const v = p._value as Float32Array;
    for (let i = 0; i < v.length; i++) v[i] += 0.1 * rng.normal();
  }
}

test("worldModelConfig: table names and field errors", () => {
  assert.equal(worldModelConfig("wm-xs").hiddenSize, 96);
  assert.throws(() => worldModelConfig("wm-xxl"), /unknown config "wm-xxl"; expected one of wm-xs, wm-s/);
  assert.throws(() => worldModelConfig(null, { patchSize: 3 }), /latentSize 8 is not divisible by patchSize 3/);
  assert.throws(() => worldModelConfig(null, { contextFrames: 0 }), /contextFrames must be a positive integer, got 0/);
});

test("forward: (N, K+1, C, H, W) in and out; spatial and temporal attention captured", () => {
  const m = new WorldModel(small);
  const x = randn([2, 4, 4, 8, 8], { seed: 1 });
  const t = tensor(Float32Array.of(10, 900), { shape: [2] });
  const a = tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1]), { shape: [2, 4] });
  const { output, captured } = withCapture(() => m.forward(x, t, a));
  assert.deepEqual(output.shape, [2, 4, 4, 8, 8]);
  assert.deepEqual(m.predictNext(x, t, a).shape, [2, 4, 8, 8]);
  assert.deepEqual(captured.get("blocks.0.attn.temporal")!.shape, [2 * 4, 2, 4, 4]);
  assert.deepEqual(captured.get("blocks.1.attn.spatial")!.shape, [2 * 4, 2, 4, 4]);
  assert.throws(() => m.forward(randn([2, 3, 4, 8, 8]), t, a), /x must be \(N, 4, 4, 8, 8\), got \[2, 3, 4, 8, 8\]/);
  assert.throws(() => m.forward(x, t, tensor(new Int32Array(6), { shape: [2, 3] })), /actions must be \(N, F\) = \[2, 4\]/);
});

test("causal in time: changing later frames never changes the prediction for earlier frames", async () => {
  const m = new WorldModel(small);
  randomize(m);
  const x1 = (await randn([1, 4, 4, 8, 8], { seed: 2 }).data()) as Float32Array;
  const x2 = x1.slice();
  const L = 4 * 8 * 8;
  for (let i = 2 * L; i < 4 * L; i++) x2[i] = -x2[i]! + 0.5;         // frames 2 and 3 change
  const t = tensor(Float32Array.of(500), { shape: [1] });
  const a = tensor(Int32Array.from([0, 1, 2, 3]), { shape: [1, 4] });
  const y1 = (await m.forward(tensor(x1, { shape: [1, 4, 4, 8, 8] }), t, a).data()) as Float32Array;
  const y2 = (await m.forward(tensor(x2, { shape: [1, 4, 4, 8, 8] }), t, a).data()) as Float32Array;
  for (let i = 0; i < 2 * L; i++) assert.ok(Math.abs(y1[i]! - y2[i]!) < 1e-4, `frame ${Math.floor(i / L)} changed`);
  let diff = 0;
  for (let i = 2 * L; i < 4 * L; i++) diff = Math.max(diff, Math.abs(y1[i]! - y2[i]!));
  assert.ok(diff > 1e-3, "later frames should depend on their inputs");
  // the action conditions the prediction
  const y3 = (await m.forward(tensor(x1, { shape: [1, 4, 4, 8, 8] }), t, tensor(Int32Array.from([0, 1, 2, 5]), { shape: [1, 4] })).data()) as Float32Array;
  assert.ok(y3.some((v, i) => Math.abs(v - y1[i]!) > 1e-4));
});

test("simulator: few-step DDIM rollouts of any length, anchored decoding, viewer keys, bad input named", async () => {
  const m = new WorldModel(small);
  randomize(m);
  const ae = new Autoencoder();
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 });
  const F3 = 32 * 32 * 3;
  const sim = new WorldSimulator(m, ae, { steps: 2 });
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  const frames = await sim.rollout([1, 2, 3, 4, 5]);
  assert.equal(frames.length, 5 * F3);
  assert.equal(sim.t, 5);
  // same seed → same rollout
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  assert.deepEqual(await sim.rollout([1, 2, 3, 4, 5]), frames);
  await assert.rejects(sim.step(6), /action must be an integer in \[0, 6\)/);
  await assert.rejects(sim.reset(clip.frames.slice(0, 2 * F3), [0, 1]), /expected 3 frames of 32×32×3/);
  assert.throws(() => new WorldSimulator(m, ae, { steps: 0 }), /steps must be an integer in \[1, 1000\]/);
  assert.throws(() => new WorldSimulator(new WorldModel({ ...small, latentChannels: 2 }), ae), /autoencoder latents \(4×8×8\) do not match/);
  const world = playableWorldModel(sim, { frames: clip.frames.slice(0, 3 * F3), actions: [0, 1, 2] });
  const r0 = await world.reset();
  assert.deepEqual(r0.frame.data, clip.frames.slice(2 * F3, 3 * F3));
  assert.deepEqual(r0.frame.shape, [32, 32, 3]);
  assert.equal((await world.step("left")).frame.data.length, F3);
  await assert.rejects(world.step("jump"), /unknown key "jump"/);
  // the sampler uses the respaced steps including the noisiest one
  assert.equal(worldModelDiffusion(m.config, 2).numTimesteps, 2);
});
