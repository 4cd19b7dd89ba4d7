/**
 * DiT benchmarks (issue 5): forward of DiT-S/2, S/4, B/4 at batch 8, 32×32×4 latents, 2 threads —
 * ours (the library DiT compiled to one ONNX graph) vs tuned PyTorch eager (test/bench/peers/dit_reference.py)
 * vs onnxruntime-node on `torch.onnx.export` of that reference; plus 50 DDIM steps of DiT-S/4 at batch 4
 * and the process's peak memory after sampling. Prints one JSON object per line. Peers needing torch skip cleanly.
 *
 * "ours" is the forward compiled with `compile(fn, { freeze: true })` (parameters baked in as initializers,
 * as the sampler's ditDenoiser runs it and as the torch export has them); `ours_fed_s` is the default compile
 * that feeds the parameters on every call (what a training loop's eval sees). The onnxruntime peer gets the
 * same session options as ours (2 threads, sequential, no intra-op spinning), so both see the machine alike.
 * With torch, ours and the export run the same weights (the reference's `init` with the adaLN-Zero zeros perturbed,
 * loaded into ours; the line reports their outputs' max_abs_diff). Both peers alternate with ours run by run
 * (PyTorch as a long-lived process, timing.ts TorchPeer), so a change in the shared machine's load hits both
 * sides of each ratio.
 *
 * Env: DIT_BENCH_CONFIGS="DiT-S/4,DiT-B/4" to choose configs, DIT_BENCH_REPEATS (default 5).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { compile, randn, randint, setDevice, tensor, type Tensor } from "../../kernel/nextframe/engine/index";
import { loadSafetensors } from "../../kernel/nextframe/io/safetensors";
import { DiT, ditDenoiser } from "../../kernel/nextframe/models/dit";
import { createDiffusion } from "../../kernel/nextframe/diffusion/index";
import { PY, torchMissing } from "../../kernel/torch/torchEnv";
import { TUNED_ENV, TorchPeer, emit, interleave, runs, timeIt } from "./timing";

const here = typeof __dirname !== "undefined" ? __dirname : dirname(fileURLToPath(import.meta.url));
const PEER = join(here, "peers", "dit_reference.py");
const THREADS = 2;

export async function main(): Promise<void> {
  await setDevice("cpu", { threads: THREADS });
  const configs = (process.env.DIT_BENCH_CONFIGS ?? "DiT-S/2,DiT-S/4,DiT-B/4").split(",");
  const repeats = Number(process.env.DIT_BENCH_REPEATS ?? 5);
  const noTorch = torchMissing();
  const dir = mkdtempSync(join(tmpdir(), "nf-dit-bench-"));
  const B = 8;
  try {
    // 50 DDIM steps, DiT-S/4, batch 4, learned sigma, class-conditional; first, so the process's peak memory is the sampler's
    // (the forward comparisons below load B/4-sized weights several times over)
    {
      const model = new DiT("DiT-S/4");
      model.eval();
      const diffusion = createDiffusion({ timestepRespacing: "ddim50" });
      const den = ditDenoiser(model);
      const labels = Int32Array.of(1, 2, 3, 4);
      await createDiffusion({ timestepRespacing: "1" }).ddimSampleLoop(den, [4, 4, 32, 32], { y: labels, seed: 0 }); // trace + warm up
      const t0 = performance.now();
      await diffusion.ddimSampleLoop(den, [4, 4, 32, 32], { y: labels, seed: 0 });
      emit({ bench: "dit-ddim50", case: "S/4 b4", ours_s: (performance.now() - t0) / 1000 });
      emit({ bench: "dit-memory", case: "peak rss after DDIM-50 S/4 b4", peak_mb: Math.round(process.resourceUsage().maxRSS / 1024) });
    }
    for (const name of configs) {
      const model = new DiT(name);
      model.eval();
      // With torch: both sides run the same weights, the reference's init with its adaLN-Zero zeros perturbed. Paper-init
      // zeros are degenerate for a timing: onnxruntime merges the export's 12 identical all-zero adaLN GEMMs into one.
      const wPath = join(dir, `${name.replace(/\W/g, "_")}.safetensors`);
      const init = noTorch ? null : spawnSync(PY, [PEER, "init", "--config", name, "--out", wPath, "--seed", "0", "--randomize-zero-init", "1"], { encoding: "utf8", env: { ...process.env, ...TUNED_ENV } });
      const shared = init?.status === 0;
      if (shared) {
        const sd: Record<string, Tensor> = {};
        for (const [k, v] of loadSafetensors(wPath).tensors) sd[k] = tensor(v.data as Float32Array, { shape: v.shape });
        model.loadStateDict(sd);
      }
      const x = randn([B, 4, 32, 32], { seed: 1 });
      const t = randint(0, 1000, [B], { seed: 2 });
      const y = randint(0, 1000, [B], { seed: 3 });
      const fwd = compile((xx, tt, yy) => model.forward(xx, tt, yy), { freeze: true });
      const fwdFed = compile((xx, tt, yy) => model.forward(xx, tt, yy));
      const forward = async () => { const o = await fwd(x, t, y); await o.data(); };
      // ours timed alone: only for the lines whose peer is skipped (the compared lines time ours beside the peer)
      const oursAlone = () => timeIt(forward, repeats);
      const c = `${name.replace("DiT-", "")} b${B}`;
      if (noTorch) {
        const ours = await oursAlone();
        emit({ bench: "dit-forward", case: c, ours_s: ours, peer: "pytorch", skipped: noTorch });
        emit({ bench: "dit-forward", case: c, ours_s: ours, peer: "onnxruntime-on-torch-export", skipped: noTorch });
      } else {
        // the PyTorch peer as a long-lived process whose runs alternate with ours in rounds (same machine load)
        const started = await TorchPeer.start(PEER, ["serve", "--config", name, "--batch", String(B), "--threads", String(THREADS), "--warmup", "2"]);
        if (typeof started === "string") emit({ bench: "dit-forward", case: c, ours_s: await oursAlone(), peer: "pytorch", skipped: `peer failed: ${started}` });
        else {
          try {
            const r = await interleave(repeats, 1, runs(forward), async (k) => (await started.ask(`forward ${k}`)).times);
            if (r.peer === null) emit({ bench: "dit-forward", case: c, ours_s: r.ours, peer: "pytorch", skipped: `peer failed: ${r.error}` });
            else emit({ bench: "dit-forward", case: c, ours_s: r.ours, peer: "pytorch-eager-tuned", peer_s: r.peer, ratio: r.peer / r.ours });
          } finally {
            started.close();
          }
        }
        const onnxPath = join(dir, `${name.replace(/\W/g, "_")}.onnx`);
        const ex = spawnSync(PY, [PEER, "export", "--config", name, "--batch", String(B), "--out", onnxPath, ...(shared ? ["--weights", wPath] : [])], { encoding: "utf8", env: { ...process.env, ...TUNED_ENV } });
        if (ex.status !== 0) emit({ bench: "dit-forward", case: c, ours_s: await oursAlone(), peer: "onnxruntime-on-torch-export", skipped: `export failed: ${ex.stderr.trim().split("\n").pop()}` });
        else {
          const sess = await ort.InferenceSession.create(onnxPath, {
            intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all",
            extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
          });
          const feeds = {
            x: new ort.Tensor("float32", (await x.data()) as Float32Array, [B, 4, 32, 32]),
            t: new ort.Tensor("int64", BigInt64Array.from(Array.from((await t.data()) as ArrayLike<number | bigint>, (v) => BigInt(v))), [B]),
            y: new ort.Tensor("int64", BigInt64Array.from(Array.from((await y.data()) as ArrayLike<number | bigint>, (v) => BigInt(v))), [B]),
          };
          // same weights on both sides: the outputs must agree (a timing of two different computations means nothing)
          let maxDiff: number | undefined;
          if (shared) {
            const theirs = (await sess.run(feeds))[sess.outputNames[0]!]!.data as Float32Array, ours = (await (await fwd(x, t, y)).data()) as Float32Array;
            maxDiff = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i]!)), 0);
          }
          // ours (frozen) and the peer alternate run by run, each turn after one untimed run (timing.ts interleave), so both
          // see the same machine load and neither pays for the other's cache state; then the fed compile against the peer alike
          const peerRuns = runs(() => sess.run(feeds));
          const frozen = await interleave(repeats, 1, runs(forward), peerRuns);
          const fed = await interleave(repeats, 1, runs(async () => (await fwdFed(x, t, y)).data()), peerRuns);
          const peerS = frozen.peer;
          if (peerS === null) emit({ bench: "dit-forward", case: c, ours_s: frozen.ours, peer: "onnxruntime-on-torch-export", skipped: `peer failed: ${frozen.error}` });
          else emit({ bench: "dit-forward", case: c, ours_s: frozen.ours, peer: "onnxruntime-on-torch-export", peer_s: peerS, ratio: peerS / frozen.ours, ...(maxDiff === undefined ? {} : { max_abs_diff: maxDiff }), ours_fed_s: fed.ours, ...(fed.peer === null ? {} : { ratio_fed: fed.peer / fed.ours }) });
          await sess.release();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

