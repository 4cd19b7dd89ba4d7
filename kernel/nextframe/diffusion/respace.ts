/**
 * Respacing: run a diffusion trained with T steps on a subsequence of its timesteps (DDIM with any number
 * of steps, or "250" DDPM steps as DiT samples). Follows DiT's diffusion/respace.py:
 * https://github.com/facebookresearch/DiT/blob/main/diffusion/respace.py
 */
import { GaussianDiffusion, type GaussianDiffusionOptions } from "./gaussianDiffusion";
import { diffusionCoefficients } from "./schedule";
import { NextframeError } from "../engine/errors";

/**
 * Which timesteps of a T-step process to keep. `sectionCounts` is either "ddimN" (N evenly strided steps,
 * DDIM paper), "trailingN" (N evenly spaced steps counted down from the last one, so even one step starts from
 * pure noise — the "trailing" spacing of Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", Table 2), a comma list "10,15,20" (split [0, T) into equal sections and take that many evenly spaced
 * steps from each), or an array of counts.
 */
export function spaceTimesteps(numTimesteps: number, sectionCounts: string | number[]): Set<number> {
  let counts: number[];
  if (typeof sectionCounts === "string") {
    if (sectionCounts.startsWith("ddim")) {
      const desired = Number(sectionCounts.slice(4));
      if (!Number.isInteger(desired) || desired < 1) throw new NextframeError(`spaceTimesteps: bad DDIM count in "${sectionCounts}"`);
      for (let i = 1; i < numTimesteps; i++) {
        const set = new Set<number>();
        for (let s = 0; s < numTimesteps; s += i) set.add(s);
        if (set.size === desired) return set;
      }
      if (desired === numTimesteps) return new Set(Array.from({ length: numTimesteps }, (_, i) => i));
      throw new NextframeError(`spaceTimesteps: cannot create exactly ${desired} steps with an integer stride from ${numTimesteps}`);
    }
    if (sectionCounts.startsWith("trailing")) {
      const n = Number(sectionCounts.slice(8));
      if (!Number.isInteger(n) || n < 1 || n > numTimesteps) throw new NextframeError(`spaceTimesteps: bad trailing count in "${sectionCounts}" (expected 1..${numTimesteps})`);
      const set = new Set<number>();
      for (let k = 0; k < n; k++) set.add(Math.round(numTimesteps - 1 - k * (numTimesteps / n)));
      return set;
    }
    counts = sectionCounts.split(",").map((x) => Number(x));
    if (counts.some((c) => !Number.isInteger(c) || c < 0)) throw new NextframeError(`spaceTimesteps: bad section counts "${sectionCounts}"`);
  } else {
    counts = sectionCounts;
  }
  const sizePerSection = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  let startIdx = 0;
  const all = new Set<number>();
  counts.forEach((sectionCount, i) => {
    const size = sizePerSection + (i < extra ? 1 : 0);
    if (size < sectionCount) throw new NextframeError(`spaceTimesteps: cannot divide section of ${size} steps into ${sectionCount}`);
    const fracStride = sectionCount <= 1 ? 1 : (size - 1) / (sectionCount - 1);
    let cur = 0;
    for (let k = 0; k < sectionCount; k++) { all.add(startIdx + Math.round(cur)); cur += fracStride; }
    startIdx += size;
  });
  return all;
}

/** A diffusion that skips steps of a base diffusion: β's recomputed from the kept ᾱ's; model sees original t. */
export class SpacedDiffusion extends GaussianDiffusion {
  readonly timestepMap: Int32Array;
  readonly originalNumSteps: number;

  constructor(useTimesteps: Iterable<number>, opts: GaussianDiffusionOptions) {
    const base = diffusionCoefficients(opts.betas);
    const keep = [...new Set(useTimesteps)].sort((a, b) => a - b);
    if (keep.length === 0) throw new NextframeError("SpacedDiffusion: no timesteps to use");
    for (const k of keep) {
      if (!Number.isInteger(k) || k < 0 || k >= base.numTimesteps) throw new NextframeError(`SpacedDiffusion: timestep ${k} out of range [0, ${base.numTimesteps - 1}]`);
    }
    const newBetas: number[] = [];
    let lastAlphaCumprod = 1;
    for (const i of keep) {
      newBetas.push(1 - base.alphasCumprod[i] / lastAlphaCumprod);
      lastAlphaCumprod = base.alphasCumprod[i];
    }
    super({ ...opts, betas: newBetas });
    this.timestepMap = Int32Array.from(keep);
    this.originalNumSteps = base.numTimesteps;
  }

  override mapTimesteps(t: Int32Array): Int32Array {
    return t.map((i) => this.timestepMap[i]);
  }
}
