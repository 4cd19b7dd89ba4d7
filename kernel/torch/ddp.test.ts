/**
 * `npm run train -- world-model --engine torch` on this machine's CPU (gloo), a few steps on 8 clips:
 *  (a) two processes (DistributedDataParallel, batch 2 each) end with the weights of one process with batch 4;
 *  (b) the checkpoint loads into the TypeScript WorldModel and its forward equals PyTorch's within 1e-5;
 *  (c) resuming: a torch run stopped after step 1 and resumed ends exactly where the uninterrupted run does; a
 *      TypeScript-trained checkpoint continues under torch, and a torch checkpoint continues under the TypeScript
 *      trainer (trainWorldModel's `init`), each from the other's weights.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "../nextframe/engine/index";
import { loadSafetensors, saveSafetensors } from "../nextframe/io/safetensors";
import { loadWorldModel, readCard, videoWorldData } from "../nextframe/course/index";
import { writeDataset } from "../train/data";
import { relErr, requireTorch, runPython, skipWithoutTorch } from "./torchEnv";
import { assertWorldModelRoundTrip, checkpointWeights, freshOutput as freshOut, maxWeightDiff as maxDiff } from "./testCheckpoints";

const ROOT = join(__dirname, "..", "..");
const NAME = "world-model";
const weights = (dir: string) => checkpointWeights(dir, NAME);

function trainTorch(out: string, data: string, args: string[]): string {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "kernel/train/main.ts"), NAME, "--engine", "torch", "--data", data, "--out", out,
    "--no-eval", "--log-every", "1", "--threads", "1", ...args], { encoding: "utf8", cwd: ROOT, timeout: 300_000 });
  assert.equal(r.status, 0, `torch training failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test("world model on PyTorch DDP (gloo, 2 processes): equal to one process, loads into TypeScript, resumes across engines", { skip: skipWithoutTorch(), timeout: 900_000 }, async (t) => {
  requireTorch();
  const root = mkdtempSync(join(tmpdir(), "nf-ddp-"));
  try {
    const data = join(root, "data");
    await writeDataset({ world: "video-world", clips: 8, shards: 2, out: data, seed: 2, split: "train", frames: 32, size: 32, workers: 2 });
    const two = freshOut(root, "two"), one = freshOut(root, "one");
    const log2 = trainTorch(two, data, ["--nproc", "2", "--steps", "3", "--batch-size", "4"]);
    trainTorch(one, data, ["--nproc", "1", "--steps", "3", "--batch-size", "4"]);

    await t.test("(a) 2 processes × batch 2 = 1 process × batch 4", () => {
      assert.match(log2, /\[world-model\] step 3\/3 {2}loss \d+\.\d{4} {2}[\d.]+ it\/s {2}eta 0m00s {2}\(torch, 2×cpu\)/);
      const card = readCard(NAME, two);
      assert.equal(card.engine, "torch");
      assert.equal(card.worldSize, 2);
      assert.equal(card.device, "cpu");
      assert.equal(card.host, hostname(), "the card names the machine rank 0 ran on");
      assert.equal(card.completedSteps, 3);
      assert.ok(card.trainSeconds > 0);
      assert.equal(readCard(NAME, one).worldSize, 1);
      const a = weights(two), b = weights(one);
      const d = maxDiff(a, b);
      t.diagnostic(`2 processes vs 1: max |Δw| ${d.toExponential(2)}`);
      assert.ok(d < 1e-5, `weights differ by up to ${d}`);
      // and training moved them: the final layer starts at zero (adaLN-Zero)
      assert.ok(a.get("final_layer.linear.weight")!.some((v) => Math.abs(v) > 1e-4), "the final layer did not train");
    });

    await t.test("(b) the torch checkpoint loads into the TypeScript WorldModel; forward equal within 1e-5", async () => {
      const model = loadWorldModel(two, NAME);
      const c = model.config, N = 2, Fr = model.frames, L = c.latentChannels * c.latentSize ** 2;
      assert.equal(c.latentScale, readCard(NAME, two).config.latentScale);
      const x = Float32Array.from({ length: N * Fr * L }, (_, i) => 0.8 * Math.sin(0.37 * i + 0.3));
      const tt = Float32Array.of(10, 900), a = Int32Array.from({ length: N * Fr }, (_, i) => (i * 5 + 1) % c.numActions);
      const inPath = join(root, "in.safetensors"), outPath = join(root, "out.safetensors");
      saveSafetensors(inPath, { x: { shape: [N, Fr, c.latentChannels, c.latentSize, c.latentSize], data: x }, t: { shape: [N], data: tt }, a: { shape: [N, Fr], data: BigInt64Array.from(a, BigInt) } });
      runPython("nextframe_torch.parity", ["WorldModel", "--card", join(two, `${NAME}.json`), "--weights", join(two, `${NAME}.safetensors`), "--inputs", inPath, "--out", outPath]);
      const ref = loadSafetensors(outPath).tensors.get("next")!.data as Float32Array;
      const ours = (await model.predictNext(tensor(x, { shape: [N, Fr, c.latentChannels, c.latentSize, c.latentSize] }), tensor(tt, { shape: [N] }), tensor(a, { shape: [N, Fr] })).data()) as Float32Array;
      t.diagnostic(`TypeScript vs PyTorch forward: rel err ${relErr(ours, ref).toExponential(2)}`);
      assert.ok(relErr(ours, ref) < 1e-5, `predict_next rel err ${relErr(ours, ref)}`);
      // the change the model adds to the last context frame, alone (the residual copy would hide a mismatch)
      const last = (k: number) => x[(Math.floor(k / L) * Fr + Fr - 2) * L + (k % L)]!;
      const dOurs = ours.map((v, k) => v - last(k)), dRef = ref.map((v, k) => v - last(k));
      assert.ok(dRef.some((v) => Math.abs(v) > 1e-4), "the trained change is trivially zero");
      t.diagnostic(`TypeScript vs PyTorch predicted change: rel err ${relErr(dOurs, dRef).toExponential(2)}`);
      assert.ok(relErr(dOurs, dRef) < 1e-4, `predicted change rel err ${relErr(dOurs, dRef)}`);
    });

    await t.test("(c) a torch run stopped after step 1 and resumed ends where the uninterrupted run ends", () => {
      const split = freshOut(root, "split");
      const first = trainTorch(split, data, ["--nproc", "1", "--steps", "3", "--batch-size", "4", "--stop-at", "1"]);
      assert.match(first, /at step 1 of 3 \(--stop-at; --resume continues\)/);
      assert.equal(readCard(NAME, split).completedSteps, 1);
      const second = trainTorch(split, data, ["--nproc", "1", "--steps", "3", "--batch-size", "4", "--resume"]);
      assert.match(second, /resuming a torch run at step 1\/3/);
      assert.equal(readCard(NAME, split).completedSteps, 3);
      const d = maxDiff(weights(split), weights(one));
      assert.ok(d === 0, `resumed weights differ from the uninterrupted run by up to ${d}`);
    });

    await t.test("(c) a TypeScript-trained checkpoint continues under torch, and a torch checkpoint under TypeScript", async () => {
      const clips = videoWorldData({ seed: 2, numTrain: 8, numVal: 0 });
      const { fromTs } = await assertWorldModelRoundTrip({ name: NAME, root, config: "wm-xs-16", clips, torchDir: two,
        resumeUnderTorch: (dir) => trainTorch(dir, data, ["--nproc", "1", "--steps", "1", "--batch-size", "2", "--resume"]) });
      assert.deepEqual(readCard(NAME, fromTs).resumedFrom, { engine: "ts", steps: 2 });
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
