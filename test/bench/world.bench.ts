/**
 * World-model benchmarks (issue 7): training throughput (samples/s) of the world model (each shipped checkpoint's
 * config when present — the 7-frame model and the one with memory frames —, else "wm-xs"), and play-mode rollout
 * speed (frames/s at 32×32: few-step DDIM + decode, one frame at a time as the World Viewer asks for them), each
 * against the same model in tuned PyTorch eager (test/bench/peers/world_model.py: same config — passed as JSON —,
 * same shapes and batch, same optimizer: AdamW without weight decay and global-norm clipping at 1, as
 * trainWorldModel; fp32, 2 threads, the tuned PyTorch environment of timing.ts). The peer runs as one long-lived process that takes
 * commands on stdin, so ours and the peer's timed runs alternate in rounds and both see the same load on this
 * shared 2-core machine; the numbers are medians over all rounds. The two must be the same model, or the bench
 * throws: equal parameter counts, and the peer, loading our weights (strict names and shapes), matches our
 * predictNext and decode on fixed inputs to 1e-4. Uses the shipped checkpoints when present (same cost as random
 * weights). Peers skip cleanly without torch.
 *
 * Env: WORLD_BENCH_ROUNDS (default 4) rounds of ours-then-peer; WORLD_BENCH_CONFIG=wm-xs (any WORLD_MODEL_CONFIGS
 * name) measures that config with random weights and the 32×32 autoencoder config that makes its latents.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { F, setDevice, tensor } from "../../kernel/nextframe/engine/index";
import { AdamW, makeTrainStep } from "../../kernel/nextframe/optim/index";
import { AUTOENCODER_CONFIGS, Autoencoder } from "../../kernel/nextframe/models/autoencoder";
import { WorldModel, WorldSimulator, historyFrames, worldModelConfig } from "../../kernel/nextframe/models/worldModel";
import { saveSafetensors } from "../../kernel/nextframe/io/safetensors";
import type { Module } from "../../kernel/nextframe/nn/index";
import { checkpointsDir, loadCheckpoint, readCard } from "../../kernel/nextframe/course/index";
import { generateVideoClip } from "../../kernel/nextframe/worlds/videoWorld";
import { TorchPeer, emit, interleave, nudgedCopy, runs } from "./timing";

const here = typeof __dirname !== "undefined" ? __dirname : dirname(fileURLToPath(import.meta.url));
const PEER = join(here, "peers", "world_model.py");
const THREADS = 2;

/** Max |ours − peer| of predictNext and of the decoder on the fixed inputs of world_model.py's parity_inputs. */
async function parity(peer: TorchPeer, source: WorldModel, ae: Autoencoder): Promise<{ next: number; decoded: number }> {
  const dir = mkdtempSync(join(tmpdir(), "nf-world-bench-"));
  try {
    const model = nudgedCopy(source, () => new WorldModel(source.config));
    const save = async (m: Module, path: string) => {
      const entries = await Promise.all(Object.entries(m.stateDict()).map(async ([k, t]) => [k, { shape: t.shape, data: (await t.data()) as Float32Array }] as const));
      saveSafetensors(path, Object.fromEntries(entries));
    };
    await save(model, join(dir, "wm.safetensors"));
    await save(ae, join(dir, "ae.safetensors"));
    const theirs = await peer.ask(`parity ${join(dir, "wm.safetensors")} ${join(dir, "ae.safetensors")}`);
    const { latentChannels: C, latentSize: H, numActions } = model.config, Fr = model.frames;
    const x = tensor(Float32Array.from({ length: Fr * C * H * H }, (_, i) => 0.5 * Math.sin(0.37 * i)), { shape: [1, Fr, C, H, H] });
    const a = tensor(Int32Array.from({ length: Fr }, (_, f) => (f * 5 + 1) % numActions), { shape: [1, Fr] });
    const z = tensor(Float32Array.from({ length: C * H * H }, (_, i) => Math.tanh(Math.cos(0.23 * i))), { shape: [1, C, H, H] });
    const next = (await model.predictNext(x, tensor(Float32Array.of(500), { shape: [1] }), a).data()) as Float32Array;
    const decoded = (await ae.decode(z).data()) as Float32Array;
    const maxDiff = (ours: Float32Array, peer: number[]) => {
      if (ours.length !== peer.length) return Infinity;
      let m = 0;
      for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i]! - peer[i]!));
      return m;
    };
    return { next: maxDiff(next, theirs.next), decoded: maxDiff(decoded, theirs.decoded) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The shipped world models the bench measures when their checkpoints are present (the 7-frame one, then the one with memory frames). */
const SHIPPED = ["world-model", "world-model-memory"] as const;

export async function main(): Promise<void> {
  await setDevice("cpu", { threads: THREADS });
  const rounds = Number(process.env.WORLD_BENCH_ROUNDS ?? 4);
  const dir = checkpointsDir();
  const forced = process.env.WORLD_BENCH_CONFIG;
  const shipped = forced || !existsSync(join(dir, "autoencoder.safetensors")) ? [] : SHIPPED.filter((n) => existsSync(join(dir, `${n}.safetensors`)));
  if (shipped.length > 0) {
    const ae = new Autoencoder(readCard("autoencoder", dir).config as any);
    loadCheckpoint("autoencoder", ae, dir);
    for (const n of shipped) {
      const model = new WorldModel(readCard(n, dir).config as any);
      loadCheckpoint(n, model, dir);
      await benchModel(model, ae, `${n} (shipped)`, rounds);
    }
    return;
  }
  // random weights of a named config, with the 32×32 autoencoder whose latents it takes
  const model = new WorldModel(forced ?? "wm-xs");
  const aeName = Object.entries(AUTOENCODER_CONFIGS).find(([, c]) => c.imageSize === 32 && 32 / c.downsample === model.config.latentSize)?.[0];
  if (!aeName) throw new Error(`world bench: no 32×32 autoencoder config makes ${model.config.latentSize}×${model.config.latentSize} latents`);
  await benchModel(model, new Autoencoder({ name: aeName }), forced ?? "wm-xs", rounds);
}

/** Parity, training throughput and play-mode frames/s of one world model against the same model in PyTorch. */
async function benchModel(model: WorldModel, ae: Autoencoder, name: string, rounds: number): Promise<void> {
  const cfg = worldModelConfig(null, model.config);

  const started = await TorchPeer.start(PEER, ["serve", "--model", JSON.stringify(cfg), "--ae", JSON.stringify(ae.config), "--threads", String(THREADS)]);
  const peer = typeof started === "string" ? null : started;
  const skip = typeof started === "string" ? started : "";
  try {
    // ---- the two implementations must be the same model
    const ours = { model_params: model.numParameters({ trainableOnly: true }), decoder_params: ae.decoder.numParameters({ trainableOnly: true }) };
    if (peer) {
      const theirs = await peer.ask("params");
      emit({ bench: "world-params", case: name, config: cfg, ours, peer: "pytorch", peer_params: { model_params: theirs.model_params, decoder_params: theirs.decoder_params } });
      if (theirs.model_params !== ours.model_params || theirs.decoder_params !== ours.decoder_params) {
        throw new Error(`world bench: the PyTorch peer is not the same model: parameters ours ${JSON.stringify(ours)} vs peer ${JSON.stringify(theirs)}`);
      }
      // same numbers: the peer loads our weights (strict names and shapes) and runs fixed inputs
      const diff = await parity(peer, model, ae);
      emit({ bench: "world-parity", case: name, peer: "pytorch", max_abs_diff_next: diff.next, max_abs_diff_decode: diff.decoded });
      if (!(diff.next < 1e-4 && diff.decoded < 1e-4)) throw new Error(`world bench: the PyTorch peer computes something else: max |ours − peer| predictNext ${diff.next}, decode ${diff.decoded} (expected < 1e-4)`);
    } else emit({ bench: "world-params", case: name, config: cfg, ours, peer: "pytorch", skipped: skip });

    // ---- training throughput: one fused train step (forward, backward, clip, AdamW) on a fixed batch
    for (const B of [16, 32]) {
      const m = new WorldModel(cfg);
      const Fr = m.frames, L = cfg.latentChannels * cfg.latentSize ** 2;
      const step = makeTrainStep(m, (x, t, a, y) => F.mseLoss(m.predictNext(x, t, a), y), new AdamW(m.parameters(), { lr: 1e-3, weightDecay: 0, maxGradNorm: 1 }));
      const x = tensor(Float32Array.from({ length: B * Fr * L }, (_, i) => Math.sin(i)), { shape: [B, Fr, cfg.latentChannels, cfg.latentSize, cfg.latentSize] });
      const t = tensor(Float32Array.from({ length: B }, (_, i) => (i * 37) % 1000), { shape: [B] });
      const a = tensor(Int32Array.from({ length: B * Fr }, (_, i) => i % 6 % cfg.numActions), { shape: [B, Fr] });
      const y = tensor(Float32Array.from({ length: B * L }, (_, i) => Math.cos(i)), { shape: [B, cfg.latentChannels, cfg.latentSize, cfg.latentSize] });
      for (let i = 0; i < 2; i++) await step(x, t, a, y);
      const n = 2;
      const r = await interleave(rounds, n, runs(() => step(x, t, a, y)), peer && (async (k) => (await peer.ask(`train ${B} ${k}`)).times));
      const c = `${name} b${B}`, base = { bench: "world-train", case: c, ours_s: r.ours, samples_per_s: B / r.ours, peer: "pytorch" };
      if (r.peer !== null) emit({ ...base, peer_s: r.peer, peer_samples_per_s: B / r.peer, ratio: r.peer / r.ours });
      else emit({ ...base, skipped: r.error ? `peer failed: ${r.error}` : skip });
    }

    // ---- play mode: frames per second (batch 1: DDIM steps + decode + anchoring + RGB bytes per frame)
    // reset with as much history as the model reads (its memory frames), so a step gathers a full window
    const K = historyFrames(cfg), F3 = 32 * 32 * 3;
    const clip = generateVideoClip({ seed: 1, frames: K + 1, size: 32 });
    for (const steps of [1, 2, 4]) {
      const sim = new WorldSimulator(model, ae, { steps });
      await sim.reset(clip.frames.slice(0, K * F3), Array.from({ length: K }, (_, k) => (k ? clip.actions[k - 1]! : 0)));
      for (let i = 0; i < 3; i++) await sim.step(i % 6);
      const n = 8;
      let k = 0;
      const r = await interleave(rounds, n, runs(() => sim.step((k++ * 5) % 6)), peer && (async (m) => (await peer.ask(`rollout ${steps} ${m}`)).times));
      const c = `${name} ddim${steps} 32x32`, base = { bench: "world-rollout", case: c, ours_s: r.ours, fps: 1 / r.ours, peer: "pytorch" };
      if (r.peer !== null) emit({ ...base, peer_s: r.peer, peer_fps: 1 / r.peer, ratio: r.peer / r.ours });
      else emit({ ...base, skipped: r.error ? `peer failed: ${r.error}` : skip });
    }
  } finally {
    peer?.close();
  }
}
