/**
 * Probing ONNX models made elsewhere (e.g. `torch.onnx.export` of a DiT or GPT-2): find the attention
 * Softmax nodes, expose their outputs as extra graph outputs, run the model with onnxruntime and return the
 * attention maps; and wrap an external ONNX denoiser (x, t, y) so the library's samplers can drive it.
 *
 * Works on the ModelProto directly (onnx-proto), so nothing about the producer is assumed beyond standard ONNX.
 */
import { readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import type { DenoiseFn } from "../diffusion/gaussianDiffusion";
import { createSession } from "../engine/session";
import { NextframeError } from "../engine/errors";
import { native, onHalt, outsideCells } from "../engine/interrupt";

/** A model file, graph or probe request that cannot be inspected; the message says what and where. */
export class OnnxProbeError extends NextframeError {}

/** One dimension of an ONNX value's shape: fixed, symbolic (dim_param), or unknown (null). */
export type Dim = number | string | null; // fixed, symbolic (dim_param), or unknown

/** The element type and shape of a value in an ONNX graph. */
export interface ValueShape { name: string; elemType: string; shape: Dim[] | null }

/** A Softmax node of an ONNX graph: its name, position, input, output, axis and output shape. */
export interface SoftmaxNode {
  node: string;          // node name (or "#index" when unnamed)
  index: number;         // position in graph.node
  input: string;
  output: string;
  axis: number;
  shape: Dim[] | null;   // static shape of the output when the file records it (value_info / outputs)
}

/** One attention map read from an ONNX model: the Softmax node and output it came from, and its probabilities with their shape. */
export interface AttentionMap {
  node: string;
  output: string;
  shape: number[];       // runtime shape, e.g. (N, heads, T, T)
  data: Float32Array;
}

/** threads: onnxruntime's intra-op threads (default: the engine's setting); the device is the engine's (`setDevice`). */
export interface ProbeOptions { threads?: number; name?: string }

const DTYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(onnx.TensorProto.DataType).map(([k, v]) => [v as number, k.toLowerCase()]),
);

/** An opened ONNX model: the decoded proto plus a label for messages. */
export class OnnxModel {
  constructor(readonly proto: onnx.ModelProto, readonly label: string, readonly bytes: Uint8Array) {}

  get graph(): onnx.IGraphProto { return this.proto.graph!; }

  /** Graph inputs that are fed at run time (initializers listed as inputs by old exporters excluded). */
  inputs(): ValueShape[] {
    const inits = new Set((this.graph.initializer ?? []).map((t) => t.name));
    return (this.graph.input ?? []).filter((v) => !inits.has(v.name!)).map(valueShape);
  }

  outputs(): ValueShape[] { return (this.graph.output ?? []).map(valueShape); }

  /** Op types used, with counts, e.g. { MatMul: 48, Softmax: 12 }. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.graph.node ?? []) {
      const key = n.domain ? `${n.domain}.${n.opType}` : n.opType!;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /** Every Softmax node of the main graph with its output's static shape when recorded. */
  softmaxNodes(): SoftmaxNode[] {
    const shapes = new Map<string, Dim[] | null>();
    for (const v of [...(this.graph.valueInfo ?? []), ...(this.graph.output ?? [])]) shapes.set(v.name!, valueShape(v).shape);
    const opset = (this.proto.opsetImport ?? []).find((o) => !o.domain)?.version;
    const defaultAxis = opset !== undefined && Number(opset) < 13 ? 1 : -1;
    const out: SoftmaxNode[] = [];
    (this.graph.node ?? []).forEach((n, index) => {
      if (n.opType !== "Softmax" || (n.domain && n.domain !== "ai.onnx")) return;
      const axisAttr = (n.attribute ?? []).find((a) => a.name === "axis");
      out.push({
        node: n.name || `#${index}`,
        index,
        input: n.input![0],
        output: n.output![0],
        axis: axisAttr ? Number(axisAttr.i) : defaultAxis,
        shape: shapes.get(n.output![0]) ?? null,
      });
    });
    return out;
  }

  /** A copy of the model whose graph also outputs the given value names (float32, shape left open). */
  withExtraOutputs(names: readonly string[]): Uint8Array {
    const copy = onnx.ModelProto.decode(this.bytes);
    const g = copy.graph!;
    g.output = g.output ?? [];
    const have = new Set(g.output.map((o) => o.name));
    const produced = new Set((g.node ?? []).flatMap((n) => n.output ?? []));
    for (const name of names) {
      if (have.has(name)) continue;
      if (!produced.has(name)) throw new OnnxProbeError(`probe: ${this.label} has no value named "${name}"`);
      g.output.push(onnx.ValueInfoProto.create({
        name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } },
      }));
    }
    return onnx.ModelProto.encode(copy).finish();
  }

  /**
   * Softmax nodes inside control-flow bodies (If / Loop / Scan attributes), by op: the probe cannot expose them (a
   * subgraph's values are not graph outputs), but a message should say they are there.
   */
  subgraphSoftmaxCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const walk = (nodes: onnx.INodeProto[], owner: string | null) => {
      for (const n of nodes) {
        if (owner && n.opType === "Softmax" && (!n.domain || n.domain === "ai.onnx")) counts[owner] = (counts[owner] ?? 0) + 1;
        for (const a of n.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) walk(g.node ?? [], owner ?? n.opType!);
      }
    };
    walk(this.graph.node ?? [], null);
    return counts;
  }

  /** A short human summary: inputs, outputs, op counts, Softmax count. */
  describe(): string {
    const fmt = (v: ValueShape) => `${v.name}: ${v.elemType}[${v.shape ? v.shape.map((d) => d ?? "?").join(", ") : "?"}]`;
    const ops = Object.entries(this.opCounts()).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(", ");
    return `${this.label}: inputs ${this.inputs().map(fmt).join("; ")}; outputs ${this.outputs().map(fmt).join("; ")}; `
      + `${(this.graph.node ?? []).length} nodes (${ops}); ${this.softmaxNodes().length} Softmax`;
  }
}

function valueShape(v: onnx.IValueInfoProto): ValueShape {
  const tt = v.type?.tensorType;
  const elemType = tt ? DTYPE_NAMES[tt.elemType ?? 0] ?? `type${tt.elemType}` : "non-tensor";
  const shape = tt?.shape ? (tt.shape.dim ?? []).map((d) => d.dimParam ? d.dimParam : (d as { value?: string }).value === "dimValue" ? Number(d.dimValue) : null) : null;
  return { name: v.name!, elemType, shape };
}

/** Opens a .onnx file (path or bytes). Files that are not ONNX models get a message saying what was found. */
export function openOnnx(source: string | Uint8Array, label?: string): OnnxModel {
  const name = label ?? (typeof source === "string" ? source : "model bytes");
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try { bytes = readFileSync(source); } catch (e) { throw new OnnxProbeError(`probe: cannot read ${source}: ${(e as Error).message}`); }
  } else {
    bytes = source;
  }
  if (bytes.length === 0) throw new OnnxProbeError(`probe: ${name} is empty, not an ONNX model`);
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const head = Buffer.from(bytes.subarray(0, 16)).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
    throw new OnnxProbeError(`probe: ${name} is not an ONNX model (protobuf decoding failed: ${(e as Error).message}; file starts with "${head}")`);
  }
  if (!proto.graph || (proto.graph.node ?? []).length === 0) {
    throw new OnnxProbeError(`probe: ${name} is not an ONNX model (decoded ${bytes.length} bytes but found no graph with nodes; ir_version ${String(proto.irVersion)})`);
  }
  if (inlineExternalData(proto, name, typeof source === "string" ? dirname(resolve(source)) : null)) {
    bytes = onnx.ModelProto.encode(proto).finish();
  }
  if ((proto.functions ?? []).length > 0) {
    // Exporters (torch.onnx's dynamo path, onnxscript) may wrap attention in model-local functions; a value inside
    // a function body cannot be a graph output, so the probe inlines the calls first and works on the flat graph.
    inlineLocalFunctions(proto);
    bytes = onnx.ModelProto.encode(proto).finish();
  }
  return new OnnxModel(proto, name, bytes);
}

/** An ONNX file is one protobuf message: 2 GiB at most, with room left for the graph. */
const MAX_INLINE_BYTES = 1.9 * 2 ** 30;

/**
 * Reads tensors stored as external data (what torch.onnx.export writes beside the .onnx, e.g. "model.onnx.data")
 * into the model, so the probe's edited copy loads from memory: onnxruntime resolves external paths of a model
 * given as bytes against the working directory and refuses them. Returns whether anything was read.
 */
function inlineExternalData(proto: onnx.ModelProto, name: string, dir: string | null): boolean {
  const external: onnx.ITensorProto[] = [];
  const visitGraph = (g: onnx.IGraphProto | null | undefined) => {
    if (!g) return;
    for (const t of g.initializer ?? []) if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) external.push(t);
    for (const n of g.node ?? []) for (const a of n.attribute ?? []) {
      for (const t of [...(a.t ? [a.t] : []), ...(a.tensors ?? [])]) if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) external.push(t);
      for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) visitGraph(sub);
    }
  };
  visitGraph(proto.graph);
  if (external.length === 0) return false;
  const files = [...new Set(external.map((t) => (t.externalData ?? []).find((e) => e.key === "location")?.value ?? "?"))];
  if (dir === null) {
    throw new OnnxProbeError(`probe: ${name} keeps ${external.length} tensors in external data (${files.join(", ")}); open it by file path so the data files can be found beside it`);
  }
  const cache = new Map<string, Buffer>();
  let total = 0;
  for (const t of external) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key!, e.value!]));
    const location = kv.get("location");
    if (!location) throw new OnnxProbeError(`probe: ${name}: tensor "${t.name}" is marked external but names no location`);
    const path = externalDataPath(dir, location, name, t.name ?? "?");
    let data = cache.get(path);
    if (!data) {
      try { data = readFileSync(path); } catch (e) {
        throw new OnnxProbeError(`probe: ${name} keeps tensor "${t.name}" in ${location}, which cannot be read beside the model (${path}): ${(e as Error).message}`);
      }
      cache.set(path, data);
    }
    const offset = Number(kv.get("offset") ?? 0);
    const length = kv.has("length") ? Number(kv.get("length")) : data.length - offset;
    if (!(offset >= 0 && length >= 0 && offset + length <= data.length)) {
      throw new OnnxProbeError(`probe: ${name}: tensor "${t.name}" points at bytes ${offset}..${offset + length} of ${location}, which has ${data.length} bytes (truncated or wrong data file?)`);
    }
    total += length;
    if (total > MAX_INLINE_BYTES) {
      throw new OnnxProbeError(`probe: ${name} has over ${(MAX_INLINE_BYTES / 2 ** 30).toFixed(1)} GiB of external weights; the probe edits the model in memory, where ONNX allows 2 GiB`);
    }
    t.rawData = data.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
  return true;
}

/**
 * The file an external-data `location` names, under onnxruntime's rule ("External data path escapes model
 * directory"): a relative path with no ".." component that, with symlinks resolved, stays inside the model's
 * folder. Without it a crafted .onnx could make the probe return the bytes of any file the kernel can read.
 */
function externalDataPath(dir: string, location: string, name: string, tensor: string): string {
  const expected = `a path relative to the model's folder (${dir}) that stays inside it, such as "model.onnx.data"`;
  if (isAbsolute(location) || /^[a-zA-Z]:/.test(location) || location.startsWith("\\")) {
    throw new OnnxProbeError(`probe: ${name}: tensor "${tensor}" keeps its data at the absolute path "${location}"; external data must be ${expected}`);
  }
  if (location.split(/[\\/]/).includes("..")) {
    throw new OnnxProbeError(`probe: ${name}: tensor "${tensor}" keeps its data at "${location}", which has a ".." component; external data must be ${expected}`);
  }
  const path = resolve(dir, location);
  let real: string, realDir: string;
  try { realDir = realpathSync(dir); real = realpathSync(path); } catch { return path; } // missing: reported by the read
  const rel = relative(realDir, real);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new OnnxProbeError(`probe: ${name}: tensor "${tensor}" keeps its data at "${location}", which resolves (through symlinks) to ${real}, outside the model's folder ${realDir}; external data must be ${expected}`);
  }
  return real;
}

/**
 * Replaces every call of a model-local function (ModelProto.functions, matched by domain and name) with the
 * function's body, recursively: body values get the prefix "<call node name>/" so they stay unique, formal inputs and
 * outputs become the call's actual ones, and `ref_attr_name` attributes take the call's values. The functions'
 * opset imports are merged into the model's.
 */
function inlineLocalFunctions(proto: onnx.ModelProto): void {
  const fns = new Map((proto.functions ?? []).map((f) => [`${f.domain ?? ""}::${f.name}`, f]));
  const expand = (nodes: onnx.INodeProto[], depth: number): onnx.INodeProto[] => {
    if (depth > 32) throw new OnnxProbeError("probe: model-local functions nest more than 32 deep (recursive functions?)");
    const out: onnx.INodeProto[] = [];
    nodes.forEach((n, i) => {
      const f = fns.get(`${n.domain ?? ""}::${n.opType}`);
      if (!f) { out.push(n); return; }
      const callName = n.name || `${n.opType}_${i}`;   // a nested call's name already carries its caller's prefix
      const rename = new Map<string, string>();
      (f.input ?? []).forEach((formal, k) => rename.set(formal, n.input?.[k] ?? ""));
      (f.output ?? []).forEach((formal, k) => rename.set(formal, n.output?.[k] ?? ""));
      const v = (name: string) => (name === "" ? "" : rename.get(name) ?? `${callName}/${name}`);
      const attrs = new Map((n.attribute ?? []).map((a) => [a.name!, a]));
      const body = (f.node ?? []).map((b, j) => onnx.NodeProto.create({
        ...b,
        name: `${callName}/${b.name || `${b.opType}_${j}`}`,
        input: (b.input ?? []).map(v),
        output: (b.output ?? []).map(v),
        attribute: (b.attribute ?? []).flatMap((a) => {
          if (!a.refAttrName) return [a];
          const given = attrs.get(a.refAttrName);
          return given ? [onnx.AttributeProto.create({ ...given, name: a.name })] : [];
        }),
      }));
      out.push(...expand(body, depth + 1));
    });
    return out;
  };
  proto.graph!.node = expand(proto.graph!.node ?? [], 0);
  const have = new Set((proto.opsetImport ?? []).map((o) => o.domain ?? ""));
  for (const f of proto.functions ?? []) for (const o of f.opsetImport ?? []) {
    if (!have.has(o.domain ?? "")) { proto.opsetImport.push(o); have.add(o.domain ?? ""); }
  }
  proto.functions = [];
}

/**
 * Creates a session on the engine's device (the same provider, threads and session options as compiled graphs);
 * when onnxruntime refuses the model, the message lists the model's ops and ORT's reason.
 */
export async function createProbeSession(model: OnnxModel, bytes: Uint8Array = model.bytes, threads?: number): Promise<ort.InferenceSession> {
  try {
    return await createSession(bytes, { threads });
  } catch (e) {
    if (e instanceof NextframeError) throw e; // the device itself cannot run (its message names the setting)
    const msg = (e as Error).message;
    const m = /implementation for ([\w.]+)\((\d+)\)/.exec(msg) ?? /Unrecognized attribute|No Op registered for (\w+)/.exec(msg);
    const op = m ? ` uses op ${m[1]}${m[2] ? ` (opset ${m[2]})` : ""}, which this onnxruntime lacks;` : "";
    throw new OnnxProbeError(`probe: onnxruntime cannot load ${model.label}:${op} ops in the model: ${Object.keys(model.opCounts()).join(", ")}. onnxruntime said: ${msg.split("\n")[0]}`);
  }
}

type Feed = ort.Tensor | FeedArray;
type FeedArray = { data: ArrayLike<number> | BigInt64Array | Float32Array | Int32Array; shape: readonly number[] };

function toOrt(model: OnnxModel, name: string, v: Feed): ort.Tensor {
  if (v instanceof ort.Tensor) return v as ort.Tensor;
  const info = model.inputs().find((i) => i.name === name);
  v = v as FeedArray;
  if (!info) throw new OnnxProbeError(`probe: ${model.label} has no input "${name}"; inputs are ${model.inputs().map((i) => i.name).join(", ")}`);
  const dims = [...v.shape];
  const n = dims.reduce((a, b) => a * b, 1);
  if (v.data.length !== n) throw new OnnxProbeError(`probe: input "${name}" has ${v.data.length} values but shape [${dims.join(", ")}] needs ${n}`);
  if (info.shape && info.shape.length !== dims.length) {
    throw new OnnxProbeError(`probe: input "${name}" expects rank ${info.shape.length} [${info.shape.map((d) => d ?? "?").join(", ")}], got shape [${dims.join(", ")}]`);
  }
  switch (info.elemType) {
    case "float": return new ort.Tensor("float32", v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>), dims);
    case "double": return new ort.Tensor("float64", Float64Array.from(v.data as ArrayLike<number>), dims);
    case "int64": return new ort.Tensor("int64", v.data instanceof BigInt64Array ? v.data : BigInt64Array.from(Array.from(v.data as ArrayLike<number>, (x) => BigInt(Math.trunc(x)))), dims);
    case "int32": return new ort.Tensor("int32", Int32Array.from(v.data as ArrayLike<number>), dims);
    default: throw new OnnxProbeError(`probe: input "${name}" has element type ${info.elemType}, which the probe cannot feed`);
  }
}

/**
 * Runs the model with every Softmax output (or the chosen ones) exposed, and returns the attention maps with
 * their runtime shapes, plus the model's own outputs.
 */
export async function probeAttention(source: string | Uint8Array | OnnxModel, feeds: Record<string, Feed>,
  opts: ProbeOptions & { select?: (s: SoftmaxNode) => boolean } = {}):
  Promise<{ maps: AttentionMap[]; outputs: Record<string, { data: Float32Array; shape: number[] }>; softmax: SoftmaxNode[] }> {
  const model = source instanceof OnnxModel ? source : openOnnx(source, opts.name);
  const softmax = model.softmaxNodes().filter(opts.select ?? (() => true));
  if (model.softmaxNodes().length === 0) {
    const fused = Object.keys(model.opCounts()).filter((k) => /attention/i.test(k));
    const inner = Object.entries(model.subgraphSoftmaxCounts()).map(([op, k]) => `${k} inside ${op} bodies`);
    throw new OnnxProbeError(`probe: ${model.label} has no Softmax node${fused.length ? ` (attention is fused into ${fused.join(", ")}; its probabilities cannot be exposed — export without the fused op)` : ""}` +
      `${inner.length ? ` in its main graph (${inner.join(", ")}: values inside control-flow bodies cannot be graph outputs — unroll the loop when exporting)` : ""}. ${model.describe()}`);
  }
  const session = await createProbeSession(model, model.withExtraOutputs(softmax.map((s) => s.output)), opts.threads);
  try {
    const feedOrt: Record<string, ort.Tensor> = {};
    const needed = model.inputs().map((i) => i.name);
    const missing = needed.filter((n) => !(n in feeds));
    if (missing.length) throw new OnnxProbeError(`probe: missing input(s) ${missing.join(", ")} for ${model.label}; it takes ${model.describe()}`);
    for (const n of needed) feedOrt[n] = toOrt(model, n, feeds[n]);
    // in an interrupted cell the run halts (never settles; interrupt.ts) after releasing the session
    const res = await onHalt(() => void session.release().catch(() => {}), () => native(outsideCells(() => session.run(feedOrt)), "probeAttention"));
    const maps: AttentionMap[] = softmax.map((s) => {
      const t = res[s.output];
      return { node: s.node, output: s.output, shape: t.dims.map(Number), data: t.data as Float32Array };
    });
    const outputs: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const o of model.outputs()) outputs[o.name] = { data: res[o.name].data as Float32Array, shape: res[o.name].dims.map(Number) };
    return { maps, outputs, softmax };
  } finally {
    await session.release();
  }
}

/**
 * Softmax nodes with their shapes even when the file records none (torch.onnx.export usually doesn't): runs
 * the model once on zero inputs built from the declared input shapes (symbolic dims from `dims`, else 1)
 * and reads each Softmax output's runtime shape.
 */
export async function listSoftmax(source: string | Uint8Array | OnnxModel, opts: ProbeOptions & { dims?: Record<string, number> } = {}): Promise<SoftmaxNode[]> {
  const model = source instanceof OnnxModel ? source : openOnnx(source, opts.name);
  const nodes = model.softmaxNodes();
  if (nodes.length === 0 || nodes.every((n) => n.shape && n.shape.every((d) => typeof d === "number"))) return nodes;
  const feeds: Record<string, FeedArray> = {};
  for (const inp of model.inputs()) {
    if (!inp.shape) throw new OnnxProbeError(`listSoftmax: input "${inp.name}" of ${model.label} has no declared shape; pass feeds to probeAttention instead`);
    const shape = inp.shape.map((d): number => (typeof d === "number" ? d : (d ? opts.dims?.[d] : undefined) ?? 1));
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[inp.name] = { data: inp.elemType === "int64" ? new BigInt64Array(n) : new Float32Array(n), shape };
  }
  const { maps } = await probeAttention(model, feeds, opts);
  return nodes.map((n, i) => ({ ...n, shape: maps[i].shape }));
}

/**
 * Wraps an external ONNX denoiser as a sampler `DenoiseFn`. The inputs are found by name (x / t / y, or
 * the names given) or else by position (first float input = x, then timesteps, then labels). Timesteps and
 * labels are cast to whatever element type the file declares. The first output is the model output.
 */
export async function onnxDenoiser(source: string | Uint8Array | OnnxModel,
  opts: ProbeOptions & { x?: string; t?: string; y?: string; output?: string } = {}): Promise<DenoiseFn & { release(): Promise<void>; model: OnnxModel }> {
  const model = source instanceof OnnxModel ? source : openOnnx(source, opts.name);
  const inputs = model.inputs();
  const byName = (want: string | undefined, guesses: string[], fallback: number): string | undefined => {
    if (want) {
      if (!inputs.some((i) => i.name === want)) throw new OnnxProbeError(`onnxDenoiser: ${model.label} has no input "${want}"; inputs: ${inputs.map((i) => i.name).join(", ")}`);
      return want;
    }
    return inputs.find((i) => guesses.includes(i.name.toLowerCase()))?.name ?? inputs[fallback]?.name;
  };
  const xName = byName(opts.x, ["x", "x_t", "xt", "sample", "latent", "input"], 0);
  const tName = byName(opts.t, ["t", "timestep", "timesteps"], 1);
  const yName = inputs.length >= 3 ? byName(opts.y, ["y", "label", "labels", "class_labels"], 2) : undefined;
  if (!xName || !tName) throw new OnnxProbeError(`onnxDenoiser: ${model.label} needs inputs (x, t[, y]); it takes ${model.describe()}`);
  const outName = opts.output ?? model.outputs()[0].name;
  const session = await createProbeSession(model, model.bytes, opts.threads);
  const fn = (async (x, shape, t, y) => {
    const feeds: Record<string, ort.Tensor> = {
      [xName]: toOrt(model, xName, { data: x, shape }),
      [tName]: toOrt(model, tName, { data: t, shape: [t.length] }),
    };
    if (yName) {
      if (!y) throw new OnnxProbeError(`onnxDenoiser: ${model.label} takes labels "${yName}" but the sampler passed none (set y in the sample options)`);
      feeds[yName] = toOrt(model, yName, { data: y, shape: [y.length] });
    }
    const res = await native(outsideCells(() => session.run(feeds)), "onnxDenoiser");
    const out = res[outName];
    if (out.type !== "float32") throw new OnnxProbeError(`onnxDenoiser: output "${outName}" is ${out.type}, expected float32`);
    return out.data as Float32Array;
  }) as DenoiseFn & { release(): Promise<void>; model: OnnxModel };
  fn.release = () => session.release();
  fn.model = model;
  return fn;
}
