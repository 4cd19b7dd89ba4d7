// The video-world clips chapters 6–8 train and evaluate on.

import { AUTOENCODER_RECIPE } from "./recipes";
import {
  BALL_COLORS, DEFAULT_VIDEO_WORLD, generateVideoDataset, VideoWorld, type VideoDataset, type VideoWorldConfig,
} from "../worlds/videoWorld";
import { Generator } from "../engine/generator";
import { NextframeError } from "../engine/errors";
import { framesToTensor } from "../models/autoencoder";

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

/** Still frames of one ball in an empty room, each with its caption (chapter 6's caption-conditioned denoiser). */
export interface BallRooms {
  /** One frame per room, channels first (3, size, size), values in [−1, 1] as the denoisers train on. */
  frames: Float32Array[];
  /** "a red ball bounces in a room." — the frame's ball colour in the dataset's caption words. */
  captions: string[];
}

/**
 * `count` rooms, each one ball (radius 1.1) at a random place, no tree, agent or burger, rendered at size × size.
 * The colours take turns (room i has BALL_COLORS[i mod 6]), so every colour has count / 6 rooms; the places are
 * drawn from `seed`.
 */
export function ballRooms(opts: { count: number; size: number; seed: number }): BallRooms {
  const { count, size, seed } = opts;
  if (!Number.isInteger(count) || count < 1) throw new NextframeError(`ballRooms: count must be a whole number ≥ 1, got ${count}`);
  if (!Number.isInteger(size) || size < 4) throw new NextframeError(`ballRooms: size must be a whole number ≥ 4, got ${size}`);
  const place = new Generator(seed), frames: Float32Array[] = [], captions: string[] = [];
  for (let i = 0; i < count; i++) {
    const color = BALL_COLORS[i % BALL_COLORS.length]!;
    const ball = {
      x: place.uniform(1.3, 4.7), y: place.uniform(1.2, 2.5), z: place.uniform(2.8, 4.8), vx: 0, vy: 0, vz: 0, radius: 1.1, color,
    };
    const rgb = new VideoWorld({ balls: [ball], occluder: null, agent: null, burger: null }).render(size).rgb;
    frames.push(framesToTensor(rgb, 1, size)._value as Float32Array);   // (1, 3, size, size) in [−1, 1]
    captions.push(`${/^[aeiou]/.test(color) ? "an" : "a"} ${color} ball bounces in a room.`);
  }
  return { frames, captions };
}
