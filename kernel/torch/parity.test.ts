/**
 * The PyTorch twins (nextframe_torch) against the TypeScript models: each shipped checkpoint in notebooks/checkpoints
 * is built from its card's `config` on both sides, loaded by name (strict on the PyTorch side), run on the same
 * inputs, and the outputs compared within 1e-5 relative (L2); the text-to-video DiT on a square 16-frame and a wide
 * 8-frame grid. DiT has no shipped checkpoint: random weights written by the TypeScript side. The inputs and outputs
 * travel as safetensors, read on the PyTorch side with the built-in reader for the world model (the `safetensors`
 * package, when installed, for the others).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor, type Tensor } from "../nextframe/engine/index";
import { loadSafetensors, saveSafetensors, type SafetensorsInput } from "../nextframe/io/safetensors";
import { checkpointsDir, loadCheckpoint, loadTextToVideo, readCard } from "../nextframe/course/index";
import { captionTokens } from "../nextframe/models/textToVideo";
import { GPT, type GPTConfig } from "../nextframe/models/gpt";
import { WorldModel, captionTokenizer, encodeCaptions, type WorldModelConfig } from "../nextframe/models/worldModel";
import { Autoencoder, type AutoencoderConfig } from "../nextframe/models/autoencoder";
import { DiT } from "../nextframe/models/dit";
import { relErr, requireTorch, runPython, skipWithoutTorch } from "./torchEnv";

const skip = skipWithoutTorch();
const wave = (n: number, f: number, a = 1) => Float32Array.from({ length: n }, (_, i) => a * Math.sin(f * i + 0.3));

/** Writes the inputs, runs nextframe_torch.parity, returns its outputs by name. */
function torchForward(dir: string, model: string, card: string, weights: string, inputs: Record<string, SafetensorsInput>, builtin = false): Map<string, Float32Array> {
  const inPath = join(dir, `${model}.in.safetensors`), outPath = join(dir, `${model}.out.safetensors`);
  saveSafetensors(inPath, inputs);
  runPython("nextframe_torch.parity", [model, "--card", card, "--weights", weights, "--inputs", inPath, "--out", outPath, ...(builtin ? ["--builtin-io"] : [])]);
  const out = new Map<string, Float32Array>();
  for (const [k, v] of loadSafetensors(outPath).tensors) out.set(k, v.data as Float32Array);
  return out;
}

async function close(ours: Tensor, ref: Float32Array | undefined, what: string): Promise<void> {
  assert.ok(ref, `${what}: PyTorch returned no output`);
  const a = (await ours.data()) as Float32Array;
  assert.ok(ref.some((v) => Math.abs(v) > 1e-3), `${what}: the PyTorch output is trivially zero`);
  const e = relErr(a, ref);
  assert.ok(e < 1e-5, `${what}: rel err ${e} (want < 1e-5)`);
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    requireTorch();
    const dir = mkdtempSync(join(tmpdir(), "nf-torch-parity-"));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

const ck = (name: string) => ({ card: join(checkpointsDir(), `${name}.json`), weights: join(checkpointsDir(), `${name}.safetensors`) });

test("GPT (gpt-textworld checkpoint): PyTorch logits equal the TypeScript ones", { skip }, withDir(async (dir) => {
  const card = readCard("gpt-textworld");
  const model = new GPT(card.config as Partial<GPTConfig>);
  loadCheckpoint("gpt-textworld", model);
  const B = 2, T = 40, V = model.config.vocabSize;
  const idx = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + (i >> 3)) % V);
  const ref = torchForward(dir, "GPT", ck("gpt-textworld").card, ck("gpt-textworld").weights, { idx: { shape: [B, T], data: BigInt64Array.from(idx, BigInt) } });
  await close(model.forward(tensor(idx, { shape: [B, T] })).logits, ref.get("logits"), "GPT logits");
}));

for (const name of ["world-model", "world-model-memory", "world-model-play"]) {
  test(`WorldModel (${name} checkpoint): PyTorch predict_next equals the TypeScript one`, { skip }, withDir(async (dir) => {
    const card = readCard(name);
    const model = new WorldModel(card.config as Partial<WorldModelConfig>);
    loadCheckpoint(name, model);
    const c = model.config, N = 2, Fr = model.frames, L = c.latentChannels * c.latentSize ** 2;
    const x = wave(N * Fr * L, 0.37, 0.8), t = Float32Array.of(0, 500), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 5 + 1) % c.numActions);
    // models with context-noise levels also get a level per sample (0 and the highest)
    const level = c.contextNoiseLevels > 0 ? Int32Array.of(0, c.contextNoiseLevels - 1) : null;
    const ref = torchForward(dir, "WorldModel", ck(name).card, ck(name).weights, {
      x: { shape: [N, Fr, c.latentChannels, c.latentSize, c.latentSize], data: x }, t: { shape: [N], data: t },
      a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) }, ...(level ? { level: { shape: [N], data: BigInt64Array.from(level, BigInt) } } : {}),
    }, name === "world-model");
    const ours = model.predictNext(tensor(x, { shape: [N, Fr, c.latentChannels, c.latentSize, c.latentSize] }), tensor(t, { shape: [N] }), tensor(a, { shape: [N, Fr] }), undefined, level ? tensor(level, { shape: [N] }) : undefined);
    await close(ours, ref.get("next"), `${name} predict_next`);
  }));
}

/** Gives every weight of a TypeScript model a non-trivial value (adaLN-Zero starts at 0); writes them and a card. */
function randomized(model: { stateDict(): Record<string, Tensor>; loadStateDict(sd: Record<string, Tensor>): void; config: object }, dir: string, name: string, kind: string) {
  const sd: Record<string, Tensor> = {}, weights: Record<string, SafetensorsInput> = {};
  let k = 0;
  for (const [n, p] of Object.entries(model.stateDict())) {
    // the caption table larger than the rest, so that a caption visibly moves the output
    const v = n === "pos_embed" ? (p._value as Float32Array) : wave(p.size, 0.7 + 0.01 * k++, n.startsWith("c_embedder") ? 2 : 0.05);
    sd[n] = tensor(v, { shape: p.shape });
    weights[n] = { shape: p.shape, data: v };
  }
  model.loadStateDict(sd);
  const paths = { weights: join(dir, `${name}.safetensors`), card: join(dir, `${name}.json`) };
  saveSafetensors(paths.weights, weights);
  writeFileSync(paths.card, JSON.stringify({ name, model: kind, config: model.config }));
  return paths;
}

for (const attention of ["full", "factorized"] as const) {
  test(`WorldModel with captions and ${attention} attention (random weights): PyTorch equals TypeScript, with and without a caption`, { skip }, withDir(async (dir) => {
    const tok = captionTokenizer();
    const model = new WorldModel({ latentSize: 8, patchSize: 4, hiddenSize: 32, depth: 2, numHeads: 2, residual: true, localPath: true, contextNoise: 0, captionVocab: tok.vocabSize, attention, memoryFrames: [10] });
    const name = `wm-caption-${attention}`, w = randomized(model, dir, name, "WorldModel");
    const c = model.config, N = 2, Fr = model.frames, shape = [N, Fr, c.latentChannels, c.latentSize, c.latentSize];
    const x = wave(N * Fr * c.latentChannels * c.latentSize ** 2, 0.29, 0.8), t = Float32Array.of(3, 640), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 5 + 2) % c.numActions);
    const cap = encodeCaptions(tok, ["a yellow ball bounces in a room. the yellow ball passes behind the tree. the agent walks right.", null]);
    const inputs = { x: { shape, data: x }, t: { shape: [N], data: t }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) } };
    const args = () => [tensor(x, { shape }), tensor(t, { shape: [N] }), tensor(a, { shape: [N, Fr] })] as const;
    const withCap = torchForward(dir, "WorldModel", w.card, w.weights, { ...inputs, caption: { shape: [N, cap.length / N], data: BigInt64Array.from(cap, BigInt) } });
    await close(model.predictNext(...args(), tensor(cap, { shape: [N, cap.length / N] })), withCap.get("next"), `${name} with a caption`);
    const without = torchForward(dir, "WorldModel", w.card, w.weights, inputs);
    await close(model.predictNext(...args()), without.get("next"), `${name} without a caption`);
    // the caption moves the first sample's prediction (the second has the null caption both times)
    const A = withCap.get("next")!, B = without.get("next")!, L = A.length / N;
    const moved = Math.max(...Array.from({ length: L }, (_, i) => Math.abs(A[i]! - B[i]!)));
    const still = Math.max(...Array.from({ length: L }, (_, i) => Math.abs(A[L + i]! - B[L + i]!)));
    assert.ok(moved > 1e-4 && still === 0, `the caption moved its sample by ${moved}, the null-caption sample by ${still}`);
  }));
}

test("WorldModel with context-noise levels (random weights): PyTorch equals TypeScript at each level, and the level moves the output", { skip }, withDir(async (dir) => {
  const model = new WorldModel({ latentSize: 8, patchSize: 4, hiddenSize: 32, depth: 2, numHeads: 2, residual: true, localPath: true, deltaStd: 0.1, contextNoise: 0, contextNoiseLevels: 4, contextNoiseMax: 0.3 });
  const w = randomized(model, dir, "wm-levels", "WorldModel");
  const c = model.config, N = 2, Fr = model.frames, shape = [N, Fr, c.latentChannels, c.latentSize, c.latentSize];
  const x = wave(N * Fr * c.latentChannels * c.latentSize ** 2, 0.31, 0.8), t = Float32Array.of(7, 900), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 5 + 3) % c.numActions);
  const inputs = { x: { shape, data: x }, t: { shape: [N], data: t }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) } };
  const outs: Float32Array[] = [];
  for (const level of [Int32Array.of(0, 1), Int32Array.of(3, 2)]) {
    const ref = torchForward(dir, "WorldModel", w.card, w.weights, { ...inputs, level: { shape: [N], data: BigInt64Array.from(level, BigInt) } });
    await close(model.predictNext(tensor(x, { shape }), tensor(t, { shape: [N] }), tensor(a, { shape: [N, Fr] }), undefined, tensor(level, { shape: [N] })), ref.get("next"), `levels ${level.join(", ")}`);
    outs.push(ref.get("next")!);
  }
  assert.ok(outs[0]!.some((v, i) => Math.abs(v - outs[1]![i]!) > 1e-4), "the level moves the PyTorch output");
}));

test("TextToVideoDiT (text-to-video checkpoint): PyTorch forward equals the TypeScript one, with a caption and the null caption, 16 and 8 frames", { skip }, withDir(async (dir) => {
  const model = loadTextToVideo();
  const c = model.config;
  for (const [Fr, H, W] of [[16, 16, 16], [8, 12, 16]] as const) {
    const N = 2, shape = [N, Fr, c.latentChannels, H, W];
    const x = wave(N * Fr * c.latentChannels * H * W, 0.27, 0.9), t = Float32Array.of(120, 760);
    const cap = captionTokens(c, ["a blue ball bounces in a room. the agent walks left.", null]);
    const ref = torchForward(dir, "TextToVideoDiT", ck("text-to-video").card, ck("text-to-video").weights, {
      x: { shape, data: x }, t: { shape: [N], data: t }, caption: { shape: [N, c.textLength], data: BigInt64Array.from(cap, BigInt) },
    });
    await close(model.forward(tensor(x, { shape }), tensor(t, { shape: [N] }), tensor(cap, { dtype: "int32", shape: [N, c.textLength] })), ref.get("out"), `text-to-video ${Fr}×${H}×${W}`);
  }
}));

test("Autoencoder (autoencoder checkpoint): PyTorch encode and decode equal the TypeScript ones", { skip }, withDir(async (dir) => {
  const card = readCard("autoencoder");
  const ae = new Autoencoder(card.config as Partial<AutoencoderConfig>);
  loadCheckpoint("autoencoder", ae);
  const S = ae.config.imageSize, N = 3, x = wave(N * 3 * S * S, 0.011, 0.9);
  const ref = torchForward(dir, "Autoencoder", ck("autoencoder").card, ck("autoencoder").weights, { x: { shape: [N, 3, S, S], data: x } });
  const z = ae.encode(tensor(x, { shape: [N, 3, S, S] }));
  await close(z, ref.get("z"), "autoencoder latents");
  await close(ae.decode(z), ref.get("recon"), "autoencoder reconstruction");
}));

test("DiT (random TypeScript weights, DiT-S/4 at depth 2): PyTorch output equals the TypeScript one", { skip }, withDir(async (dir) => {
  const model = new DiT("DiT-S/4", { depth: 2, inputSize: 16, numClasses: 10 });
  const { weights: wPath, card: cardPath } = randomized(model, dir, "dit", "DiT");
  const N = 2, x = wave(N * 4 * 16 * 16, 0.13), t = Float32Array.of(3, 777), y = Int32Array.of(1, 10);
  const ref = torchForward(dir, "DiT", cardPath, wPath, { x: { shape: [N, 4, 16, 16], data: x }, t: { shape: [N], data: t }, y: { shape: [N], data: BigInt64Array.from(y, BigInt) } });
  await close(model.forward(tensor(x, { shape: [N, 4, 16, 16] }), tensor(t, { shape: [N] }), tensor(y, { dtype: "int32", shape: [N] })), ref.get("out"), "DiT output");
}));
