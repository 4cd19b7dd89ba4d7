/**
 * Parity with a PyTorch DiT that uses facebookresearch/DiT's parameter names (test/bench/peers/dit_reference.py):
 * the same random weights (written by torch as safetensors, loaded by name), the same input → the same output
 * and the same attention probabilities within 1e-4 relative error. Runs only where /usr/bin/python3 (or $NEXTFRAME_PYTHON) imports torch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor, withCapture, type Tensor } from "../engine/index";
import { loadSafetensors, saveSafetensors } from "../io/safetensors";
import { Generator } from "../engine/generator.js";
import { DiT } from "./dit";

const PY = process.env.NEXTFRAME_PYTHON ?? "/usr/bin/python3";
const PEER = join(__dirname, "..", "..", "..", "test", "bench", "peers", "dit_reference.py");
const hasTorch = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test("DiT matches the PyTorch reference (same weights via safetensors, same input)", { skip: hasTorch ? false : `${PY} cannot import torch` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "nf-dit-parity-"));
  try {
    const args = ["--config", "DiT-S/4", "--depth", "2", "--input-size", "16", "--num-classes", "10"];
    const run = (cmd: string[]) => {
      const r = spawnSync(PY, [PEER, ...cmd, ...args], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "2" } });
      assert.equal(r.status, 0, r.stderr);
    };
    const wPath = join(dir, "w.safetensors"), inPath = join(dir, "in.safetensors"), outPath = join(dir, "out.safetensors");
    run(["init", "--out", wPath, "--seed", "3", "--randomize-zero-init", "1"]);
    const model = new DiT("DiT-S/4", { depth: 2, inputSize: 16, numClasses: 10 });
    const file = loadSafetensors(wPath);
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of file.tensors) sd[k] = tensor(v.data as Float32Array, { shape: v.shape });
    model.loadStateDict(sd);
    const N = 3;
    const x = new Generator(7).randn(N * 4 * 16 * 16);
    const t = Float32Array.of(0, 421, 999), y = Int32Array.of(2, 10, 7); // 10 = the null class
    saveSafetensors(inPath, {
      x: { shape: [N, 4, 16, 16], data: x },
      t: { shape: [N], data: BigInt64Array.from([0n, 421n, 999n]) },
      y: { shape: [N], data: BigInt64Array.from([2n, 10n, 7n]) },
    });
    run(["forward", "--weights", wPath, "--inputs", inPath, "--out", outPath, "--capture-attn", "1"]);
    const ref = loadSafetensors(outPath).tensors;
    const { output, captured } = withCapture(() => model.forward(tensor(x, { shape: [N, 4, 16, 16] }), tensor(t, { shape: [N] }), tensor(y, { dtype: "int32", shape: [N] })));
    const ours = (await output.data()) as Float32Array;
    assert.deepEqual(output.shape, ref.get("out")!.shape);
    const refOut = ref.get("out")!.data as Float32Array;
    assert.ok(refOut.some((v) => Math.abs(v) > 1e-3), "reference output is trivially zero; weights were not randomized");
    const e = relErr(ours, refOut);
    assert.ok(e < 1e-4, `output rel err ${e}`);
    for (const name of ["blocks.0.attn", "blocks.1.attn"]) {
      const a = (await captured.get(name)!.data()) as Float32Array;
      const ea = relErr(a, ref.get(name)!.data as Float32Array);
      assert.ok(ea < 1e-4, `${name} rel err ${ea}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("probing torch.onnx.export of the reference DiT returns the same attention maps as our DiT's capture", { skip: hasTorch ? false : `${PY} cannot import torch` }, async () => {
  const { openOnnx, probeAttention, onnxDenoiser } = await import("../probe/index");
  const { createDiffusion } = await import("../diffusion/index");
  const dir = mkdtempSync(join(tmpdir(), "nf-dit-probe-"));
  try {
    const args = ["--config", "DiT-S/4", "--depth", "2", "--input-size", "16", "--num-classes", "10", "--batch", "2"];
    const run = (cmd: string[]) => {
      const r = spawnSync(PY, [PEER, ...cmd, ...args], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "2" } });
      assert.equal(r.status, 0, r.stderr);
    };
    const wPath = join(dir, "w.safetensors"), onnxPath = join(dir, "dit.onnx");
    run(["init", "--out", wPath, "--seed", "5", "--randomize-zero-init", "1"]);
    run(["export", "--weights", wPath, "--out", onnxPath, "--dynamic", "1"]);
    const m = openOnnx(onnxPath);
    const sm = m.softmaxNodes();
    assert.equal(sm.length, 2, m.describe());
    const x = new Generator(8).randn(2 * 4 * 16 * 16);
    const { maps, outputs } = await probeAttention(m, {
      x: { data: x, shape: [2, 4, 16, 16] }, t: { data: [10, 900], shape: [2] }, y: { data: [1, 10], shape: [2] },
    });
    assert.deepEqual(maps[0].shape, [2, 6, 16, 16]);
    const model = new DiT("DiT-S/4", { depth: 2, inputSize: 16, numClasses: 10 });
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of loadSafetensors(wPath).tensors) sd[k] = tensor(v.data as Float32Array, { shape: v.shape });
    model.loadStateDict(sd);
    const { output, captured } = withCapture(() => model.forward(tensor(x, { shape: [2, 4, 16, 16] }), tensor(Float32Array.of(10, 900), { shape: [2] }), tensor(Int32Array.of(1, 10), { dtype: "int32", shape: [2] })));
    for (let i = 0; i < 2; i++) {
      const ours = (await captured.get(`blocks.${i}.attn`)!.data()) as Float32Array;
      assert.ok(relErr(ours, maps[i].data) < 1e-4, `block ${i} maps rel err ${relErr(ours, maps[i].data)}`);
    }
    assert.ok(relErr((await output.data()) as Float32Array, outputs.out.data) < 1e-4);
    // the exported file as a denoiser for our sampler
    const den = await onnxDenoiser(m);
    try {
      const s = await createDiffusion({ timestepRespacing: "ddim3" }).ddimSampleLoop(den, [2, 4, 16, 16], { y: Int32Array.of(1, 2), seed: 0 });
      assert.ok(s.every(Number.isFinite));
    } finally { await den.release(); }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
