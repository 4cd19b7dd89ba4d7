/**
 * The samplers' noise: the engine's seeded generator (engine/random.ts, xoshiro128** + Box–Muller) with the array
 * helpers the samplers and training losses use, so that sampling is deterministic under a seed and independent of
 * any global state. One generator for the whole library, not a second copy of the same algorithm.
 */
import { Generator } from "../engine/random";

/** A seeded Generator with the diffusion code's helpers for whole arrays: standard normal noise and random integers. */
export class NormalRng extends Generator {
  /** A new Float32Array of `n` standard normals. */
  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    this.fillNormal(out);
    return out;
  }

  /** `n` integers uniform in [low, high). */
  randint(low: number, high: number, n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + Math.floor(this.uniform() * (high - low));
    return out;
  }
}
