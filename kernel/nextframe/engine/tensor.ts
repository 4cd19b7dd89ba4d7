/**
 * Tensor: a lazy handle with a static shape and dtype.
 *
 * A Tensor is either a leaf holding concrete data (`_value`), a placeholder (an argument while `compile` traces),
 * or the output of one primitive op (`op`, `inputs`, `attrs`; see graph.ts). Ops only record; `await t.data()`
 * compiles the pending subgraph to ONNX (session cached by graph structure) and runs it.
 */
import type { DType, Shape, TypedArray } from "./dtype.js";
import { shapeSize } from "./dtype.js";
import type { OpAttrs, OpType } from "./graph.js";
import * as ops from "./ops.js";
import { evaluate } from "./evaluate.js";
import { currentDevice, type Device } from "./session.js";
import { mimeBundleSymbol, type MimeBundle } from "../../shared/libraryContract";
import { mimeBundle, formatTensor } from "./format.js";

/** A tensor or a plain number (broadcast as a scalar), as most ops accept. */
export type TensorLike = Tensor | number;
/** Nested JavaScript arrays of numbers, booleans or bigints, as tensor() accepts and tolist() returns. */
export type NestedArray = number | boolean | bigint | NestedArray[];

let nextId = 1;


/** A lazy n-d array on onnxruntime: ops record graph nodes (shapes and dtypes checked at the call); `await t.data()` computes it. */
export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  /** Unique id (creation order); used for stable graph keys. */
  readonly id: number;
  /** Producing primitive, or null for a leaf. @internal */
  op: OpType | null = null;
  /** @internal */
  inputs: readonly Tensor[] = [];
  /** @internal */
  attrs: OpAttrs[OpType] = {};
  /** Concrete data, once known. @internal */
  _value: TypedArray | null = null;
  /** True for compile-time argument placeholders. @internal */
  _placeholder = false;
  /**
   * Bumped by the library's in-place writers (nn.init); with a change of `_value` itself, this is how
   * `compile(fn, { freeze: true })` notices that a baked-in parameter changed. @internal
   */
  _version = 0;

  constructor(shape: Shape, dtype: DType) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.id = nextId++;
  }

  get rank(): number { return this.shape.length; }
  get size(): number { return shapeSize(this.shape); }
  get device(): Device { return currentDevice(); }
  /** True when the value is already computed (or the tensor was created from data). */
  get isConcrete(): boolean { return this._value !== null; }

  /** Computes (if needed) and returns the flat data, row-major. */
  async data(): Promise<TypedArray> {
    if (this._value === null) await evaluate([this]);
    return this._value!;
  }
  /** Nested JS arrays of numbers (int64 as numbers, bool as booleans). */
  async toArray(): Promise<NestedArray> {
    const d = await this.data();
    const flat: (number | boolean)[] = Array.from(d as ArrayLike<number | bigint>, (v) =>
      this.dtype === "bool" ? v !== 0 : Number(v));
    if (this.rank === 0) return flat[0] as number;
    const build = (dim: number, off: number): NestedArray[] => {
      const n = this.shape[dim]!;
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(dim === this.rank - 1 ? (flat[off + i] as number) : build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }
  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ops.ShapeErrorFor("item", `expected a tensor with one element, got shape [${this.shape.join(", ")}]`);
    return Number((await this.data())[0]);
  }
  toString(): string { return formatTensor(this); }
  [Symbol.for("nodejs.util.inspect.custom")](): string { return formatTensor(this); }
  /** Rich notebook display: shape, dtype, device, min/max/mean, small preview. */
  /** How a Tensor shows as a cell's value or through display() (the display contract's key). */
  [mimeBundleSymbol](): Promise<MimeBundle> { return mimeBundle(this); }

  // ---------------------------------------------------------------- elementwise
  add(o: TensorLike): Tensor { return ops.add(this, o); }
  sub(o: TensorLike): Tensor { return ops.sub(this, o); }
  mul(o: TensorLike): Tensor { return ops.mul(this, o); }
  div(o: TensorLike): Tensor { return ops.div(this, o); }
  pow(o: TensorLike): Tensor { return ops.pow(this, o); }
  maximum(o: TensorLike): Tensor { return ops.maximum(this, o); }
  minimum(o: TensorLike): Tensor { return ops.minimum(this, o); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  gelu(approximate: "none" | "tanh" = "none"): Tensor { return ops.gelu(this, approximate); }
  silu(): Tensor { return ops.silu(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  erf(): Tensor { return ops.erf(this); }
  square(): Tensor { return ops.square(this); }
  clamp(min?: number, max?: number): Tensor { return ops.clamp(this, min, max); }
  eq(o: TensorLike): Tensor { return ops.eq(this, o); }
  ne(o: TensorLike): Tensor { return ops.ne(this, o); }
  lt(o: TensorLike): Tensor { return ops.lt(this, o); }
  le(o: TensorLike): Tensor { return ops.le(this, o); }
  gt(o: TensorLike): Tensor { return ops.gt(this, o); }
  ge(o: TensorLike): Tensor { return ops.ge(this, o); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  logicalAnd(o: Tensor): Tensor { return ops.logicalAnd(this, o); }
  logicalOr(o: Tensor): Tensor { return ops.logicalOr(this, o); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  // ---------------------------------------------------------------- linear algebra
  matmul(o: Tensor): Tensor { return ops.matmul(this, o); }
  // ---------------------------------------------------------------- layout
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  view(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  flatten(start = 0, end = -1): Tensor { return ops.flatten(this, start, end); }
  squeeze(dim?: number): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  transpose(d0: number, d1: number): Tensor { return ops.transpose(this, d0, d1); }
  get T(): Tensor { return ops.transpose(this, -2, -1); }
  permute(dims: readonly number[]): Tensor { return ops.permute(this, dims); }
  expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  chunk(n: number, dim = 0): Tensor[] { return ops.chunk(this, n, dim); }
  // ---------------------------------------------------------------- reductions
  sum(dims?: number | readonly number[], keepdim = false): Tensor { return ops.sum(this, dims, keepdim); }
  mean(dims?: number | readonly number[], keepdim = false): Tensor { return ops.mean(this, dims, keepdim); }
  max(dim?: number | readonly number[], keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  min(dim?: number | readonly number[], keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  /** Variance; `correction` 1 (default, like torch) is the unbiased estimator, 0 the population variance. */
  var(dims?: number | readonly number[], keepdim = false, correction = 1): Tensor { return ops.variance(this, dims, keepdim, correction); }
  std(dims?: number | readonly number[], keepdim = false, correction = 1): Tensor { return ops.variance(this, dims, keepdim, correction).sqrt(); }
  argmax(dim: number, keepdim = false): Tensor { return ops.argmax(this, dim, keepdim); }
  argmin(dim: number, keepdim = false): Tensor { return ops.argmin(this, dim, keepdim); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return ops.logSoftmax(this, dim); }
  cumsum(dim: number): Tensor { return ops.cumsum(this, dim); }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } { return ops.topk(this, k, dim, largest); }
  gather(dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }
  /** A tensor with the same value through which no gradient flows. */
  detach(): Tensor { return ops.detach(this); }
}

/** Creates a leaf tensor holding concrete data. @internal */
export function leaf(shape: Shape, dtype: DType, value: TypedArray): Tensor {
  const t = new Tensor(shape, dtype);
  t._value = value;
  return t;
}

let substitutes: ReadonlyMap<Tensor, Tensor> | null = null;

/**
 * Builds a graph in which every op that takes a tensor of `map` takes its substitute instead (makeTrainStep on a
 * GPU: the model's parameters become slices of the flat parameter buffer, so they are fed once). @internal
 */
export function withSubstitutes<R>(map: ReadonlyMap<Tensor, Tensor>, fn: () => R): R {
  const outer = substitutes;
  substitutes = map;
  try { return fn(); } finally { substitutes = outer; }
}

/** Creates the output tensor of a primitive op. @internal */
export function node<K extends OpType>(op: K, inputs: readonly Tensor[], attrs: OpAttrs[K], shape: Shape, dtype: DType): Tensor {
  const t = new Tensor(shape, dtype);
  t.op = op;
  t.inputs = substitutes ? inputs.map((x) => substitutes!.get(x) ?? x) : inputs;
  t.attrs = attrs;
  return t;
}
