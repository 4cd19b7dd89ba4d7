// Chapter 1's model: a nanoGPT-shaped transformer ("gpt-textworld" in GPT_CONFIGS) trained on grid-room logs.
import { trainTinyGpt, evaluateGpt, probeGpt, saveCheckpoint, textWorldData, readCard, loadCheckpoint } from "../nextframe/course/index";
import { GPT_TEXTWORLD_RECIPE } from "../nextframe/course/recipes";
import { GPT, type GPTConfig } from "../nextframe/models/gpt";
import type { TrainOptions } from "./main";

/** The evaluation the card reports (tests recompute it with the same settings). */
export async function gptTextworldMetrics(model: Awaited<ReturnType<typeof trainTinyGpt>>["model"], data: ReturnType<typeof textWorldData>) {
  const ev = await evaluateGpt(model, data, { numEpisodes: 64, continuations: 12, seed: 7 });
  const probes = [];
  for (const target of ["agentX", "agentY", "held"] as const) {
    const p = await probeGpt(model, data, { target, episodes: 64 });
    probes.push({ target, layer: p.layer, accuracy: p.trained.accuracy, chance: p.trained.chance, randomInitAccuracy: p.randomInit.accuracy });
  }
  return { ...ev, probes };
}

export async function train(o: TrainOptions): Promise<void> {
  const r = GPT_TEXTWORLD_RECIPE;
  const data = textWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal });
  const steps = o.steps ?? r.steps;
  o.log(`text world: ${r.numTrain} train / ${r.numVal} val episodes, vocab ${data.tokenizer.vocabSize}, ${data.train.length} train tokens`);
  const res = await trainTinyGpt({ data, steps, batchSize: r.batchSize, lr: r.lr, seed: r.seed, onProgress: (p) => o.progress(p) });
  const metrics = await gptTextworldMetrics(res.model, data);
  o.log(`val loss ${metrics.valLoss.toFixed(3)} (bigram ${metrics.baselines.bigram.toFixed(3)}, unigram ${metrics.baselines.unigram.toFixed(3)}); legal ${metrics.legalRate.toFixed(2)} (bigram ${metrics.bigramLegalRate.toFixed(2)})`);
  for (const p of metrics.probes) o.log(`probe ${p.target}: ${p.accuracy.toFixed(3)} (chance ${p.chance.toFixed(3)}, random init ${p.randomInitAccuracy.toFixed(3)})`);
  const paths = saveCheckpoint("gpt-textworld", res.model, {
    name: "gpt-textworld", model: "GPT", config: { ...res.model.config }, dataSeed: r.dataSeed, steps, trainSeconds: res.seconds,
    parameters: res.model.numParameters(), recipe: { ...r, steps }, vocab: data.tokenizer.vocab, finalTrainLoss: res.losses[res.losses.length - 1], metrics,
  }, o.out);
  o.log(`wrote ${paths.weights}`);
}

/** Recomputes the card's metrics for the saved checkpoint with the current library code (`--eval-only`). */
export async function evaluate(o: TrainOptions): Promise<void> {
  const r = GPT_TEXTWORLD_RECIPE;
  const card = readCard("gpt-textworld", o.out);
  const data = textWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal });
  const model = new GPT(card.config as Partial<GPTConfig>);
  loadCheckpoint("gpt-textworld", model, o.out);
  const metrics = await gptTextworldMetrics(model, data);
  saveCheckpoint("gpt-textworld", model, { ...card, metrics }, o.out);
  o.log(`val loss ${metrics.valLoss.toFixed(3)}; probes ${metrics.probes.map((p) => `${p.target} ${p.accuracy.toFixed(2)}`).join(", ")}`);
}
