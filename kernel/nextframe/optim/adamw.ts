/**
 * AdamW (Loshchilov & Hutter 2019, decoupled weight decay), written as graph ops so the update can be fused
 * into a compiled train step. Math per parameter p with gradient g at step t (torch.optim.AdamW):
 *   g ← g · min(1, maxGradNorm / (‖g_all‖₂ + 1e-6))      (optional global-norm clipping)
 *   p ← p − lr · λ · p                                   (decoupled weight decay)
 *   m ← β₁ m + (1 − β₁) g ;  v ← β₂ v + (1 − β₂) g²
 *   p ← p − lr · (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
 *
 * Parameter groups as torch.optim's: `new AdamW([{ params, weightDecay: 0.1 }, { params: biases, weightDecay: 0 }], opts)`
 * gives each group its own λ (the other options are shared); `decayGroups(params, λ)` splits parameters the way
 * nanoGPT's `configure_optimizers` does (weights of ≥ 2 dimensions decayed, biases and LayerNorm gains not).
 * The course's GPT recipe trains with decayGroups; the others use no weight decay.
 */
import { Tensor } from "../engine/tensor.js";
import * as ops from "../engine/ops.js";
import { compile, flattenTree } from "../engine/compile.js";
import type { Parameter } from "../nn/module.js";
import { allocArray, type TypedArray } from "../engine/dtype.js";
import { NextframeError, NonFiniteGradientError, ShapeError } from "../engine/errors.js";

/** AdamW's hyper-parameters (learning rate, betas, eps, weight decay) as torch.optim.AdamW, plus gradient-norm clipping. */
export interface AdamWOptions {
  /** Learning rate, or a schedule step → lr (step counts from 0). */
  lr: number | ((step: number) => number);
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value. */
  maxGradNorm?: number;
}

/** A parameter group (torch.optim's `param_groups` entry): its parameters and, optionally, their own weight decay. */
export interface AdamWParamGroup {
  params: Iterable<Parameter>;
  /** λ for these parameters; default: the options' weightDecay. */
  weightDecay?: number;
}

/**
 * nanoGPT's `configure_optimizers` split: parameters with ≥ 2 dimensions (matmul and embedding weights) decayed
 * with `weightDecay`, the others (biases, LayerNorm gains and biases) not. Frozen parameters are left out.
 */
export function decayGroups(params: Iterable<Parameter>, weightDecay: number): [AdamWParamGroup, AdamWParamGroup] {
  const trainable = [...params].filter((p) => p.requiresGrad);
  return [
    { params: trainable.filter((p) => p.shape.length >= 2), weightDecay },
    { params: trainable.filter((p) => p.shape.length < 2), weightDecay: 0 },
  ];
}

/** Scalars fed to the update graph each step (so changing lr never retraces). */
export interface AdamWScalars { lr: Tensor; biasCorrection1: Tensor; sqrtBiasCorrection2: Tensor }

/** AdamW (Loshchilov & Hutter; torch.optim.AdamW): Adam moments with decoupled weight decay, an optional learning-rate schedule and gradient-norm clipping. */
export class AdamW {
  /** Every trainable parameter, group by group, in the order given. */
  readonly params: Parameter[];
  /** The groups as resolved: each one's parameters (trainable ones) and weight decay; one group for a plain list. */
  readonly paramGroups: { params: Parameter[]; weightDecay: number }[];
  /** Weight decay of each parameter (index-aligned with `params`). */
  readonly weightDecays: number[];
  readonly betas: [number, number];
  readonly eps: number;
  /** The default weight decay (groups that name none use it). */
  readonly weightDecay: number;
  readonly maxGradNorm: number | undefined;
  lr: number | ((step: number) => number);
  /** Number of completed steps. */
  stepCount = 0;
  /** First and second moments, one array per parameter (fed as graph inputs). */
  m: TypedArray[];
  v: TypedArray[];
  /** Set by makeTrainStep: copies moments it keeps on the GPU back into `m` / `v`. @internal */
  _pullMoments: (() => Promise<void>) | null = null;
  /** Global gradient norm before clipping at the last step (if computed). */
  lastGradNorm = NaN;
  private eagerStep?: (...args: Tensor[]) => Promise<Tensor[]>;

  /** `params`: parameters (one group, λ = opts.weightDecay), or parameter groups with their own weight decay. */
  constructor(params: Iterable<Parameter> | readonly AdamWParamGroup[], opts: AdamWOptions) {
    this.weightDecay = opts.weightDecay ?? 0.01;
    const list = [...params] as (Parameter | AdamWParamGroup)[];
    const grouped = list.length > 0 && list.every((g) => !(g instanceof Tensor) && typeof g === "object" && g !== null && "params" in g);
    if (!grouped && list.some((g) => !(g instanceof Tensor))) throw new NextframeError("AdamW: give parameters, or parameter groups { params, weightDecay? }, not a mix");
    const groups = grouped ? (list as AdamWParamGroup[]) : [{ params: list as Parameter[] }];
    const seen = new Set<Parameter>();
    this.paramGroups = groups.map((g, gi) => {
      for (const k of Object.keys(g)) {
        if (k !== "params" && k !== "weightDecay") throw new NextframeError(`AdamW: parameter group ${gi} has "${k}"; a group may set only params and weightDecay (the other options are shared)`);
      }
      const wd = g.weightDecay ?? this.weightDecay;
      if (!(wd >= 0)) throw new NextframeError(`AdamW: parameter group ${gi}'s weightDecay must be ≥ 0, got ${wd}`);
      const ps = [...g.params].filter((p) => p.requiresGrad);
      for (const p of ps) {
        if (seen.has(p)) throw new NextframeError(`AdamW: a parameter of shape [${p.shape}] is in more than one parameter group (group ${gi} again)`);
        seen.add(p);
      }
      return { params: ps, weightDecay: wd };
    });
    this.params = this.paramGroups.flatMap((g) => g.params);
    this.weightDecays = this.paramGroups.flatMap((g) => g.params.map(() => g.weightDecay));
    if (this.params.length === 0) throw new NextframeError("AdamW: no trainable parameters given");
    for (const p of this.params) if (p.dtype !== "float32" && p.dtype !== "float64") throw new NextframeError(`AdamW: parameters must be float, got ${p.dtype}`);
    this.lr = opts.lr;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.maxGradNorm = opts.maxGradNorm;
    this.m = this.params.map((p) => allocArray(p.dtype, p.size));
    this.v = this.params.map((p) => allocArray(p.dtype, p.size));
  }

  /** The learning rate used at step `step` (0-based). */
  lrAt(step: number): number { return typeof this.lr === "function" ? this.lr(step) : this.lr; }

  /**
   * The dtype lr and the bias corrections are fed in: float64 only when some parameter is float64 (its update
   * then gets exact scalars). A float32 model gets float32 scalars, so its train graph has no float64 value at
   * all: no float64 inputs or casts to feed (WGSL has no f64 on WebGPU). Whether a graph gets onnxruntime's full
   * optimisation is decided in general by evaluate.ts `usesFloat64` (float64 arithmetic only); before that rule,
   * these three scalars cost every float32 train step its extended fusions (FusedMatMul in attention backward).
   */
  get scalarDType(): "float32" | "float64" { return this.params.some((p) => p.dtype === "float64") ? "float64" : "float32"; }

  /** lr, 1 − β₁ᵗ and √(1 − β₂ᵗ) for the next step (fed as `scalarDType` scalars, cast to each parameter's dtype). */
  scalarsForNextStep(): [lr: number, c1: number, c2: number] {
    const t = this.stepCount + 1;
    return [this.lrAt(this.stepCount), 1 - this.betas[0] ** t, Math.sqrt(1 - this.betas[1] ** t)];
  }

  /**
   * The symbolic update: new parameters and moments from current ones and gradients (all lazy tensors).
   * Used by makeTrainStep inside one compiled graph, where a tensor may hold several parameters of one group:
   * `weightDecays[i]` is tensor i's λ (default: `this.weightDecays` when the tensors are the parameters
   * themselves, or the one λ when every group has the same).
   */
  update(params: readonly Tensor[], grads: readonly Tensor[], m: readonly Tensor[], v: readonly Tensor[], s: AdamWScalars, weightDecays?: readonly number[]):
    { params: Tensor[]; m: Tensor[]; v: Tensor[]; gradNorm: Tensor } {
    const [b1, b2] = this.betas;
    const single = new Set(this.weightDecays).size === 1 ? this.weightDecays[0]! : undefined;
    const wds = weightDecays ?? (params.length === this.params.length ? this.weightDecays : single !== undefined ? params.map(() => single) : null);
    if (!wds || wds.length !== params.length) throw new ShapeError(`AdamW.update: ${params.length} tensors need ${params.length} weight decays (the groups differ in λ), got ${wds?.length ?? "none"}`);
    // Written to minimise full passes over the parameters (each elementwise op is one pass over ~all weights):
    // clipping is folded into the moment coefficients (g·s enters m, g²·s² enters v), and the bias corrections
    // into one scalar: p − lr/c1 · m / (√v/c2 + ε) = p − (lr·c2/c1) · m / (√v + ε·c2).
    const sq = grads.map((g) => ops.mul(g, g));
    const gradNorm = ops.sqrt(sq.map((q) => ops.sum(ops.cast(q, "float32"))).reduce((a, b) => ops.add(a, b)));
    const scale = this.maxGradNorm !== undefined ? ops.minimum(ops.div(this.maxGradNorm, ops.add(gradNorm, 1e-6)), 1) : null;
    const out = { params: [] as Tensor[], m: [] as Tensor[], v: [] as Tensor[], gradNorm };
    // scalar coefficients, built once per dtype (not once per parameter: small models are node-count bound)
    const coefs = new Map<string, { lr: Tensor; gCoef: Tensor; g2Coef: Tensor; stepSize: Tensor; epsC2: Tensor }>();
    const coefsFor = (dt: Tensor["dtype"]) => {
      let c = coefs.get(dt);
      if (!c) {
        const s1 = scale ? ops.cast(scale, dt) : null;
        const lr = ops.cast(s.lr, dt), c1 = ops.cast(s.biasCorrection1, dt), c2 = ops.cast(s.sqrtBiasCorrection2, dt);
        c = {
          lr,
          gCoef: s1 ? ops.mul(s1, 1 - b1) : ops.scalar(1 - b1, dt),
          g2Coef: s1 ? ops.mul(ops.mul(s1, s1), 1 - b2) : ops.scalar(1 - b2, dt),
          stepSize: ops.div(ops.mul(lr, c2), c1),
          epsC2: ops.mul(c2, this.eps),
        };
        coefs.set(dt, c);
      }
      return c;
    };
    // 1 − lr·λ, once per dtype and λ (none for λ = 0)
    const decays = new Map<string, Tensor>();
    const decayFor = (dt: Tensor["dtype"], weightDecay: number): Tensor | null => {
      if (!weightDecay) return null;
      const key = `${dt}/${weightDecay}`;
      let d = decays.get(key);
      if (!d) decays.set(key, d = ops.sub(1, ops.mul(coefsFor(dt).lr, weightDecay)));
      return d;
    };
    params.forEach((p, i) => {
      const { gCoef, g2Coef, stepSize, epsC2 } = coefsFor(p.dtype);
      const decay = decayFor(p.dtype, wds[i]!);
      const m1 = ops.add(ops.mul(m[i]!, b1), ops.mul(grads[i]!, gCoef));
      const v1 = ops.add(ops.mul(v[i]!, b2), ops.mul(sq[i]!, g2Coef));
      const upd = ops.mul(ops.div(m1, ops.add(ops.sqrt(v1), epsC2)), stepSize);
      const decayed = decay ? ops.mul(p, decay) : p;
      out.params.push(ops.sub(decayed, upd));
      out.m.push(m1);
      out.v.push(v1);
    });
    return out;
  }

  /**
   * Brings `m` and `v` up to date: a train step from makeTrainStep on a GPU keeps the moments there between
   * steps. Await it before reading or saving the moments yourself (the eager `step` does).
   */
  async syncMoments(): Promise<void> { await this._pullMoments?.(); }

  /**
   * The optimizer's state for a checkpoint, named as torch.optim.AdamW's state_dict: `state.{i}.exp_avg` and
   * `state.{i}.exp_avg_sq` (copies of the moments of `params[i]`), `step`, and per group `param_groups.weight_decay`
   * and `param_groups.size` (its λ and parameter count), so a resume with other groups is caught.
   */
  async stateDict(): Promise<Record<string, Tensor>> {
    await this.syncMoments();
    const out: Record<string, Tensor> = {};
    this.params.forEach((p, i) => {
      out[`state.${i}.exp_avg`] = ops.tensor(this.m[i]!.slice() as TypedArray, { shape: p.shape, dtype: p.dtype });
      out[`state.${i}.exp_avg_sq`] = ops.tensor(this.v[i]!.slice() as TypedArray, { shape: p.shape, dtype: p.dtype });
    });
    out.step = ops.tensor(Float64Array.of(this.stepCount), { shape: [], dtype: "float64" });
    out["param_groups.weight_decay"] = ops.tensor(Float64Array.from(this.paramGroups, (g) => g.weightDecay), { shape: [this.paramGroups.length], dtype: "float64" });
    out["param_groups.size"] = ops.tensor(Int32Array.from(this.paramGroups, (g) => g.params.length), { shape: [this.paramGroups.length], dtype: "int32" });
    return out;
  }

  /**
   * Restores a state from `stateDict()` (moments copied, step count set). Every mismatch — missing or unexpected
   * keys, other groups or weight decays, other shapes — is listed in one error and nothing is changed.
   */
  loadStateDict(sd: Record<string, Tensor> | Map<string, Tensor>): void {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const problems: string[] = [];
    const values = (k: string): number[] | null => {
      const t = src.get(k);
      if (!t) { problems.push(`missing ${k}`); return null; }
      if (t._value === null) { problems.push(`${k} is lazy (await it first)`); return null; }
      return Array.from(t._value as ArrayLike<number | bigint>, Number);
    };
    const step = values("step"), wd = values("param_groups.weight_decay"), size = values("param_groups.size");
    const mine = (f: (g: AdamW["paramGroups"][number]) => number) => this.paramGroups.map(f);
    if (size && size.join() !== mine((g) => g.params.length).join()) problems.push(`param_groups.size is [${size}], this optimizer's groups hold [${mine((g) => g.params.length)}] parameters`);
    if (wd && wd.join() !== mine((g) => g.weightDecay).join()) problems.push(`param_groups.weight_decay is [${wd}], this optimizer's is [${mine((g) => g.weightDecay)}]`);
    if (step && (step.length !== 1 || !Number.isInteger(step[0]) || step[0]! < 0)) problems.push(`step must be one non-negative integer, got [${step}]`);
    const expected = new Set(["step", "param_groups.weight_decay", "param_groups.size"]);
    const moments: TypedArray[][] = [[], []];
    this.params.forEach((p, i) => ["exp_avg", "exp_avg_sq"].forEach((name, j) => {
      const k = `state.${i}.${name}`;
      expected.add(k);
      const t = src.get(k);
      if (!t) return problems.push(`missing ${k}`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, a) => d !== p.shape[a])) return problems.push(`${k} has shape [${t.shape}], parameter ${i} has [${p.shape}]`);
      if (t._value === null) return problems.push(`${k} is lazy (await it first)`);
      const a = allocArray(p.dtype, p.size);
      (a as Float32Array).set(t._value as Float32Array);
      moments[j]!.push(a);
    }));
    const unexpected = [...src.keys()].filter((k) => !expected.has(k));
    if (unexpected.length) problems.push(`unexpected keys: ${unexpected.join(", ")}`);
    if (problems.length) throw new NextframeError(`AdamW.loadStateDict: the state does not match this optimizer (${problems.length} problems): ${problems.join("; ")}`);
    // fresh arrays, not views of a train step's flat buffers: makeTrainStep adopts replaced moments before its next
    // step (over any copy it keeps on a GPU)
    this.m = moments[0]!;
    this.v = moments[1]!;
    this.stepCount = step![0]!;
  }

  /** An eager step from gradients you computed yourself (e.g. with grad()); one compiled graph, one run. */
  async step(grads: readonly Tensor[]): Promise<void> {
    await this.syncMoments();
    if (grads.length !== this.params.length) throw new ShapeError(`AdamW.step: got ${grads.length} gradients for ${this.params.length} parameters`);
    grads.forEach((g, i) => {
      const p = this.params[i]!;
      if (g.shape.length !== p.shape.length || g.shape.some((d, j) => d !== p.shape[j])) throw new ShapeError(`AdamW.step: gradient ${i} has shape [${g.shape}] but its parameter has [${p.shape}]`);
    });
    const n = this.params.length;
    this.eagerStep ??= compile((...a: Tensor[]) => {
      const [lr, c1, c2] = a.slice(4 * n);
      const r = this.update(a.slice(0, n), a.slice(n, 2 * n), a.slice(2 * n, 3 * n), a.slice(3 * n, 4 * n), { lr: lr!, biasCorrection1: c1!, sqrtBiasCorrection2: c2! });
      return [...r.params, ...r.m, ...r.v, r.gradNorm];
    }) as unknown as (...args: Tensor[]) => Promise<Tensor[]>;
    const wrap = (arrs: TypedArray[]) => arrs.map((a, i) => { const t = new Tensor(this.params[i]!.shape, this.params[i]!.dtype); t._value = a; return t; });
    const [lr, c1, c2] = this.scalarsForNextStep();
    const res = await this.eagerStep(...this.params, ...grads, ...wrap(this.m), ...wrap(this.v), ...[lr, c1, c2].map((x) => ops.tensor([x], { shape: [], dtype: this.scalarDType })));
    const { tensors } = flattenTree(res);
    const gradNorm = Number(tensors[3 * n]!._value![0]);
    if (!Number.isFinite(gradNorm)) {
      // the results are fresh arrays: not adopting them keeps the parameters and moments as they were
      throw new NonFiniteGradientError(
        `AdamW.step: gradient norm is ${gradNorm} at step ${this.stepCount}; the update was skipped and the weights are those ` +
          `after step ${this.stepCount - 1} (the optimizer moments too). Check the gradients for NaN/Inf`, this.stepCount, NaN, gradNorm);
    }
    for (let i = 0; i < n; i++) {
      this.params[i]!._value = tensors[i]!._value;
      this.m[i] = tensors[n + i]!._value!;
      this.v[i] = tensors[2 * n + i]!._value!;
    }
    this.lastGradNorm = gradNorm;
    this.stepCount++;
  }
}
