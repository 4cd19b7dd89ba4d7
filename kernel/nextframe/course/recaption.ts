// Chapter 6: recaptioning by nearest neighbour in latent space.

import type { VideoClip } from "../worlds/videoWorld";
import { Autoencoder } from "../models/autoencoder";
import { nearestNeighbourRecaption, type RecaptionResult } from "../metrics/recaption";
import { encodeClips } from "./autoencoder";

/**
 * Nearest-neighbour recaptioning in latent space (metrics/recaption.ts): clips whose caption is poor or
 * missing borrow the rich caption of the nearest richly captioned clip (mean autoencoder latent of the
 * clip's frames). Accuracy is exact match and word F1 against each clip's true rich caption.
 */
export async function recaptionExperiment(ae: Autoencoder, clips: VideoClip[]): Promise<RecaptionResult> {
  const lat = await encodeClips(ae, clips);
  const L = ae.latentShape.reduce((a, b) => a * b, 1);
  const X = new Float32Array(clips.length * L);
  clips.forEach((c, i) => {
    const z = lat[i]!;
    for (let t = 0; t < c.numFrames; t++) for (let k = 0; k < L; k++) X[i * L + k] += z[t * L + k]! / c.numFrames;
  });
  return nearestNeighbourRecaption(X, L, clips.map((c) => c.caption), {
    isWeak: (_c, i) => clips[i]!.captionKind !== "rich",
    truth: clips.map((c) => c.captions.rich),
  });
}
