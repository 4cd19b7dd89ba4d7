/**
 * F — functional ops, mirroring torch.nn.functional (names, argument order and defaults).
 */
import { fmtShape, isFloat, isInt, shapeSize } from "./dtype.js";
import { DTypeError, ShapeError } from "./errors.js";
import { node, Tensor } from "./tensor.js";
import * as ops from "./ops.js";
import { globalGenerator } from "./generator.js";
import { capture } from "./capture.js";

const pair = (v: number | [number, number]): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** y = x Wᵀ + b, weight (out, in) like PyTorch. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be (out, in), got ${fmtShape(weight.shape)}`);
  if (x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new ShapeError(`linear: input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features but weight ${fmtShape(weight.shape)} expects ${weight.shape[1]} (rule: x (..., in) · W (out, in)ᵀ)`);
  }
  // Rank > 2 inputs are flattened to one (N, in) GEMM: ORT then fuses MatMul+Add into Gemm, and the weight
  // gradient becomes one (in, N)·(N, out) product instead of a batched product followed by a reduction.
  const x2 = x.rank > 2 ? ops.reshape(x, [-1, weight.shape[1]!]) : x;
  let y = ops.matmul(x2, ops.transpose(weight, 0, 1));
  if (bias) y = ops.add(y, bias);
  return x.rank > 2 ? ops.reshape(y, [...x.shape.slice(0, -1), weight.shape[0]!]) : y;
}

/** Layer normalization over the trailing `normalizedShape` dims (Ba et al. 2016), ONNX LayerNormalization. */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.rank - ns.length);
  if (ns.length > x.rank || tail.some((d, i) => d !== ns[i])) {
    throw new ShapeError(`layerNorm: input ${fmtShape(x.shape)} does not end with normalizedShape ${fmtShape(ns)}`);
  }
  if (!isFloat(x.dtype)) throw new DTypeError(`layerNorm: expected a float tensor, got ${x.dtype}`);
  for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
    if (p && (p.rank !== ns.length || p.shape.some((d, i) => d !== ns[i]))) throw new ShapeError(`layerNorm: ${name} has shape ${fmtShape(p.shape)}, expected ${fmtShape(ns)}`);
    if (p && p.dtype !== x.dtype) throw new DTypeError(`layerNorm: ${name} is ${p.dtype} but input is ${x.dtype}`);
  }
  const scale = weight ?? ops.constantOfShape(ns, 1, x.dtype);
  const shift = bias ?? ops.constantOfShape(ns, 0, x.dtype);
  return node("layerNorm", [x, scale, shift], { axis: x.rank - ns.length, eps }, x.shape, x.dtype);
}

/** GELU, exact (erf) or with the tanh approximation (torch's approximate="tanh"). */
export const gelu = ops.gelu;
/** SiLU (swish): x·σ(x). */
export const silu = ops.silu;
/** ReLU: max(x, 0). */
export const relu = ops.relu;
/** The logistic sigmoid 1/(1 + e⁻ˣ). */
export const sigmoid = ops.sigmoid;
/** Elementwise tanh. */
export const tanh = ops.tanh;
/** Softmax along `dim`: exp(x) normalised to sum to 1. */
export const softmax = ops.softmax;
/** log(softmax(x)) along `dim`, computed stably. */
export const logSoftmax = ops.logSoftmax;

/** Embedding lookup: table (num, dim)[indices] -> (*indices.shape, dim). */
export function embedding(indices: Tensor, table: Tensor): Tensor {
  if (!isInt(indices.dtype)) throw new DTypeError(`embedding: indices must be int32/int64, got ${indices.dtype}`);
  if (table.rank !== 2) throw new ShapeError(`embedding: table must be (num, dim), got ${fmtShape(table.shape)}`);
  return ops.indexSelect(table, 0, indices);
}

/** Options of F.conv2d: stride, padding and dilation (one number or [h, w]). */
export interface ConvOptions { stride?: number | [number, number]; padding?: number | [number, number]; dilation?: number | [number, number] }

/** 2-D convolution, NCHW, weight (out, in, kh, kw), groups = 1. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const stride = pair(opts.stride ?? 1), padding = pair(opts.padding ?? 0), dilation = pair(opts.dilation ?? 1);
  if (x.rank !== 4 || weight.rank !== 4) throw new ShapeError(`conv2d: expected input (N, C, H, W) and weight (O, C, kh, kw), got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [o, ci, kh, kw] = weight.shape as [number, number, number, number];
  if (c !== ci) throw new ShapeError(`conv2d: input has ${c} channels but weight ${fmtShape(weight.shape)} expects ${ci}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== o)) throw new ShapeError(`conv2d: bias must be (${o}), got ${fmtShape(bias.shape)}`);
  const oh = Math.floor((h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  if (oh < 1 || ow < 1) throw new ShapeError(`conv2d: kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${padding}`);
  return node("conv2d", bias ? [x, weight, bias] : [x, weight], { stride, padding, dilation }, [n, o, oh, ow], x.dtype);
}

/** Transposed 2-D convolution, weight (in, out, kh, kw) like PyTorch. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions & { outputPadding?: number | [number, number] } = {}): Tensor {
  const stride = pair(opts.stride ?? 1), padding = pair(opts.padding ?? 0), dilation = pair(opts.dilation ?? 1);
  const outputPadding = pair(opts.outputPadding ?? 0);
  if (x.rank !== 4 || weight.rank !== 4) throw new ShapeError(`convTranspose2d: expected input (N, C, H, W) and weight (C, O, kh, kw), got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [ci, o, kh, kw] = weight.shape as [number, number, number, number];
  if (c !== ci) throw new ShapeError(`convTranspose2d: input has ${c} channels but weight ${fmtShape(weight.shape)} expects ${ci}`);
  const oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outputPadding[0] + 1;
  const ow = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outputPadding[1] + 1;
  return node("convTranspose2d", bias ? [x, weight, bias] : [x, weight], { stride, padding, outputPadding, dilation }, [n, o, oh, ow], x.dtype);
}

/**
 * Dropout: zeroes elements with probability p and scales the rest by 1/(1-p) when training.
 * The mask is drawn inside the graph (ONNX RandomUniform, seeded from `seed` or the global generator), so a
 * compiled train step gets a fresh mask every run.
 */
export function dropout(x: Tensor, p = 0.5, training = true, seed?: number): Tensor {
  if (p < 0 || p >= 1) throw new ShapeError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const u = ops.randomUniformInGraph(x.shape, seed ?? globalGenerator().nextSeed(), x.dtype);
  return ops.mul(x, ops.div(ops.cast(ops.ge(u, p), x.dtype), 1 - p));
}

/** How a loss reduces over elements: their mean, their sum, or none (per element). */
export type Reduction = "mean" | "sum" | "none";
function reduce(x: Tensor, r: Reduction): Tensor {
  return r === "mean" ? ops.mean(x) : r === "sum" ? ops.sum(x) : x;
}

/** Cross-entropy of logits (..., C) against integer targets (...): mean of -log softmax(logits)[target]. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  if (!isInt(targets.dtype)) throw new DTypeError(`crossEntropy: targets must be int32/int64 class indices, got ${targets.dtype}`);
  if (logits.rank < 1 || targets.rank !== logits.rank - 1 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new ShapeError(`crossEntropy: logits ${fmtShape(logits.shape)} and targets ${fmtShape(targets.shape)} do not fit (rule: logits (..., C), targets (...))`);
  }
  const c = logits.shape[logits.rank - 1]!;
  const lp = ops.logSoftmax(ops.reshape(logits, [-1, c]), -1);
  const t = ops.reshape(targets, [shapeSize(targets.shape), 1]);
  const nll = ops.neg(ops.reshape(ops.gather(lp, 1, t), targets.shape));
  return reduce(nll, opts.reduction ?? "mean");
}

/** Mean squared error. */
export function mseLoss(a: Tensor, b: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const d = ops.sub(a, b);
  return reduce(ops.mul(d, d), opts.reduction ?? "mean");
}

/** Options of F.scaledDotProductAttention: a mask, causal masking, the scale, and a name to capture the attention map under. */
export interface AttentionOptions {
  /** bool (true = attend) or additive float mask, broadcastable to (..., Lq, Lk). */
  mask?: Tensor | null;
  /** Causal (lower-triangular) masking. */
  causal?: boolean;
  /** Defaults to 1/√d. */
  scale?: number;
  /** If set, the attention probabilities are passed to capture(captureAs, probs). */
  captureAs?: string;
}

/** softmax(q kᵀ · scale + mask) v, q (..., Lq, d), k/v (..., Lk, d). Vaswani et al. 2017. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.rank - 1]!;
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(`scaledDotProductAttention: q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} differ in the head dim`);
  const lq = q.shape[q.rank - 2]!, lk = k.shape[k.rank - 2]!;
  let scores = ops.mul(ops.matmul(q, ops.transpose(k, -2, -1)), opts.scale ?? 1 / Math.sqrt(d)); // (..., Lq, Lk)
  const neg = q.dtype === "float64" ? -1e300 : -1e30;
  if (opts.causal) {
    const tri = new Uint8Array(lq * lk);
    for (let i = 0; i < lq; i++) for (let j = 0; j <= i + (lk - lq) && j < lk; j++) tri[i * lk + j] = 1;
    scores = ops.where(ops.tensor(tri, { dtype: "bool", shape: [lq, lk] }), scores, neg);
  }
  if (opts.mask) {
    scores = opts.mask.dtype === "bool" ? ops.where(opts.mask, scores, neg) : ops.add(scores, opts.mask);
  }
  const probs = ops.softmax(scores, -1);
  if (opts.captureAs) capture(opts.captureAs, probs);
  return ops.matmul(probs, v);
}
