/**
 * GPU benchmark (`npm run bench -- gpu`, issues 4 and 5): the engine and DiT on every GPU provider that loads
 * (webgpu, cuda), against onnxruntime's CPU provider with all cores of the same machine, and against PyTorch
 * on CUDA where a `python3` with torch sees a GPU. On a machine without a GPU it prints one line per provider
 * saying why it was skipped, and stops.
 *
 * Cases (one JSON line each; `ratio` = cpu_s / gpu_s, so above 1 the GPU is faster):
 * - DiT-B/2 and DiT-S/2 forward, batch 8, 32×32×4 latents (issue 5's goal: GPU ≥ 10× CPU), compiled with
 *   frozen weights as the sampler runs it, with the GPU output's largest error relative to the CPU output; for
 *   B/2 also against 2 CPU threads (the machine this project is sized for); each on the GPU in float32 and with
 *   `autocast: "float16"` (products in half precision, as PyTorch users run DiT under torch.autocast), both
 *   against the CPU in float32;
 * - 10 DDIM steps of DiT-B/2 at batch 8 (the sampler driving the compiled denoiser), float32 and autocast;
 * - a fused train step (forward + backward + AdamW) of the DiT-S/4-sized transformer of the engine bench, at
 *   batch 8 and 64;
 * - eager matmul 2048 (host↔device copies included, as an eager call has them);
 * - PyTorch peer: the same DiT forward in test/bench/peers/dit_reference.py on cuda, fp32 and under
 *   torch.autocast(float16) (ratio = peer_s / ours_s).
 * Env: GPU_BENCH_REPEATS (default 10), NEXTFRAME_PYTHON (default python3 on PATH; "none" skips the peer),
 * NEXTFRAME_WEBGPU_OPTIONS (provider options, see engine/session.ts).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { F, Tensor, compile, manualSeed, randint, randn, setDevice } from "../../kernel/nextframe/engine/index.js";
import { getDevice, type Device } from "../../kernel/nextframe/engine/session.js";
import { AdamW, makeTrainStep } from "../../kernel/nextframe/optim/index.js";
import { DiT, ditDenoiser } from "../../kernel/nextframe/models/dit.js";
import { createDiffusion } from "../../kernel/nextframe/diffusion/index.js";
import { Transformer } from "./engine.bench.js";
import { emit, timeIt as timeItMedian } from "./timing.js";

const REPEATS = Number(process.env.GPU_BENCH_REPEATS ?? 10);
const CPU_THREADS = availableParallelism();

const timeIt = (fn: () => Promise<unknown>, repeats = REPEATS, warmup = 3) => timeItMedian(fn, repeats, warmup);

async function on(device: Device): Promise<void> {
  await setDevice(device, device === "cpu" ? { threads: CPU_THREADS } : {});
}

/** max |a − b| / max |b|: the GPU result's error relative to the CPU result's scale. */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return d / (m || 1);
}

function torchCudaPeer(config: string, batch: number, autocast = "none"): { median_s: number; device: string } | { skipped: string } {
  const py = process.env.NEXTFRAME_PYTHON ?? "python3";
  if (py === "none") return { skipped: "NEXTFRAME_PYTHON=none" };
  const check = spawnSync(py, ["-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)"], { encoding: "utf8" });
  if (check.status !== 0) return { skipped: check.status === 3 ? `${py}: torch sees no CUDA device` : `${py} cannot import torch` };
  const r = spawnSync(py, [join(__dirname, "peers", "dit_reference.py"), "bench", "--config", config, "--batch", String(batch), "--device", "cuda", "--autocast", autocast, "--repeats", String(REPEATS * 2), "--warmup", "5"], { encoding: "utf8" });
  if (r.status !== 0) return { skipped: `peer failed: ${r.stderr.trim().split("\n").pop()}` };
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

async function ditForward(gpus: Device[]): Promise<void> {
  const B = 8;
  for (const name of ["DiT-B/2", "DiT-S/2"]) {
    manualSeed(0);
    const model = new DiT(name);
    model.eval();
    // adaLN-Zero starts at output 0 exactly: perturb every weight so the CPU-vs-GPU comparison means something
    for (const p of model.parameters()) p._value = (await p.add(randn(p.shape).mul(0.02)).data()) as Float32Array;
    const x = randn([B, 4, 32, 32], { seed: 1 }), t = randint(0, 1000, [B], { seed: 2 }), y = randint(0, 1000, [B], { seed: 3 });
    const forward = (xx: Tensor, tt: Tensor, yy: Tensor) => model.forward(xx, tt, yy);
    const fwd = compile(forward, { freeze: true }), fwd16 = compile(forward, { freeze: true, autocast: "float16" });
    const run = async () => (await fwd(x, t, y)).data() as Promise<Float32Array>;
    const run16 = async () => (await fwd16(x, t, y)).data() as Promise<Float32Array>;
    await on("cpu");
    const ref = await run();
    const cpuS = await timeIt(run, Math.max(3, REPEATS / 2), 1);
    const c = `${name.replace("DiT-", "")} b${B}`;
    // the CPU this project is sized for (2 cores, as in CI and the workshop laptops), on the same machine
    let cpu2S: number | undefined;
    if (name === "DiT-B/2") {
      await setDevice("cpu", { threads: 2 });
      cpu2S = await timeIt(run, 3, 1);
    }
    for (const g of gpus) {
      await on(g);
      const out = await run();
      const gpuS = await timeIt(run);
      emit({ bench: "gpu", case: `dit-forward ${c}`, device: g, options: process.env.NEXTFRAME_WEBGPU_OPTIONS, ours_s: gpuS, cpu_s: cpuS, cpu_threads: CPU_THREADS, ratio: cpuS / gpuS, goal: name === "DiT-B/2" ? 10 : undefined,
        ...(cpu2S ? { cpu_2_threads_s: cpu2S, ratio_vs_2_threads: cpu2S / gpuS } : {}), rel_err_vs_cpu: relErr(out, ref) });
      const out16 = await run16();
      const gpu16S = await timeIt(run16);
      emit({ bench: "gpu", case: `dit-forward ${c} autocast float16`, device: g, ours_s: gpu16S, cpu_s: cpuS, cpu_threads: CPU_THREADS, ratio: cpuS / gpu16S, goal: name === "DiT-B/2" ? 10 : undefined,
        ...(cpu2S ? { cpu_2_threads_s: cpu2S, ratio_vs_2_threads: cpu2S / gpu16S } : {}), speedup_vs_float32: gpuS / gpu16S, rel_err_vs_cpu: relErr(out16, ref) });
      const peer = torchCudaPeer(name, B);
      if ("skipped" in peer) emit({ bench: "gpu", case: `dit-forward ${c}`, device: g, ours_s: gpuS, peer: "pytorch-cuda", skipped: peer.skipped });
      else emit({ bench: "gpu", case: `dit-forward ${c}`, device: g, ours_s: gpuS, peer: `pytorch-${peer.device} fp32`, peer_s: peer.median_s, ratio: peer.median_s / gpuS });
      const peer16 = torchCudaPeer(name, B, "float16");
      if (!("skipped" in peer16)) emit({ bench: "gpu", case: `dit-forward ${c} autocast float16`, device: g, ours_s: gpu16S, peer: `pytorch-${peer16.device} autocast fp16`, peer_s: peer16.median_s, ratio: peer16.median_s / gpu16S });
    }
  }
}

async function ditSampling(gpus: Device[]): Promise<void> {
  manualSeed(0);
  const model = new DiT("DiT-B/2");
  model.eval();
  // off adaLN-Zero's all-zero start (as in ditForward), so the float16 samples' error means something
  for (const p of model.parameters()) p._value = (await p.add(randn(p.shape).mul(0.02)).data()) as Float32Array;
  const den = ditDenoiser(model), den16 = ditDenoiser(model, { autocast: "float16" });
  const labels = Int32Array.from({ length: 8 }, (_, i) => i);
  const sample = (d = den) => createDiffusion({ timestepRespacing: "ddim10" }).ddimSampleLoop(d, [8, 4, 32, 32], { y: labels, seed: 0 });
  const times: Partial<Record<Device, number>> = {}, times16: Partial<Record<Device, number>> = {};
  let ref: Float32Array | undefined;
  const err16: Partial<Record<Device, number>> = {};
  for (const d of ["cpu", ...gpus] as Device[]) {
    await on(d);
    times[d] = await timeIt(() => sample(), 2, 1);
    if (d === "cpu") { ref = await sample(); continue; }
    times16[d] = await timeIt(() => sample(den16), 2, 1);
    err16[d] = relErr(await sample(den16), ref!);
  }
  for (const g of gpus) {
    emit({ bench: "gpu", case: "dit-ddim10 B/2 b8", device: g, ours_s: times[g], cpu_s: times.cpu, ratio: times.cpu! / times[g]! });
    emit({ bench: "gpu", case: "dit-ddim10 B/2 b8 autocast float16", device: g, ours_s: times16[g], cpu_s: times.cpu, ratio: times.cpu! / times16[g]!, sample_rel_err_vs_cpu: err16[g] });
  }
}

/**
 * The fused train step on a GPU keeps the AdamW moments there (gpu-buffer outputs fed back) and copies the
 * parameters in and out each step; batch 8 and 64 show how much of a step does not grow with the batch.
 */
async function trainStep(gpus: Device[]): Promise<void> {
  for (const B of [8, 64]) await trainStepAt(gpus, B);
}

async function trainStepAt(gpus: Device[], B: number): Promise<void> {
  const times: Partial<Record<Device, number>> = {};
  const c = `train step DiT-S/4-sized transformer b${B}`;
  for (const d of ["cpu", ...gpus] as Device[]) {
    await on(d);
    manualSeed(0);
    const model = new Transformer();
    const x = randn([B, 64, 64]), y = randn([B, 64, 64]);
    const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
    const step = makeTrainStep(model, (a: Tensor, b: Tensor) => F.mseLoss(model.forward(a), b), opt);
    try {
      times[d] = await timeIt(() => step(x, y), B > 8 ? 4 : REPEATS, B > 8 ? 1 : 3);
    } catch (e) {
      emit({ bench: "gpu", case: c, device: d, skipped: String((e as Error).message).split("\n")[0] });
    }
  }
  for (const g of gpus) if (times[g] && times.cpu) emit({ bench: "gpu", case: c, device: g, ours_s: times[g], cpu_s: times.cpu, cpu_threads: CPU_THREADS, ratio: times.cpu / times[g]! });
}

async function matmul(gpus: Device[]): Promise<void> {
  const n = 2048, flops = 2 * n ** 3;
  const a = randn([n, n]), b = randn([n, n]);
  const mm = async () => { await a.matmul(b).data(); };
  await on("cpu");
  const cpuS = await timeIt(mm);
  for (const g of gpus) {
    await on(g);
    const s = await timeIt(mm);
    emit({ bench: "gpu", case: `eager matmul ${n} (copies included)`, device: g, ours_s: s, ours_gflops: flops / s / 1e9, cpu_s: cpuS, cpu_gflops: flops / cpuS / 1e9, ratio: cpuS / s });
  }
}

export async function main(): Promise<void> {
  const gpus: Device[] = [];
  for (const d of ["webgpu", "cuda"] as const) {
    try {
      const r = await setDevice(d);
      gpus.push(d);
      emit({ bench: "gpu", case: `${d} provider`, device: d, loaded: true, reason: r.reason });
    } catch (e) {
      emit({ bench: "gpu", case: `${d} provider`, device: d, skipped: String((e as Error).message) });
    }
  }
  if (gpus.length === 0) return;
  const only = process.env.BENCH_CASES?.split(",");
  const want = (c: string) => !only || only.includes(c);
  if (want("dit")) await ditForward(gpus);
  if (want("sample")) await ditSampling(gpus);
  if (want("train")) await trainStep(gpus);
  if (want("matmul")) await matmul(gpus);
  emit({ bench: "gpu", case: "done", device: getDevice().device, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) });
}
