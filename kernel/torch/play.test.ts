/**
 * `npm run train -- world-model-play --engine torch` (gloo, CPU), a few steps on 8 clips of the playable world:
 *  - `npm run data -- play-world` writes videoWorldData's clips in PLAY_WORLD (agent radius 0.6, 0.3 a step), and
 *    the trainer refuses data of another world than its recipe's;
 *  - two processes end with the weights of one process with the doubled batch (the diffusion on the change, deltaStd,
 *    and the noise on the last context latent, lastContextNoise, as the recipe's config says);
 *  - the checkpoint loads into the TypeScript WorldModel, forward equal within 1e-5; it continues under the
 *    TypeScript trainer, and a TypeScript-trained one continues under torch.
 * And, without data: a recipe option or config field the trainer does not know makes it refuse, naming it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "../nextframe/engine/index";
import { loadSafetensors, saveSafetensors } from "../nextframe/io/safetensors";
import { PLAY_WORLD, WORLD_MODEL_PLAY_RECIPE, loadWorldModel, readCard, videoWorldData } from "../nextframe/course/index";
import { worldModelConfig } from "../nextframe/models/worldModel";
import { readNpyUint8, writeDataset, type DataIndex } from "../train/data";
import { trainWithTorch, type TorchOptions } from "../train/torch";
import { relErr, requireTorch, runPython, skipWithoutTorch } from "./torchEnv";
import { assertWorldModelRoundTrip, checkpointWeights, freshOutput as freshOut, maxWeightDiff as maxDiff } from "./testCheckpoints";

const NAME = "world-model-play";
const weights = (dir: string) => checkpointWeights(dir, NAME);

async function train(name: string, out: string, data: string, steps: number, t: Partial<TorchOptions>): Promise<string> {
  let text = "";
  await trainWithTorch(name, { steps, out, log: (l) => { text += `${l}\n`; }, progress: () => {} }, {
    nproc: 1, device: "cpu", nnodes: 1, rdzvId: "play-test", resume: false, eval: false, data, threads: 1, logEvery: 1, output: (s) => { text += s; }, ...t,
  }).catch((e: Error) => { throw new Error(`${e.message}\n${text}`); });
  return text;
}

test("world-model-play on PyTorch DDP (gloo): the playable world's data, 2 processes = 1, loads into TypeScript, resumes across engines", { skip: skipWithoutTorch(), timeout: 600_000 }, async (t) => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-play-"));
  try {
    const data = join(root, "data");
    const index: DataIndex = await writeDataset({ world: "play-world", clips: 8, shards: 2, out: data, seed: 2, split: "train", frames: 32, size: 32, workers: 2 });
    const clips = videoWorldData({ seed: 2, numTrain: 8, numVal: 0, world: PLAY_WORLD });

    await t.test("npm run data -- play-world writes videoWorldData's clips of the playable world", () => {
      assert.equal(index.videoWorld, "play");
      let k = 0;
      for (const sh of index.shards) {
        const { data: frames } = readNpyUint8(join(data, sh.arrays.frames!.file));
        for (let j = 0; j < sh.count; j++, k++) {
          const want = clips.train[k]!.frames;
          assert.ok(Buffer.from(frames.subarray(j * want.length, (j + 1) * want.length)).equals(Buffer.from(want)), `clip ${k}'s frames differ from videoWorldData's in PLAY_WORLD`);
        }
      }
      // and they are not the default world's clips (same seeds, a larger and faster agent)
      const plain = videoWorldData({ seed: 2, numTrain: 1, numVal: 0 }).train[0]!.frames;
      assert.ok(!Buffer.from(plain).equals(Buffer.from(clips.train[0]!.frames)));
    });

    await t.test("a recipe of another world refuses the playable world's data", async () => {
      const out = freshOut(root, "wrong-world");
      await assert.rejects(train("world-model", out, data, 1, { batchSize: 2 }), /cannot train world-model: .*holds clips of the 'play' video world; the world-model recipe trains in the 'default' world/);
      assert.equal(existsSync(join(out, "world-model.json")), false);
    });

    const two = freshOut(root, "two"), one = freshOut(root, "one");
    const log2 = await train(NAME, two, data, 3, { nproc: 2, batchSize: 4 });
    await train(NAME, one, data, 3, { nproc: 1, batchSize: 4 });

    await t.test("2 processes × batch 2 = 1 process × batch 4, with the recipe's config", () => {
      assert.match(log2, /\[world-model-play\] step 3\/3 {2}loss \d+\.\d{4} {2}[\d.]+ it\/s {2}eta 0m00s {2}\(torch, 2×cpu\)/);
      const card = readCard(NAME, two);
      assert.equal(card.engine, "torch");
      assert.equal(card.worldSize, 2);
      assert.equal((card.recipe as { world?: string }).world, "play");
      const want = worldModelConfig(WORLD_MODEL_PLAY_RECIPE.config);
      assert.ok(want.deltaStd > 0 && want.lastContextNoise > 0, "wm-play trains on the change with noise on the last context latent");
      assert.equal(card.config.deltaStd, want.deltaStd);
      assert.equal(card.config.lastContextNoise, want.lastContextNoise);
      const d = maxDiff(weights(two), weights(one));
      t.diagnostic(`2 processes vs 1: max |Δw| ${d.toExponential(2)}`);
      assert.ok(d < 1e-5, `weights differ by up to ${d}`);
    });

    await t.test("the torch checkpoint loads into the TypeScript WorldModel; forward equal within 1e-5", async () => {
      const model = loadWorldModel(two, NAME);
      const c = model.config, N = 2, Fr = model.frames, L = c.latentChannels * c.latentSize ** 2, shape = [N, Fr, c.latentChannels, c.latentSize, c.latentSize];
      const x = Float32Array.from({ length: N * Fr * L }, (_, i) => 0.8 * Math.sin(0.29 * i + 0.2));
      const tt = Float32Array.of(40, 700), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 3 + 2) % c.numActions);
      const inPath = join(root, "in.safetensors"), outPath = join(root, "out.safetensors");
      saveSafetensors(inPath, { x: { shape, data: x }, t: { shape: [N], data: tt }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) } });
      runPython("nextframe_torch.parity", ["WorldModel", "--card", join(two, `${NAME}.json`), "--weights", join(two, `${NAME}.safetensors`), "--inputs", inPath, "--out", outPath]);
      const ref = loadSafetensors(outPath).tensors.get("next")!.data as Float32Array;
      const ours = (await model.predictNext(tensor(x, { shape }), tensor(tt, { shape: [N] }), tensor(a, { shape: [N, Fr] })).data()) as Float32Array;
      t.diagnostic(`TypeScript vs PyTorch forward: rel err ${relErr(ours, ref).toExponential(2)}`);
      assert.ok(relErr(ours, ref) < 1e-5, `predict_next rel err ${relErr(ours, ref)}`);
    });

    await t.test("a TypeScript-trained world-model-play continues under torch, and the torch one under TypeScript", async () => {
      await assertWorldModelRoundTrip({ name: NAME, root, config: WORLD_MODEL_PLAY_RECIPE.config, clips, torchDir: two,
        resumeUnderTorch: (dir) => train(NAME, dir, data, 1, { batchSize: 2, resume: true }) });
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a world model with context-noise levels (GameNGen) trains under torch: 2 processes = 1, loads into TypeScript, forward equal at a level", { skip: skipWithoutTorch(), timeout: 600_000 }, async (t) => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-levels-"));
  try {
    const data = join(root, "data");
    await writeDataset({ world: "play-world", clips: 6, shards: 2, out: data, seed: 2, split: "train", frames: 32, size: 32, workers: 2 });
    // no recipe trains one yet: world-model-play's recipe with a levelled config (the fields TypeScript's config validates)
    const levels = { contextNoiseLevels: 4, contextNoiseMax: 0.3, contextNoise: 0, lastContextNoise: 0 };
    const two = freshOut(root, "two"), one = freshOut(root, "one");
    await train(NAME, two, data, 2, { nproc: 2, batchSize: 4, configOverrides: levels });
    await train(NAME, one, data, 2, { nproc: 1, batchSize: 4, configOverrides: levels });
    const d = maxDiff(weights(two), weights(one));
    t.diagnostic(`2 processes vs 1: max |Δw| ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `weights differ by up to ${d}`);
    const model = loadWorldModel(two, NAME);
    assert.equal(model.config.contextNoiseLevels, 4);
    assert.deepEqual(weights(two).get("n_embedder.weight")!.length, 4 * model.config.hiddenSize);
    const c = model.config, N = 2, Fr = model.frames, L = c.latentChannels * c.latentSize ** 2, shape = [N, Fr, c.latentChannels, c.latentSize, c.latentSize];
    const x = Float32Array.from({ length: N * Fr * L }, (_, i) => 0.8 * Math.sin(0.31 * i + 0.4));
    const tt = Float32Array.of(60, 800), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 5 + 2) % c.numActions), level = Int32Array.of(3, 1);
    const inPath = join(root, "in.safetensors"), outPath = join(root, "out.safetensors");
    saveSafetensors(inPath, { x: { shape, data: x }, t: { shape: [N], data: tt }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) }, level: { shape: [N], data: BigInt64Array.from(level, BigInt) } });
    runPython("nextframe_torch.parity", ["WorldModel", "--card", join(two, `${NAME}.json`), "--weights", join(two, `${NAME}.safetensors`), "--inputs", inPath, "--out", outPath]);
    const ref = loadSafetensors(outPath).tensors.get("next")!.data as Float32Array;
    const ours = (await model.predictNext(tensor(x, { shape }), tensor(tt, { shape: [N] }), tensor(a, { shape: [N, Fr] }), undefined, tensor(level, { shape: [N] })).data()) as Float32Array;
    t.diagnostic(`TypeScript vs PyTorch forward at levels 3 and 1: rel err ${relErr(ours, ref).toExponential(2)}`);
    assert.ok(relErr(ours, ref) < 1e-5, `predict_next rel err ${relErr(ours, ref)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the torch trainer refuses a recipe option or config field it does not know, naming it, before writing data or launching", { skip: skipWithoutTorch(), timeout: 120_000 }, async () => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-refuse-"));
  try {
    const out = freshOut(root, "out"), data = join(root, "no-data-yet");
    const refuse = (name: string, t: Partial<TorchOptions>, why: RegExp) => assert.rejects(train(name, out, data, 1, t), why);
    // an option a TypeScript recipe could gain (say, dropping whole context windows): the trainer does not know it
    await refuse(NAME, { recipeOverrides: { contextDropout: 0.3 } }, /cannot train world-model-play: .*recipe has option 'contextDropout' \(0\.3\), which the PyTorch WorldModel trainer does not know/);
    await refuse(NAME, { configOverrides: { frameSkip: 2 } }, /config has field 'frameSkip' \(2\), which the PyTorch WorldModel trainer does not know/);
    await refuse("text-to-video", { recipeOverrides: { emaDecay: 0.999 } }, /recipe has option 'emaDecay' \(0\.999\)/);
    // more cases in one Python process (check_job, what --check runs): a known field at a value it cannot train, other models
    const jobs = [
      { name: "a", model: "WorldModel", recipe: {}, config: { attention: "axial" }, want: `attention = "axial"; the PyTorch WorldModel trainer trains "factorized" or "full"` },
      { name: "b", model: "TextToVideoDiT", recipe: {}, config: { predict: "sample" }, want: `predict = "sample"; the PyTorch TextToVideoDiT trainer trains "x0", "v" or "epsilon"` },
      { name: "c", model: "Autoencoder", recipe: { perceptualWeight: 0.1 }, config: {}, want: "option 'perceptualWeight' (0.1), which the PyTorch Autoencoder trainer does not know" },
      { name: "d", model: "GPT", recipe: { decayGroups: true }, config: {}, want: "option 'decayGroups' (true), which the PyTorch GPT trainer does not know" },
      { name: "e", model: "WorldModel", recipe: { motion: { weight: 2, threshold: 0.1 } }, config: { captionVocab: 40 }, want: "the motion-weighted loss is for action-conditioned models" },
      // and the shipped recipe with its full config passes
      { name: "f", model: "WorldModel", recipe: WORLD_MODEL_PLAY_RECIPE, config: worldModelConfig(WORLD_MODEL_PLAY_RECIPE.config), want: null },
    ];
    const said = JSON.parse(runPython("nextframe_torch.train", ["--explain-refusals", JSON.stringify(jobs)])) as (string | null)[];
    jobs.forEach((j, i) => assert.ok(j.want === null ? said[i] === null : said[i]?.includes(j.want), `job ${j.name}: expected ${j.want === null ? "no refusal" : `a refusal saying ${j.want}`}, got ${said[i]}`));
    assert.equal(existsSync(data), false, "a refused job wrote data");
    assert.deepEqual(readdirSync(out).sort(), ["autoencoder.json", "autoencoder.safetensors"], "a refused job wrote a checkpoint");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
