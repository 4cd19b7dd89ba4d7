/**
 * `npm run train -- text-to-video --engine torch` (gloo, CPU), a few steps on a small training set:
 *  - `npm run data -- text-to-video` writes the training set textToVideoData makes (the same clips kept, the same
 *    recaptioned captions, the same held-out drops), which PyTorch trains on;
 *  - two processes (DDP, caption GPT and DiT) end with the weights of one process with the doubled batch;
 *  - the checkpoint loads into the TypeScript TextToVideoDiT and its forward equals PyTorch's within 1e-5;
 *  - the shipped TypeScript-trained checkpoint continues under torch, and the torch one under the TypeScript trainer
 *    (its frozen caption GPT untouched both ways).
 * The caption GPT trains 3 steps here (recipeOverrides; the recipe's 600 take ~40 s on 2 loaded cores).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "../nextframe/engine/index";
import { loadSafetensors, saveSafetensors } from "../nextframe/io/safetensors";
import { checkpointsDir, loadAutoencoder, loadTextToVideo, readCard, textToVideoData, trainTextToVideo } from "../nextframe/course/index";
import { captionTokens } from "../nextframe/models/textToVideo";
import { writeDataset, type DataIndex } from "../train/data";
import { trainWithTorch, type TorchOptions } from "../train/torch";
import { relErr, requireTorch, runPython, skipWithoutTorch } from "./torchEnv";
import { checkpointWeights, freshOutput as freshOut, maxWeightDiff as maxDiff } from "./testCheckpoints";

const NAME = "text-to-video";
const weights = (dir: string) => checkpointWeights(dir, NAME);

async function train(out: string, data: string, steps: number, t: Partial<TorchOptions>): Promise<string> {
  let text = "";
  await trainWithTorch(NAME, { steps, out, log: (l) => { text += `${l}\n`; }, progress: () => {} }, {
    nproc: 1, device: "cpu", nnodes: 1, rdzvId: "t2v-test", resume: false, eval: false, data, threads: 1, logEvery: 1, recipeOverrides: { gptSteps: 3 },
    output: (s) => { text += s; }, ...t,
  });
  return text;
}

test("text-to-video on PyTorch DDP (gloo): textToVideoData's training set, 2 processes = 1, loads into TypeScript, resumes a TypeScript checkpoint", { skip: skipWithoutTorch(), timeout: 600_000 }, async (t) => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-t2v-"));
  try {
    const data = join(root, "data");
    const index: DataIndex = await writeDataset({ world: "text-to-video", clips: 32, shards: 2, out: data, seed: 33, split: "train", frames: 16, size: 32, workers: 2, autoencoder: checkpointsDir() });

    await t.test("npm run data -- text-to-video writes textToVideoData's training set", async () => {
      const ts = await textToVideoData(loadAutoencoder(), { seed: 33, numTrain: 32 });
      const captions = (JSON.parse(readFileSync(join(data, "train_captions.json"), "utf8")) as (string | null)[]).filter((c) => c !== null);
      const info = index.textToVideo!;
      assert.ok(info.droppedHeldout > 0 && info.recaptioned > 0, `the test's 32 clips should drop and recaption some (dropped ${info.droppedHeldout}, recaptioned ${info.recaptioned})`);
      assert.deepEqual(captions, ts.captions, "the training captions differ from textToVideoData's");
      assert.equal(info.clips, ts.train.length);
      assert.equal(info.droppedHeldout, ts.droppedHeldout);
      assert.equal(info.recaptioned, ts.recaptioned.filter(Boolean).length);
      assert.equal(info.recaptionF1, ts.recaptionF1);
    });

    const two = freshOut(root, "two"), one = freshOut(root, "one");
    const log2 = await train(two, data, 2, { nproc: 2, batchSize: 4 });
    await train(one, data, 2, { nproc: 1, batchSize: 4 });

    await t.test("2 processes × batch 2 = 1 process × batch 4 (caption GPT and DiT)", () => {
      assert.match(log2, /\[text-to-video\] caption GPT: 3 steps in [\d.]+ s, loss \d+\.\d{4}/);
      assert.match(log2, /\[text-to-video\] step 2\/2 {2}loss \d+\.\d{4} {2}[\d.]+ it\/s {2}eta 0m00s {2}\(torch, 2×cpu\)/);
      const card = readCard(NAME, two) as ReturnType<typeof readCard> & { gptSeconds: number; wallSeconds: number; trainSeconds: number; data: { clips: number }; trainableParameters: number; parameters: number };
      assert.equal(card.model, "TextToVideoDiT");
      assert.equal(card.engine, "torch");
      assert.equal(card.worldSize, 2);
      assert.equal(card.device, "cpu");
      assert.ok(card.gptSeconds > 0 && card.wallSeconds >= card.trainSeconds);
      assert.deepEqual(card.data.clips, index.textToVideo!.clips);
      assert.ok(card.trainableParameters < card.parameters, "the caption GPT should be frozen (not trainable)");
      // AdamW divides each gradient by its running size, so where a gradient nearly cancels (zero-initialised
      // adaLN and cross-attention outputs, min-SNR-weighted noisy clips) float-level differences between summing 4
      // samples and averaging two ranks' 2 can flip single entries of those weights' first steps. Hence: all weights
      // within 1e-5 relative (L2), and each tensor within 5 % relative (L2) — a rank that trained on the wrong
      // slice, or gradients not averaged, moves whole tensors by their whole update (~100 % of a zero-initialised one).
      const a = weights(two), b = weights(one);
      let num = 0, den = 0, worst = 0, worstName = "";
      for (const [k, x] of a) {
        const y = b.get(k)!;
        let n = 0, m = 0;
        for (let i = 0; i < x.length; i++) { n += (x[i]! - y[i]!) ** 2; m += y[i]! ** 2; }
        num += n; den += m;
        if (Math.sqrt(n / Math.max(m, 1e-30)) > worst) { worst = Math.sqrt(n / Math.max(m, 1e-30)); worstName = k; }
      }
      const rel = Math.sqrt(num / den);
      t.diagnostic(`2 processes vs 1: rel L2 ${rel.toExponential(2)}, max |Δw| ${maxDiff(a, b).toExponential(2)}, worst tensor ${worstName} at ${(100 * worst).toFixed(3)} % (rel L2)`);
      assert.ok(rel < 1e-5, `weights differ by ${rel} (relative L2)`);
      assert.ok(worst < 0.05, `${worstName} differs by ${(100 * worst).toFixed(2)} % (relative L2)`);
      assert.ok(a.get("final_layer.linear.weight")!.some((v) => Math.abs(v) > 1e-4), "the final layer did not train");
    });

    await t.test("the torch checkpoint loads into the TypeScript TextToVideoDiT; forward equal within 1e-5", async () => {
      const model = loadTextToVideo(two);
      const c = model.config, N = 2, Fr = 8, shape = [N, Fr, c.latentChannels, 16, 16];
      const x = Float32Array.from({ length: N * Fr * c.latentChannels * 256 }, (_, i) => 0.9 * Math.sin(0.23 * i + 0.1));
      const tt = Float32Array.of(30, 870), cap = captionTokens(c, ["a red ball bounces in a room. the agent walks right.", null]);
      const inPath = join(root, "in.safetensors"), outPath = join(root, "out.safetensors");
      saveSafetensors(inPath, { x: { shape, data: x }, t: { shape: [N], data: tt }, caption: { shape: [N, c.textLength], data: BigInt64Array.from(cap, BigInt) } });
      runPython("nextframe_torch.parity", ["TextToVideoDiT", "--card", join(two, `${NAME}.json`), "--weights", join(two, `${NAME}.safetensors`), "--inputs", inPath, "--out", outPath]);
      const ref = loadSafetensors(outPath).tensors.get("out")!.data as Float32Array;
      const ours = (await model.forward(tensor(x, { shape }), tensor(tt, { shape: [N] }), tensor(cap, { dtype: "int32", shape: [N, c.textLength] })).data()) as Float32Array;
      assert.ok(ref.some((v) => Math.abs(v) > 1e-4), "the trained output is trivially zero");
      t.diagnostic(`TypeScript vs PyTorch forward: rel err ${relErr(ours, ref).toExponential(2)}`);
      assert.ok(relErr(ours, ref) < 1e-5, `forward rel err ${relErr(ours, ref)}`);
    });

    await t.test("the torch checkpoint continues under the TypeScript trainer (init); its caption GPT stays frozen", async () => {
      const model = loadTextToVideo(two), before = weights(two);
      const ts = await textToVideoData(loadAutoencoder(), { seed: 33, numTrain: 16 });
      const r = await trainTextToVideo({ data: ts, config: "t2v-xs-gpt", steps: 1, batchSize: 2, lr: 1e-3, seed: 5, init: model });
      assert.equal(r.gptLoss, null, "a continued run must not retrain the caption GPT");
      assert.equal(r.model.config.latentScale, readCard(NAME, two).config.latentScale, "the torch latentScale was not kept");
      const after = new Map(Object.entries(r.model.stateDict()).map(([k, v]) => [k, v._value as Float32Array]));
      assert.equal(maxDiff(after, before, (k) => k.startsWith("text_encoder.")), 0, "the frozen caption GPT changed");
      // one AdamW step (lr 1e-3, no weight decay) moves a weight by at most the learning rate
      const d = maxDiff(after, before);
      assert.ok(d > 1e-5 && d <= 1e-3 + 1e-6, `one TypeScript step from the torch weights moved them by up to ${d}`);
    });

    await t.test("the shipped TypeScript checkpoint continues under torch; its frozen caption GPT stays as it was", async () => {
      const fromTs = freshOut(root, "from-ts", ["autoencoder.json", "autoencoder.safetensors", `${NAME}.json`, `${NAME}.safetensors`]);
      const shipped = readCard(NAME, fromTs);
      const before = weights(fromTs);
      const out = await train(fromTs, data, 1, { batchSize: 2, resume: true });
      assert.match(out, /starting from the ts checkpoint's weights \(\d+ steps\), fresh optimizer/);
      assert.doesNotMatch(out, /caption GPT:/, "a resumed run must not retrain the caption GPT");
      const card = readCard(NAME, fromTs);
      assert.deepEqual(card.resumedFrom, { engine: "ts", steps: shipped.steps });
      assert.equal(card.config.latentScale, shipped.config.latentScale, "the TypeScript latentScale was not kept");
      const after = weights(fromTs);
      assert.equal(maxDiff(after, before, (k) => k.startsWith("text_encoder.")), 0, "the frozen caption GPT changed");
      // one AdamW step moves a weight by about its learning rate at most (2e-3; a 0.1-step warm-up starts at the full
      // rate; decoupled weight decay adds lr·λ·|w|)
      const d = maxDiff(after, before);
      assert.ok(d > 1e-5 && d <= 2.05e-3, `one torch step from the TypeScript weights moved them by up to ${d}`);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
