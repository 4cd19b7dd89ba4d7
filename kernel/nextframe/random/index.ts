/**
 * nextframe random — every random number the library draws comes from here, from a seed; Math.random is never used.
 *
 * There are two algorithms, each with its own job, and both stay because their streams define shipped results:
 *
 *   Generator   xoshiro128** (generator.ts). Tensors (randn, rand, randint), initialisers, dropout, model seeds,
 *               the diffusion samplers' and losses' noise. `manualSeed(n)` resets the global one, like torch's.
 *   Rng         sfc32, with `hashSeed` for named sub-seeds (sfc32.ts). The worlds (every clip, episode and split),
 *               the datasets, and the training batches the course's recipes draw.
 *
 * Moving either one to the other's algorithm changes every dataset, training batch and shipped checkpoint, so it
 * waits for a retraining of the course's models; until then new code picks by job: data → Rng, tensors and
 * noise → Generator.
 */
export { Generator, globalGenerator, manualSeed } from "./generator.js";
export { Rng, hashSeed } from "./sfc32.js";
