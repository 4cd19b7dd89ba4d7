/**
 * Layers mirroring torch.nn: Linear, LayerNorm, Embedding, Conv2d, Dropout, ModuleList, Sequential, plus
 * GELU/SiLU/ReLU modules. Parameter names and shapes match PyTorch, so state dicts map one to one.
 */
import { Module, Parameter } from "./module.js";
import { Tensor } from "../engine/tensor.js";
import * as F from "../engine/functional.js";
import { zeros, ones } from "../engine/ops.js";
import { kaimingUniform_, normal_, uniform_, fans } from "./init.js";
import type { DType } from "../engine/dtype.js";
import { NextframeError, ShapeError } from "../engine/errors.js";

/** y = x Wᵀ + b; weight (out, in); torch's default init (kaiming-uniform a=√5, bias U(±1/√in)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; dtype?: DType } = {}) {
    super();
    const dtype = opts.dtype ?? "float32";
    this.weight = kaimingUniform_(new Parameter(zeros([outFeatures, inFeatures], dtype)));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = opts.bias === false ? null : uniform_(new Parameter(zeros([outFeatures], dtype)), -bound, bound);
  }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
}

/** Layer normalization over the last dim(s). */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  constructor(dim: number | number[], opts: { elementwiseAffine?: boolean; eps?: number; dtype?: DType } = {}) {
    super();
    this.normalizedShape = typeof dim === "number" ? [dim] : dim;
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape, opts.dtype)) : null;
    this.bias = affine ? new Parameter(zeros(this.normalizedShape, opts.dtype)) : null;
  }
  forward(x: Tensor): Tensor { return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps); }
}

/** Lookup table (num, dim), init N(0, 1) like torch. */
export class Embedding extends Module {
  weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { dtype?: DType } = {}) {
    super();
    this.weight = normal_(new Parameter(zeros([numEmbeddings, embeddingDim], opts.dtype)));
  }
  forward(indices: Tensor): Tensor { return F.embedding(indices, this.weight); }
}

/** 2-D convolution NCHW, weight (out, in, kh, kw). */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: number | [number, number];
  readonly padding: number | [number, number];
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number],
    opts: { stride?: number | [number, number]; padding?: number | [number, number]; bias?: boolean; dtype?: DType } = {}) {
    super();
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.weight = kaimingUniform_(new Parameter(zeros([outChannels, inChannels, kh, kw], opts.dtype)));
    const bound = 1 / Math.sqrt(fans(this.weight.shape)[0]);
    this.bias = opts.bias === false ? null : uniform_(new Parameter(zeros([outChannels], opts.dtype)), -bound, bound);
  }
  forward(x: Tensor): Tensor { return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }); }
}

/** Dropout, active only in training mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p >= 1) throw new ShapeError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}

export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") { super(); }
  forward(x: Tensor): Tensor { return F.gelu(x, this.approximate); }
}
export class SiLU extends Module { forward(x: Tensor): Tensor { return F.silu(x); } }
export class ReLU extends Module { forward(x: Tensor): Tensor { return F.relu(x); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return F.tanh(x); } }
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
