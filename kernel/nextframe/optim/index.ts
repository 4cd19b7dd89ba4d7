/**
 * nextframe optim — AdamW, warmup+cosine schedule, EMA, the fused train step and a progress loop.
 *
 * const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps, totalSteps, maxLr }), maxGradNorm: 1 });
 * const trainStep = makeTrainStep(model, (x, y) => F.crossEntropy(model.forward(x), y), opt);
 * await fit({ steps, step: () => trainStep(x, y), onProgress });
 */
export * from "./adamw.js";
export * from "./schedule.js";
export * from "./ema.js";
export * from "./trainStep.js";
export * from "./fit.js";
