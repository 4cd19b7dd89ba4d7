/**
 * Exponential moving average of a model's parameters (as in DiT's training: decay 0.9999):
 * shadow ← decay · shadow + (1 − decay) · θ after each step. `copyTo(model)` loads the averages.
 */
import type { Module, Parameter } from "../nn/module.js";
import { Tensor } from "../engine/tensor.js";
import type { TypedArray } from "../engine/dtype.js";

/** An exponential moving average of a model's parameters (DiT's EMA weights): update() after each step, then copy to a model for sampling. */
export class EMA {
  readonly shadow = new Map<string, Float32Array | Float64Array>();
  updates = 0;
  constructor(readonly model: Module, readonly decay = 0.9999) {
    for (const [k, p] of model.namedParameters()) this.shadow.set(k, (p._value as Float32Array).slice());
  }
  /** Folds the current parameters into the averages. */
  update(): void {
    const d = this.decay, e = 1 - d;
    for (const [k, p] of this.model.namedParameters()) {
      const s = this.shadow.get(k)!;
      const v = p._value as Float32Array;
      for (let i = 0; i < s.length; i++) s[i] = d * s[i]! + e * v[i]!;
    }
    this.updates++;
  }
  /** The averaged weights as a state dict (copies). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, p] of this.model.namedParameters()) {
      const t = new Tensor(p.shape, p.dtype);
      t._value = this.shadow.get(k)!.slice() as TypedArray;
      out[k] = t;
    }
    return out;
  }
  /** Writes the averages into `target` (same architecture), e.g. an eval copy of the model. */
  copyTo(target: Module): void {
    const params = new Map<string, Parameter>(target.namedParameters());
    for (const [k, s] of this.shadow) { const p = params.get(k); if (p) p._value = s.slice(); }
  }
}
