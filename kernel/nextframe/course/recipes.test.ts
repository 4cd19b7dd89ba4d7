// The recipes are the one source of truth: the training functions the chapters call take their defaults from them,
// so "train it yourself" in a notebook and `npm run train` run the same recipe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AUTOENCODER_RECIPE, GPT_TEXTWORLD_RECIPE, WORLD_MODEL_RECIPE } from "./recipes";
import { textWorldData, trainTinyGpt } from "./tinyGpt";
import { trainAutoencoder } from "./autoencoder";
import { trainWorldModel } from "./worldModelTraining";
import { videoWorldData } from "./videoData";
import { Autoencoder, autoencoderConfig } from "../models/autoencoder";
import type { FitProgress } from "../optim/index.js";

/** The number of steps a training function plans, read from its first progress report (then it is stopped). */
async function plannedSteps(train: (onProgress: (p: FitProgress) => void) => Promise<unknown>): Promise<number> {
  const stop = new Error("stopped after the first step");
  let steps = -1;
  await assert.rejects(train((p) => { steps = p.steps; throw stop; }), (e) => e === stop);
  return steps;
}

test("trainTinyGpt, trainAutoencoder and trainWorldModel default to their recipe's steps; the autoencoder to its config", async () => {
  const text = textWorldData({ numTrain: 8, numVal: 2 });
  assert.equal(await plannedSteps((onProgress) => trainTinyGpt({ data: text, batchSize: 2, onProgress })), GPT_TEXTWORLD_RECIPE.steps);
  const clips = videoWorldData({ numTrain: 2, numVal: 0, frames: 9 });
  assert.equal(await plannedSteps((onProgress) => trainAutoencoder({ data: clips, batchSize: 2, onProgress })), AUTOENCODER_RECIPE.steps);
  const ae = await trainAutoencoder({ data: clips, steps: 1, batchSize: 2 });
  assert.deepEqual(ae.model.config, autoencoderConfig(AUTOENCODER_RECIPE.config, { imageSize: 32 }));
  const wm = (onProgress: (p: FitProgress) => void) => trainWorldModel({ ae: new Autoencoder(AUTOENCODER_RECIPE.config), data: clips, batchSize: 2, onProgress });
  assert.equal(await plannedSteps(wm), WORLD_MODEL_RECIPE.steps);
});

test("the datasets default to the recipes' data seeds and sizes", () => {
  const text = textWorldData();
  assert.deepEqual([text.dataset.train.length, text.dataset.val.length], [GPT_TEXTWORLD_RECIPE.numTrain, GPT_TEXTWORLD_RECIPE.numVal]);
  assert.deepEqual(text.dataset.train.slice(0, 4), textWorldData({ seed: GPT_TEXTWORLD_RECIPE.dataSeed, numTrain: 4, numVal: 1 }).dataset.train);
  const clips = videoWorldData({ numTrain: 1, numVal: 0, frames: 2 }).train;
  assert.deepEqual(clips[0]!.frames, videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 1, numVal: 0, frames: 2 }).train[0]!.frames);
});
