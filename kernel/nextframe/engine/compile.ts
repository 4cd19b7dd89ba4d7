/**
 * compile(fn): trace fn once per input signature (shapes + dtypes) into ONE ONNX graph and ONE session.
 * Concrete tensors that fn captures (module parameters, constants) become graph inputs fed with their
 * *current* values on every call, so optimizers can update parameters without retracing.
 * exportOnnx(fn, args, path) traces the same way but bakes captured tensors into the file as initializers.
 */
import { writeFileSync } from "node:fs";
import { createSession, deviceKey, ort } from "./session.js";
import { emitModel } from "./onnx.js";
import { collect, enterTrace, evaluate, exitTrace, structureKey, toOrt, usesFloat64 } from "./evaluate.js";
import { Tensor } from "./tensor.js";
import { fmtShape, type TypedArray } from "./dtype.js";
import { NextframeError, ShapeError } from "./errors.js";
import { scalar } from "./ops.js";
import { native, onHalt, outsideCells, sharedWork, type SharedWork } from "./interrupt.js";
import { explainRuntimeError, trackedNodes } from "./origin.js";

/** What a compiled function may return: tensors nested in arrays, plain objects and Maps. */
export type TensorTree = Tensor | number | string | boolean | null | undefined | TensorTree[] | { [k: string]: TensorTree } | Map<string, TensorTree>;

/** Flattens a tree of tensors; `rebuild(values)` makes the same tree with the tensors replaced. */
export function flattenTree(tree: unknown): { tensors: Tensor[]; rebuild: (ts: Tensor[]) => any } {
  const tensors: Tensor[] = [];
  const walk = (v: unknown): (ts: Tensor[]) => unknown => {
    if (v instanceof Tensor) { const i = tensors.length; tensors.push(v); return (ts) => ts[i]; }
    if (Array.isArray(v)) { const fs = v.map(walk); return (ts) => fs.map((f) => f(ts)); }
    if (v instanceof Map) {
      const fs = [...v.entries()].map(([k, x]) => [k, walk(x)] as const);
      return (ts) => new Map(fs.map(([k, f]) => [k, f(ts)]));
    }
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const fs = Object.entries(v).map(([k, x]) => [k, walk(x)] as const);
      return (ts) => Object.fromEntries(fs.map(([k, f]) => [k, f(ts)]));
    }
    return () => v;
  };
  const f = walk(tree);
  return { tensors, rebuild: (ts) => f(ts) };
}

/** A placeholder tensor standing for an argument during tracing. @internal */
export function placeholder(shape: readonly number[], dtype: Tensor["dtype"]): Tensor {
  const t = new Tensor(shape, dtype);
  t._placeholder = true;
  return t;
}

/** One traced graph: its session and how to feed it. @internal */
export interface Traced {
  session: ort.InferenceSession;
  /** Graph inputs in feed order: placeholders (args) and captured concrete tensors. */
  inputs: Tensor[];
  /** For each graph input: index of the argument it stands for, or -1 for a captured tensor. */
  argIndex: number[];
  /** Graph outputs (non-leaf). */
  outputs: Tensor[];
  /** For each flattened result: a graph output, an argument passed through, or a concrete tensor. */
  resultSlots: ({ out: number } | { arg: number } | { leaf: Tensor })[];
  rebuild: (ts: Tensor[]) => any;
  key: string;
  /** ONNX node name → graph node, for the nodes whose runtime errors can name their op (origin.ts). */
  origins?: Map<string, Tensor>;
  /** With `freeze`: the captured tensors baked in as initializers, and their data and version at bake time. */
  baked?: { tensors: Tensor[]; values: (TypedArray | null)[]; versions: number[] };
}

/** Options of compile(): bake parameters into the graph (`freeze`, for inference) and run matrix products in half precision (`autocast`). */
export interface CompileOptions {
  /**
   * Bake captured tensors (module parameters, constants) into the graph as initializers instead of feeding
   * them on every call. onnxruntime then constant-folds what depends only on them and pre-packs the weight
   * matrices of MatMul/Gemm once (≈ 10% of a small-batch transformer forward). The graph is rebuilt (a new
   * session, slow) when any baked tensor gets new data (optimizer steps, loadStateDict, EMA copies) or is
   * re-initialised in place by nn.init; in-place writes into `_value` by hand are not seen. For inference.
   * Parameters over 1.5 GiB in all (DiT-XL) are fed as without freeze, since an ONNX model is at most 2 GiB.
   */
  freeze?: boolean;
  /**
   * "float16": run the function's float32 matrix products (matmul, conv) in half precision and everything
   * else in float32, like `torch.autocast(dtype=torch.float16)`: on a GPU the products read half the bytes.
   * Results differ from float32 by a few thousandths of their scale. For GPU inference: onnxruntime's CPU provider
   * has no half kernels and computes the products in float32 (with `freeze`, from weights rounded to half).
   */
  autocast?: "float16";
  /**
   * Flattened-result indices whose graph outputs stay on the GPU (onnxruntime `gpu-buffer` tensors) on WebGPU;
   * ignored elsewhere. For makeTrainStep's parameters and moments. @internal
   */
  gpuResults?: readonly number[];
}

/** Baked parameters above this size are fed instead (protobuf's 2 GiB message limit, with room for the graph). */
const MAX_BAKED_BYTES = 1.5 * 2 ** 30;

/** True when a frozen trace baked values that have since been replaced or re-initialised. */
function staleBake(tr: Traced): boolean {
  const b = tr.baked;
  return !!b && b.tensors.some((t, i) => t._value !== b.values[i] || t._version !== b.versions[i]);
}

/**
 * Traces fn on placeholders for the given signature and builds its session. The promise is cached and shared by
 * later calls, so it always settles, also in an interrupted cell (its callers then halt). @internal
 */
export function trace(fn: (...args: Tensor[]) => unknown, sig: readonly Tensor[], opts: CompileOptions = {}): SharedWork<Traced> {
  return sharedWork(() => traceNow(fn, sig, opts));
}

async function traceNow(fn: (...args: Tensor[]) => unknown, sig: readonly Tensor[], opts: CompileOptions): Promise<Traced> {
  const ph = sig.map((a) => placeholder(a.shape, a.dtype));
  enterTrace();
  let result: unknown;
  try { result = fn(...ph); } finally { exitTrace(); }
  if (result instanceof Promise) throw new NextframeError("compile: the function must be synchronous (it returned a Promise); do not await inside a compiled function");
  const { tensors, rebuild } = flattenTree(result);
  const outputs = [...new Set(tensors.filter((t) => t.op !== null && !t._placeholder && t._value === null))];
  const { leaves, nodes } = collect(outputs);
  // Arguments first (stable feed order), then captured tensors.
  const phIndex = new Map(ph.map((p, i) => [p, i]));
  const argLeaves = leaves.filter((l) => phIndex.has(l));
  const foreign = leaves.find((l) => l._placeholder && !phIndex.has(l));
  if (foreign) throw new NextframeError(`compile: the function uses a placeholder from another trace (shape ${fmtShape(foreign.shape)}); do not keep tensors from inside one compiled function for another`);
  const captured = leaves.filter((l) => !phIndex.has(l));
  // An ONNX file is one protobuf message (2 GiB at most): models too big to bake in are fed as usual.
  const freeze = !!opts.freeze && captured.reduce((n, l) => n + l.size * (l.dtype === "bool" ? 1 : l.dtype.endsWith("64") ? 8 : 4), 0) < MAX_BAKED_BYTES;
  const inputs = freeze ? argLeaves : [...argLeaves, ...captured];
  const argIndex = inputs.map((l) => phIndex.get(l) ?? -1);
  const outIndex = new Map(outputs.map((t, i) => [t, i]));
  const resultSlots = tensors.map((t) =>
    outIndex.has(t) ? { out: outIndex.get(t)! } : phIndex.has(t) ? { arg: phIndex.get(t)! } : { leaf: t });
  const key = structureKey([...argLeaves, ...captured], nodes, outputs, `${freeze ? "compile-frozen" : "compile"}${opts.autocast ? `-${opts.autocast}` : ""}`);
  const preferredOutputLocation = opts.gpuResults?.length
    ? Object.fromEntries(opts.gpuResults.flatMap((r) => { const s = resultSlots[r]; return s && "out" in s ? [[`out_${s.out}`, "gpu-buffer" as const]] : []; }))
    : undefined;
  const tracked = trackedNodes(nodes);
  const origins = tracked.size ? new Map<string, Tensor>() : undefined;
  const nodeOrigins = origins ? { tracked, names: origins } : undefined;
  if (!freeze) {
    const session = await createSession(emitModel({ inputs, nodes, outputs, autocast: opts.autocast, nodeOrigins }), { float64: usesFloat64(nodes), preferredOutputLocation });
    return { session, inputs, argIndex, outputs, resultSlots, rebuild, key, origins };
  }
  await evaluate(captured.filter((l) => l._value === null));
  const baked = { tensors: captured, values: captured.map((l) => l._value), versions: captured.map((l) => l._version) };
  const session = await createSession(emitModel({ inputs, initializers: captured, nodes, outputs, autocast: opts.autocast, nodeOrigins }), { float64: usesFloat64(nodes), preferredOutputLocation });
  return { session, inputs, argIndex, outputs, resultSlots, rebuild, key, baked, origins };
}

/** The trace cache key: argument dtypes and shapes, and the device the session runs on. @internal */
export function signature(args: readonly Tensor[]): string {
  return `${args.map((a) => `${a.dtype}[${a.shape}]`).join(";")}@${deviceKey()}`;
}

function toTensorArgs(name: string, args: readonly unknown[]): Tensor[] {
  return args.map((a, i) => {
    if (a instanceof Tensor) return a;
    if (typeof a === "number") return scalar(a, "float32");
    throw new NextframeError(`${name}: argument ${i} must be a Tensor or a number, got ${a === null ? "null" : typeof a}`);
  });
}

/** Runs a traced graph on concrete args. @internal */
export async function runTraced(tr: Traced, args: readonly Tensor[], fetches?: Record<string, ort.Tensor>): Promise<TypedArray[]> {
  const out = await runTracedRaw(tr, args, fetches);
  return tr.outputs.map((_, i) => out[`out_${i}`]!.data as TypedArray);
}

/**
 * Runs a traced graph; returns onnxruntime's outputs by name (`out_i`), which may be `gpu-buffer` tensors.
 * `onDevice` feeds some arguments (by argument index) as tensors already on the GPU. @internal
 */
export async function runTracedRaw(tr: Traced, args: readonly Tensor[], fetches?: Record<string, ort.Tensor | null>, onDevice?: ReadonlyMap<number, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  await evaluate(args.filter((a, i) => a._value === null && !onDevice?.has(i)));
  const feeds: Record<string, ort.Tensor> = {};
  tr.inputs.forEach((l, i) => {
    const ai = tr.argIndex[i]!;
    const dev = ai >= 0 ? onDevice?.get(ai) : undefined;
    feeds[`in_${i}`] = dev ?? toOrt(l, ai >= 0 ? args[ai]!._value : l._value);
  });
  const run = outsideCells(() => (fetches ? tr.session.run(feeds, fetches as Record<string, ort.Tensor>) : tr.session.run(feeds)))
    .catch((e: unknown) => { throw explainRuntimeError(e, tr.origins); }); // e.g. an index out of range: name the op
  return await native(run, "compiled function");
}

/** A function compiled to ONNX graphs (one per signature): call it with tensors as the original; `traces` counts the signatures traced. */
export interface CompiledFunction<A extends unknown[], R> {
  (...args: A): Promise<R>;
  /** Number of distinct signatures (argument shapes and dtypes, device and threads) traced so far. */
  readonly traces: number;
}

type Resolved<R> = R;

/**
 * Compiles fn: traced once per argument signature into one ONNX graph (one session.run per call).
 * Arguments may be Tensors or numbers (numbers become float32 scalar inputs, so changing them does not retrace).
 */
export function compile<A extends (Tensor | number)[], R>(fn: (...args: any[]) => R, opts: CompileOptions = {}): CompiledFunction<A, Resolved<R>> {
  if (opts.autocast !== undefined && opts.autocast !== "float16") {
    throw new NextframeError(`compile: autocast must be "float16" (or left out for float32), got ${JSON.stringify(opts.autocast)}`);
  }
  const traces = new Map<string, SharedWork<Traced>>();
  const running = new Map<Traced, number>();
  const retired = new Set<Traced>();
  const release = (t: Traced) => { if (!running.get(t)) { retired.delete(t); void t.session.release().catch(() => {}); } };
  const get = (sig: string, args: Tensor[]): Promise<Traced> => {
    let tr = traces.get(sig);
    if (!tr || tr.abandoned()) {
      const p = trace(fn as (...a: Tensor[]) => unknown, args, opts);
      tr = p;
      traces.set(sig, p);
      p.catch(() => { if (traces.get(sig) === p) traces.delete(sig); });
    }
    return tr;
  };
  const compiled = async (...rawArgs: A): Promise<R> => {
    const args = toTensorArgs("compile", rawArgs);
    const sig = signature(args);
    let t = await native(get(sig, args), "compiled function");
    if (staleBake(t)) {
      // a frozen graph whose parameters changed: trace again with the current values, free the old session
      if (traces.get(sig) !== undefined && (await traces.get(sig)) === t) traces.delete(sig);
      retired.add(t);
      release(t);
      t = await native(get(sig, args), "compiled function");
    }
    const tr = t;
    running.set(tr, (running.get(tr) ?? 0) + 1);
    const done = () => {
      const n = running.get(tr)! - 1;
      if (n > 0) running.set(tr, n); else running.delete(tr);
      if (retired.has(tr)) release(tr);
    };
    let values: TypedArray[];
    // an interrupted cell's run halts inside runTraced: `done` still releases the session's run count
    try { values = await onHalt(done, () => runTraced(tr, args)); } finally { done(); }
    const outs = t.outputs.map((o, i) => { const r = new Tensor(o.shape, o.dtype); r._value = values[i]!; return r; });
    return t.rebuild(t.resultSlots.map((s) => ("out" in s ? outs[s.out]! : "arg" in s ? args[s.arg]! : s.leaf)));
  };
  Object.defineProperty(compiled, "traces", { get: () => traces.size });
  return compiled as CompiledFunction<A, R>;
}

/**
 * Writes fn as a standalone ONNX file: inputs "input_0".., outputs "output_0".. (flattened result order),
 * captured tensors (parameters) baked in as initializers. Returns the list of input and output names.
 */
export async function exportOnnx(fn: (...args: any[]) => unknown, exampleArgs: readonly (Tensor | number)[], path: string): Promise<{ inputs: string[]; outputs: string[] }> {
  const args = toTensorArgs("exportOnnx", exampleArgs);
  const ph = args.map((a) => placeholder(a.shape, a.dtype));
  enterTrace();
  let result: unknown;
  try { result = fn(...ph); } finally { exitTrace(); }
  const { tensors } = flattenTree(result);
  const bad = tensors.find((t) => t.op === null || t._value !== null);
  if (bad) throw new ShapeError(`exportOnnx: every output must be computed from the inputs; output of shape ${fmtShape(bad.shape)} is a constant or an input`);
  const outputs = [...new Set(tensors)];
  const { leaves, nodes } = collect(outputs);
  await evaluate(leaves.filter((l) => !l._placeholder && l._value === null));
  const inputs = ph.filter((p) => leaves.includes(p));
  const inputNames = inputs.map((p) => `input_${ph.indexOf(p)}`);
  const outputNames = outputs.map((_, i) => `output_${i}`);
  const bytes = emitModel({
    inputs, initializers: leaves.filter((l) => !l._placeholder), nodes, outputs, inputNames, outputNames,
  }, "nextframe_export");
  writeFileSync(path, bytes);
  return { inputs: inputNames, outputs: outputNames };
}
