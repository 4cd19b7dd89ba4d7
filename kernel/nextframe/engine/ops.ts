/**
 * Tensor operations: shape/dtype checking at the call, then one or more primitive nodes (graph.ts).
 * Composite ops (gelu, mean, var, softmax cross-entropy, attention, ...) are written in terms of primitives,
 * so they get gradients and ONNX lowering for free.
 */
import {
  allocArray, arraysEqual, broadcastShapes, fmtShape, isFloat, isInt, isInteger, normDim, sameDType, shapeSize, toTypedArray,
  type DType, type Shape, type TypedArray,
} from "./dtype.js";
import { DTypeError, NextframeError, ShapeError } from "./errors.js";
import type { BinaryOp, CompareOp, UnaryOp } from "./graph.js";
import { leaf, node, Tensor, type NestedArray, type TensorLike } from "./tensor.js";
import { globalGenerator, type Generator } from "./generator.js";
import { isTracing } from "./evaluate.js";
import { noteOrigin } from "./origin.js";

/** Builds a ShapeError with the op name prefixed. */
export class ShapeErrorFor extends ShapeError {
  constructor(op: string, msg: string) { super(`${op}: ${msg}`); }
}

// ================================================================ helpers

/** A scalar constant node of the given dtype. */
export function scalar(value: number, dtype: DType): Tensor {
  return node("constantOfShape", [], { value }, [], dtype);
}

/**
 * A graph constant: a lazy node of `shape` filled with `value` (ONNX ConstantOfShape), no data allocated in JS,
 * nothing to read until the graph runs. `full` is the concrete counterpart (a leaf holding its data).
 */
export function constantOfShape(shape: Shape, value: number, dtype: DType = "float32"): Tensor {
  return node("constantOfShape", [], { value }, shape, dtype);
}

function coerce(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") return [scalar(a, "float32"), scalar(b, "float32")];
  if (typeof a === "number") { const [y, x] = coerce(op, b, a); return [x, y]; }
  if (typeof b === "number") {
    let x = a as Tensor;
    // Like torch: an int tensor combined with a fractional Python scalar becomes float32.
    if ((isInteger(x.dtype) || x.dtype === "bool") && !Number.isInteger(b)) x = cast(x, "float32");
    else if (x.dtype === "bool") x = cast(x, "float32");
    return [x, scalar(b, x.dtype)];
  }
  return [a, b];
}

function checkTensor(op: string, x: unknown, what = "input"): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`${op}: ${what} must be a Tensor, got ${x === null ? "null" : typeof x}`);
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike, name: string = op): Tensor {
  const [x, y] = coerce(name, a, b);
  const dtype = sameDType(name, x.dtype, y.dtype);
  if (dtype === "bool") throw new DTypeError(`${name}: not defined for bool tensors (cast to "float32" or "int32" first)`);
  if (dtype === "uint8" && op === "pow") throw new DTypeError(`pow: not defined for uint8 tensors (cast to "float32" or "int32" first)`);
  return node(op, [x, y], {}, broadcastShapes(name, x.shape, y.shape), dtype);
}

function unary(op: UnaryOp, x: Tensor, floatOnly = true): Tensor {
  checkTensor(op, x);
  if (floatOnly && !isFloat(x.dtype)) throw new DTypeError(`${op}: expected a float32 or float64 tensor, got ${x.dtype} (cast with .cast("float32"))`);
  return node(op, [x], {}, x.shape, x.dtype);
}

function compare(op: CompareOp, a: TensorLike, b: TensorLike, name: string): Tensor {
  const [x, y] = coerce(name, a, b);
  sameDType(name, x.dtype, y.dtype);
  return node(op, [x, y], {}, broadcastShapes(name, x.shape, y.shape), "bool");
}

function normDims(op: string, dims: number | readonly number[] | undefined, rank: number): number[] {
  if (dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === "number" ? [dims] : [...dims];
  const out = [...new Set(list.map((d) => normDim(op, d, rank)))].sort((a, b) => a - b);
  return rank === 0 ? [] : out;
}

// ================================================================ elementwise

/** Elementwise a + b, broadcasting (numbers allowed on either side). */
export const add = (a: TensorLike, b: TensorLike) => binary("add", a, b);
/** Elementwise a − b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike) => binary("sub", a, b);
/** Elementwise a · b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike) => binary("mul", a, b);
/** Elementwise a / b, broadcasting. */
export const div = (a: TensorLike, b: TensorLike) => binary("div", a, b);
/** Elementwise a to the power b, broadcasting. */
export const pow = (a: TensorLike, b: TensorLike) => binary("pow", a, b);
/** Elementwise larger of a and b, broadcasting. */
export const maximum = (a: TensorLike, b: TensorLike) => binary("maximum", a, b);
/** Elementwise smaller of a and b, broadcasting. */
export const minimum = (a: TensorLike, b: TensorLike) => binary("minimum", a, b);
/** Elementwise −x. */
export function neg(x: Tensor): Tensor {
  checkTensor("neg", x);
  if (x.dtype === "uint8") throw new DTypeError(`neg: not defined for uint8 tensors (unsigned; cast to "int32" or "float32" first)`);
  return unary("neg", x, false);
}
/** Elementwise eˣ. */
export const exp = (x: Tensor) => unary("exp", x);
/** Elementwise natural logarithm. */
export const log = (x: Tensor) => unary("log", x);
/** Elementwise square root. */
export const sqrt = (x: Tensor) => unary("sqrt", x);
/** Elementwise 1 / √x. */
export const rsqrt = (x: Tensor) => div(1, sqrt(x));
/** Elementwise |x|. */
export const abs = (x: Tensor) => unary("abs", x, false);
/** Elementwise sign: −1, 0 or 1. */
export const sign = (x: Tensor) => unary("sign", x, false);
/** Elementwise hyperbolic tangent. */
export const tanh = (x: Tensor) => unary("tanh", x);
/** Elementwise logistic function 1 / (1 + e⁻ˣ). */
export const sigmoid = (x: Tensor) => unary("sigmoid", x);
/** Elementwise max(x, 0). */
export const relu = (x: Tensor) => unary("relu", x);
/** Elementwise sine. */
export const sin = (x: Tensor) => unary("sin", x);
/** Elementwise cosine. */
export const cos = (x: Tensor) => unary("cos", x);
/** Elementwise Gauss error function. */
export const erf = (x: Tensor) => unary("erf", x);
/** Elementwise x². */
export const square = (x: Tensor) => mul(x, x);
/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Tensor) => mul(x, sigmoid(x));
/**
 * GELU (Hendrycks & Gimpel 2016). "none": x * Φ(x) = 0.5 x (1 + erf(x / √2));
 * "tanh": 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))) as in GPT-2 / DiT's approx_gelu.
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  checkTensor("gelu", x);
  if (!isFloat(x.dtype)) throw new DTypeError(`gelu: expected a float32 or float64 tensor, got ${x.dtype} (cast with .cast("float32"))`);
  if (approximate !== "none" && approximate !== "tanh") throw new NextframeError(`gelu: approximate must be "none" or "tanh", got "${String(approximate)}"`);
  return node("gelu", [x], { approximate }, x.shape, x.dtype);
}
/** Elementwise x limited to [min, max] (either bound may be left out). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  let y = x;
  if (min !== undefined) y = maximum(y, min);
  if (max !== undefined) y = minimum(y, max);
  return y;
}
/** Elementwise a == b as a bool tensor, broadcasting. */
export const eq = (a: TensorLike, b: TensorLike) => compare("equal", a, b, "eq");
/** Elementwise a != b as a bool tensor, broadcasting. */
export const ne = (a: TensorLike, b: TensorLike) => logicalNot(compare("equal", a, b, "ne"));
/** Elementwise a < b as a bool tensor, broadcasting. */
export const lt = (a: TensorLike, b: TensorLike) => compare("less", a, b, "lt");
/** Elementwise a <= b as a bool tensor, broadcasting. */
export const le = (a: TensorLike, b: TensorLike) => compare("lessEqual", a, b, "le");
/** Elementwise a > b as a bool tensor, broadcasting. */
export const gt = (a: TensorLike, b: TensorLike) => compare("greater", a, b, "gt");
/** Elementwise a >= b as a bool tensor, broadcasting. */
export const ge = (a: TensorLike, b: TensorLike) => compare("greaterEqual", a, b, "ge");
/** Elementwise not of a bool tensor. */
export function logicalNot(x: Tensor): Tensor {
  if (x.dtype !== "bool") throw new DTypeError(`logicalNot: expected a bool tensor, got ${x.dtype}`);
  return node("not", [x], {}, x.shape, "bool");
}
function logical(op: "and" | "or", a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== "bool" || b.dtype !== "bool") throw new DTypeError(`logical${op === "and" ? "And" : "Or"}: expected bool tensors, got ${a.dtype} and ${b.dtype}`);
  return node(op, [a, b], {}, broadcastShapes(`logical${op}`, a.shape, b.shape), "bool");
}
/** Elementwise and of two bool tensors. */
export const logicalAnd = (a: Tensor, b: Tensor) => logical("and", a, b);
/** Elementwise or of two bool tensors. */
export const logicalOr = (a: Tensor, b: Tensor) => logical("or", a, b);

/** The tensor converted to another dtype (torch .to(dtype)). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor("cast", x);
  if (x.dtype === dtype) return x;
  return node("cast", [x], { to: dtype }, x.shape, dtype);
}

/** Elementwise select: cond ? a : b, with broadcasting over all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor("where", cond, "cond");
  if (cond.dtype !== "bool") throw new DTypeError(`where: cond must be a bool tensor, got ${cond.dtype}`);
  const [x, y] = coerce("where", a, b);
  const dtype = sameDType("where", x.dtype, y.dtype);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, x.shape), y.shape);
  return node("where", [cond, x, y], {}, shape, dtype);
}

// ================================================================ linear algebra

/** numpy matmul: 1-D operands are promoted (and the added dim removed), batch dims broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor("matmul", a, "left operand");
  checkTensor("matmul", b, "right operand");
  sameDType("matmul", a.dtype, b.dtype);
  if (a.rank === 0 || b.rank === 0) throw new ShapeError(`matmul: both operands need rank >= 1, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} (use mul for scalars)`);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const k1 = a2.shape[a2.rank - 1]!, k2 = b2.shape[b2.rank - 2]!;
  if (k1 !== k2) {
    throw new ShapeError(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align ` +
      `(rule: (..., n, k) @ (..., k, m); inner dims are ${k1} vs ${k2})`);
  }
  const batch = broadcastShapes("matmul (batch dims)", a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const out = node("matmul", [a2, b2], {}, [...batch, a2.shape[a2.rank - 2]!, b2.shape[b2.rank - 1]!], a.dtype);
  if (a.rank === 1 && b.rank === 1) return reshape(out, []);
  if (a.rank === 1) return squeeze(out, -2);
  if (b.rank === 1) return squeeze(out, -1);
  return out;
}

// ================================================================ layout

/** The same values in a new shape (one dimension may be −1, inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("reshape", x);
  const s = [...shape];
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1 || s.some((d) => !Number.isInteger(d) || d < -1)) throw new ShapeError(`reshape: invalid target shape ${fmtShape(shape)} (at most one -1, other dims >= 0)`);
  if (neg === 1) {
    const known = shapeSize(s.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
    s[s.indexOf(-1)] = x.size / known;
  }
  if (shapeSize(s) !== x.size) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${shapeSize(s)} elements)`);
  if (arraysEqual(s, x.shape)) return x;
  return node("reshape", [x], {}, s, x.dtype);
}
/** Dimensions start..end merged into one (torch.flatten). */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normDim("flatten", start, x.rank), e = normDim("flatten", end, x.rank);
  if (s > e) throw new ShapeError(`flatten: start dim ${start} comes after end dim ${end}`);
  return reshape(x, [...x.shape.slice(0, s), shapeSize(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}
/** Size-1 dimensions removed (only `dim` when given). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normDim("squeeze", dim, x.rank);
  if (x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}
/** A size-1 dimension inserted at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.rank + 1);
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return reshape(x, s);
}
/** Dimensions reordered as `dims` (torch.permute). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor("permute", x);
  if (dims.length !== x.rank) throw new ShapeError(`permute: got ${dims.length} dims ${fmtShape(dims)} for a tensor of rank ${x.rank}`);
  const perm = dims.map((d) => normDim("permute", d, x.rank));
  if (new Set(perm).size !== perm.length) throw new ShapeError(`permute: dims ${fmtShape(dims)} repeat a dim`);
  if (perm.every((p, i) => p === i)) return x;
  // permute(permute(y, q), p) = permute(y, q∘p): no chains of Transpose nodes (and none at all if they cancel)
  if (x.op === "transpose" && x._value === null) {
    const inner = (x.attrs as { perm: number[] }).perm;
    return permute(x.inputs[0]!, perm.map((p) => inner[p]!));
  }
  return node("transpose", [x], { perm }, perm.map((p) => x.shape[p]!), x.dtype);
}
/** Dimensions d0 and d1 swapped. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normDim("transpose", d0, x.rank), b = normDim("transpose", d1, x.rank);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b; perm[b] = a;
  return permute(x, perm);
}
/** torch expand: size-1 dims (and new leading dims) broadcast to `shape`; -1 keeps a dim. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("expand", x);
  if (shape.length < x.rank) throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dims than the tensor ${fmtShape(x.shape)}`);
  const off = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - off]! : d));
  for (let i = 0; i < x.rank; i++) {
    const s = x.shape[i]!, t = target[i + off]!;
    if (s !== t && s !== 1) throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (only size-1 dims can grow; dim ${i} is ${s} vs ${t})`);
  }
  if (arraysEqual(target, x.shape)) return x;
  return node("expand", [x], {}, target, x.dtype);
}
/** Python-style slice along one dim: start/end clamp, negative values count from the end; step >= 1. */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  checkTensor("slice", x);
  const axis = normDim("slice", dim, x.rank);
  const n = x.shape[axis]!;
  if (!Number.isInteger(step) || step < 1) throw new ShapeError(`slice: step must be a positive integer, got ${step}`);
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clampIdx(start ?? 0), e = Math.max(clampIdx(end ?? n), clampIdx(start ?? 0));
  if (s === 0 && e === n && step === 1) return x;
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[axis] = len;
  return node("slice", [x], { axis, start: s, end: e, step }, shape, x.dtype);
}
/** The slice start..start + length along `dim` (torch.narrow). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const axis = normDim("narrow", dim, x.rank);
  const n = x.shape[axis]!;
  const s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n) throw new ShapeError(`narrow: range [${start}, ${start}+${length}) is outside dim ${dim} of size ${n}`);
  return slice(x, axis, s, s + length);
}
/** `n` (nearly) equal pieces along `dim` (torch.chunk). */
export function chunk(x: Tensor, n: number, dim = 0): Tensor[] {
  const axis = normDim("chunk", dim, x.rank);
  const size = Math.ceil(x.shape[axis]! / n);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[axis]!; s += size) out.push(slice(x, axis, s, s + size));
  return out;
}
/** Zero padding: pads = [[before, after] per dim], all dims. @internal */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[]): Tensor {
  if (pads.every(([b, e]) => b === 0 && e === 0)) return x;
  const flat = [...pads.map((p) => p[0]), ...pads.map((p) => p[1])];
  return node("pad", [x], { pads: flat }, x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]), x.dtype);
}
export function concat(ts: readonly Tensor[], dim = 0): Tensor {
  if (ts.length === 0) throw new ShapeError("concat: needs at least one tensor");
  ts.forEach((t, i) => checkTensor("concat", t, `tensor ${i}`));
  const first = ts[0]!;
  const axis = normDim("concat", dim, first.rank);
  for (const [i, t] of ts.entries()) {
    sameDType("concat", first.dtype, t.dtype);
    if (t.rank !== first.rank || t.shape.some((d, j) => j !== axis && d !== first.shape[j])) {
      throw new ShapeError(`concat: tensor ${i} has shape ${fmtShape(t.shape)} but tensor 0 has ${fmtShape(first.shape)} (all dims except dim ${dim} must match)`);
    }
  }
  if (ts.length === 1) return first;
  const shape = [...first.shape];
  shape[axis] = ts.reduce((s, t) => s + t.shape[axis]!, 0);
  return node("concat", ts, { axis }, shape, first.dtype);
}
/** Tensors joined along an existing dimension (torch.cat). */
export const cat = concat;
/** Tensors of one shape joined along a new dimension (torch.stack). */
export function stack(ts: readonly Tensor[], dim = 0): Tensor {
  if (ts.length === 0) throw new ShapeError("stack: needs at least one tensor");
  const d = normDim("stack", dim, ts[0]!.rank + 1);
  for (const [i, t] of ts.entries()) {
    if (!arraysEqual(t.shape, ts[0]!.shape)) throw new ShapeError(`stack: tensor ${i} has shape ${fmtShape(t.shape)} but tensor 0 has ${fmtShape(ts[0]!.shape)} (all must be equal)`);
  }
  return concat(ts.map((t) => unsqueeze(t, d)), d);
}

// ================================================================ reductions

/** Sum over `dims` (all when omitted); ints and bools sum in int64. */
export function sum(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  checkTensor("sum", x);
  const axes = normDims("sum", dims, x.rank);
  // bool and uint8 sum in int64 (like torch): a count of trues, or a byte total that does not wrap
  if (x.dtype === "bool" || x.dtype === "uint8") x = cast(x, "int64");
  if (axes.length === 0) return x;
  const shape = keepdim ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return node("reduceSum", [x], { axes, keepdims: keepdim }, shape, x.dtype);
}
/** Mean over `dims` (all when omitted). */
export function mean(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const axes = normDims("mean", dims, x.rank);
  if (!isFloat(x.dtype)) throw new DTypeError(`mean: expected a float tensor, got ${x.dtype} (cast with .cast("float32"))`);
  const n = axes.reduce((s, a) => s * x.shape[a]!, 1);
  return div(sum(x, axes, keepdim), n);
}
function reduceExtreme(op: "reduceMax" | "reduceMin", x: Tensor, dims: number | readonly number[] | undefined, keepdim: boolean): Tensor {
  const name = op === "reduceMax" ? "max" : "min";
  checkTensor(name, x);
  const axes = normDims(name, dims, x.rank);
  if (axes.length === 0) return x;
  if (axes.some((a) => x.shape[a] === 0)) throw new ShapeError(`${name}: cannot reduce an empty dim of shape ${fmtShape(x.shape)}`);
  const shape = keepdim ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return node(op, [x], { axes, keepdims: keepdim }, shape, x.dtype);
}
/** Maximum over `dims` (all when omitted). */
export const max = (x: Tensor, dims?: number | readonly number[], keepdim = false) => reduceExtreme("reduceMax", x, dims, keepdim);
/** Minimum over `dims` (all when omitted). */
export const min = (x: Tensor, dims?: number | readonly number[], keepdim = false) => reduceExtreme("reduceMin", x, dims, keepdim);
/** Variance over `dims` with Bessel's correction by default (torch.var). */
export function variance(x: Tensor, dims?: number | readonly number[], keepdim = false, correction = 1): Tensor {
  const axes = normDims("var", dims, x.rank);
  const n = axes.reduce((s, a) => s * x.shape[a]!, 1);
  const d = sub(x, mean(x, axes, true));
  return div(sum(mul(d, d), axes, keepdim), Math.max(n - correction, 0));
}
function argExtreme(op: "argMax" | "argMin", x: Tensor, dim: number, keepdim: boolean): Tensor {
  const axis = normDim(op.toLowerCase(), dim, x.rank);
  const shape = keepdim ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return node(op, [x], { axis, keepdims: keepdim }, shape, "int64");
}
/** Index of the largest value along `dim`. */
export const argmax = (x: Tensor, dim: number, keepdim = false) => argExtreme("argMax", x, dim, keepdim);
/** Index of the smallest value along `dim`. */
export const argmin = (x: Tensor, dim: number, keepdim = false) => argExtreme("argMin", x, dim, keepdim);
/** Softmax along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`softmax: expected a float tensor, got ${x.dtype}`);
  return node("softmax", [x], { axis: normDim("softmax", dim, x.rank) }, x.shape, x.dtype);
}
/** Log of the softmax along `dim`, computed stably. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`logSoftmax: expected a float tensor, got ${x.dtype}`);
  return node("logSoftmax", [x], { axis: normDim("logSoftmax", dim, x.rank) }, x.shape, x.dtype);
}
/** Cumulative sum along `dim` (optionally reversed or exclusive). */
export function cumsum(x: Tensor, dim: number, opts: { reverse?: boolean; exclusive?: boolean } = {}): Tensor {
  if (x.dtype === "bool") throw new DTypeError("cumsum: not defined for bool tensors");
  if (x.dtype === "uint8") x = cast(x, "int64"); // like sum: running byte totals in int64
  return node("cumsum", [x], { axis: normDim("cumsum", dim, x.rank), reverse: !!opts.reverse, exclusive: !!opts.exclusive }, x.shape, x.dtype);
}
/** The k largest (or smallest) values along `dim` and their indices. */
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  const axis = normDim("topk", dim, x.rank);
  if (!Number.isInteger(k) || k < 1 || k > x.shape[axis]!) throw new ShapeError(`topk: k=${k} must be in 1..${x.shape[axis]} (size of dim ${dim} of ${fmtShape(x.shape)})`);
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  const attrs = { k, axis, largest };
  return { values: node("topkValues", [x], attrs, shape, x.dtype), indices: node("topkIndices", [x], { ...attrs }, shape, "int64") };
}

// ================================================================ indexing

function checkIndex(op: string, index: Tensor): void {
  checkTensor(op, index, "index");
  if (!isInt(index.dtype)) throw new DTypeError(`${op}: index must be an int32 or int64 tensor, got ${index.dtype}`);
}
/** torch.gather: out[i][j] = x[i][index[i][j]] (dim 1), index of the same rank as x. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex("gather", index);
  const axis = normDim("gather", dim, x.rank);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== axis && d > x.shape[i]!)) {
    throw new ShapeError(`gather: index shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} (same rank; dims other than ${dim} no larger)`);
  }
  // an index out of range shows only when the graph runs: noted, so onnxruntime's error names this call (origin.ts)
  return noteOrigin(node("gatherElements", [x, index], { axis }, index.shape, x.dtype), "gather", { dim: axis, size: x.shape[axis]! });
}
/** torch.index_select (any index shape is allowed: the index dims replace dim `dim`). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex("indexSelect", index);
  const axis = normDim("indexSelect", dim, x.rank);
  const out = node("gather", [x, index], { axis }, [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)], x.dtype);
  return noteOrigin(out, "indexSelect", { dim: axis, size: x.shape[axis]! });
}
/** The same value with no gradient history (torch .detach()). */
export function detach(x: Tensor): Tensor {
  if (x._value !== null && !x._placeholder) return leaf(x.shape, x.dtype, x._value);
  return node("stopGradient", [x], {}, x.shape, x.dtype);
}

// ================================================================ factories

function inferNested(data: NestedArray, op: string): { shape: number[]; flat: (number | boolean | bigint)[] } {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) { shape.push(cur.length); cur = cur[0] as NestedArray; }
  const flat: (number | boolean | bigint)[] = [];
  const walk = (v: NestedArray, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`${op}: ragged nested array (too deep at depth ${depth})`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new ShapeError(`${op}: ragged nested array (expected length ${shape[depth]} at depth ${depth})`);
    for (const c of v) walk(c, depth + 1);
  };
  walk(data, 0);
  return { shape, flat };
}

/** Options of the tensor constructors: dtype and shape. */
export interface TensorOptions { dtype?: DType; shape?: readonly number[] }

/**
 * Creates a concrete tensor from nested arrays, a typed array, or a number. The dtype follows the data:
 * Float32Array/Float64Array/Int32Array/BigInt64Array/Uint8Array(Clamped) give float32/float64/int32/int64/uint8
 * (a Uint8Array is bytes, e.g. frames; pass `{ dtype: "bool" }` for a 0/1 mask), nested JS booleans give bool,
 * bigints int64, and other numbers float32.
 */
export function tensor(data: NestedArray | TypedArray | readonly number[], opts: TensorOptions = {}): Tensor {
  let dtype: DType, shape: number[], values: TypedArray;
  if (ArrayBuffer.isView(data)) {
    const inferred: DType = data instanceof Float64Array ? "float64" : data instanceof Int32Array ? "int32"
      : data instanceof BigInt64Array ? "int64" : data instanceof Uint8Array || data instanceof Uint8ClampedArray ? "uint8" : "float32";
    dtype = opts.dtype ?? inferred;
    shape = opts.shape ? [...opts.shape] : [data.length];
    const sameStorage = dtype === inferred && !(data instanceof Uint8ClampedArray);
    values = sameStorage ? (data as TypedArray).slice() : toTypedArray(dtype, Array.from(data as ArrayLike<number>));
  } else {
    const { shape: s, flat } = inferNested(data as NestedArray, "tensor");
    const inferred: DType = typeof flat[0] === "boolean" ? "bool" : typeof flat[0] === "bigint" ? "int64" : "float32";
    dtype = opts.dtype ?? inferred;
    shape = opts.shape ? [...opts.shape] : s;
    values = toTypedArray(dtype, flat as (number | bigint)[]);
  }
  if (shapeSize(shape) !== values.length) throw new ShapeError(`tensor: shape ${fmtShape(shape)} needs ${shapeSize(shape)} values, got ${values.length}`);
  return leaf(shape, dtype, values);
}
/** A concrete tensor of `shape` filled with `value` (its data is allocated now; see constantOfShape for a graph constant). */
export function full(shape: readonly number[], value: number, dtype: DType = "float32"): Tensor {
  const v = allocArray(dtype, shapeSize(shape));
  if (dtype === "int64") (v as BigInt64Array).fill(BigInt(Math.trunc(value))); else (v as Float32Array).fill(value);
  return leaf(shape, dtype, v);
}
/** A concrete tensor of zeros. */
export const zeros = (shape: readonly number[], dtype: DType = "float32") => full(shape, 0, dtype);
/** A concrete tensor of ones. */
export const ones = (shape: readonly number[], dtype: DType = "float32") => full(shape, 1, dtype);
/** arange(end) / arange(start, end, step); int64 when all arguments are integers (like torch), else float32. */
export function arange(start: number, end?: number, step = 1, opts: { dtype?: DType } = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0) throw new ShapeError("arange: step must be non-zero");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? "int64" : "float32");
  const vals = Array.from({ length: n }, (_, i) => start + i * step);
  return leaf([n], dtype, toTypedArray(dtype, vals));
}
/** The n × n identity matrix. */
export function eye(n: number, dtype: DType = "float32"): Tensor {
  const t = zeros([n, n], dtype);
  for (let i = 0; i < n; i++) {
    if (dtype === "int64") (t._value as BigInt64Array)[i * n + i] = 1n; else (t._value as Float32Array)[i * n + i] = 1;
  }
  return t;
}
/** Options of the random constructors: a seed or a Generator, and the dtype. */
export interface RandomOptions { seed?: number; dtype?: DType; generator?: Generator }
function gen(opts: RandomOptions): Generator {
  return opts.generator ?? (opts.seed !== undefined ? globalGenerator().fork(opts.seed) : globalGenerator());
}
/**
 * Standard normal samples, generated in JS by a seeded generator (deterministic across runs and devices).
 * Inside compile / makeTrainStep (while tracing) randn and rand instead emit in-graph RandomNormal /
 * RandomUniform nodes seeded from the generator, so every call of the compiled function draws fresh noise
 * (a JS sample would be frozen into the graph as a constant).
 */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const dtype = opts.dtype ?? "float32";
  if (isTracing()) return node("randomNormal", [], { seed: gen(opts).nextSeed() }, shape, dtype);
  const v = allocArray(dtype, shapeSize(shape)) as Float32Array;
  gen(opts).fillNormal(v);
  return leaf(shape, dtype, v);
}
/** Uniform [0, 1) samples. */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const dtype = opts.dtype ?? "float32";
  if (isTracing()) return node("randomUniform", [], { seed: gen(opts).nextSeed() }, shape, dtype);
  const v = allocArray(dtype, shapeSize(shape)) as Float32Array;
  gen(opts).fillUniform(v);
  return leaf(shape, dtype, v);
}
/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  const dtype = opts.dtype ?? "int64";
  const g = gen(opts);
  if (isTracing()) {
    // low + ⌊u·(high − low)⌋ (a cast truncates, = floor for u ≥ 0), clamped below high
    const u = node("randomUniform", [], { seed: g.nextSeed() }, shape, "float64");
    const k = minimum(cast(mul(u, high - low), "int64"), scalar(high - low - 1, "int64"));
    return cast(add(k, scalar(low, "int64")), dtype);
  }
  const vals = Array.from({ length: shapeSize(shape) }, () => low + Math.floor(g.uniform() * (high - low)));
  return leaf(shape, dtype, toTypedArray(dtype, vals));
}
/** Uniform [0,1) noise generated inside the graph (fresh each run of a compiled graph; seeded per graph). */
export function randomUniformInGraph(shape: readonly number[], seed: number, dtype: DType = "float32"): Tensor {
  return node("randomUniform", [], { seed }, shape, dtype);
}
