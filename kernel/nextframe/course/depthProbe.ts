// Chapter 8: is depth linearly readable from the autoencoder's latents, from pixels, and from the world model's
// hidden state?

import { tensor } from "../engine/index.js";
import { clipLabels, type VideoClip } from "../worlds/videoWorld";
import { WorldModel } from "../models/worldModel";
import { Autoencoder } from "../models/autoencoder";
import { linearProbe } from "../metrics/linearProbe";
import { encodeClips } from "./autoencoder";
import { windowActions } from "./clipWindows";
import { NextframeError } from "../engine/errors.js";

/** What depthProbe measures: held-out R² of linear probes to an object's depth from autoencoder latents, pixels and the world model's hidden state. */
export interface DepthProbeReport {
  target: string;
  /** "frame": features of the whole frame; "object": features at the object's place only (see depthProbe). */
  at: "frame" | "object";
  /** Held-out R² (regression) of a linear probe on autoencoder latents vs on pixels; predicting the mean is 0. */
  latents: number;
  pixels: number;
  /** The same probe on the world model's hidden state of the frame (its last block's tokens), when a model is given. */
  worldModel?: number;
  samples: number;
  /** The ridge strength each probe used (chosen from DEPTH_PROBE_LAMBDAS on the training clips unless given). */
  lambdas: Record<string, number>;
}

/** Ridge strengths depthProbe chooses from for each feature set, by validation on the training clips. */
export const DEPTH_PROBE_LAMBDAS = [0.01, 0.1, 1, 10, 100] as const;

/**
 * Is depth linearly readable? Ridge probes to the depth z of object `id` (default: the agent) from each frame's
 * autoencoder latent, from its pixels, and — with `model` — from the world model's hidden state of that frame
 * (WorldModel.hiddenStates, frames from K − 1 on so each has a full context); all on the same frames, whole clips
 * held out. `at: "frame"` (default) probes whole frames (C·h·w latent values, 2×2-pooled pixels, S·D hidden
 * values). `at: "object"` probes what sits at the object's projected centre: the 3×3 latent cells around it, the
 * pixels those cells cover, and the world model's token of the patch it is in — an object-centred probe, so the
 * probe need not also find the object; frames where less than half of it is visible are left out. Each probe's
 * ridge strength is chosen from DEPTH_PROBE_LAMBDAS by grouped validation on the training clips (`lambda` fixes it).
 */
export async function depthProbe(ae: Autoencoder, clips: VideoClip[], opts: { id?: number; target?: "depth" | "nearer"; lambda?: number | readonly number[]; model?: WorldModel; at?: "frame" | "object" } = {}): Promise<DepthProbeReport> {
  const target = opts.target ?? "depth", id = opts.id, model = opts.model, at = opts.at ?? "frame";
  const lat = await encodeClips(ae, clips);
  const size = clips[0]!.size;
  const [C, h, w] = ae.latentShape as [number, number, number];
  const L = C * h * w, cell = size / h;                         // one latent cell covers cell × cell pixels
  const K = model?.config.contextFrames ?? 1, first = K - 1;   // first probed frame of each clip
  const perClip = clips[0]!.numFrames - first;
  if (perClip < 1 || clips.some((c) => c.numFrames !== clips[0]!.numFrames)) throw new NextframeError(`depthProbe: clips must all have the same number of frames, more than ${first}`);
  // rows of features: frame = whole latent, 2×2-pooled pixels (16×16×3 at 32×32), all tokens; object = 3×3 cells, their pixels, one token
  const S2 = size / 2, g = model ? model.config.latentSize / model.config.patchSize : 0, D = model?.config.hiddenSize ?? 0;
  const X: number[] = [], Y: number[] = [], Hm: number[] = [], y: number[] = [], groups: number[] = [];
  for (const [ci, c] of clips.entries()) {
    // the agent has one colour in every clip (ball colours are shuffled per clip, so "ball 0" is no fixed look)
    const who = id ?? c.states[0]!.objects.findIndex((ob) => ob.kind === "agent");
    const other = c.states[0]!.objects.findIndex((ob, k) => k !== who && ob.kind === "ball");
    const labels = clipLabels(c, target, who, other);
    let hs: Float32Array | null = null;
    if (model) {
      // one window per probed frame f: context frames f − K + 1 .. f, hidden state of the last context slot
      const { latentSize: H, latentScale: sc } = model.config;
      const z = lat[ci]!, ctx = new Float32Array(perClip * K * L), acts = new Int32Array(perClip * (K + 1));
      for (let f = first; f < c.numFrames; f++) {
        const wi = f - first;
        for (let i = 0; i < K * L; i++) ctx[wi * K * L + i] = z[(f - K + 1) * L + i]! / sc;
        windowActions(c.actions, f - K + 1, K + 1, acts, wi * (K + 1));
      }
      hs = (await model.hiddenStates(tensor(ctx, { shape: [perClip, K, C, H, H] }), tensor(acts, { shape: [perClip, K + 1] })).data()) as Float32Array;
    }
    for (let f = first; f < c.numFrames; f++) {
      const z = lat[ci]!.subarray(f * L, (f + 1) * L), px = c.frames.subarray(f * size * size * 3, (f + 1) * size * size * 3);
      const hidden = hs ? hs.subarray(((f - first) * K + K - 1) * g * g * D, ((f - first) * K + K) * g * g * D) : null;
      if (at === "frame") {
        X.push(...z);
        for (let yy = 0; yy < S2; yy++) for (let xx = 0; xx < S2; xx++) for (let ch = 0; ch < 3; ch++) {
          let v = 0;
          for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) v += px[((2 * yy + dy) * size + 2 * xx + dx) * 3 + ch]!;
          Y.push(v / (4 * 255));
        }
        if (hidden) Hm.push(...hidden);
      } else {
        const o = c.states[f]!.objects[who]!;
        if (!o.exists || o.visibleFraction < 0.5 || !Number.isFinite(o.screenX)) continue;
        // 3×3 latent cells around the centre, shifted inside the grid at the borders
        const cx = Math.min(w - 2, Math.max(1, Math.floor(o.screenX / cell))), cy = Math.min(h - 2, Math.max(1, Math.floor(o.screenY / cell)));
        for (let ch = 0; ch < C; ch++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) X.push(z[(ch * h + cy + dy) * w + cx + dx]!);
        for (let yy = (cy - 1) * cell; yy < (cy + 2) * cell; yy++) for (let xx = (cx - 1) * cell; xx < (cx + 2) * cell; xx++) {
          for (let ch = 0; ch < 3; ch++) Y.push(px[(yy * size + xx) * 3 + ch]! / 255);
        }
        if (hidden) {
          const patch = size / g, tok = Math.min(g - 1, Math.floor(o.screenY / patch)) * g + Math.min(g - 1, Math.floor(o.screenX / patch));
          Hm.push(...hidden.subarray(tok * D, (tok + 1) * D));
        }
      }
      y.push(labels[f]!);
      groups.push(ci);
    }
  }
  const n = y.length;
  if (n < 8) throw new NextframeError(`depthProbe: only ${n} frames show the object well enough to probe; give more or longer clips`);
  const yv = Float64Array.from(y), gv = Int32Array.from(groups);
  const lambdas: Record<string, number> = {};
  const probe = (name: string, F: number[]) => {
    const r = linearProbe(Float32Array.from(F), yv, F.length / n, { task: "regression", method: "ridge", groups: gv, seed: 0, testFraction: 0.5, lambda: opts.lambda ?? DEPTH_PROBE_LAMBDAS });
    lambdas[name] = r.lambda;
    return r.test;
  };
  const latents = probe("latents", X), pixels = probe("pixels", Y), worldModel = model ? probe("worldModel", Hm) : undefined;
  return {
    target: `${target}(${id === undefined ? "agent" : `object ${id}`})`, at, latents, pixels,
    ...(worldModel !== undefined ? { worldModel } : {}), samples: n, lambdas,
  };
}
