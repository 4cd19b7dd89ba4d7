// The video-world clips chapters 6–8 train and evaluate on.

import { AUTOENCODER_RECIPE } from "./recipes";
import { DEFAULT_VIDEO_WORLD, generateVideoDataset, type VideoDataset, type VideoWorldConfig } from "../worlds/videoWorld";

/**
 * The playable world (issue 32): the video world with a larger agent (radius 0.6, was 0.45) that moves 0.3 a step
 * (was 0.12), about 1.2 px a frame near the camera at 32×32 instead of 0.45, so a key press is a visible part of each
 * frame's change. Balls, occluder, depth, burger and eating are unchanged.
 */
export const PLAY_WORLD: Partial<VideoWorldConfig> = { agent: { ...DEFAULT_VIDEO_WORLD.agent!, radius: 0.6, speed: 0.3 } };

/** The worlds a recipe can name (recipes.ts `world`): the course's video world and the playable one. */
export const WORLDS: Record<"default" | "play", Partial<VideoWorldConfig> | undefined> = { default: undefined, play: PLAY_WORLD };

/**
 * The clips chapters 6–8 train and evaluate on (32×32, seeded; captions rich/poor/missing). `world` overrides the
 * video world's parameters (e.g. PLAY_WORLD); the same seeds give the same balls, tree and burger.
 */
export function videoWorldData(opts: { seed?: number; numTrain?: number; numVal?: number; frames?: number; size?: number; world?: Partial<VideoWorldConfig> } = {}): VideoDataset {
  return generateVideoDataset({
    seed: opts.seed ?? AUTOENCODER_RECIPE.dataSeed, numTrain: opts.numTrain ?? AUTOENCODER_RECIPE.numTrain, numVal: opts.numVal ?? AUTOENCODER_RECIPE.numVal, frames: opts.frames ?? 32, size: opts.size ?? 32,
    policy: "random", captionMix: { rich: 0.5, poor: 0.25 }, ...(opts.world ? { base: opts.world } : {}),
  });
}
