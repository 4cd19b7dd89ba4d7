/**
 * The diffusion process behind one entry point, like DiT's diffusion/__init__.py `create_diffusion`.
 * Models never see β's; samplers and losses live here.
 */
import { getNamedBetaSchedule, type BetaScheduleName } from "./schedule";
import { GaussianDiffusion, type LossType, type ModelMeanType, type ModelVarType } from "./gaussianDiffusion";
import { SpacedDiffusion, spaceTimesteps } from "./respace";

export * from "./schedule";
export * from "./gaussianDiffusion";
export * from "./respace";

/** Options of createDiffusion (as DiT's create_diffusion): timestep respacing, noise schedule, learned sigma, what the model predicts, number of steps. */
export interface CreateDiffusionOptions {
  /** "" = all steps; "ddim50" = 50 DDIM steps; "250" = 250 evenly spaced steps */
  timestepRespacing?: string | number[];
  noiseSchedule?: BetaScheduleName;
  /** DiT default true: the model outputs 2C channels (prediction + Σ interpolation) */
  learnSigma?: boolean;
  /** with a fixed variance: use β̃_t (small) instead of β_t */
  sigmaSmall?: boolean;
  /** what the model predicts (DiT: "epsilon") */
  predict?: ModelMeanType;
  useKl?: boolean;
  rescaleLearnedSigmas?: boolean;
  diffusionSteps?: number;
}

/** DiT's `create_diffusion(timestep_respacing, noise_schedule="linear", ...)` with the same defaults. */
export function createDiffusion(opts: CreateDiffusionOptions = {}): GaussianDiffusion {
  const steps = opts.diffusionSteps ?? 1000;
  const betas = getNamedBetaSchedule(opts.noiseSchedule ?? "linear", steps);
  const learnSigma = opts.learnSigma ?? true;
  const lossType: LossType = opts.useKl ? "rescaledKl" : (opts.rescaleLearnedSigmas ?? true) ? "rescaledMse" : "mse";
  const modelVarType: ModelVarType = learnSigma ? "learnedRange" : (opts.sigmaSmall ? "fixedSmall" : "fixedLarge");
  const respacing = opts.timestepRespacing ?? "";
  const use = respacing === "" || (Array.isArray(respacing) && respacing.length === 0) ? [steps] : respacing;
  return new SpacedDiffusion(spaceTimesteps(steps, use), {
    betas, modelMeanType: opts.predict ?? "epsilon", modelVarType, lossType,
  });
}
export * from "./losses";
