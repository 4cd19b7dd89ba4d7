// The playable world model (issue 32): "wm-play" in the playable world (a larger agent that moves 0.3 a step), the
// diffusion on the change from the last latent, 3 DDIM steps a frame. Same data seed, clips, steps and evaluation as
// world-model.ts; its card adds the play metrics of every world model (metrics.play).
import type { TrainOptions } from "./main";
import { WORLD_MODEL_PLAY_RECIPE } from "../nextframe/course/recipes";
import { evaluateNamed, trainNamed } from "./world-model";

export const train = (o: TrainOptions) => trainNamed(o, "world-model-play", WORLD_MODEL_PLAY_RECIPE);
export const evaluate = (o: TrainOptions) => evaluateNamed(o, "world-model-play", WORLD_MODEL_PLAY_RECIPE);
