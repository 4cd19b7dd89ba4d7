/**
 * onnxruntime-node sessions: creation options (threads, no spinning), the cache keyed by graph structure,
 * and device selection (cpu always; cuda / webgpu when the provider loads AND runs a probe graph).
 */
import * as ort from "onnxruntime-node";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { onnx } from "onnx-proto";
import { NextframeError } from "./errors.js";
import { native, outsideCells, sharedWork, type SharedWork } from "./interrupt.js";

/** Where onnxruntime runs the graphs: the CPU, an NVIDIA GPU (CUDA provider) or a GPU through WebGPU. */
export type Device = "cpu" | "cuda" | "webgpu";
/** A device for setDevice(); "auto" picks a GPU provider when one works, else the CPU. */
export type DeviceRequest = Device | "auto";

interface EngineSettings { device: Device; threads: number }

function defaultThreads(): number {
  const env = Number(process.env.NEXTFRAME_THREADS);
  return Number.isInteger(env) && env > 0 ? env : 2;
}

/**
 * NEXTFRAME_DEVICE=cpu|cuda|webgpu sets the starting device without a probe (so a whole test run or script can
 * be pointed at a GPU); a provider that cannot load then fails at the first session with onnxruntime's reason.
 */
function defaultDevice(): Device {
  const env = process.env.NEXTFRAME_DEVICE;
  if (env === undefined || env === "") return "cpu";
  if (env === "cpu" || env === "cuda" || env === "webgpu") return env;
  throw new NextframeError(`NEXTFRAME_DEVICE must be cpu, cuda or webgpu, got "${env}"`);
}

const settings: EngineSettings = { device: defaultDevice(), threads: defaultThreads() };

export function currentDevice(): Device { return settings.device; }
/** The device and thread count that new sessions use (see setDevice). */
export function getDevice(): { device: Device; threads: number } { return { ...settings }; }
/** What a session is made for: compiled functions keep one trace per (signature, device key), so setDevice takes effect. */
export function deviceKey(): string { return `${settings.device}/${settings.threads}`; }

/**
 * Extra options for a GPU provider, as JSON in NEXTFRAME_WEBGPU_OPTIONS / NEXTFRAME_CUDA_OPTIONS (onnxruntime's
 * names, e.g. {"validationMode":"disabled"} for WebGPU). The WebGPU context is made once per process, so its
 * options take effect from the process's first WebGPU session.
 */
function providerOptions(device: Device): Record<string, unknown> {
  const raw = process.env[`NEXTFRAME_${device.toUpperCase()}_OPTIONS`];
  if (!raw) return {};
  try {
    const o = JSON.parse(raw);
    if (o && typeof o === "object" && !Array.isArray(o)) return o;
  } catch { /* reported below */ }
  throw new NextframeError(`NEXTFRAME_${device.toUpperCase()}_OPTIONS must be a JSON object of onnxruntime provider options, got ${raw}`);
}

/**
 * Extra onnxruntime session config entries, as JSON in NEXTFRAME_ORT_CONFIG (onnxruntime's dotted keys, string
 * values), e.g. {"ep.webgpuexecutionprovider.maxNumPendingDispatches":"64"}; merged over the engine's own.
 */
function extraConfig(): Record<string, string> {
  const raw = process.env.NEXTFRAME_ORT_CONFIG;
  if (!raw) return {};
  let o: unknown;
  try { o = JSON.parse(raw); } catch { o = null; }
  if (!o || typeof o !== "object" || Array.isArray(o) || Object.values(o).some((v) => typeof v !== "string")) {
    throw new NextframeError(`NEXTFRAME_ORT_CONFIG must be a JSON object of onnxruntime session config entries with string values, got ${raw}`);
  }
  return o as Record<string, string>;
}

/** Session config entries as the nested object onnxruntime-node's `extra` takes (it joins the keys with dots). */
function nest(entries: Record<string, string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const [k, v] of Object.entries(entries)) {
    const parts = k.split(".");
    let o = root;
    for (const part of parts.slice(0, -1)) o = (o[part] ??= {});
    o[parts[parts.length - 1]!] = v;
  }
  return root;
}

function sessionOptions(device: Device, threads: number, float64 = false, preferredOutputLocation?: Record<string, "cpu" | "gpu-buffer">): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device === "cpu" ? "cpu" : { name: device, ...providerOptions(device) }],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    // ORT's extended fusions (e.g. x·σ(x) → QuickGelu) have float32-only kernels: float64 graphs stay at "basic".
    graphOptimizationLevel: float64 ? "basic" : "all",
    // no spinning: onnxruntime's spinning intra-op threads give runs a long latency tail on a busy 2-core machine.
    extra: nest({ "session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0", ...extraConfig() }),
    // outputs kept on the GPU between runs (makeTrainStep's parameters and moments): WebGPU's gpu-buffer tensors
    ...(preferredOutputLocation && device === "webgpu" ? { preferredOutputLocation } : {}),
    // NEXTFRAME_ORT_LOG_LEVEL=0 makes onnxruntime verbose (e.g. which nodes each execution provider got)
    ...(process.env.NEXTFRAME_ORT_LOG_LEVEL ? { logSeverityLevel: Number(process.env.NEXTFRAME_ORT_LOG_LEVEL) as 0 | 1 | 2 | 3 | 4 } : {}),
    // NEXTFRAME_ORT_PROFILE=/tmp/prefix writes onnxruntime's per-node profile (call session.endProfiling()).
    ...(process.env.NEXTFRAME_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.NEXTFRAME_ORT_PROFILE } : {}),
  };
}

/** Devices known to work in this process (cpu; a GPU once setDevice's probe or a first session succeeded). */
const working = new Set<Device>(["cpu"]);

/** Creates a session for model bytes on the current device (or `opts.device`), with the engine's thread count unless `opts.threads`. */
export async function createSession(model: Uint8Array, opts: { float64?: boolean; device?: Device; threads?: number; preferredOutputLocation?: Record<string, "cpu" | "gpu-buffer"> } = {}): Promise<ort.InferenceSession> {
  const device = opts.device ?? settings.device;
  const threads = opts.threads ?? settings.threads;
  const options = sessionOptions(device, threads, opts.float64, opts.preferredOutputLocation);
  // started outside the calling cell (interrupt.ts outsideCells): other cells may wait for this session
  if (working.has(device)) return outsideCells(() => ort.InferenceSession.create(model, options));
  // a GPU chosen by NEXTFRAME_DEVICE (the nextframe.kernel.device setting) without setDevice's probe: say why it cannot run
  const from = process.env.NEXTFRAME_DEVICE === device ? ` (NEXTFRAME_DEVICE=${device}, the nextframe.kernel.device setting)` : "";
  const missing = missingPrerequisite(device);
  if (missing) throw new NextframeError(`device ${device}${from} cannot run here: ${missing}. Use cpu, or await setDevice("auto") to pick what works.`);
  try {
    const s = await outsideCells(() => ort.InferenceSession.create(model, options));
    working.add(device);
    return s;
  } catch (e) {
    throw new NextframeError(`device ${device}${from}: onnxruntime could not make a session: ${shortMessage(e)}. Use cpu, or await setDevice("auto") to pick what works.`);
  }
}

/** Eager graphs with ever-new shapes would otherwise keep every session (and its memory arena) alive. */
const MAX_CACHED_SESSIONS = 512;
const cache = new Map<string, SharedWork<ort.InferenceSession>>();
let sessionsCreated = 0;

/** The cached session for a graph-structure key; `build` makes the model bytes on a miss. */
export function cachedSession(key: string, build: () => Uint8Array, float64 = false): Promise<ort.InferenceSession> {
  const full = `${deviceKey()}/${key}`;
  let s = cache.get(full);
  if (s?.abandoned()) { cache.delete(full); s = undefined; } // its creation may never finish: start again
  if (s) {
    // LRU: move to the back; evicted sessions are dropped (freed by GC once no run holds them)
    cache.delete(full);
    cache.set(full, s);
  } else {
    if (cache.size >= MAX_CACHED_SESSIONS) cache.delete(cache.keys().next().value!);
    sessionsCreated++;
    const made = sharedWork(() => createSession(build(), { float64 }));
    s = made;
    cache.set(full, made);
    made.catch(() => { if (cache.get(full) === made) cache.delete(full); });
  }
  return s;
}

/** Counters for tests and benchmarks. */
export function sessionStats(): { cached: number; created: number } {
  return { cached: cache.size, created: sessionsCreated };
}
export function clearSessionCache(): void { cache.clear(); }

/**
 * Copies a tensor that onnxruntime keeps on the GPU (`gpu-buffer`) to the host, through a one-node Identity
 * graph on its device (onnxruntime's own device-to-host copy, the path a train step's outputs take).
 */
export async function downloadTensor(t: ort.Tensor): Promise<ort.Tensor["data"]> {
  // a cpu tensor is copied too: the host copy never aliases the "device" one, as with a real GPU
  if (t.location === "cpu") return (t.data as Float32Array).slice();
  const type = t.type as keyof typeof ONNX_ELEM;
  const elem = ONNX_ELEM[type];
  if (elem === undefined) throw new NextframeError(`downloadTensor: unsupported dtype ${t.type}`);
  // gpu-buffer tensors are WebGPU's (onnxruntime-node binds no other device's memory), also after setDevice("cpu")
  const key = `${type}/${t.dims.join("x")}`;
  let session = downloaders.get(key);
  if (!session || session.abandoned()) {
    const vi = (name: string) => ({ name, type: { tensorType: { elemType: elem, shape: { dim: t.dims.map((d) => ({ dimValue: d })) } } } });
    const model = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8, producerName: "nextframe-download", opsetImport: [{ domain: "", version: 17 }],
      graph: { name: "download", input: [vi("x")], output: [vi("y")], node: [{ opType: "Identity", input: ["x"], output: ["y"] }] },
    })).finish();
    const made = sharedWork(() => createSession(model, { device: "webgpu" }));
    session = made;
    downloaders.set(key, made);
    made.catch(() => { if (downloaders.get(key) === made) downloaders.delete(key); });
  }
  const ready = await native(session, "downloadTensor");
  return (await native(outsideCells(() => ready.run({ x: t })), "downloadTensor")).y!.data;
}
const downloaders = new Map<string, SharedWork<ort.InferenceSession>>();
const ONNX_ELEM = { float32: 1, int32: 6, int64: 7, float64: 11 } as const;

// ================================================================ devices

/** A tiny graph (MatMul then Softmax) used to check that a provider really runs. */
function probeModel(): Uint8Array {
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 2 }] } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, producerName: "nextframe-probe", opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "probe", input: [vi("x")], output: [vi("y")],
      node: [
        { opType: "MatMul", input: ["x", "x"], output: ["m"] },
        { opType: "Softmax", input: ["m"], output: ["y"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }] },
      ],
    },
  })).finish();
}

async function probe(device: Device, threads: number): Promise<void> {
  const sess = await outsideCells(() => ort.InferenceSession.create(probeModel(), sessionOptions(device, threads)));
  const x = new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const out = await outsideCells(() => sess.run({ x }));
  const y = Object.values(out)[0]!.data as Float32Array;
  if (y.length !== 4 || !y.every(Number.isFinite)) throw new NextframeError(`probe: the ${device} test graph returned wrong values`);
  await sess.release();
}

let reported = false;

function shortMessage(e: unknown): string {
  const m = String((e as Error)?.message ?? e).split("\n")[0]!;
  const tail = m.split(/ : |\] /).pop()!.trim();
  return tail.length > 160 ? tail.slice(0, 157) + "..." : tail;
}

/**
 * Cheap checks before loading a provider, so a GPU-less machine gets a one-line reason instead of
 * onnxruntime/Dawn error logs: CUDA needs onnxruntime's CUDA provider library next to the binding
 * (ONNXRUNTIME_NODE_INSTALL=cuda12 installs it); WebGPU on Linux needs a Vulkan loader.
 */
function missingPrerequisite(d: Device): string | null {
  if (process.platform !== "linux") return null;
  let binDir: string;
  try { binDir = dirname(require.resolve("onnxruntime-node/package.json")); } catch { return null; }
  const ortBin = join(binDir, "bin", "napi-v6", process.platform, process.arch);
  if (d === "cuda" && !existsSync(join(ortBin, "libonnxruntime_providers_cuda.so"))) {
    return "cuda provider library is not installed (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)";
  }
  if (d === "webgpu") {
    const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"];
    if (!dirs.some((p) => existsSync(join(p, "libvulkan.so.1")))) return "webgpu needs a Vulkan driver (libvulkan.so.1 not found)";
  }
  return null;
}

/**
 * Chooses the execution provider. "auto" tries webgpu and cuda (each must load and run a probe graph) and
 * falls back to cpu quietly; the choice and the reason are returned and printed once per process.
 */
export async function setDevice(request: DeviceRequest = "auto", opts: { threads?: number } = {}): Promise<{ device: Device; reason: string }> {
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new NextframeError(`setDevice: threads must be a positive integer, got ${opts.threads}`);
    settings.threads = opts.threads;
  }
  const supported = new Set(ort.listSupportedBackends().map((b) => b.name));
  const attempt = async (d: Device): Promise<string | null> => {
    if (d !== "cpu" && !supported.has(d)) return `${d} provider is not in this onnxruntime-node build (has: ${[...supported].join(", ")})`;
    const missing = missingPrerequisite(d);
    if (missing) return missing;
    try { await probe(d, settings.threads); return null; } catch (e) { return `${d} failed the probe graph: ${shortMessage(e)}`; }
  };
  if (request !== "auto") {
    const why = await attempt(request);
    if (why) throw new NextframeError(`setDevice: ${why}`);
    working.add(request);
    settings.device = request;
    return { device: request, reason: `requested ${request}` };
  }
  const reasons: string[] = [];
  for (const d of ["cuda", "webgpu"] as const) {
    const why = await attempt(d);
    if (!why) {
      working.add(d);
      settings.device = d;
      return report({ device: d, reason: `${d} loaded and ran the probe graph` });
    }
    reasons.push(why);
  }
  settings.device = "cpu";
  return report({ device: "cpu", reason: `using cpu (${settings.threads} threads): ${reasons.join("; ")}` });
}

function report(r: { device: Device; reason: string }): { device: Device; reason: string } {
  if (!reported) {
    reported = true;
    console.log(`nextframe: device ${r.device} — ${r.reason}`);
  }
  return r;
}

export { ort };
