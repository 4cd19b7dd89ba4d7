/**
 * The autoencoder and the GPT on PyTorch's distributed engine (gloo, CPU), a few steps on small data: two processes
 * end with the weights of one process with the doubled batch, and the checkpoint loads into the TypeScript model,
 * whose forward then equals PyTorch's within 1e-5; the same for a caption-conditioned world model (no recipe trains
 * one yet: the test writes the job file itself). (The world model's fuller test, with resuming, is ddp.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor, type Tensor } from "../nextframe/engine/index";
import { loadSafetensors, saveSafetensors, type SafetensorsInput } from "../nextframe/io/safetensors";
import { WORLD_MODEL_RECIPE, checkpointsDir, loadCheckpoint, readCard } from "../nextframe/course/index";
import { WorldModel, captionTokenizer, encodeCaptions, worldModelConfig, type WorldModelConfig } from "../nextframe/models/worldModel";
import { Autoencoder, type AutoencoderConfig } from "../nextframe/models/autoencoder";
import { GPT, type GPTConfig } from "../nextframe/models/gpt";
import { writeDataset, writeTextWorld } from "../train/data";
import { torchCpuEnv } from "../shared/environment";
import { torchrunArgs } from "../train/torch";
import { PY, pythonEnv, relErr, requireTorch, runPython, skipWithoutTorch } from "./torchEnv";

const ROOT = join(__dirname, "..", "..");

function trainTorch(name: string, out: string, data: string, nproc: number): string {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "kernel/train/main.ts"), name, "--engine", "torch", "--data", data, "--out", out,
    "--nproc", String(nproc), "--steps", "2", "--batch-size", "4", "--no-eval", "--log-every", "1", "--threads", "1"], { encoding: "utf8", cwd: ROOT, timeout: 300_000 });
  assert.equal(r.status, 0, `torch training failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function maxDiff(a: string, b: string): number {
  const A = loadSafetensors(a).tensors, B = loadSafetensors(b).tensors;
  assert.deepEqual([...A.keys()].sort(), [...B.keys()].sort());
  let d = 0;
  for (const [k, x] of A) {
    const xs = x.data as Float32Array, ys = B.get(k)!.data as Float32Array;
    for (let i = 0; i < xs.length; i++) d = Math.max(d, Math.abs(xs[i]! - ys[i]!));
  }
  return d;
}

async function parity(dir: string, out: string, name: string, model: string, inputs: Record<string, SafetensorsInput>, ours: Tensor, key: string): Promise<number> {
  const inPath = join(dir, `${name}.in.safetensors`), outPath = join(dir, `${name}.out.safetensors`);
  saveSafetensors(inPath, inputs);
  runPython("nextframe_torch.parity", [model, "--card", join(out, `${name}.json`), "--weights", join(out, `${name}.safetensors`), "--inputs", inPath, "--out", outPath]);
  const ref = loadSafetensors(outPath).tensors.get(key)!.data as Float32Array;
  return relErr((await ours.data()) as Float32Array, ref);
}

for (const name of ["autoencoder", "gpt-textworld"] as const) {
  test(`${name} on PyTorch DDP (gloo, 2 processes): equal to one process with the doubled batch; loads into TypeScript`, { skip: skipWithoutTorch(), timeout: 600_000 }, async (t) => {
    requireTorch();
    const root = mkdtempSync(join(tmpdir(), `nf-${name}-`));
    try {
      const data = join(root, "data");
      if (name === "autoencoder") await writeDataset({ world: "video-world", clips: 6, shards: 2, out: data, seed: 2, split: "train", frames: 32, size: 32, workers: 2 });
      else writeTextWorld({ out: data, seed: 1, episodes: 40, val: 8 });
      const two = join(root, "two"), one = join(root, "one");
      mkdirSync(two); mkdirSync(one);
      const log = trainTorch(name, two, data, 2);
      assert.match(log, new RegExp(`\\[${name}\\] step 2/2  loss \\d+\\.\\d{4}`));
      trainTorch(name, one, data, 1);
      const card = readCard(name, two);
      assert.equal(card.engine, "torch");
      assert.equal(card.worldSize, 2);
      const d = maxDiff(join(two, `${name}.safetensors`), join(one, `${name}.safetensors`));
      t.diagnostic(`2 processes vs 1: max |Δw| ${d.toExponential(2)}`);
      assert.ok(d < 1e-5, `weights differ by up to ${d}`);
      let e: number;
      if (name === "autoencoder") {
        const ae = new Autoencoder(card.config as Partial<AutoencoderConfig>);
        loadCheckpoint(name, ae, two);
        const S = ae.config.imageSize, x = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => 0.9 * Math.sin(0.011 * i));
        e = await parity(root, two, name, "Autoencoder", { x: { shape: [2, 3, S, S], data: x } }, ae.decode(ae.encode(tensor(x, { shape: [2, 3, S, S] }))), "recon");
      } else {
        const gpt = new GPT(card.config as Partial<GPTConfig>);
        loadCheckpoint(name, gpt, two);
        assert.deepEqual(card.vocab, readCard(name, one).vocab);
        const V = gpt.config.vocabSize, idx = Int32Array.from({ length: 2 * 24 }, (_, i) => (i * 7 + 3) % V);
        e = await parity(root, two, name, "GPT", { idx: { shape: [2, 24], data: BigInt64Array.from(idx, BigInt) } }, gpt.forward(tensor(idx, { shape: [2, 24] })).logits, "logits");
      }
      t.diagnostic(`TypeScript vs PyTorch forward: rel err ${e.toExponential(2)}`);
      assert.ok(e < 1e-5, `forward rel err ${e}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test("a caption-conditioned world model (captionVocab > 0) trains on the shards' captions under DDP and loads into TypeScript", { skip: skipWithoutTorch(), timeout: 600_000 }, async (t) => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-wm-caption-"));
  try {
    const data = join(root, "data");
    await writeDataset({ world: "video-world", clips: 6, shards: 2, out: data, seed: 2, split: "train", frames: 32, size: 32, workers: 2 });
    const config = worldModelConfig("wm-xs-16", { captionVocab: captionTokenizer().vocabSize });
    const run = (nproc: number) => {
      const out = join(root, `p${nproc}`);
      mkdirSync(out);
      const job = join(root, `job${nproc}.json`);
      writeFileSync(job, JSON.stringify({
        name: "wm-caption", model: "WorldModel", config, freshLatentScale: true, recipe: WORLD_MODEL_RECIPE, steps: 2, batchSize: 4, lr: 2e-3, seed: 3, data,
        autoencoder: { card: join(checkpointsDir(), "autoencoder.json"), weights: join(checkpointsDir(), "autoencoder.safetensors") }, out, resume: false, device: "cpu", logEvery: 1,
      }));
      const r = spawnSync(PY, torchrunArgs({ nproc, device: "cpu", nnodes: 1, rdzvId: "t", resume: false, eval: false }, job), { encoding: "utf8", env: pythonEnv({ ...torchCpuEnv, OMP_NUM_THREADS: "1" }), timeout: 300_000 });
      assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
      return out;
    };
    const two = run(2), one = run(1);
    const d = maxDiff(join(two, "wm-caption.safetensors"), join(one, "wm-caption.safetensors"));
    t.diagnostic(`2 processes vs 1: max |Δw| ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `weights differ by up to ${d}`);
    const w = loadSafetensors(join(two, "wm-caption.safetensors")).tensors.get("c_embedder.weight")!;
    assert.deepEqual(w.shape, [config.captionVocab + 1, config.hiddenSize]);
    const model = new WorldModel(readCard("wm-caption", two).config as Partial<WorldModelConfig>);
    loadCheckpoint("wm-caption", model, two);
    const c = model.config, N = 2, Fr = model.frames, shape = [N, Fr, c.latentChannels, c.latentSize, c.latentSize];
    const x = Float32Array.from({ length: N * Fr * c.latentChannels * c.latentSize ** 2 }, (_, i) => 0.7 * Math.sin(0.31 * i));
    const tt = Float32Array.of(20, 980), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 3 + 1) % c.numActions);
    const cap = encodeCaptions(captionTokenizer(), ["a yellow ball bounces in a room. the agent walks right.", null]);
    const e = await parity(root, two, "wm-caption", "WorldModel", {
      x: { shape, data: x }, t: { shape: [N], data: tt }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) },
      caption: { shape: [N, cap.length / N], data: BigInt64Array.from(cap, BigInt) },
    }, model.predictNext(tensor(x, { shape }), tensor(tt, { shape: [N] }), tensor(a, { shape: [N, Fr] }), tensor(cap, { shape: [N, cap.length / N] })), "next");
    t.diagnostic(`TypeScript vs PyTorch forward with a caption: rel err ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `forward rel err ${e}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
