// Chapter 7's memory experiment: the world model's recipe with memory frames (config "wm-xs-16-mem": the frames
// 10, 14, 18 and 24 steps back beside the 7 recent ones), to ask whether seeing a ball before it went behind the tree
// is enough for it to come back. Same data, seed, steps and evaluation as world-model.ts.
import type { TrainOptions } from "./main";
import { WORLD_MODEL_MEMORY_RECIPE } from "../nextframe/course/recipes";
import { evaluateNamed, trainNamed } from "./world-model";

export const train = (o: TrainOptions) => trainNamed(o, "world-model-memory", WORLD_MODEL_MEMORY_RECIPE);
export const evaluate = (o: TrainOptions) => evaluateNamed(o, "world-model-memory", WORLD_MODEL_MEMORY_RECIPE);
