/**
 * ONNX emission: lowers a topologically ordered list of primitive nodes (graph.ts) to an onnx.ModelProto
 * (opset 17, IR 8), one lowering per primitive in the exhaustive table `lowerings`.
 */
import { onnx } from "onnx-proto";
import { ONNX_DTYPE, shapeSize, type DType, type Shape, type TypedArray } from "./dtype.js";
import type { OpAttrs, OpType } from "./graph.js";
import type { Tensor } from "./tensor.js";
import { internal } from "./errors.js";

export const OPSET = 17;

export interface GraphSpec {
  /** Leaves fed at run time, in feed order. */
  inputs: readonly Tensor[];
  /** Leaves baked into the file as initializers (exportOnnx). */
  initializers?: readonly Tensor[];
  /** Non-leaf tensors, topologically ordered. */
  nodes: readonly Tensor[];
  /** Graph outputs: distinct, non-leaf tensors. */
  outputs: readonly Tensor[];
  inputNames?: readonly string[];
  outputNames?: readonly string[];
  /**
   * "float16": float32 matrix products (MatMul, Gemm, Conv, ConvTranspose of matmul/conv ops) run in half
   * precision, their operands cast down and results cast back; everything else (norms, softmax, reductions,
   * the sin/cos of timestep embeddings) stays float32, as under torch.autocast. Weights baked in as
   * initializers are cast once, when onnxruntime constant-folds the graph. For GPU inference.
   */
  autocast?: "float16";
  /**
   * When given, emitModel records the ONNX node names emitted for each graph node in `tracked` (ops that may fail
   * inside onnxruntime, e.g. indexSelect's Gather) into `names`, so a failed run can name the op (origin.ts).
   */
  nodeOrigins?: { tracked: ReadonlySet<Tensor>; names: Map<string, Tensor> };
}

/** The node types `autocast: "float16"` runs in half precision. */
const AUTOCAST_OPS = new Set(["MatMul", "Gemm", "Conv", "ConvTranspose"]);
const FLOAT16 = 10;

type AttrValue = number | string | number[] | { float: number } | { tensor: onnx.ITensorProto };

/** Emission context shared by the lowerings. */
export class Emitter {
  nodes: onnx.INodeProto[] = [];
  initializers: onnx.ITensorProto[] = [];
  private names = new Map<Tensor, string>();
  private constCache = new Map<string, string>();
  private halfCache = new Map<string, string>();
  private counter = 0;
  /** Set by emitModel while it lowers a float32 product under `autocast: "float16"`. */
  halfProducts = false;
  /** Set by emitModel while it lowers a graph node whose ONNX node names it records (GraphSpec.nodeOrigins). */
  origin: { t: Tensor; names: Map<string, Tensor> } | null = null;
  /**
   * The graph node being lowered: its id ends the ONNX node names (`MatMul_12#345`), so onnxruntime's per-node
   * profile can be mapped back to graph nodes (the engine bench splits forward, backward and optimizer that way).
   */
  current: Tensor | null = null;
  /** layerNorm nodes whose Mean / InvStdDev a layerNormStat node reads (set by emitModel), and their output names. */
  statsWanted = new Set<Tensor>();
  lnStats = new Map<Tensor, [string, string]>();

  name(t: Tensor): string {
    const n = this.names.get(t);
    if (n === undefined) internal(`tensor #${t.id} (${t.op ?? "leaf"}) used before it was emitted`);
    return n;
  }
  setName(t: Tensor, name: string): void { this.names.set(t, name); }
  fresh(prefix = "v"): string { return `${prefix}_${this.counter++}`; }

  /** Appends a node; returns its output names. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, out?: string[]): string[] {
    if (this.halfProducts && AUTOCAST_OPS.has(opType)) {
      // operands down to float16 (one Cast per value, shared by every product that reads it), result back up
      this.halfProducts = false;
      const half = inputs.map((n) => {
        let h = this.halfCache.get(n);
        if (!h) this.halfCache.set(n, (h = this.node("Cast", [n], { to: FLOAT16 })[0]!));
        return h;
      });
      const y = this.node(opType, half, attrs)[0]!;
      const r = this.node("Cast", [y], { to: ONNX_DTYPE.float32 }, 1, out);
      this.halfProducts = true;
      return r;
    }
    const outputs = out ?? Array.from({ length: nOut }, () => this.fresh());
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => attr(name, v));
    const name = `${opType}_${this.nodes.length}${this.current ? `#${this.current.id}` : ""}`;
    if (this.origin) this.origin.names.set(name, this.origin.t);
    this.nodes.push({ opType, input: inputs, output: outputs, attribute, name });
    return outputs;
  }
  /** A constant int64 tensor (deduplicated). */
  i64(values: readonly number[], scalarShape = false): string {
    const key = `i64:${scalarShape ? "s" : ""}${values.join(",")}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.fresh("c");
      this.initializers.push(tensorProto(n, scalarShape ? [] : [values.length], "int64", BigInt64Array.from(values.map((v) => BigInt(v)))));
      this.constCache.set(key, n);
    }
    return n;
  }
  /** The constant k × k matrix value·I (deduplicated). */
  eye(k: number, value: number, dtype: DType): string {
    const key = `eye:${dtype}:${value}:${k}`;
    let n = this.constCache.get(key);
    if (!n) {
      n = this.fresh("c");
      const arr = dtypeArray(dtype, k * k, 0);
      for (let i = 0; i < k; i++) arr[i * k + i] = value;
      this.initializers.push(tensorProto(n, [k, k], dtype, arr));
      this.constCache.set(key, n);
    }
    return n;
  }
  /** A constant of `dtype` filled with `value`, of `shape` (deduplicated). */
  filled(value: number, dtype: DType, shape: Shape): string {
    const key = `fill:${dtype}:${value}:${shape.join("x")}`;
    let n = this.constCache.get(key);
    if (n) return n;
    if (shapeSize(shape) <= 64) {
      n = this.fresh("c");
      const arr = dtypeArray(dtype, shapeSize(shape), value);
      this.initializers.push(tensorProto(n, shape, dtype, arr));
    } else {
      const v = tensorProto("value", [1], dtype, dtypeArray(dtype, 1, value));
      n = this.node("ConstantOfShape", [this.i64(shape)], { value: { tensor: v } })[0]!;
    }
    this.constCache.set(key, n);
    return n;
  }
}

function dtypeArray(dtype: DType, n: number, value: number): TypedArray {
  switch (dtype) {
    case "float32": return new Float32Array(n).fill(value);
    case "float64": return new Float64Array(n).fill(value);
    case "int32": return new Int32Array(n).fill(value);
    case "int64": return new BigInt64Array(n).fill(BigInt(Math.trunc(value)));
    case "uint8": return new Uint8Array(n).fill(value);
    case "bool": return new Uint8Array(n).fill(value ? 1 : 0);
  }
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") return { name, type: T.INT, i: v };
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ("float" in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v.tensor };
}

export function tensorProto(name: string, dims: Shape, dtype: DType, data: TypedArray): onnx.ITensorProto {
  return {
    name, dims: [...dims], dataType: ONNX_DTYPE[dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function valueInfo(name: string, dtype: DType, shape: Shape): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: ONNX_DTYPE[dtype], shape: { dim: shape.map((d) => ({ dimValue: d })) } } } };
}

type Lowering<K extends OpType> = (e: Emitter, t: Tensor, ins: string[], a: OpAttrs[K]) => string;

/** ORT's CPU provider has only float kernels for these: float64 inputs round-trip through float32. */
const FLOAT32_ONLY = new Set(["Erf", "Conv", "ConvTranspose"]);

function simple(opType: string): Lowering<any> {
  return (e, t, ins) => {
    const inputDtype = t.inputs[0]?.dtype;
    if (FLOAT32_ONLY.has(opType) && inputDtype === "float64") {
      const cast = ins.map((n) => e.node("Cast", [n], { to: ONNX_DTYPE.float32 })[0]!);
      const y = e.node(opType, cast)[0]!;
      return e.node("Cast", [y], { to: ONNX_DTYPE.float64 })[0]!;
    }
    return e.node(opType, ins)[0]!;
  };
}

export const onnxLowerings: { [K in OpType]: Lowering<K> } = {
  neg: simple("Neg"), exp: simple("Exp"), log: simple("Log"), sqrt: simple("Sqrt"), abs: simple("Abs"),
  tanh: simple("Tanh"), sigmoid: simple("Sigmoid"), relu: simple("Relu"), sin: simple("Sin"), cos: simple("Cos"),
  erf: simple("Erf"), sign: simple("Sign"),
  add: simple("Add"), sub: simple("Sub"), mul: simple("Mul"), div: simple("Div"), pow: simple("Pow"),
  maximum: simple("Max"), minimum: simple("Min"),
  equal: simple("Equal"), less: simple("Less"), lessEqual: simple("LessOrEqual"), greater: simple("Greater"),
  greaterEqual: simple("GreaterOrEqual"), and: simple("And"), or: simple("Or"), not: simple("Not"),
  where: simple("Where"),
  // GELU (Hendrycks & Gimpel 2016). "none": x Φ(x) = 0.5 x (1 + erf(x / √2)); "tanh": 0.5 x (1 + tanh(√(2/π) (x +
  // 0.044715 x³))), GPT-2's and DiT's approx_gelu. Written exactly in the forms onnxruntime's GeluFusion (Div by √2)
  // and FastGeluFusion (Pow(x, 3), constants as the second Mul operand) match, so it runs as one kernel wherever the
  // chain's output feeds another node; the file stays plain opset-17 ONNX for any other runtime.
  gelu: (e, t, [x], { approximate }) => {
    const c = (v: number) => e.filled(v, t.dtype, []);
    const half = e.node("Mul", [x!, c(0.5)])[0]!;
    let inner: string;
    if (approximate === "tanh") {
      const cube = e.node("Pow", [x!, c(3)])[0]!;
      const poly = e.node("Add", [x!, e.node("Mul", [cube, c(0.044715)])[0]!])[0]!;
      inner = e.node("Tanh", [e.node("Mul", [poly, c(Math.sqrt(2 / Math.PI))])[0]!])[0]!;
    } else {
      inner = simple("Erf")(e, t, [e.node("Div", [x!, c(Math.SQRT2)])[0]!], {});   // t's input x sets the dtype (float64 round-trips)
    }
    return e.node("Mul", [half, e.node("Add", [inner, c(1)])[0]!])[0]!;
  },
  cast: (e, _t, ins, a) => e.node("Cast", ins, { to: ONNX_DTYPE[a.to] })[0]!,
  stopGradient: simple("Identity"),
  constantOfShape: (e, t, _ins, a) => e.filled(a.value, t.dtype, t.shape),
  randomUniform: (e, t, _ins, a) => e.node("RandomUniform", [], { dtype: ONNX_DTYPE[t.dtype], shape: [...t.shape], seed: { float: a.seed } })[0]!,
  randomNormal: (e, t, _ins, a) => e.node("RandomNormal", [], { dtype: ONNX_DTYPE[t.dtype], shape: [...t.shape], seed: { float: a.seed } })[0]!,
  matmul: (e, t, ins) => {
    // 2-D products become Gemm with transA/transB absorbing Transpose inputs (see gemmOperand / emitModel)
    if (isGemm(t)) {
      const [a, b] = t.inputs.map(gemmOperand) as [[Tensor, boolean], [Tensor, boolean]];
      return e.node("Gemm", [e.name(a[0]), e.name(b[0])], { transA: a[1] ? 1 : 0, transB: b[1] ? 1 : 0 })[0]!;
    }
    return e.node("MatMul", ins)[0]!;
  },
  reshape: (e, t, ins) => e.node("Reshape", [ins[0]!, e.i64(t.shape)])[0]!,
  transpose: (e, _t, ins, a) => e.node("Transpose", ins, { perm: a.perm })[0]!,
  expand: (e, t, ins) => e.node("Expand", [ins[0]!, e.i64(t.shape)])[0]!,
  slice: (e, _t, ins, a) => e.node("Slice", [ins[0]!, e.i64([a.start]), e.i64([a.end]), e.i64([a.axis]), e.i64([a.step])])[0]!,
  pad: (e, _t, ins, a) => e.node("Pad", [ins[0]!, e.i64(a.pads)], { mode: "constant" })[0]!,
  concat: (e, _t, ins, a) => e.node("Concat", ins, { axis: a.axis })[0]!,
  reduceSum: (e, t, ins, a) => {
    // a float32 sum over leading axes (a bias gradient: Σ over batch and tokens) as ones(1, R)·x(R, C): MLAS's
    // GEMV reads x once at full speed; onnxruntime's ReduceSum over outer axes took ~2× as long at (512, 384)
    const x = t.inputs[0]!, k = a.axes.length;
    const R = x.shape.slice(0, k).reduce((p, d) => p * d, 1), C = x.size / Math.max(R, 1);
    if (x.dtype === "float32" && k < x.rank && a.axes.every((ax, i) => ax === i) && R >= 64 && C >= 16) {
      const rows = e.node("Reshape", [ins[0]!, e.i64([R, C])])[0]!;
      const sum = e.node("MatMul", [e.filled(1, "float32", [1, R]), rows])[0]!;
      return e.node("Reshape", [sum, e.i64(t.shape)])[0]!;
    }
    return e.node("ReduceSum", [ins[0]!, e.i64(a.axes)], { keepdims: a.keepdims ? 1 : 0 })[0]!;
  },
  reduceMax: (e, _t, ins, a) => e.node("ReduceMax", ins, { axes: a.axes, keepdims: a.keepdims ? 1 : 0 })[0]!,
  reduceMin: (e, _t, ins, a) => e.node("ReduceMin", ins, { axes: a.axes, keepdims: a.keepdims ? 1 : 0 })[0]!,
  argMax: (e, _t, ins, a) => e.node("ArgMax", ins, { axis: a.axis, keepdims: a.keepdims ? 1 : 0 })[0]!,
  argMin: (e, _t, ins, a) => e.node("ArgMin", ins, { axis: a.axis, keepdims: a.keepdims ? 1 : 0 })[0]!,
  cumsum: (e, _t, ins, a) => e.node("CumSum", [ins[0]!, e.i64([a.axis], true)], { reverse: a.reverse ? 1 : 0, exclusive: a.exclusive ? 1 : 0 })[0]!,
  topkValues: (e, _t, ins, a) => e.node("TopK", [ins[0]!, e.i64([a.k])], { axis: a.axis, largest: a.largest ? 1 : 0, sorted: 1 }, 2)[0]!,
  topkIndices: (e, _t, ins, a) => e.node("TopK", [ins[0]!, e.i64([a.k])], { axis: a.axis, largest: a.largest ? 1 : 0, sorted: 1 }, 2)[1]!,
  softmax: (e, _t, ins, a) => e.node("Softmax", ins, { axis: a.axis })[0]!,
  logSoftmax: (e, _t, ins, a) => e.node("LogSoftmax", ins, { axis: a.axis })[0]!,
  layerNorm: (e, t, ins, a) => {
    // with its statistics read by the backward pass (layerNormStat), the node also outputs Mean and InvStdDev
    const stats = e.statsWanted.has(t);
    const outs = e.node("LayerNormalization", ins, { axis: a.axis, epsilon: { float: a.eps }, stash_type: ONNX_DTYPE[t.dtype === "float64" ? "float64" : "float32"] }, stats ? 3 : 1);
    if (stats) e.lnStats.set(t, [outs[1]!, outs[2]!]);
    return outs[0]!;
  },
  layerNormStat: (e, t, ins, a) => {
    const ln = t.inputs[1]!, x = t.inputs[0]!;
    if (x.dtype !== "float32") {
      // onnxruntime's CPU LayerNormalization has no kernel with float64 Mean / InvStdDev outputs: computed here
      const axes = Array.from({ length: x.rank - a.axis }, (_, i) => a.axis + i);   // an attribute in opset 17
      const mean = e.node("ReduceMean", [ins[0]!], { axes, keepdims: 1 })[0]!;
      if (a.which === "mean") return mean;
      const xc = e.node("Sub", [ins[0]!, mean])[0]!;
      const v = e.node("ReduceMean", [e.node("Mul", [xc, xc])[0]!], { axes, keepdims: 1 })[0]!;
      return e.node("Reciprocal", [e.node("Sqrt", [e.node("Add", [v, e.filled(a.eps, x.dtype, [])])[0]!])[0]!])[0]!;
    }
    let stats = e.lnStats.get(ln);
    if (!stats) {
      // the layerNorm node is not emitted here (a concrete value): a LayerNormalization of x without affine for them
      const ns = x.shape.slice(a.axis);
      const outs = e.node("LayerNormalization", [ins[0]!, e.filled(1, x.dtype, ns), e.filled(0, x.dtype, ns)],
        { axis: a.axis, epsilon: { float: a.eps }, stash_type: ONNX_DTYPE.float32 }, 3);
      stats = [outs[1]!, outs[2]!];
      e.lnStats.set(ln, stats);
    }
    return stats[a.which === "mean" ? 0 : 1];
  },
  gather: (e, _t, ins, a) => e.node("Gather", ins, { axis: a.axis })[0]!,
  gatherElements: (e, _t, ins, a) => e.node("GatherElements", ins, { axis: a.axis })[0]!,
  scatterAdd: (e, _t, ins, a) => e.node("ScatterElements", ins, { axis: a.axis, reduction: "add" })[0]!,
  indexAdd: (e, t, ins) => {
    const idx = t.inputs[1]!.dtype === "int64" ? ins[1]! : e.node("Cast", [ins[1]!], { to: ONNX_DTYPE.int64 })[0]!;
    return e.node("ScatterND", [ins[0]!, idx, ins[2]!], { reduction: "add" })[0]!;
  },
  conv2d: (e, t, ins, a) => {
    const attrs = { strides: a.stride, pads: [a.padding[0], a.padding[1], a.padding[0], a.padding[1]], dilations: a.dilation };
    if (t.dtype === "float64") {
      const cast = ins.map((n) => e.node("Cast", [n], { to: ONNX_DTYPE.float32 })[0]!);
      return e.node("Cast", [e.node("Conv", cast, attrs)[0]!], { to: ONNX_DTYPE.float64 })[0]!;
    }
    return e.node("Conv", ins, attrs)[0]!;
  },
  convTranspose2d: (e, t, ins, a) => {
    const attrs = {
      strides: a.stride, pads: [a.padding[0], a.padding[1], a.padding[0], a.padding[1]], dilations: a.dilation,
      output_padding: a.outputPadding,
    };
    if (t.dtype === "float64") {
      const cast = ins.map((n) => e.node("Cast", [n], { to: ONNX_DTYPE.float32 })[0]!);
      return e.node("Cast", [e.node("ConvTranspose", cast, attrs)[0]!], { to: ONNX_DTYPE.float64 })[0]!;
    }
    return e.node("ConvTranspose", ins, attrs)[0]!;
  },
};

/** A Gemm operand: a 2-D transpose is absorbed as a trans flag on its input. */
function gemmOperand(x: Tensor): [Tensor, boolean] {
  return x.op === "transpose" && x.rank === 2 && x._value === null && !x._placeholder ? [x.inputs[0]!, true] : [x, false];
}
/** 2-D float products with a transposed operand are emitted as Gemm(transA/transB); plain ones stay MatMul. */
function isGemm(t: Tensor): boolean {
  return t.op === "matmul" && t.inputs.every((x) => x.rank === 2) && (t.dtype === "float32" || t.dtype === "float64") &&
    t.inputs.some((x) => gemmOperand(x)[1]);
}

/**
 * `add(matmul(A, B), c)` where the 2-D float product is used only by that add and c broadcasts
 * unidirectionally to the product's (M, N) shape (c is (N), (1, N), (M, 1) or (M, N)): emitted as one
 * Gemm(A, B, C). Returns add → [product, c].
 */
function gemmBiasFusions(nodes: readonly Tensor[], outputs: ReadonlySet<Tensor>): Map<Tensor, [Tensor, Tensor]> {
  const inGraph = new Set(nodes);
  const consumers = new Map<Tensor, number>();
  for (const t of nodes) for (const x of t.inputs) consumers.set(x, (consumers.get(x) ?? 0) + 1);
  const fusions = new Map<Tensor, [Tensor, Tensor]>();
  for (const t of nodes) {
    if (t.op !== "add" || (t.dtype !== "float32" && t.dtype !== "float64")) continue;
    for (const [i, j] of [[0, 1], [1, 0]] as const) {
      const m = t.inputs[i]!, c = t.inputs[j]!;
      if (m === c || m.op !== "matmul" || !inGraph.has(m) || outputs.has(m) || consumers.get(m) !== 1) continue;
      if (m.rank !== 2 || !m.inputs.every((x) => x.rank === 2) || m.dtype !== t.dtype || c.dtype !== t.dtype) continue;
      if (t.shape[0] !== m.shape[0] || t.shape[1] !== m.shape[1] || c.rank > 2) continue;
      const lead = 2 - c.rank;
      if (!c.shape.every((d, k) => d === 1 || d === m.shape[k + lead])) continue;
      fusions.set(t, [m, c]);
      break;
    }
  }
  return fusions;
}

/** One term c·x of a scaled sum: the tensor, its scalar coefficient (null: 1) and a sign. */
interface ScaledTerm { base: Tensor; coef: Tensor | null; negate: boolean }
/** y = a·x₁ ± b·x₂ over large same-shaped tensors, emitted as one Gemm (see scaledSums). */
interface ScaledSum { a: ScaledTerm; c: ScaledTerm }

/** Width of the diagonal matrix of a scaled sum's Gemm: (R, 16)·(16, 16) measured fastest of 1..32 (4 M elements: 10.8 ms vs 19.7 ms for Mul, Mul, Add). */
const AXPBY_K = 16;

/** A scalar constant (constantOfShape of one element) as a number, else null. */
const constValue = (t: Tensor | null): number | null =>
  t && t.op === "constantOfShape" && t.size === 1 ? (t.attrs as OpAttrs["constantOfShape"]).value : null;

/**
 * `add(mul(x₁, a), mul(x₂, b))` (or sub) where a is a constant scalar, b any scalar and x₁, x₂ have the sum's full shape:
 * the optimizer's moment updates (m ← β₁m + c·g over millions of elements). Plain ONNX runs three nodes (Mul, Mul,
 * Add); onnxruntime's CPU provider fuses no elementwise chains. As a Gemm on (R, 16) views, Y = X₂·(b·I₁₆) + a·X₁ is
 * one node with a as its beta. Measured on AdamW's update alone (8 × 4 M elements, 20 interleaved rounds): 4–5 % less
 * time and CPU. Returns sum → its terms; only float32 sums of ≥ 64 K elements, a multiple of
 * 16, not already taken by a Gemm+bias fusion.
 */
function scaledSums(nodes: readonly Tensor[], outputs: ReadonlySet<Tensor>, taken: ReadonlyMap<Tensor, unknown>): Map<Tensor, ScaledSum> {
  const inGraph = new Set(nodes);
  const consumers = new Map<Tensor, number>();
  for (const t of nodes) for (const x of t.inputs) consumers.set(x, (consumers.get(x) ?? 0) + 1);
  const same = (x: Tensor, t: Tensor) => x.rank === t.rank && x.shape.every((d, i) => d === t.shape[i]) && x.dtype === t.dtype;
  const term = (x: Tensor, t: Tensor, negate: boolean): ScaledTerm => {
    if (x.op === "mul" && inGraph.has(x) && !outputs.has(x) && consumers.get(x) === 1) {
      const [u, v] = x.inputs as [Tensor, Tensor];
      if (v.size === 1 && same(u, t) && u !== v) return { base: u, coef: v, negate };
      if (u.size === 1 && same(v, t)) return { base: v, coef: u, negate };
    }
    return { base: x, coef: null, negate };
  };
  const out = new Map<Tensor, ScaledSum>();
  for (const t of nodes) {
    // float32 only: Gemm's beta is a float attribute (a float64 β₂ = 0.999 would be rounded)
    if ((t.op !== "add" && t.op !== "sub") || t.dtype !== "float32" || taken.has(t)) continue;
    if (t.size < 1 << 16 || t.size % AXPBY_K !== 0) continue;
    const [x, y] = t.inputs as [Tensor, Tensor];
    if (!same(x, t) || !same(y, t) || x === y) continue;
    const p = term(x, t, false), q = term(y, t, t.op === "sub");
    // both terms scaled and one factor constant (it becomes beta; the other goes into the diagonal matrix): three
    // nodes become one. With fewer factors, or two computed ones, the Gemm (about 2.3 elementwise passes in the DiT
    // step's profile) does not pay: the nodes stay as they are
    if (!p.coef || !q.coef || p.base === q.base) continue;
    if (constValue(p.coef) !== null) out.set(t, { a: q, c: p });
    else if (constValue(q.coef) !== null) out.set(t, { a: p, c: q });
  }
  return out;
}

function emitScaledSum(e: Emitter, t: Tensor, { a, c }: ScaledSum): string {
  const K = AXPBY_K, flat = t.rank === 2 && t.shape[1] === K; // makeTrainStep's flat buffers already are (R, 16)
  const rows = flat ? "" : e.i64([t.size / K, K]);
  const view = (x: Tensor | string) => {
    const n = typeof x === "string" ? x : e.name(x);
    return flat ? n : e.node("Reshape", [n, rows])[0]!;
  };
  // the diagonal: ±I, times a's factor when it has one (a scalar of any rank: reshaped to [] first)
  const ka = constValue(a.coef);
  const eye = e.eye(K, (a.negate ? -1 : 1) * (ka ?? 1), t.dtype);
  const factor = a.coef === null || ka !== null ? null : a.coef.rank === 0 ? e.name(a.coef) : e.node("Reshape", [e.name(a.coef), e.i64([])])[0]!;
  const diag = factor === null ? eye : e.node("Mul", [eye, factor])[0]!;
  // C: its constant factor becomes beta
  const beta = (c.negate ? -1 : 1) * (constValue(c.coef) ?? 1);
  const y = e.node("Gemm", [view(a.base), diag, view(c.base)], { beta: { float: beta } })[0]!;
  return flat ? y : e.node("Reshape", [y, e.i64(t.shape)])[0]!;
}

/** Builds the ModelProto bytes for a graph spec. */
/**
 * onnxruntime's WebGPU Split binds its input and every output as storage buffers, at most 16 a shader ("Too many
 * storage buffers in shader", seen with makeTrainStep's ~150 parameter slices): longer groups stay slices.
 */
const MAX_SPLIT_OUTPUTS = 15;

interface SplitGroup { source: Tensor; axis: number; sizes: number[]; members: Tensor[]; outputOf: number[]; done: boolean }

/**
 * Groups of two or more unit-step slices of one tensor along one axis that do not overlap (a qkv split, the
 * six adaLN chunks): each group becomes one Split node instead of a Slice per part (GPU providers pay a
 * dispatch per node, and onnxruntime fuses slices into Split only for its CPU provider). Gaps between the
 * slices become unused outputs. Measured on an H100 (WebGPU): no change to DiT-B/2's forward time (68.2 vs
 * 68.4 ms; it is bound by the GPU's kernels), 779 → 694 nodes in DiT-S/4's graph.
 */
function sliceSplits(nodes: readonly Tensor[]): Map<Tensor, SplitGroup> {
  const sa = (t: Tensor) => t.attrs as OpAttrs["slice"];
  const bySource = new Map<string, Tensor[]>();
  for (const t of nodes) {
    if (t.op !== "slice" || sa(t).step !== 1) continue;
    const key = `${t.inputs[0]!.id}:${sa(t).axis}`;
    const list = bySource.get(key);
    if (list) list.push(t); else bySource.set(key, [t]);
  }
  const groups = new Map<Tensor, SplitGroup>();
  for (const list of bySource.values()) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => sa(a).start - sa(b).start);
    const source = sorted[0]!.inputs[0]!, axis = sa(sorted[0]!).axis, n = source.shape[axis]!;
    const sizes: number[] = [], outputOf: number[] = [];
    let at = 0, ok = true;
    for (const t of sorted) {
      const { start, end } = sa(t);
      if (start < at || end <= start) { ok = false; break; } // overlapping or empty: leave as slices
      if (start > at) sizes.push(start - at);
      outputOf.push(sizes.length);
      sizes.push(end - start);
      at = end;
    }
    if (at < n) sizes.push(n - at);
    if (!ok || sizes.length > MAX_SPLIT_OUTPUTS) continue;
    const g: SplitGroup = { source, axis, sizes, members: sorted, outputOf, done: false };
    for (const t of sorted) groups.set(t, g);
  }
  return groups;
}

/** The primitives whose products `autocast` may run in half precision (a sum emitted as a MatMul is not one). */
const PRODUCTS = new Set<OpType>(["matmul", "conv2d", "convTranspose2d"]);

export function emitModel(spec: GraphSpec, graphName = "nextframe"): Uint8Array {
  const e = new Emitter();
  const half = spec.autocast === "float16";
  const input: onnx.IValueInfoProto[] = [];
  spec.inputs.forEach((t, i) => {
    const n = spec.inputNames?.[i] ?? `in_${i}`;
    e.setName(t, n);
    input.push(valueInfo(n, t.dtype, t.shape));
  });
  (spec.initializers ?? []).forEach((t, i) => {
    const n = `param_${i}`;
    e.setName(t, n);
    if (!t._value) internal("initializer without a value");
    e.initializers.push(tensorProto(n, t.shape, t.dtype, t._value));
  });
  const outputSet = new Set(spec.outputs);
  const biased = gemmBiasFusions(spec.nodes, outputSet);
  const scaled = scaledSums(spec.nodes, outputSet, biased);
  // uses per tensor, with transposes absorbed into Gemm and products absorbed into Gemm+bias not counted
  // (those are then not emitted)
  const uses = new Map<Tensor, number>();
  const use = (x: Tensor) => uses.set(x, (uses.get(x) ?? 0) + 1);
  for (let k = spec.nodes.length - 1; k >= 0; k--) {
    const t = spec.nodes[k]!;
    if (!uses.has(t) && !outputSet.has(t)) continue;
    const fused = biased.get(t);
    if (fused) {
      for (const x of fused[0].inputs) use(gemmOperand(x)[0]);
      use(fused[1]);
      continue;
    }
    const sc = scaled.get(t);
    if (sc) {
      for (const r of [sc.a, sc.c]) { use(r.base); if (r.coef) use(r.coef); }
      continue;
    }
    for (const x of t.inputs) use(isGemm(t) ? gemmOperand(x)[0] : x);
  }
  const splits = sliceSplits(spec.nodes.filter((t) => uses.has(t) || outputSet.has(t)));
  for (const t of spec.nodes) if (t.op === "layerNormStat" && uses.has(t) && t.dtype === "float32") e.statsWanted.add(t.inputs[1]!);
  for (const t of spec.nodes) {
    if (!uses.has(t) && !outputSet.has(t)) continue;
    e.current = t;
    const split = splits.get(t);
    if (split) {
      // the first of a group of slices that tile one axis: one Split node names them all
      if (!split.done) {
        split.done = true;
        const outs = e.node("Split", [e.name(split.source), e.i64(split.sizes)], { axis: split.axis }, split.sizes.length);
        split.members.forEach((m, k) => e.setName(m, outs[split.outputOf[k]!]!));
      }
      continue;
    }
    const sc = scaled.get(t);
    if (sc) {
      e.setName(t, emitScaledSum(e, t, sc));
      continue;
    }
    const fused = biased.get(t);
    if (fused) {
      // y = A·B + c as one Gemm (C broadcast over rows): one pass over y instead of a product then an Add
      const [a, b] = fused[0].inputs.map(gemmOperand) as [[Tensor, boolean], [Tensor, boolean]];
      e.halfProducts = half && t.dtype === "float32";
      e.setName(t, e.node("Gemm", [e.name(a[0]), e.name(b[0]), e.name(fused[1])], { transA: a[1] ? 1 : 0, transB: b[1] ? 1 : 0 })[0]!);
      e.halfProducts = false;
      continue;
    }
    const ins = isGemm(t) ? [] : t.inputs.map((x) => e.name(x));
    const lower = onnxLowerings[t.op!] as Lowering<OpType>;
    e.halfProducts = half && t.dtype === "float32" && PRODUCTS.has(t.op!);
    e.origin = spec.nodeOrigins?.tracked.has(t) ? { t, names: spec.nodeOrigins.names } : null;
    e.setName(t, lower(e, t, ins, t.attrs));
    e.halfProducts = false;
    e.origin = null;
  }
  e.current = null;
  // Outputs: rename the producing node's output in place (an Identity would copy the whole tensor, which
  // costs real time for big outputs); fall back to Identity for constants and values already renamed.
  const output: onnx.IValueInfoProto[] = [];
  const producer = new Map<string, onnx.INodeProto>();
  for (const nd of e.nodes) for (const o of nd.output ?? []) producer.set(o, nd);
  const renamed = new Set<string>();
  spec.outputs.forEach((t, i) => {
    const want = spec.outputNames?.[i] ?? `out_${i}`;
    const have = e.name(t);
    const nd = producer.get(have);
    if (nd && !renamed.has(have)) {
      renamed.add(have);
      nd.output = nd.output!.map((o) => (o === have ? want : o));
      for (const other of e.nodes) other.input = other.input!.map((x) => (x === have ? want : x));
      producer.delete(have);
    } else {
      e.node("Identity", [have], {}, 1, [want]);
    }
    output.push(valueInfo(want, t.dtype, t.shape));
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: "nextframe",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: { name: graphName, node: e.nodes, input, output, initializer: e.initializers },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
