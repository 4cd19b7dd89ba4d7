/**
 * Module and Parameter, mirroring torch.nn.Module: submodules and parameters register themselves by property
 * assignment (in assignment order), names are PyTorch-style dotted paths ("blocks.0.attn.qkv.weight"), and
 * state dicts load with every missing / unexpected / misshaped key reported at once.
 */
import { Tensor } from "../engine/tensor.js";
import { fmtShape, shapeSize, type DType, type TypedArray } from "../engine/dtype.js";
import { NextframeError, ShapeError } from "../engine/errors.js";

/** A trainable tensor: concrete data that optimizers update in place. */
export class Parameter extends Tensor {
  /** Frozen parameters (false) are fed as constants and skipped by optimizers. */
  requiresGrad: boolean;
  constructor(data: Tensor, opts: { requiresGrad?: boolean } = {}) {
    super(data.shape, data.dtype);
    if (data._value === null) throw new NextframeError(`Parameter: the tensor (shape ${fmtShape(data.shape)}) is lazy; create parameters from concrete data (randn, zeros, tensor(...)) or await t.data() first`);
    this._value = data._value;
    this.requiresGrad = opts.requiresGrad ?? true;
  }
  /** Replaces the data (same length); the array is adopted, not copied. */
  setData(data: TypedArray): void {
    if (data.length !== this.size) throw new ShapeError(`Parameter.setData: expected ${this.size} values for shape ${fmtShape(this.shape)}, got ${data.length}`);
    this._value = data;
  }
}

const SKIP = new Set(["training"]);

/** Base class of models and layers (torch.nn.Module): child modules and Parameters found by field name give state-dict keys like "blocks.0.attn.weight". */
export class Module {
  /** Train mode (dropout active). Set by train()/eval() on the whole tree. */
  training = true;
  private _buffers?: Map<string, Tensor>;

  /** Registers a module, parameter or buffer under a name (property assignment does the same). */
  register(name: string, value: Module | Parameter): this {
    (this as any)[name] = value;
    return this;
  }
  /** A non-trainable tensor saved in the state dict (e.g. fixed positional embeddings). */
  registerBuffer(name: string, t: Tensor): Tensor {
    (this._buffers ??= new Map()).set(name, t);
    Object.defineProperty(this, name, { value: t, enumerable: false, writable: true, configurable: true });
    return t;
  }

  /** Direct children as [name, value] (modules, parameters; arrays of modules become name.i). */
  private *entries(): Generator<[string, Module | Parameter]> {
    for (const [k, v] of Object.entries(this)) {
      if (SKIP.has(k) || k.startsWith("_")) continue;
      if (v instanceof Module || v instanceof Parameter) yield [k, v];
      else if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) if (x instanceof Module || x instanceof Parameter) yield [`${k}.${i}`, x];
      }
    }
  }

  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, v] of this.entries()) if (v instanceof Module) out.push(...v.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }
  children(): Module[] {
    return [...this.entries()].filter(([, v]) => v instanceof Module).map(([, v]) => v as Module);
  }
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const walk = (m: Module, p: string) => {
      for (const [k, v] of m.entries()) {
        const name = p ? `${p}.${k}` : k;
        if (v instanceof Parameter) { if (!seen.has(v)) { seen.add(v); out.push([name, v]); } } else walk(v, name);
      }
    };
    walk(this, prefix);
    return out;
  }
  parameters(): Parameter[] { return this.namedParameters().map(([, p]) => p); }
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [k, t] of m._buffers ?? []) out.push([name ? `${name}.${k}` : k, t]);
    }
    return out;
  }
  /** Parameters and buffers by dotted name (concrete tensors; shares data with the module). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /**
   * Copies tensors into the module's parameters/buffers. Every problem (missing, unexpected, wrong shape,
   * lazy value) is listed in one error; with strict=false only shape problems throw and the key lists are returned.
   */
  loadStateDict(sd: Record<string, Tensor> | Map<string, Tensor>, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    const misshaped: string[] = [];
    for (const [k, t] of own) {
      const s = src.get(k);
      if (!s) continue;
      if (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i])) misshaped.push(`${k}: expected ${fmtShape(t.shape)}, got ${fmtShape(s.shape)}`);
      else if (s._value === null) misshaped.push(`${k}: value is lazy (await it first)`);
    }
    const problems = [
      ...(strict && missing.length ? [`missing keys (${missing.length}): ${missing.join(", ")}`] : []),
      ...(strict && unexpected.length ? [`unexpected keys (${unexpected.length}): ${unexpected.join(", ")}`] : []),
      ...(misshaped.length ? [`wrong shapes (${misshaped.length}): ${misshaped.join("; ")}`] : []),
    ];
    if (problems.length) throw new ShapeError(`loadStateDict: ${problems.join("\n  ")}`);
    for (const [k, t] of own) {
      const s = src.get(k);
      if (s) t._value = convert(s._value!, t.dtype, shapeSize(t.shape));
    }
    return { missing, unexpected };
  }
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this { return this.train(false); }
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    return this.parameters().filter((p) => !opts.trainableOnly || p.requiresGrad).reduce((s, p) => s + p.size, 0);
  }
}

/** Copies data into a fresh array of the target dtype. */
function convert(src: TypedArray, dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32": return Float32Array.from(src as ArrayLike<number>, Number);
    case "float64": return Float64Array.from(src as ArrayLike<number>, Number);
    case "int32": return Int32Array.from(src as ArrayLike<number>, Number);
    case "int64": return src instanceof BigInt64Array ? src.slice() : BigInt64Array.from(src as ArrayLike<number>, (v) => BigInt(Math.trunc(Number(v))));
    case "uint8": return Uint8Array.from(src as ArrayLike<number>, Number);
    case "bool": return Uint8Array.from(src as ArrayLike<number>, (v) => (Number(v) ? 1 : 0));
  }
  void n;
}
