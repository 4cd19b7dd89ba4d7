// Chapter 8: the world model's surprise on clips that break the world's rules vs their lawful twins.

import { tensor } from "../engine/index.js";
import { Generator } from "../engine/generator.js";
import { generateSurpriseSet, type VideoClip } from "../worlds/videoWorld";
import { noisyNextLatent, windowFrameIndices, worldModelDiffusion, WorldSimulator } from "../models/worldModel";
import { surpriseScore } from "../metrics/image";
import { encodeClips } from "./autoencoder";
import { frameActions } from "./clipWindows";

/**
 * The world model's surprise on a clip: the x₀-prediction error (MSE in scaled latent space) of each frame from
 * frame `from` on, predicted from the true previous K frames at fixed noise levels (seeded), reduced over
 * frames by "max" (the surprise peak, default: a rule break is one moment) or "mean".
 */
export async function clipSurprise(sim: WorldSimulator, clip: VideoClip, opts: { from?: number; levels?: number[]; seed?: number; reduce?: "max" | "mean" } = {}): Promise<number> {
  const model = sim.model, K = model.config.contextFrames, Fr = model.frames;
  const { latentChannels: C, latentSize: H, latentScale: s } = model.config;
  const L = C * H * H;
  const z = (await encodeClips(sim.ae, [clip]))[0]!.map((v) => v / s);
  const d = worldModelDiffusion(model.config);
  const levels = opts.levels ?? [100, 300, 500];
  const g = new Generator(opts.seed ?? 11);
  const from = Math.max(K, opts.from ?? K);
  const rows: { x: Float32Array; a: Int32Array; t: number; target: Float32Array }[] = [];
  for (let f = from; f < clip.numFrames; f++) {
    for (const t of levels) {
      const x = new Float32Array(Fr * L), frames = windowFrameIndices(model.config, f);   // true frames f − K .. f − 1 (and memory)
      frames.slice(0, -1).forEach((w, k) => x.set(z.subarray(w * L, (w + 1) * L), k * L));
      const sa = d.c.sqrtAlphasCumprod[t]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t]!;
      noisyNextLatent(model.config, z.subarray(f * L, (f + 1) * L), x.subarray((Fr - 2) * L, (Fr - 1) * L), sa, s1, () => g.normal(), x, (Fr - 1) * L);
      const a = new Int32Array(Fr);
      frameActions(clip.actions, frames, a, 0);
      rows.push({ x, a, t, target: z.slice(f * L, (f + 1) * L) });
    }
  }
  const B = rows.length;
  const xb = new Float32Array(B * Fr * L), ab = new Int32Array(B * Fr), tb = new Float32Array(B);
  rows.forEach((r, i) => { xb.set(r.x, i * Fr * L); ab.set(r.a, i * Fr); tb[i] = r.t; });
  const pred = (await model.predictNext(tensor(xb, { shape: [B, Fr, C, H, H] }), tensor(tb, { shape: [B] }), tensor(ab, { shape: [B, Fr] })).data()) as Float32Array;
  const perFrame = new Float64Array(clip.numFrames - from);
  rows.forEach((r, i) => {
    let se = 0;
    for (let k = 0; k < L; k++) se += (pred[i * L + k]! - r.target[k]!) ** 2;
    perFrame[Math.floor(i / levels.length)] += se / (L * levels.length);
  });
  return (opts.reduce ?? "max") === "max" ? Math.max(...perFrame) : perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
}

/** One kind of violation in surpriseTest: how often the rule-breaking clip beats its own lawful twin, and the AUC. */
export interface SurpriseByKind {
  pairs: number;
  /** Pairs where the rule-breaking clip is more surprising than its twin (same clip up to the violation). */
  moreSurprised: number;
  auc: number;
}

/**
 * Surprise on rule-breaking clips vs their lawful twins, scored from the violation frame on (metrics surpriseScore),
 * overall and per kind of violation (kinds cycle teleport → vanish → passThroughWall, so count 3k gives k of each).
 */
export async function surpriseTest(sim: WorldSimulator, opts: { seed?: number; count?: number } = {}): Promise<ReturnType<typeof surpriseScore> & { lawful: number[]; violating: number[]; kinds: string[]; moreSurprised: number; byKind: Record<string, SurpriseByKind> }> {
  const set = generateSurpriseSet({ seed: opts.seed ?? 5, count: opts.count ?? 6, frames: 32, size: sim.ae.config.imageSize });
  const lawful: number[] = [], violating: number[] = [], kinds: string[] = [];
  for (let i = 0; i < set.violating.length; i++) {
    const bad = set.violating[i]!, good = set.lawful[i]!;
    const from = Math.max(sim.model.config.contextFrames, bad.violation!.frame);
    violating.push(await clipSurprise(sim, bad, { from, seed: i }));
    lawful.push(await clipSurprise(sim, good, { from, seed: i }));
    kinds.push(bad.violation!.kind);
  }
  const byKind: Record<string, SurpriseByKind> = {};
  for (const k of new Set(kinds)) {
    const idx = kinds.flatMap((kk, i) => (kk === k ? [i] : []));
    byKind[k] = {
      pairs: idx.length,
      moreSurprised: idx.filter((i) => violating[i]! > lawful[i]!).length,
      auc: surpriseScore(idx.map((i) => lawful[i]!), idx.map((i) => violating[i]!)).auc,
    };
  }
  const moreSurprised = violating.filter((v, i) => v > lawful[i]!).length;
  return { ...surpriseScore(lawful, violating), lawful, violating, kinds, moreSurprised, byKind };
}
