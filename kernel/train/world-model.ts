// Chapter 7's model: the next-frame diffusion world model ("wm-xs") in the autoencoder's latent space.
// Needs notebooks/checkpoints/autoencoder.safetensors (npm run train -- autoencoder) in the same folder.
import { Autoencoder } from "../nextframe/models/autoencoder";
import { WorldSimulator } from "../nextframe/models/worldModel";
import { evaluateRollouts, loadCheckpoint, saveCheckpoint, trainWorldModel, videoWorldData } from "../nextframe/worlds/experiments";
import type { TrainOptions } from "./main";
import { AUTOENCODER_RECIPE } from "./autoencoder";

export const WORLD_MODEL_RECIPE = { config: "wm-xs", dataSeed: AUTOENCODER_RECIPE.dataSeed, numTrain: AUTOENCODER_RECIPE.numTrain, numVal: AUTOENCODER_RECIPE.numVal, seed: 3, steps: 700, batchSize: 16, lr: 2e-3, samplingSteps: 2 } as const;

/** The evaluation the card reports: rollouts of 8 frames from 8 validation clips. */
export async function worldModelMetrics(sim: WorldSimulator, data: ReturnType<typeof videoWorldData>) {
  const r = await evaluateRollouts(sim, data.val.slice(0, 8), { horizon: 8 });
  const { frames: _f, ...curves } = r;
  return curves;
}

export async function train(o: TrainOptions): Promise<void> {
  const r = WORLD_MODEL_RECIPE;
  const ae = new Autoencoder();
  loadCheckpoint("autoencoder", ae, o.out);
  const data = videoWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal });
  const steps = o.steps ?? r.steps;
  const res = await trainWorldModel({ ae, data, config: r.config, steps, batchSize: r.batchSize, lr: r.lr, seed: r.seed, onProgress: (p) => o.progress(p) });
  const sim = new WorldSimulator(res.model, ae, { steps: r.samplingSteps });
  const metrics = await worldModelMetrics(sim, data);
  const f = (a: number[]) => a.map((v) => v.toFixed(1)).join(" ");
  o.log(`PSNR h=1..8  model ${f(metrics.model.psnr)}\n  copy-last ${f(metrics.copyLast.psnr)}\n  linear ${f(metrics.linear.psnr)}\n  AE ceiling ${f(metrics.reconstruction.psnr)}`);
  const paths = saveCheckpoint("world-model", res.model, {
    name: "world-model", model: "WorldModel", config: { ...res.model.config }, dataSeed: r.dataSeed, steps, trainSeconds: res.seconds,
    parameters: res.model.numParameters(), recipe: { ...r, steps }, autoencoder: "autoencoder", finalTrainLoss: res.losses[res.losses.length - 1], metrics,
  }, o.out);
  o.log(`wrote ${paths.weights}`);
}
