/**
 * The graph IR: the closed set of primitive ops and their attributes.
 *
 * Every Tensor is either a leaf (concrete data, or a placeholder while tracing) or the single output of one
 * primitive op applied to input Tensors. User-facing ops (ops.ts) are compositions of these primitives, so
 * autodiff (autodiff.ts: one VJP rule per primitive) and ONNX emission (onnx.ts: one lowering per primitive)
 * cover everything. Both tables are typed `{ [K in OpType]: ... }`, so adding a primitive without its rule
 * fails to compile.
 */
import type { DType } from "./dtype.js";

export type UnaryOp = "neg" | "exp" | "log" | "sqrt" | "abs" | "tanh" | "sigmoid" | "relu" | "sin" | "cos" | "erf" | "sign";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum";
export type CompareOp = "equal" | "less" | "lessEqual" | "greater" | "greaterEqual";

/** Attributes per primitive. Axes are already normalized (non-negative). */
export interface OpAttrs {
  // elementwise
  neg: {}; exp: {}; log: {}; sqrt: {}; abs: {}; tanh: {}; sigmoid: {}; relu: {}; sin: {}; cos: {}; erf: {}; sign: {};
  add: {}; sub: {}; mul: {}; div: {}; pow: {}; maximum: {}; minimum: {};
  equal: {}; less: {}; lessEqual: {}; greater: {}; greaterEqual: {};
  and: {}; or: {}; not: {};
  where: {};
  /**
   * GELU as one primitive, so its gradient can be written from x alone: emitted as the elementwise chain that
   * onnxruntime fuses into one Gelu/FastGelu kernel, which it can only do when nothing else reads the chain's
   * intermediates (the generic rules would keep them for the backward pass).
   */
  gelu: { approximate: "none" | "tanh" };
  cast: { to: DType };
  /** Identity that blocks gradients (Tensor.detach on a lazy tensor). */
  stopGradient: {};
  /** A tensor filled with one scalar value (ConstantOfShape / scalar initializer). */
  constantOfShape: { value: number };
  /** Uniform [0, 1) noise generated inside the graph (dropout masks in compiled train steps). */
  randomUniform: { seed: number };
  /** Standard normal noise generated inside the graph (randn while tracing). */
  randomNormal: { seed: number };
  // linear algebra
  /** numpy matmul on rank >= 2 operands with broadcast batch dims. */
  matmul: {};
  // layout
  reshape: {};
  transpose: { perm: number[] };
  expand: {};
  slice: { axis: number; start: number; end: number; step: number };
  /** Zero padding; pads in ONNX order [b0, b1, ..., e0, e1, ...]. */
  pad: { pads: number[] };
  concat: { axis: number };
  // reductions
  reduceSum: { axes: number[]; keepdims: boolean };
  reduceMax: { axes: number[]; keepdims: boolean };
  reduceMin: { axes: number[]; keepdims: boolean };
  argMax: { axis: number; keepdims: boolean };
  argMin: { axis: number; keepdims: boolean };
  cumsum: { axis: number; reverse: boolean; exclusive: boolean };
  topkValues: { k: number; axis: number; largest: boolean };
  topkIndices: { k: number; axis: number; largest: boolean };
  // normalisation
  softmax: { axis: number };
  logSoftmax: { axis: number };
  /** LayerNormalization over axes [axis, rank): inputs x, scale, bias. */
  layerNorm: { axis: number; eps: number };
  /**
   * The mean or 1/√(σ² + ε) over axes [axis, rank) of x (keepdims), as LayerNormalization's second and third outputs:
   * inputs x and the layerNorm node over x whose statistics these are (its backward pass reads them instead of
   * recomputing them in four passes over x). Emitted as outputs of that node when it is in the same graph.
   */
  layerNormStat: { axis: number; eps: number; which: "mean" | "invStd" };
  // indexing
  /** ONNX Gather (torch index_select / embedding lookup); indices of any shape. */
  gather: { axis: number };
  /** ONNX GatherElements (torch.gather). */
  gatherElements: { axis: number };
  /** ScatterElements(reduction=add): data + scatter of updates at indices along axis (backward of gatherElements/topk). */
  scatterAdd: { axis: number };
  /** ScatterND(reduction=add) on axis 0 with indices (n, 1): backward of gather. */
  indexAdd: {};
  // convolution (NCHW, groups = 1)
  conv2d: { stride: [number, number]; padding: [number, number]; dilation: [number, number] };
  convTranspose2d: { stride: [number, number]; padding: [number, number]; outputPadding: [number, number]; dilation: [number, number] };
}

export type OpType = keyof OpAttrs;

export const UNARY_OPS: readonly UnaryOp[] = ["neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sin", "cos", "erf", "sign"];
