// The latent space of chapters 6–8: a conv autoencoder ("ae-32-f2": 32×32×3 → 16×16×4, one stride-2 stage) trained on video-world frames.
import { trainAutoencoder, autoencoderPsnr, saveCheckpoint, videoWorldData, readCard, loadCheckpoint } from "../nextframe/course/index";
import { AUTOENCODER_RECIPE } from "../nextframe/course/recipes";
import { Autoencoder } from "../nextframe/models/autoencoder";
import type { TrainOptions } from "./main";

export async function train(o: TrainOptions): Promise<void> {
  const r = AUTOENCODER_RECIPE;
  const data = videoWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal });
  const steps = o.steps ?? r.steps;
  o.log(`video world: ${r.numTrain} train / ${r.numVal} val clips of 32 frames at 32×32`);
  const res = await trainAutoencoder({ data, steps, batchSize: r.batchSize, lr: r.lr, seed: r.seed, config: { name: r.config }, onProgress: (p) => o.progress(p) });
  const valPsnr = await autoencoderPsnr(res.model, data.val.slice(0, 8));
  o.log(`reconstruction PSNR on 8 val clips: ${valPsnr.toFixed(2)} dB`);
  const paths = saveCheckpoint("autoencoder", res.model, {
    name: "autoencoder", model: "Autoencoder", config: { ...res.model.config }, dataSeed: r.dataSeed, steps, trainSeconds: res.seconds,
    parameters: res.model.numParameters(), recipe: { ...r, steps }, finalTrainLoss: res.losses[res.losses.length - 1],
    metrics: { valPsnr, valClips: 8 },
  }, o.out);
  o.log(`wrote ${paths.weights}`);
}

/** Recomputes the card's metrics for the saved checkpoint (`--eval-only`). */
export async function evaluate(o: TrainOptions): Promise<void> {
  const r = AUTOENCODER_RECIPE;
  const card = readCard("autoencoder", o.out);
  const ae = new Autoencoder(card.config as any);
  loadCheckpoint("autoencoder", ae, o.out);
  const data = videoWorldData({ seed: r.dataSeed, numTrain: 0, numVal: r.numVal });
  const valPsnr = await autoencoderPsnr(ae, data.val.slice(0, 8));
  saveCheckpoint("autoencoder", ae, { ...card, metrics: { valPsnr, valClips: 8 } }, o.out);
  o.log(`reconstruction PSNR on 8 val clips: ${valPsnr.toFixed(2)} dB`);
}
