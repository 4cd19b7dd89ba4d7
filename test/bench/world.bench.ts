/**
 * World-model benchmarks (issue 7): training throughput (samples/s) of the "wm-xs" world model, and
 * play-mode rollout speed (frames/s at 32×32: few-step DDIM + decode, one frame at a time as the World
 * Viewer asks for them). Uses the shipped checkpoints when present (same cost as random weights).
 * PyTorch peer: not implemented for this model; the line says so (skipped) rather than inventing a number.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { F, tensor } from "../../kernel/nextframe/engine/index";
import { AdamW, makeTrainStep } from "../../kernel/nextframe/optim/index";
import { Autoencoder } from "../../kernel/nextframe/models/autoencoder";
import { WorldModel, WorldSimulator, worldModelConfig } from "../../kernel/nextframe/models/worldModel";
import { checkpointsDir, loadCheckpoint, readCard } from "../../kernel/nextframe/worlds/experiments";
import { generateVideoClip } from "../../kernel/nextframe/worlds/videoWorld";

const emit = (o: object) => console.log(JSON.stringify(o));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

function torchSkip(): string {
  const r = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" });
  return r.status !== 0 ? "/usr/bin/python3 cannot import torch" : "no PyTorch port of the world model in test/bench/peers";
}

export async function main(): Promise<void> {
  const dir = checkpointsDir();
  const shipped = existsSync(join(dir, "world-model.safetensors")) && existsSync(join(dir, "autoencoder.safetensors"));
  const ae = shipped ? new Autoencoder(readCard("autoencoder", dir).config as any) : new Autoencoder();
  let model: WorldModel;
  if (shipped) {
    loadCheckpoint("autoencoder", ae, dir);
    model = new WorldModel(readCard("world-model", dir).config as any);
    loadCheckpoint("world-model", model, dir);
  } else model = new WorldModel("wm-xs");
  const cfg = worldModelConfig(null, model.config);
  const skip = torchSkip();

  // ---- training throughput
  for (const B of [16, 32]) {
    const Fr = cfg.contextFrames + 1, L = cfg.latentChannels * cfg.latentSize ** 2;
    const m = new WorldModel(cfg);
    const step = makeTrainStep(m, (x, t, a, y) => F.mseLoss(m.predictNext(x, t, a), y), new AdamW(m.parameters(), { lr: 1e-3 }));
    const x = tensor(Float32Array.from({ length: B * Fr * L }, (_, i) => Math.sin(i)), { shape: [B, Fr, cfg.latentChannels, cfg.latentSize, cfg.latentSize] });
    const t = tensor(Float32Array.from({ length: B }, (_, i) => (i * 37) % 1000), { shape: [B] });
    const a = tensor(Int32Array.from({ length: B * Fr }, (_, i) => i % 6), { shape: [B, Fr] });
    const y = tensor(Float32Array.from({ length: B * L }, (_, i) => Math.cos(i)), { shape: [B, cfg.latentChannels, cfg.latentSize, cfg.latentSize] });
    for (let i = 0; i < 2; i++) await step(x, t, a, y);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) { const t0 = performance.now(); await step(x, t, a, y); times.push((performance.now() - t0) / 1000); }
    const s = median(times);
    emit({ bench: "world-train", case: `wm-xs b${B}`, ours_s: s, samples_per_s: B / s, peer: "pytorch", skipped: skip });
  }

  // ---- play mode: frames per second
  const clip = generateVideoClip({ seed: 1, frames: 24, size: 32 });
  const K = cfg.contextFrames, F3 = 32 * 32 * 3;
  for (const steps of [1, 2, 4]) {
    const sim = new WorldSimulator(model, ae, { steps });
    await sim.reset(clip.frames.slice(0, K * F3), Array.from({ length: K }, (_, k) => (k ? clip.actions[k - 1]! : 0)));
    for (let i = 0; i < 3; i++) await sim.step(i % 6);
    const times: number[] = [];
    for (let i = 0; i < 30; i++) { const t0 = performance.now(); await sim.step((i * 5) % 6); times.push((performance.now() - t0) / 1000); }
    const s = median(times);
    emit({ bench: "world-rollout", case: `wm-xs ddim${steps} 32x32${shipped ? " (shipped)" : ""}`, ours_s: s, fps: 1 / s, peer: "pytorch", skipped: skip });
  }
}
