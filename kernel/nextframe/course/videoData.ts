// The video-world clips chapters 6–8 train and evaluate on.

import { AUTOENCODER_RECIPE } from "./recipes";
import { generateVideoDataset, type VideoDataset } from "../worlds/videoWorld";

/** The clips chapters 6–8 train and evaluate on (32×32, seeded; captions rich/poor/missing). */
export function videoWorldData(opts: { seed?: number; numTrain?: number; numVal?: number; frames?: number; size?: number } = {}): VideoDataset {
  return generateVideoDataset({
    seed: opts.seed ?? AUTOENCODER_RECIPE.dataSeed, numTrain: opts.numTrain ?? AUTOENCODER_RECIPE.numTrain, numVal: opts.numVal ?? AUTOENCODER_RECIPE.numVal, frames: opts.frames ?? 32, size: opts.size ?? 32,
    policy: "random", captionMix: { rich: 0.5, poor: 0.25 },
  });
}
