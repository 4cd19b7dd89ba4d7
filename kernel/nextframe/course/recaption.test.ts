// Chapter 6's recaptioning on the shipped autoencoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Autoencoder } from "../models/autoencoder";
import { checkpointsDir, loadCheckpoint, readCard, recaptionExperiment, videoWorldData } from "./index";
import { AUTOENCODER_RECIPE } from "./recipes";

const dir = checkpointsDir();

test("chapter 6 with the shipped autoencoder: nearest-neighbour recaptioning in latent space raises caption word F1", async () => {
  const ae = new Autoencoder(readCard("autoencoder", dir).config as any);
  loadCheckpoint("autoencoder", ae, dir);
  const val = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 0, numVal: AUTOENCODER_RECIPE.numVal }).val;
  const r = await recaptionExperiment(ae, val);
  assert.equal(r.coverageAfter, 1);
  assert.ok(r.coverageBefore < 1 && r.wordF1After! > r.wordF1Before! + 0.1, `word F1 ${r.wordF1Before} → ${r.wordF1After}`);
});
