// Chapter 7's rollout oracles on the shipped autoencoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { autoencoderOracle, checkpointsDir, loadAutoencoder, motionTest, reemergenceTest, videoWorldData } from "./index";

const dir = checkpointsDir();

test("autoencoderOracle: the truth through the shipped autoencoder brings every re-emerging ball back and moves what moves; bad input is named", async () => {
  const ae = loadAutoencoder(dir), clips = videoWorldData({ seed: 2, numTrain: 0, numVal: 16 }).val;
  const oracle = autoencoderOracle(ae, clips, 7);
  const r = await reemergenceTest(oracle, clips);
  assert.ok(r.withinContext > 0);
  assert.equal(r.model.correct, r.withinContext);         // the latent space keeps a re-emerging ball
  const m = await motionTest(oracle, clips.slice(0, 8), { horizon: 4 });
  for (const [kind, k] of Object.entries(m.byKind)) assert.ok(k.model < 0.5 && k.copyLast > 1, `${kind}: ${k.model} px vs copy-last ${k.copyLast} px`);
  await assert.rejects(oracle.reset(new Uint8Array(7 * 32 * 32 * 3), new Int32Array(7)), /truthOracle.reset: these frames are not a window of any clip/);
  await assert.rejects(oracle.reset(new Uint8Array(5), new Int32Array(7)), /expected 7 frames of 32×32×3 \(21504 bytes\), got 5/);
  assert.throws(() => autoencoderOracle(ae, videoWorldData({ seed: 2, numTrain: 0, numVal: 1, size: 64 }).val, 7), /the autoencoder takes 32×32 frames, a clip has 64×64/);
});
