// Chapter 8's depth probe on the shipped autoencoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkpointsDir, depthProbe, loadAutoencoder, videoWorldData } from "./index";
import { AUTOENCODER_RECIPE } from "./recipes";

const dir = checkpointsDir();

// Latents vs pixels is close (R² 0.54 vs 0.54 on these 32 clips, 0.34 vs 0.26 on chapter 8's 64), so only "above chance" is asserted.
test("depth probe on the shipped autoencoder: an object-centred probe reads the agent's depth above chance, a whole-frame probe much less", async () => {
  const ae = loadAutoencoder(dir);
  const clips = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 32, numVal: 0, frames: 16 }).train;
  const local = await depthProbe(ae, clips, { at: "object" });
  assert.equal(local.at, "object");
  assert.ok(local.samples > 100 && local.samples < 32 * 16, `object-centred frames ${local.samples} (hidden ones left out)`);
  assert.ok(local.latents > 0.1, `object-centred R² from latents ${local.latents}`);
  assert.ok(local.pixels > 0.1, `object-centred R² from pixels ${local.pixels}`);
  const whole = await depthProbe(ae, clips);
  assert.equal(whole.samples, 32 * 16);
  assert.ok(whole.latents < local.latents, `whole-frame R² ${whole.latents} vs object-centred ${local.latents}`);
});
