import { test } from "node:test";
import assert from "node:assert/strict";
import { AdamW, makeTrainStep } from "../optim/index";
import { stateHash } from "../../../test/stateHash";
import { manualSeed, randn } from "../engine/index";
import { ConvTranspose2d } from "../nn/index";
import { Autoencoder, autoencoderConfig, framesToTensor, tensorDataToFrames } from "./autoencoder";
import { generateVideoClip } from "../worlds/videoWorld";


test("autoencoderConfig names fields in errors", () => {
  assert.throws(() => autoencoderConfig("ae-7"), /unknown config "ae-7"; expected one of ae-32, ae-32-f2, ae-64/);
  assert.throws(() => autoencoderConfig("ae-32", { imageSize: 30 }), /imageSize must be a multiple of 4 \(the downsampling factor\)/);
});

test("frames ⇄ tensors round trip exactly; encoder/decoder shapes", async () => {
  const clip = generateVideoClip({ seed: 3, frames: 4, size: 32 });
  const x = framesToTensor(clip.frames, 4, 32);
  assert.deepEqual(x.shape, [4, 3, 32, 32]);
  assert.deepEqual(tensorDataToFrames((await x.data()) as Float32Array, 4, 32), clip.frames);
  const ae = new Autoencoder();
  const z = ae.encode(x);
  assert.deepEqual(z.shape, [4, 4, 8, 8]);
  assert.deepEqual(ae.latentShape, [4, 8, 8]);
  assert.deepEqual(ae.decode(z).shape, [4, 3, 32, 32]);
  assert.ok(((await z.data()) as Float32Array).every((v) => v > -1 && v < 1), "latents are tanh-bounded");
});

test("ae-32-f2: one stride-2 stage, 16×16×4 latents", () => {
  const ae = new Autoencoder({ name: "ae-32-f2" });
  assert.deepEqual(ae.latentShape, [4, 16, 16]);
  const z = ae.encode(framesToTensor(new Uint8Array(2 * 32 * 32 * 3), 2, 32));
  assert.deepEqual(z.shape, [2, 4, 16, 16]);
  assert.deepEqual(ae.decode(z).shape, [2, 3, 32, 32]);
  assert.throws(() => autoencoderConfig("ae-32", { downsample: 3 as any }), /downsample must be 2 or 4, got 3/);
});

test("reconstruction improves with training", async () => {
  manualSeed(0);
  const ae = new Autoencoder();
  const frames = new Uint8Array(8 * 32 * 32 * 3);
  for (let i = 0; i < 2; i++) frames.set(generateVideoClip({ seed: 10 + i, frames: 4, size: 32 }).frames, i * 4 * 32 * 32 * 3);
  const x = framesToTensor(frames, 8, 32);
  const before = await ae.forward(x).loss.item();
  const step = makeTrainStep(ae, (b) => ae.forward(b).loss, new AdamW(ae.parameters(), { lr: 3e-3, weightDecay: 0 }));
  for (let i = 0; i < 40; i++) await step(x);
  const after = await ae.forward(x).loss.item();
  assert.ok(after < before / 4, `mse before ${before}, after 40 steps ${after}`);
});

test("new Autoencoder(name or config, overrides, { seed }); without a seed the global stream is used as before", async () => {
  // hashes of the init the shipped autoencoder was trained from (the one sfc32 Generator): a refactor must keep them
  manualSeed(0);
  assert.equal(stateHash(new Autoencoder()), "bff100f59b3ff8ab");
  manualSeed(3);
  assert.equal(stateHash(new Autoencoder({ name: "ae-32-f2" })), "f7d028ad6f1cdf22");
  manualSeed(5);
  assert.equal(stateHash(new Autoencoder({ imageSize: 16, hidden: [8, 16] })), "a87ffb77d5551cfc");
  // a seed gives the weights manualSeed(seed) would, and leaves the global generator alone
  manualSeed(11);
  const ae = new Autoencoder("ae-32-f2", {}, { seed: 3 });
  assert.equal(stateHash(ae), "f7d028ad6f1cdf22");
  const next = await randn([4]).data();
  manualSeed(11);
  assert.deepEqual(next, await randn([4]).data());
  assert.equal(stateHash(new Autoencoder("ae-32", { imageSize: 16, hidden: [8, 16] }, { seed: 5 })), "a87ffb77d5551cfc");
  assert.deepEqual(new Autoencoder("ae-64").config, autoencoderConfig("ae-64"));
  assert.ok(ae.decoder.conv_out instanceof ConvTranspose2d);
  assert.deepEqual(Object.keys(ae.decoder.stateDict()), ["conv_in.weight", "conv_in.bias", "up.weight", "up.bias", "conv_out.weight", "conv_out.bias"]);
  assert.throws(() => new Autoencoder("ae-32", { seed: 1 } as never), /unknown field "seed".*third argument: new Autoencoder\(config, overrides, \{ seed \}\)/);
});
