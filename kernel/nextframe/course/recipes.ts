// The course's training recipes: the one place that says how each shipped checkpoint is trained. `npm run train`
// (kernel/train) trains with these, the chapters' "train it yourself" paths and the library's training functions
// take their defaults from them, and each checkpoint card records the recipe it was trained with.

/** Chapter 1's GPT ("gpt-textworld"): data seed and size, model seed, steps, batch and peak learning rate. */
export const GPT_TEXTWORLD_RECIPE = { dataSeed: 1, numTrain: 2000, numVal: 200, seed: 1337, steps: 3000, batchSize: 16, lr: 3e-3 } as const;

/** The latent space of chapters 6–8: the "ae-32-f2" autoencoder (32×32×3 → 16×16×4) on video-world frames. */
export const AUTOENCODER_RECIPE = { config: "ae-32-f2", dataSeed: 2, numTrain: 256, numVal: 32, seed: 1, steps: 3000, batchSize: 32, lr: 2e-3 } as const;

/**
 * Chapter 7's world model ("wm-xs-16", residual) in the autoencoder's latents. 1024 training clips (the
 * autoencoder's 256 and more from the same seed): with 256 the model fits its own clips' motion better than held-out
 * ones (next-latent ratio 0.89 vs 0.95 after 2500 steps).
 */
export const WORLD_MODEL_RECIPE = {
  config: "wm-xs-16", dataSeed: AUTOENCODER_RECIPE.dataSeed, numTrain: 1024, numVal: AUTOENCODER_RECIPE.numVal, seed: 3, steps: 4000,
  batchSize: 16, lr: 2e-3, samplingSteps: 1,
} as const;

/** The memory experiment: everything as WORLD_MODEL_RECIPE but the config (memory frames 10–24 steps back). */
export const WORLD_MODEL_MEMORY_RECIPE = { ...WORLD_MODEL_RECIPE, config: "wm-xs-16-mem" } as const;

/**
 * Can the memory model represent permanence at all? The same recipe on the first 8 of its 1024 training clips (same
 * seeds, so the very clips the memory model also saw): at 4000 steps it fits them (next-latent error ~5 % of
 * copy-last's on them), where on 1024 clips it fits neither its own nor new clips.
 */
export const WORLD_MODEL_MEMORIZER_RECIPE = { ...WORLD_MODEL_MEMORY_RECIPE, numTrain: 8 } as const;

/** One of the world-model recipes above. */
export type WorldModelRecipe = typeof WORLD_MODEL_RECIPE | typeof WORLD_MODEL_MEMORY_RECIPE | typeof WORLD_MODEL_MEMORIZER_RECIPE;
