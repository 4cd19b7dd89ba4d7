/**
 * Layers mirroring torch.nn: Linear, LayerNorm, Embedding, Conv2d, ConvTranspose2d, Dropout, ModuleList,
 * Sequential, plus GELU/SiLU/ReLU modules. Parameter names and shapes match PyTorch, so state dicts map one to one.
 */
import { Module, Parameter } from "./module.js";
import { Tensor } from "../engine/tensor.js";
import * as F from "../engine/functional.js";
import { zeros, ones } from "../engine/ops.js";
import { kaimingUniform_, normal_, uniform_, fans } from "./init.js";
import type { DType } from "../engine/dtype.js";
import type { Generator } from "../engine/generator.js";
import { NextframeError, ShapeError } from "../engine/errors.js";

/**
 * Options every layer with a random init takes: `generator` draws the initial weights (a model with its own
 * seed passes one); without it they come from the global generator (manualSeed), as in torch.
 */
export interface InitOptions { dtype?: DType; generator?: Generator }

/** y = x Wᵀ + b; weight (out, in); torch's default init (kaiming-uniform a=√5, bias U(±1/√in)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } & InitOptions = {}) {
    super();
    const dtype = opts.dtype ?? "float32";
    this.weight = kaimingUniform_(new Parameter(zeros([outFeatures, inFeatures], dtype)), Math.sqrt(5), opts.generator);
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = opts.bias === false ? null : uniform_(new Parameter(zeros([outFeatures], dtype)), -bound, bound, opts.generator);
  }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
}

/**
 * Layer normalization over the last dim(s) (torch.nn.LayerNorm): gain `weight` (ones) and shift `bias` (zeros)
 * when `elementwiseAffine` (default); `bias: false` keeps the gain but drops the shift, as GPT-2 models without
 * biases do (nanoGPT's LayerNorm(ndim, bias), torch's `bias=False`).
 */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  constructor(dim: number | number[], opts: { elementwiseAffine?: boolean; bias?: boolean; eps?: number; dtype?: DType } = {}) {
    super();
    this.normalizedShape = typeof dim === "number" ? [dim] : dim;
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape, opts.dtype)) : null;
    this.bias = affine && opts.bias !== false ? new Parameter(zeros(this.normalizedShape, opts.dtype)) : null;
  }
  forward(x: Tensor): Tensor { return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps); }
}

/** Lookup table (num, dim), init N(0, 1) like torch. */
export class Embedding extends Module {
  weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: InitOptions = {}) {
    super();
    this.weight = normal_(new Parameter(zeros([numEmbeddings, embeddingDim], opts.dtype)), 1, 0, opts.generator);
  }
  forward(indices: Tensor): Tensor { return F.embedding(indices, this.weight); }
}

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : v);

/** 2-D convolution NCHW, weight (out, in, kh, kw). */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: Pair;
  readonly padding: Pair;
  constructor(inChannels: number, outChannels: number, kernelSize: Pair,
    opts: { stride?: Pair; padding?: Pair; bias?: boolean } & InitOptions = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.weight = kaimingUniform_(new Parameter(zeros([outChannels, inChannels, kh, kw], opts.dtype)), Math.sqrt(5), opts.generator);
    const bound = 1 / Math.sqrt(fans(this.weight.shape)[0]);
    this.bias = opts.bias === false ? null : uniform_(new Parameter(zeros([outChannels], opts.dtype)), -bound, bound, opts.generator);
  }
  forward(x: Tensor): Tensor { return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }); }
}

/**
 * Transposed ("fractionally strided") 2-D convolution NCHW, weight (in, out, kh, kw) like
 * torch.nn.ConvTranspose2d; output side (H − 1)·stride − 2·padding + kh + outputPadding.
 * Init: the weight is kaiming-uniform over its torch fan-in (out·kh·kw), as torch does; the bias is
 * U(±1/√(in·kh·kw)), the bound nn.Conv2d would use for the mirrored convolution (torch uses out·kh·kw here).
 * Kept so because the course's autoencoder checkpoint was trained from this init.
 */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly outputPadding: Pair;
  constructor(inChannels: number, outChannels: number, kernelSize: Pair,
    opts: { stride?: Pair; padding?: Pair; outputPadding?: Pair; bias?: boolean } & InitOptions = {}) {
    super();
    if (typeof opts !== "object" || opts === null) {
      throw new NextframeError(`ConvTranspose2d: the 4th argument is an options object like Conv2d's ({ stride, padding, outputPadding, bias }), got ${String(opts)}`);
    }
    const [kh, kw] = pair(kernelSize);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.outputPadding = opts.outputPadding ?? 0;
    this.weight = kaimingUniform_(new Parameter(zeros([inChannels, outChannels, kh, kw], opts.dtype)), Math.sqrt(5), opts.generator);
    const bound = 1 / Math.sqrt(inChannels * kh * kw);
    this.bias = opts.bias === false ? null : uniform_(new Parameter(zeros([outChannels], opts.dtype)), -bound, bound, opts.generator);
  }
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding });
  }
}

/** Dropout, active only in training mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p >= 1) throw new ShapeError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}

/** GELU activation as a module. */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") { super(); }
  forward(x: Tensor): Tensor { return F.gelu(x, this.approximate); }
}
/** SiLU (x · σ(x)) activation as a module. */
export class SiLU extends Module { forward(x: Tensor): Tensor { return F.silu(x); } }
/** ReLU activation as a module. */
export class ReLU extends Module { forward(x: Tensor): Tensor { return F.relu(x); } }
/** tanh activation as a module. */
export class Tanh extends Module { forward(x: Tensor): Tensor { return F.tanh(x); } }
/** Returns its input (a placeholder layer). */
export class Identity extends Module { forward(x: Tensor): Tensor { return x; } }

/** Anything with a forward(x) — the element type of Sequential. */
export interface Forward { forward(x: Tensor): Tensor }

/** A list of modules named "0", "1", ... (torch.nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  [index: number]: M;
  private _length = 0;
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.push(m);
  }
  push(m: M): this {
    if (!(m instanceof Module)) throw new NextframeError(`ModuleList.push: expected a Module, got ${typeof m}`);
    (this as any)[this._length++] = m;
    return this;
  }
  get length(): number { return this._length; }
  at(i: number): M { return (this as any)[i < 0 ? i + this._length : i]; }
  *[Symbol.iterator](): Iterator<M> { for (let i = 0; i < this._length; i++) yield (this as any)[i]; }
  map<T>(f: (m: M, i: number) => T): T[] { return [...this].map(f); }
}

/** Applies modules in order (torch.nn.Sequential); children are named "0", "1", .... */
export class Sequential extends ModuleList<Module & Forward> {
  constructor(...modules: (Module & Forward)[]) { super(modules); }
  forward(x: Tensor): Tensor {
    for (const m of this) x = m.forward(x);
    return x;
  }
}
