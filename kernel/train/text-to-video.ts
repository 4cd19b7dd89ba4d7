// Sora in miniature (issue 33): the text-conditioned spacetime DiT ("t2v-xs", models/textToVideo.ts) on the course
// autoencoder's latents of 16-frame video-world clips (rich captions and recaptioned weak ones; HELDOUT_COMBOS left
// out), trained with one intra-op thread (TEXT_TO_VIDEO_RECIPE.threads). The card's metrics (course/textToVideo.ts
// evaluateTextToVideo): caption agreement against the null caption, shuffled captions and retrieval, on held-out
// captions and held-out combinations; flicker and pan consistency against the true clips; guidance vs agreement and
// diversity. Needs notebooks/checkpoints/autoencoder.safetensors in the same folder.
import { cpus, loadavg } from "node:os";
import { getDevice, setDevice } from "../nextframe/engine/index";
import { loadAutoencoder, readCard, saveCheckpoint } from "../nextframe/course/index";
import { TEXT_TO_VIDEO_RECIPE as R } from "../nextframe/course/recipes";
import { captionGain, evaluateTextToVideo, evaluationClips, loadTextToVideo, textToVideoData, trainTextToVideo } from "../nextframe/course/textToVideo";
import type { TextToVideoDiT } from "../nextframe/models/textToVideo";
import type { Autoencoder } from "../nextframe/models/autoencoder";
import type { TrainOptions } from "./main";

async function metrics(model: TextToVideoDiT, ae: Autoencoder, data: Awaited<ReturnType<typeof textToVideoData>>, o: TrainOptions) {
  const t0 = performance.now();
  const gain = await captionGain(model, ae, evaluationClips(R.eval.evalSeed, R.eval.captions));
  const m = await evaluateTextToVideo(model, ae, data, { ...R.eval, seeds: [...R.eval.seeds], guidanceSweep: [...R.eval.guidanceSweep], sampling: R.sampling });
  const a = m.agreement, c = m.consistency, f = (v: number | null) => (v === null ? "–" : v.toFixed(3));
  o.log(`caption gain (x0 MSE, null − caption): ${gain.gain.toFixed(4)} (${gain.nullCaption.toFixed(4)} → ${gain.withCaption.toFixed(4)})`);
  o.log(`agreement (${m.agreement_detail.captions} captions × ${R.eval.seeds.length} seeds): model ${f(a.model)} ± ${f(m.agreement_detail.model_sd_over_seeds)} | null ${f(a.null_caption)} | shuffled ${f(a.shuffled)} | retrieval ${f(a.retrieval)} | truth ${f(m.agreement_detail.truth)}`);
  o.log(`held-out combinations (${m.agreement_detail.heldout_captions}): model ${f(a.heldout_combos_model)} | retrieval ${f(a.heldout_combos_retrieval)} | truth ${f(m.agreement_detail.heldout_combos_truth)}`);
  o.log(`flicker model ${f(c.flicker_model)} vs truth ${f(c.flicker_truth)}; pan (${c.pan_clips} captions, ${c.pan_clips_scored} with tree and burger seen): parallax ok ${f(c.pan_parallax_ok)} (truth ${f(c.pan_parallax_ok_truth)}), tree width spread ${f(c.tree_size_px_spread)} px (truth ${f(c.tree_size_px_spread_truth)})`);
  o.log(`guidance: ${m.guidance_sweep.map((s) => `s=${s.guidance}: agreement ${s.agreement.toFixed(3)}, diversity ${s.diversity.toFixed(3)}`).join(" | ")}`);
  return { ...m, caption_gain: gain, evalSeconds: (performance.now() - t0) / 1000 };
}

/** The autoencoder of the checkpoint folder being written (`--out`), whose latents the model is trained in. */
async function setup(o: TrainOptions) {
  await setDevice("cpu", { threads: R.threads });
  const ae = loadAutoencoder(o.out);
  const data = await textToVideoData(ae, { seed: R.dataSeed, numTrain: R.numTrain });
  return { ae, data };
}

export async function train(o: TrainOptions): Promise<void> {
  const wall0 = performance.now(), cpu0 = process.cpuUsage();
  const { ae, data } = await setup(o);
  const steps = o.steps ?? R.steps;
  o.log(`${data.train.length} training clips (${data.droppedHeldout} dropped for held-out combinations; ${data.recaptioned.filter(Boolean).length} recaptioned: exact ${data.recaptionExact.toFixed(3)}, word F1 ${data.recaptionF1.toFixed(3)}); ${getDevice().threads} thread(s)`);
  const res = await trainTextToVideo({
    data, config: R.config, configOverrides: { ...R.configOverrides }, minSnrGamma: R.minSnrGamma, steps, batchSize: R.batchSize, lr: R.lr, seed: R.seed, gptSteps: R.gptSteps, onProgress: (p) => o.progress(p),
  });
  res.model.eval();
  const trainWallSeconds = (performance.now() - wall0) / 1000;                    // data, caption GPT and DiT: the recipe's training time
  // CPU time of this process (user + system, all its threads): with one intra-op thread, the training's time on one
  // core of its own, whatever else the machine runs (the wall time above grows with the machine's load)
  const cpu = process.cpuUsage(cpu0), trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
  o.log(`trained in ${(trainWallSeconds / 60).toFixed(1)} min wall, ${(trainCpuSeconds / 60).toFixed(1)} min CPU (caption GPT ${res.gptSeconds.toFixed(0)} s, DiT ${res.seconds.toFixed(0)} s wall)`);
  const m = await metrics(res.model, ae, data, o);
  const paths = saveCheckpoint("text-to-video", res.model, {
    name: "text-to-video", model: "TextToVideoDiT", config: { ...res.model.config }, dataSeed: R.dataSeed, steps, trainSeconds: res.seconds,
    gptSeconds: res.gptSeconds, captionGptLoss: res.gptLoss, trainWallSeconds, trainCpuSeconds, wallSeconds: (performance.now() - wall0) / 1000, threads: getDevice().threads, machine: { cpus: cpus().length, loadavg1: loadavg()[0] },
    parameters: res.model.numParameters(), trainableParameters: res.model.numParameters({ trainableOnly: true }), recipe: { ...R, steps }, autoencoder: "autoencoder",
    data: { clips: data.train.length, droppedHeldout: data.droppedHeldout, recaptioned: data.recaptioned.filter(Boolean).length, recaptionExact: data.recaptionExact, recaptionF1: data.recaptionF1 },
    finalTrainLoss: res.losses.slice(-100).reduce((s, v) => s + v, 0) / Math.min(100, res.losses.length),
    metrics: m,
  }, o.out);
  o.log(`wrote ${paths.weights} (${((performance.now() - wall0) / 60000).toFixed(1)} min wall)`);
}

/** Recomputes the card's metrics for the saved weights (`--eval-only`). */
export async function evaluate(o: TrainOptions): Promise<void> {
  const { ae, data } = await setup(o);
  const card = readCard("text-to-video", o.out);
  const model = loadTextToVideo(o.out);
  const m = await metrics(model, ae, data, o);
  // the sampler settings are not part of training: the card records the ones its metrics were measured with
  saveCheckpoint("text-to-video", model, { ...card, recipe: { ...(card.recipe as object), sampling: R.sampling }, metrics: m }, o.out);
  o.log(`rewrote the card's metrics`);
}
