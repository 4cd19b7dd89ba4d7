/**
 * Parity with the PyTorch twin (kernel/torch/nextframe_torch/models/text_to_video.py, driven by
 * test/bench/peers/text_to_video.py): the same random weights (ours, written as safetensors and loaded by name,
 * strict), the same inputs — a caption, the null caption, a wide grid — give the same output within 1e-4, for both
 * text encoders. Runs only where /usr/bin/python3 (or $NEXTFRAME_PYTHON) imports torch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "../engine/index";
import { loadSafetensors, saveSafetensors } from "../io/safetensors";
import { Generator } from "../engine/generator.js";
import { TextToVideoDiT, captionTokens } from "./textToVideo";

const PY = process.env.NEXTFRAME_PYTHON ?? "/usr/bin/python3";
const PEER = join(__dirname, "..", "..", "..", "test", "bench", "peers", "text_to_video.py");
const hasTorch = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

for (const textEncoder of ["scratch", "gpt"] as const) {
  test(`TextToVideoDiT (${textEncoder} text encoder) matches its PyTorch twin (same weights, same inputs)`, { skip: hasTorch ? false : `${PY} cannot import torch` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "nf-t2v-parity-"));
    try {
      const model = new TextToVideoDiT({ hiddenSize: 32, depth: 2, numHeads: 2, textWidth: 16, textLayers: 1, textHeads: 2, textEncoder, latentScale: 0.5 });
      const rng = new Generator(11);
      for (const [, p] of model.namedParameters()) { const v = p._value as Float32Array; for (let i = 0; i < v.length; i++) v[i] += 0.1 * rng.normal(); }
      const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of Object.entries(model.stateDict())) weights[k] = { shape: [...t.shape], data: t._value as Float32Array };
      const wPath = join(dir, "w.safetensors"), inPath = join(dir, "in.safetensors"), outPath = join(dir, "out.safetensors");
      saveSafetensors(wPath, weights);
      const N = 3, shape = [N, 4, 4, 8, 12];
      const x = new Generator(5).randn(shape.reduce((a, b) => a * b, 1));
      const t = Float32Array.of(0, 421, 999);
      const caption = captionTokens(model.config, ["a red ball bounces in a room. the agent walks left.", null, "a blue ball and a green ball bounce in a room. the agent stays put. the camera pans."]);
      saveSafetensors(inPath, { x: { shape, data: x }, t: { shape: [N], data: t }, caption: { shape: [N, model.config.textLength], data: BigInt64Array.from(caption, BigInt) } });
      const r = spawnSync(PY, [PEER, "parity", "--model", JSON.stringify(model.config), "--weights", wPath, "--inputs", inPath, "--out", outPath], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
      assert.equal(r.status, 0, r.stderr);
      const ref = loadSafetensors(outPath).tensors.get("out")!;
      const ours = (await model.forward(tensor(x, { shape }), tensor(t, { shape: [N] }), tensor(caption, { dtype: "int32", shape: [N, model.config.textLength] })).data()) as Float32Array;
      assert.deepEqual([...ref.shape], shape);
      const theirs = ref.data as Float32Array;
      assert.ok(theirs.some((v) => Math.abs(v) > 1e-2), "the twin's output is trivially small");
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
      assert.ok(maxDiff < 1e-4, `max |ours − torch| = ${maxDiff}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
