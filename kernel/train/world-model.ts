// Chapter 7's model: the next-frame diffusion world model ("wm-xs-16", residual) in the f2 autoencoder's 16×16×4 latents;
// and "world-model-memory", the same recipe with memory frames ("wm-xs-16-mem"), chapter 7's memory experiment.
// Needs notebooks/checkpoints/autoencoder.safetensors (npm run train -- autoencoder) in the same folder.
import { WorldSimulator, type SimulatorOptions } from "../nextframe/models/worldModel";
import { getDevice } from "../nextframe/engine/session";
import { evaluatePermanence, evaluateRollouts, loadAutoencoder, loadWorldModel, readCard, saveCheckpoint, trainWorldModel, videoWorldData, WORLDS, type CardPlayMetrics } from "../nextframe/course/index";
import { WORLD_MODEL_RECIPE, type WorldModelRecipe } from "../nextframe/course/recipes";
import { evaluatePlay, frozenPredictor } from "../nextframe/metrics/play";
import type { TrainOptions } from "./main";

/**
 * Play metrics (issue 32, metrics/play.ts) on the 16 validation clips the chapters do not use (16–31), left/right
 * separation on chapter 8's 12 (0–11), from each clip's first K true frames; copy-last (frozen) beside it. The true
 * simulator scores 1 on the rates, 0 agent error and palette 1 by construction (metrics/play.test.ts checks it).
 */
export async function playMetrics(sim: WorldSimulator, data: ReturnType<typeof videoWorldData>): Promise<CardPlayMetrics> {
  if (data.val.length < 32) throw new Error(`playMetrics: needs the recipe's 32 validation clips, got ${data.val.length}`);
  const clips = data.val.slice(16, 32), lrClips = data.val.slice(0, 12);
  const model = await evaluatePlay(sim, clips, { lrClips });
  const { fps: _fps, ...copyLast } = await evaluatePlay(frozenPredictor(sim.contextFrames), clips, { lrClips });
  return { ...model, copyLast };
}

/** The evaluation the card reports: 8-frame rollouts from all 32 validation clips, permanence on 16 clips to their end, play metrics. */
export async function worldModelMetrics(sim: WorldSimulator, data: ReturnType<typeof videoWorldData>) {
  const { frames: _f, ...rollouts } = await evaluateRollouts(sim, data.val, { horizon: 8 });
  const { rollouts: _r, ...permanence } = await evaluatePermanence(sim, data.val.slice(0, 16));
  const play = await playMetrics(sim, data);
  // the thread count the evaluation ran with (fps depends on it)
  return { samplingSteps: sim.steps, ...(sim.actionGuidance ? { actionGuidance: sim.actionGuidance } : {}), ...(sim.contextLevel ? { contextLevel: sim.contextLevel } : {}), evalThreads: getDevice().threads, rollouts, permanence, play };
}

function report(o: TrainOptions, metrics: Awaited<ReturnType<typeof worldModelMetrics>>): void {
  const f = (a: number[]) => a.map((v) => v.toFixed(1)).join(" ");
  const r = metrics.rollouts, p = metrics.permanence;
  o.log(`PSNR h=1..8  model ${f(r.model.psnr)} | copy-last ${f(r.copyLast.psnr)} | linear ${f(r.linear.psnr)} | AE ${f(r.reconstruction.psnr)}`);
  const q = metrics.play, c = q.counts;
  o.log(`play: follows the key in ${c.followed} of ${c.followRollouts} held-key rollouts (${q.action_follow_rate.toFixed(2)}); agent error after 8 moves ${c.modelError.toFixed(2)} px vs copy-last ${c.copyLastError.toFixed(2)} ` +
    `(ratio ${q.agent_error_vs_copy_last_8.toFixed(2)}, ${c.lostAgents} lost); left/right separate in ${c.lrSeparated} of ${c.lrTruthSeparates}; palette at 64 ${q.palette_fidelity_64.toFixed(3)} ` +
    `(copy-last ${q.copyLast.palette_fidelity_64.toFixed(3)}); agent at 64 in ${c.modelShowsAgent64} of ${c.truthShowsAgent64}; ${q.fps.toFixed(0)} fps`);
  o.log(`permanence (${p.events} events): correct ${p.model.correctRate.toFixed(2)} vs copy-last ${p.copyLast.correctRate.toFixed(2)}, linear ${p.linear.correctRate.toFixed(2)}; persistence ${p.persistence.model.toFixed(2)} vs ${p.persistence.copyLast.toFixed(2)} (${p.persistence.frames} frames)`);
}

/** The sampler a recipe ships with (its card's recipe has the same fields): DDIM steps, action guidance, context level. */
export function recipeSampler(r: { samplingSteps: number; actionGuidance?: number; contextLevel?: number }): SimulatorOptions {
  return { steps: r.samplingSteps, actionGuidance: r.actionGuidance, contextLevel: r.contextLevel };
}

export const train = (o: TrainOptions) => trainNamed(o, "world-model", WORLD_MODEL_RECIPE);
export const evaluate = (o: TrainOptions) => evaluateNamed(o, "world-model", WORLD_MODEL_RECIPE);

/** More card metrics for one model beyond worldModelMetrics (e.g. the memorizer's scores on its own training clips). */
export type ExtraMetrics = (sim: WorldSimulator, data: ReturnType<typeof videoWorldData>, o: TrainOptions) => Promise<Record<string, unknown>>;

export async function trainNamed(o: TrainOptions, name: string, r: WorldModelRecipe, extra?: ExtraMetrics): Promise<void> {
  const ae = loadAutoencoder(o.out);
  const data = videoWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal, world: WORLDS[r.world ?? "default"] });
  const steps = o.steps ?? r.steps;
  const res = await trainWorldModel({ ae, data, config: r.config, steps, batchSize: r.batchSize, lr: r.lr, seed: r.seed, motion: r.motion, onProgress: (p) => o.progress(p) });
  const sim = new WorldSimulator(res.model, ae, recipeSampler(r));
  const metrics = { ...await worldModelMetrics(sim, data), ...await extra?.(sim, data, o) };
  report(o, metrics);
  const paths = saveCheckpoint(name, res.model, {
    name, model: "WorldModel", config: { ...res.model.config }, dataSeed: r.dataSeed, steps, trainSeconds: res.seconds, threads: getDevice().threads,
    parameters: res.model.numParameters(), recipe: { ...r, steps }, autoencoder: "autoencoder", finalTrainLoss: res.losses[res.losses.length - 1], metrics,
  }, o.out);
  o.log(`wrote ${paths.weights}`);
}

/** Recomputes the card's metrics for the saved checkpoint with the current library code (`--eval-only`). */
export async function evaluateNamed(o: TrainOptions, name: string, r: WorldModelRecipe, extra?: ExtraMetrics): Promise<void> {
  const ae = loadAutoencoder(o.out);
  const card = readCard(name, o.out);
  const model = loadWorldModel(o.out, name);
  const data = videoWorldData({ seed: r.dataSeed, numTrain: extra ? r.numTrain : 0, numVal: r.numVal, world: WORLDS[r.world ?? "default"] });   // training clips only when scored
  const sim = new WorldSimulator(model, ae, recipeSampler(r));
  const metrics = { ...await worldModelMetrics(sim, data), ...await extra?.(sim, data, o) };
  report(o, metrics);
  // the sampler is not part of training: the card's recipe takes the recipe's sampler settings it was evaluated with
  const recipe = { ...(card.recipe as object), samplingSteps: r.samplingSteps, ...(r.actionGuidance ? { actionGuidance: r.actionGuidance } : {}), ...(r.contextLevel ? { contextLevel: r.contextLevel } : {}) };
  saveCheckpoint(name, model, { ...card, recipe, metrics }, o.out);
}
