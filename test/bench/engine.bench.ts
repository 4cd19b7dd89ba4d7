/**
 * Engine benchmark (`npm run bench -- engine`), one JSON line per case:
 * - matmul 512/1024 GFLOP/s, ours (eager a.matmul(b)) vs a raw one-node onnxruntime MatMul session;
 * - eager small-op overhead and compiled call overhead (µs), vs a raw one-node session run;
 * - a train step of a DiT-S/4-sized transformer (12 blocks, hidden 384, 6 heads, 64 tokens, batch 8):
 *   ours (one fused session.run) vs PyTorch eager (test/bench/peers/transformer_train.py, tuned as in
 *   timing.ts); skipped cleanly when /usr/bin/python3 has no torch;
 * - where that step's time goes, from onnxruntime's per-node profile: matrix products, the AdamW update, the rest,
 *   and the ratio to PyTorch if all but the matrix products were free (the ceiling on the 2× goal);
 * - peak RSS over 200 train steps (and RSS growth after the first steps);
 * - `train-step`: the real DiT("DiT-S/4") and DiT-S/2 at batch 8 (makeTrainStep, MSE on the full 8-channel output,
 *   AdamW with clipping) vs tuned PyTorch running the official DiT structure (peers/dit_train.py) from the same weights
 *   and batch, interleaved; `train-profile`: where that step's time goes, forward / backward / optimizer, by op type.
 * Environment knobs: BENCH_CASES (a comma list of matmul, overhead, train, profile, rss, train-step, train-profile;
 * default all; profile reports its ratio only beside train), BENCH_DIT_CONFIGS (default "DiT-S/4,DiT-S/2"), BENCH_TRAIN_ROUNDS × BENCH_TRAIN_STEPS (default 4 × 4 timed steps each side),
 * BENCH_RSS_STEPS (default 200). Timings on a shared 2-core box are noisy: the peer is a long-lived process whose
 * steps alternate with ours in rounds, so both see the same load; we report medians over all rounds, and process CPU
 * seconds next to wall seconds.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { F, Tensor, randn, randint, compile, tensor, manualSeed, zeros } from "../../kernel/nextframe/engine/index.js";
import { ort, createSession, getDevice } from "../../kernel/nextframe/engine/session.js";
import { Module, Linear, LayerNorm, ModuleList, Parameter } from "../../kernel/nextframe/nn/index.js";
import { normal_ } from "../../kernel/nextframe/nn/init.js";
import { AdamW, makeTrainStep } from "../../kernel/nextframe/optim/index.js";
import { onnx } from "onnx-proto";
import { DiT } from "../../kernel/nextframe/models/dit.js";
import { loadSafetensors } from "../../kernel/nextframe/io/safetensors.js";
import { PY, torchMissing } from "../../kernel/torch/torchEnv";
import { TUNED_ENV, TorchPeer, emit, interleave, median } from "./timing";

const cpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** Times two functions alternately (same background load for both); returns their medians. */
async function timePair(a: () => Promise<unknown>, b: () => Promise<unknown>, reps: number, warm = 2): Promise<[number, number]> {
  for (let i = 0; i < warm; i++) { await a(); await b(); }
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now(); await a(); ta.push((performance.now() - t0) / 1000);
    t0 = performance.now(); await b(); tb.push((performance.now() - t0) / 1000);
  }
  return [median(ta), median(tb)];
}

function oneNodeModel(opType: string, shapes: number[][], outShape: number[], extraInputs: onnx.ITensorProto[] = []): Uint8Array {
  const vi = (name: string, s: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: s.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "raw", input: shapes.map((s, i) => vi(`x${i}`, s)), output: [vi("y", outShape)], initializer: extraInputs,
      node: [{ opType, input: [...shapes.map((_, i) => `x${i}`), ...extraInputs.map((t) => t.name!)], output: ["y"] }],
    },
  })).finish();
}

async function matmulCases(): Promise<void> {
  for (const n of [512, 1024]) {
    const a = randn([n, n]), b = randn([n, n]);
    const flops = 2 * n * n * n;
    const raw = await createSession(oneNodeModel("MatMul", [[n, n], [n, n]], [n, n]));
    const feeds = { x0: new ort.Tensor("float32", a._value as Float32Array, [n, n]), x1: new ort.Tensor("float32", b._value as Float32Array, [n, n]) };
    const [ours, peer] = await timePair(async () => { await a.matmul(b).data(); }, async () => { await raw.run(feeds); }, 21);
    emit({ bench: "engine", case: `matmul ${n}`, ours_s: ours, ours_gflops: flops / ours / 1e9, peer: "onnxruntime one-node MatMul", peer_s: peer, peer_gflops: flops / peer / 1e9, ratio: peer / ours });
  }
}

async function overheadCases(): Promise<void> {
  const x = randn([4, 4]);
  const f = compile((x: Tensor) => x.add(1));
  const raw = await createSession(oneNodeModel("Add", [[4, 4], [4, 4]], [4, 4]));
  const feeds = { x0: new ort.Tensor("float32", x._value as Float32Array, [4, 4]), x1: new ort.Tensor("float32", x._value as Float32Array, [4, 4]) };
  const [eager, peer] = await timePair(async () => { await x.add(1).data(); }, async () => { await raw.run(feeds); }, 400, 20);
  const [comp, peer2] = await timePair(async () => { await f(x); }, async () => { await raw.run(feeds); }, 400, 20);
  emit({ bench: "engine", case: "eager small op (4x4 add, await data)", ours_us: eager * 1e6, peer: "onnxruntime session.run (one-node, cached)", peer_us: peer * 1e6, overhead_us: (eager - peer) * 1e6, ratio: peer / eager });
  emit({ bench: "engine", case: "compiled call (4x4 add)", ours_us: comp * 1e6, peer: "onnxruntime session.run (one-node, cached)", peer_us: peer2 * 1e6, overhead_us: (comp - peer2) * 1e6, ratio: peer2 / comp });
}

// ------------------------------------------------------------ DiT-S/4-sized transformer (same as the peer)

class Block extends Module {
  norm1: LayerNorm; qkv: Linear; proj: Linear; norm2: LayerNorm; fc1: Linear; fc2: Linear;
  constructor(readonly d: number, readonly heads: number) {
    super();
    this.norm1 = new LayerNorm(d); this.qkv = new Linear(d, 3 * d); this.proj = new Linear(d, d);
    this.norm2 = new LayerNorm(d); this.fc1 = new Linear(d, 4 * d); this.fc2 = new Linear(4 * d, d);
  }
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const hs = C / this.heads;
    const qkv = this.qkv.forward(this.norm1.forward(x)).reshape([B, T, 3, this.heads, hs]).permute([2, 0, 3, 1, 4]); // (3, B, nh, T, hs)
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0)) as [Tensor, Tensor, Tensor];
    const y = F.scaledDotProductAttention(q, k, v); // (B, nh, T, hs)
    x = x.add(this.proj.forward(y.transpose(1, 2).reshape([B, T, C])));
    return x.add(this.fc2.forward(F.gelu(this.fc1.forward(this.norm2.forward(x)), "tanh")));
  }
}
export class Transformer extends Module {
  embed = new Linear(64, 384);
  pos = normal_(new Parameter(zeros([1, 64, 384])), 0.02);
  blocks = new ModuleList(Array.from({ length: 12 }, () => new Block(384, 6)));
  norm = new LayerNorm(384);
  head = new Linear(384, 64);
  forward(x: Tensor): Tensor {
    let h = this.embed.forward(x).add(this.pos);
    for (const b of this.blocks) h = b.forward(h);
    return this.head.forward(this.norm.forward(h));
  }
}

/** The benched step: the DiT-S/4-sized transformer, a fixed batch of 8, AdamW fused in (as the PyTorch peer). */
function transformerTrainStep() {
  manualSeed(0);
  const model = new Transformer();
  const x = randn([8, 64, 64]), y = randn([8, 64, 64]);
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  return { model, x, y, step: makeTrainStep(model, (x, y) => F.mseLoss(model.forward(x), y), opt) };
}

/** The train and RSS cases; resolves to the peer's median step time (null when it did not run). */
async function trainCases(): Promise<number | null> {
  const { model, x, y, step } = transformerTrainStep();
  const t0 = performance.now();
  await step(x, y);
  const compileS = (performance.now() - t0) / 1000;
  await step(x, y);
  const only = process.env.BENCH_CASES?.split(",");
  let peerTrainS: number | null = null;
  if (!only || only.includes("train")) {
    // rounds of (ours 1 + n steps, then the peer's 1 + n steps; the first of each turn untimed): both see the same load
    const rounds = Number(process.env.BENCH_TRAIN_ROUNDS ?? 4), n = Number(process.env.BENCH_TRAIN_STEPS ?? 4);
    const started = await TorchPeer.start(join(__dirname, "peers", "transformer_train.py"), ["serve", "--threads", "2", "--warmup", "2"]);
    const peer = typeof started === "string" ? null : started;
    const cs: number[] = [], peerCpu: number[] = [];
    try {
      const r = await interleave(rounds, n, async (k, warm) => {
        const ts: number[] = [];
        for (let i = 0; i < k; i++) {
          const c0 = cpuS(), w0 = performance.now();
          await step(x, y);
          ts.push((performance.now() - w0) / 1000);
          if (!warm) cs.push(cpuS() - c0);
        }
        return ts;
      }, peer && (async (k, warm) => { const o = await peer.ask(`train ${k}`); if (!warm) peerCpu.push(...o.cpu); return o.times; }));
      const base = { bench: "engine", case: "train step DiT-S/4-sized transformer b8 (fwd+bwd+AdamW)", params: model.numParameters(), threads: getDevice().threads, first_step_s: compileS, rounds, ours_s: r.ours, ours_cpu_s: median(cs) };
      if (r.peer === null) emit({ ...base, peer: "pytorch", skipped: r.error ? `peer failed: ${r.error}` : started as string });
      else {
        const info = await peer!.ask("info");
        if (info.params !== model.numParameters()) throw new Error(`engine bench: the PyTorch peer has ${info.params} parameters, ours ${model.numParameters()}: not the same model`);
        emit({ ...base, peer: "pytorch eager (tuned)", peer_s: r.peer, peer_cpu_s: median(peerCpu), cpu_ratio: median(peerCpu) / median(cs), peer_peak_rss_mb: info.peak_rss_mb, ratio: r.peer / r.ours });
        peerTrainS = r.peer;
      }
    } finally {
      peer?.close();
    }
  }
  if (only && !only.includes("rss")) return peerTrainS;
  // peak RSS over many steps: must not grow after the first steps
  const rssSteps = Number(process.env.BENCH_RSS_STEPS ?? 200);
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  let rssEarly = 0;
  const r0 = performance.now();
  for (let i = 0; i < rssSteps; i++) {
    await step(x, y);
    if (i === 9) rssEarly = rss();
  }
  emit({ bench: "engine", case: `train loop RSS over ${rssSteps} steps`, rss_after_10_mb: rssEarly, rss_end_mb: rss(), peak_rss_mb: process.resourceUsage().maxRSS / 1024, steps_per_s: rssSteps / ((performance.now() - r0) / 1000) });
  return peerTrainS;
}

/**
 * Where the train step's time goes, from onnxruntime's own per-node profile of the same step (a fresh session with
 * profiling on, 5 runs after 2 untimed ones): matrix products (Gemm, MatMul, FusedMatMul), the AdamW update
 * (the nodes whose output is one of makeTrainStep's flat 1-D parameter chunks) and everything else. With the
 * peer's time from the train case it reports the ratio we would reach if everything but the matrix products were
 * free: the ceiling that onnxruntime's GEMM kernels put on the goal of 2× PyTorch.
 */
async function profileCase(peerS: number | null): Promise<void> {
  const steps = 5, dir = mkdtempSync(join(tmpdir(), "nf-engine-profile-"));
  const { model, x, y, step } = transformerTrainStep();
  const before = process.env.NEXTFRAME_ORT_PROFILE;
  process.env.NEXTFRAME_ORT_PROFILE = join(dir, "train");   // read when the step's session is made (its first call)
  try {
    for (let i = 0; i < 2 + steps; i++) await step(x, y);
  } finally {
    if (before === undefined) delete process.env.NEXTFRAME_ORT_PROFILE; else process.env.NEXTFRAME_ORT_PROFILE = before;
  }
  try {
    step.session!.endProfiling();
    const file = readdirSync(dir).find((f) => f.endsWith(".json"));
    if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
    type Ev = { cat?: string; name: string; ts: number; dur: number; args?: { op_name?: string; output_type_shape?: Record<string, number[]>[] } };
    const events = JSON.parse(readFileSync(join(dir, file), "utf8")) as Ev[];
    const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(-steps);
    const from = runs[0]!.ts;
    const ms = { gemm: 0, optimizer: 0, other: 0 };
    for (const e of events) {
      if (e.cat !== "Node" || e.ts < from || !e.name.endsWith("_kernel_time")) continue;
      const op = e.args?.op_name ?? "", shape = Object.values(e.args?.output_type_shape?.[0] ?? {})[0] ?? [];
      const kind = ["Gemm", "MatMul", "FusedMatMul"].includes(op) ? "gemm" : shape.length === 1 && shape[0]! >= 1 << 20 ? "optimizer" : "other";
      ms[kind] += e.dur / 1000 / steps;
    }
    const run = median(runs.map((r) => r.dur / 1000));
    emit({
      bench: "engine", case: "train step DiT-S/4-sized b8: where the time goes (onnxruntime profile)", run_ms: run, gemm_ms: ms.gemm, optimizer_ms: ms.optimizer, other_ms: ms.other,
      gemm_gflops: trainGemmFlops(model, 8 * 64) / (ms.gemm / 1000) / 1e9,
      ...(peerS === null ? {} : { peer: "pytorch eager (tuned)", peer_s: peerS, ratio_if_only_gemm: peerS / (ms.gemm / 1000) }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** FLOPs of the train step's matrix products: forward, and twice that backward (dX and dW), for every Linear on N tokens, plus attention's QKᵀ and AV. */
function trainGemmFlops(model: Transformer, N: number): number {
  let f = 0;
  for (const [name, p] of model.namedParameters()) if (name.endsWith(".weight") && p.shape.length === 2) f += 2 * N * p.shape[0]! * p.shape[1]!;
  const [, T, D] = model.pos.shape as [number, number, number];
  f += model.blocks.length * 2 * (2 * (N / T) * T * T * D);   // QKᵀ and AV over all heads
  return 3 * f;
}

// ------------------------------------------------------------ the real DiT's train step (issue 31)

const DIT_PEER = join(__dirname, "peers", "dit_train.py");

/**
 * makeTrainStep on the library's DiT: MSE on the full (N, 8, 32, 32) output, AdamW(lr 1e-4, wd 0.01, clip 1), as the
 * PyTorch peer (peers/dit_train.py). With `weights` (the peer's init file) both sides start from the same weights and
 * batch, so their first losses must agree. `marks` records the tensor ids that split the traced graph into forward
 * (ids ≤ loss), backward and the optimizer (ids from the start of AdamW.update), for the profile.
 */
function ditTrainStep(config: string, B: number, weights: string | null) {
  manualSeed(0);
  const model = new DiT(config);
  let x = randn([B, 4, 32, 32], { seed: 1 }), t = randint(0, 1000, [B], { seed: 2 }), y = randint(0, 1000, [B], { seed: 3 });
  let target = randn([B, 8, 32, 32], { seed: 4 });
  if (weights) {
    const sd: Record<string, Tensor> = {};
    const all = loadSafetensors(weights).tensors;
    const get = (k: string) => { const v = all.get(k)!; return tensor(v.data as Float32Array, { shape: v.shape }); };
    for (const k of all.keys()) if (!k.startsWith("__")) sd[k] = get(k);
    model.loadStateDict(sd);
    [x, t, y, target] = ["__x", "__t", "__y", "__target"].map(get) as [Tensor, Tensor, Tensor, Tensor];
  }
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 });
  const marks = { loss: 0, update: 0 };
  const update = opt.update.bind(opt);
  opt.update = (...a) => { marks.update = new Tensor([], "float32").id; return update(...a); };
  const step = makeTrainStep(model, (xx, tt, yy, tgt) => {
    const loss = F.mseLoss(model.forward(xx, tt, yy), tgt);
    marks.loss = loss.id;
    return loss;
  }, opt);
  return { model, batch: [x, t, y, target] as const, step, marks, params: opt.params.reduce((n, p) => n + p.size, 0) };
}

/** The train-step lines: ours vs the tuned PyTorch peer on the same DiT, interleaved; then the profile of the same step. */
async function ditTrainCases(): Promise<void> {
  const configs = (process.env.BENCH_DIT_CONFIGS ?? "DiT-S/4,DiT-S/2").split(",");
  const B = 8;
  const only = process.env.BENCH_CASES?.split(",");
  const dir = mkdtempSync(join(tmpdir(), "nf-dit-train-"));
  try {
    for (const config of configs) {
      const c = `${config} b${B}`;
      const wPath = join(dir, `${config.replace(/\W/g, "_")}.safetensors`);
      const noTorch = torchMissing();
      const init = noTorch ? null : spawnSync(PY, [DIT_PEER, "init", "--config", config, "--batch", String(B), "--out", wPath], { encoding: "utf8", env: { ...process.env, ...TUNED_ENV } });
      const shared = init?.status === 0;
      let measured: { ours: number; peer: number } | null = null;
      if (!only || only.includes("train-step")) {
        const { step, batch, params } = ditTrainStep(config, B, shared ? wPath : null);
        const t0 = performance.now();
        const firstLoss = await step(...batch);
        const firstStepS = (performance.now() - t0) / 1000;
        const rounds = Number(process.env.BENCH_TRAIN_ROUNDS ?? 4), n = Number(process.env.BENCH_TRAIN_STEPS ?? 3);
        const started = shared ? await TorchPeer.start(DIT_PEER, ["serve", "--config", config, "--batch", String(B), "--threads", "2", "--weights", wPath, "--warmup", "1"]) : (noTorch ?? `peer init failed: ${init?.stderr.trim().split("\n").pop()}`);
        const peer = typeof started === "string" ? null : started;
        try {
          const cs: number[] = [], peerCpu: number[] = [];
          const r = await interleave(rounds, n, async (k, warm) => {
            const ts: number[] = [];
            for (let i = 0; i < k; i++) {
              const c0 = cpuS(), w0 = performance.now();
              await step(...batch);
              ts.push((performance.now() - w0) / 1000);
              if (!warm) cs.push(cpuS() - c0);
            }
            return ts;
          }, peer && (async (k, warm) => { const o = await peer.ask(`train ${k}`); if (!warm) peerCpu.push(...o.cpu); return o.times; }));
          const base = { bench: "train-step", case: c, params, first_step_s: firstStepS, rounds, ours_s: r.ours, ours_cpu_s: median(cs) };
          if (r.peer === null) emit({ ...base, peer: "pytorch-tuned", skipped: r.error ? `peer failed: ${r.error}` : started as string });
          else {
            const info = await peer!.ask("info");
            if (info.params !== params) throw new Error(`engine bench: the PyTorch DiT has ${info.params} trainable parameters, ours ${params}: not the same model`);
            const first = (await peer!.ask("train 0")).first_loss as number;
            emit({ ...base, peer: "pytorch-tuned", peer_s: r.peer, peer_cpu_s: median(peerCpu), ratio: r.peer / r.ours, first_loss: firstLoss, peer_first_loss: first, loss_rel_diff: Math.abs(firstLoss - first) / Math.abs(first) });
            measured = { ours: r.ours, peer: r.peer };
          }
        } finally {
          peer?.close();
        }
      }
      if (!only || only.includes("train-profile")) await ditProfile(config, B, shared ? wPath : null, measured);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type ProfileEvent = { cat?: string; name: string; ts: number; dur: number; args?: { op_name?: string; output_type_shape?: Record<string, number[]>[]; input_type_shape?: Record<string, number[]>[] } };

/**
 * onnxruntime's per-node profile of the DiT step (a fresh step with profiling on, 3 runs after 2 untimed), mapped back to
 * the graph by the tensor id at the end of every ONNX node name (onnx.ts): matrix products of the forward and of the
 * backward, the optimizer (AdamW.update's nodes), and the rest by phase and op type (ms per step), with the ceiling on
 * the ratio to PyTorch if everything but the products were free (the interleaved ratio × run / products); then the executed
 * graph's node counts per phase (after onnxruntime's fusions): Transposes, ReduceSums of ≥ 64 K elements, Casts, copies.
 */
async function ditProfile(config: string, B: number, weights: string | null, measured: { ours: number; peer: number } | null): Promise<void> {
  // BENCH_PROFILE_DIR keeps onnxruntime's profile there (for a closer look) instead of a temporary folder
  const keep = process.env.BENCH_PROFILE_DIR, steps = 3, dir = keep ?? mkdtempSync(join(tmpdir(), "nf-dit-profile-"));
  const { step, batch, marks } = ditTrainStep(config, B, weights);
  const before = process.env.NEXTFRAME_ORT_PROFILE;
  process.env.NEXTFRAME_ORT_PROFILE = join(dir, "train");
  try {
    for (let i = 0; i < 2 + steps; i++) await step(...batch);
  } finally {
    if (before === undefined) delete process.env.NEXTFRAME_ORT_PROFILE; else process.env.NEXTFRAME_ORT_PROFILE = before;
  }
  try {
    step.session!.endProfiling();
    const file = readdirSync(dir).find((f) => f.startsWith("train") && f.endsWith(".json"));
    if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
    if (keep) writeFileSync(join(dir, `${file}.marks`), JSON.stringify(marks));
    const events = JSON.parse(readFileSync(join(dir, file), "utf8")) as ProfileEvent[];
    const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(-steps);
    const from = runs[0]!.ts, lastRun = runs[runs.length - 1]!;
    const phaseOf = (name: string): "fwd" | "bwd" | "opt" | "?" => {
      const m = /#(\d+)/.exec(name);
      if (!m) return "?";
      const id = Number(m[1]);
      return id <= marks.loss ? "fwd" : id >= marks.update ? "opt" : "bwd";
    };
    const PRODUCTS = ["Gemm", "MatMul", "FusedMatMul", "FusedGemm", "Conv", "ConvTranspose"];
    const ms: Record<string, number> = {};
    const byOp: Record<"fwd" | "bwd" | "opt" | "?", Record<string, number>> = { fwd: {}, bwd: {}, opt: {}, "?": {} };
    const counts: Record<"fwd" | "bwd" | "opt" | "?", Record<string, number>> = { fwd: {}, bwd: {}, opt: {}, "?": {} };
    const add = (o: Record<string, number>, k: string, v: number) => { o[k] = (o[k] ?? 0) + v; };
    for (const e of events) {
      if (e.cat !== "Node" || e.ts < from || !e.name.endsWith("_kernel_time")) continue;
      const op = e.args?.op_name ?? "?", phase = phaseOf(e.name), d = e.dur / 1000 / steps;
      add(ms, phase === "opt" ? "optimizer" : PRODUCTS.includes(op) ? `products_${phase}` : `other_${phase}`, d);
      if (phase === "?" || phase === "opt" || !PRODUCTS.includes(op)) add(byOp[phase], op, d);
      if (e.ts >= lastRun.ts) {
        // the executed graph, counted once (the last run)
        const size = (s: Record<string, number[]>[] | undefined) => Object.values(s?.[0] ?? {})[0]?.reduce((p, q) => p * q, 1) ?? 0;
        add(counts[phase], "nodes", 1);
        if (op === "Transpose") add(counts[phase], "Transpose", 1);
        if (op === "Cast") add(counts[phase], "Cast", 1);
        if ((op === "ReduceSum" || op === "ReduceMean") && size(e.args?.input_type_shape) >= 1 << 16) add(counts[phase], "bigReduce", 1);
        if (["Identity", "Expand", "Concat", "Pad", "Slice", "Split", "Tile", "Copy", "MemcpyFromHost"].includes(op)) add(counts[phase], `copy:${op}`, 1);
      }
    }
    const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= 0.05).map(([k, v]) => [k, Math.round(v * 100) / 100]));
    const run = median(runs.map((r) => r.dur / 1000));
    emit({
      bench: "train-step", case: `${config} b${B}: where the time goes (onnxruntime profile, ms per step)`, run_ms: run,
      ...round(ms), other_fwd_by_op: round(byOp.fwd), other_bwd_by_op: round(byOp.bwd), optimizer_by_op: round(byOp.opt),
      ...(Object.keys(byOp["?"]).length ? { unattributed_by_op: round(byOp["?"]) } : {}),
      products_share: ((ms.products_fwd ?? 0) + (ms.products_bwd ?? 0)) / run,
      // the interleaved ratio scaled by run / products: what the step would reach if all but the products were free
      ...(measured === null ? {} : { ratio: measured.peer / measured.ours, ratio_if_only_products: (measured.peer / measured.ours) * run / ((ms.products_fwd ?? 0) + (ms.products_bwd ?? 0)) }),
    });
    emit({ bench: "train-step", case: `${config} b${B}: executed graph, forward vs backward`, forward: counts.fwd, backward: counts.bwd, optimizer: counts.opt });
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  const only = process.env.BENCH_CASES?.split(",");
  if (!only || only.includes("matmul")) await matmulCases();
  if (!only || only.includes("overhead")) await overheadCases();
  const peerTrainS = !only || only.includes("train") || only.includes("rss") ? await trainCases() : null;
  if (!only || only.includes("profile")) await profileCase(peerTrainS);
  if (!only || only.includes("train-step") || only.includes("train-profile")) await ditTrainCases();
}
void tensor;
