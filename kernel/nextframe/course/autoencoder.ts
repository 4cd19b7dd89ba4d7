// Chapters 6–8's latent space: training the autoencoder (AUTOENCODER_RECIPE's settings by default), encoding clips
// to latents and decoding them back, and its reconstruction PSNR.

import { AUTOENCODER_RECIPE } from "./recipes";
import { type Tensor, tensor } from "../engine/index.js";
import { AdamW, cosineSchedule, fit, type FitProgress, makeTrainStep } from "../optim/index.js";
import { Generator, hashSeed } from "../engine/generator.js";
import type { VideoClip, VideoDataset } from "../worlds/videoWorld";
import { Autoencoder, type AutoencoderConfig, framesToTensor, tensorDataToFrames } from "../models/autoencoder";
import { psnr } from "../metrics/image";
import { videoWorldData } from "./videoData";

/** Random frames from random clips as a (B, 3, H, W) tensor in [-1, 1]. */
function frameBatch(clips: VideoClip[], B: number, rng: Generator): Tensor {
  const size = clips[0]!.size, F3 = size * size * 3;
  const buf = new Uint8Array(B * F3);
  for (let b = 0; b < B; b++) {
    const c = clips[rng.int(clips.length)]!;
    const t = rng.int(c.numFrames);
    buf.set(c.frames.subarray(t * F3, (t + 1) * F3), b * F3);
  }
  return framesToTensor(buf, B, size);
}

/** Trains the course's frame autoencoder on random frames of the video world's clips with AdamW and a cosine schedule, at AUTOENCODER_RECIPE's settings unless overridden. */
export async function trainAutoencoder(opts: { data?: VideoDataset; steps?: number; batchSize?: number; lr?: number; seed?: number; config?: Partial<AutoencoderConfig> & { name?: string }; onProgress?: (p: FitProgress) => void | Promise<void> } = {}): Promise<{ model: Autoencoder; losses: number[]; seconds: number; steps: number }> {
  const data = opts.data ?? videoWorldData();
  const r = AUTOENCODER_RECIPE;
  const seed = opts.seed ?? r.seed;
  const model = new Autoencoder({ name: r.config, imageSize: data.train[0]!.size, ...opts.config }, {}, { seed });
  const steps = opts.steps ?? r.steps;
  const lr = opts.lr ?? r.lr;
  const opt = new AdamW(model.parameters(), { lr: cosineSchedule({ warmupSteps: Math.min(50, steps / 10), totalSteps: steps, maxLr: lr, minLr: lr / 20 }), weightDecay: 0 });
  const step = makeTrainStep(model, (x) => model.forward(x).loss, opt);
  const rng = new Generator(hashSeed(seed, "ae-batches"));
  const B = opts.batchSize ?? r.batchSize;
  const res = await fit({ steps, step: () => step(frameBatch(data.train, B, rng)), onProgress: opts.onProgress });
  return { model, losses: res.losses, seconds: res.seconds, steps };
}

/** Encodes clips' frames: (T, zc, h, w) latents per clip (float32, batched through the encoder). */
export async function encodeClips(ae: Autoencoder, clips: VideoClip[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const c of clips) out.push((await ae.encode(framesToTensor(c.frames, c.numFrames, c.size)).data()) as Float32Array);
  return out;
}

/** Decodes latents (T, zc, h, w) to RGB uint8 frames (T, H, W, 3). */
export async function decodeLatents(ae: Autoencoder, z: Float32Array, count: number): Promise<Uint8Array> {
  const [zc, h, w] = ae.latentShape;
  const x = (await ae.decode(tensor(z, { shape: [count, zc, h, w] })).data()) as Float32Array;
  return tensorDataToFrames(x, count, ae.config.imageSize);
}

/** Reconstruction PSNR (dB, uint8 frames) over every frame of the given clips. */
export async function autoencoderPsnr(ae: Autoencoder, clips: VideoClip[]): Promise<number> {
  let total = 0, n = 0;
  for (const c of clips) {
    const z = (await ae.encode(framesToTensor(c.frames, c.numFrames, c.size)).data()) as Float32Array;
    const rec = await decodeLatents(ae, z, c.numFrames);
    const F3 = c.size * c.size * 3;
    for (let t = 0; t < c.numFrames; t++) { total += psnr(rec.subarray(t * F3, (t + 1) * F3), c.frames.subarray(t * F3, (t + 1) * F3)); n++; }
  }
  return total / n;
}
