/**
 * makeTrainStep: forward + backward + AdamW update fused into ONE compiled graph, run with ONE session.run
 * per step. Parameters and Adam moments are graph inputs; their updated values are graph outputs written
 * into pre-allocated buffers (ping-pong: read A, write B, swap), so a step allocates no parameter-sized
 * memory (DESIGN §4: fresh memory costs ≈ 3 ms/MB here). The learning rate and bias corrections are scalar
 * inputs, so schedules never retrace. A NaN/Inf loss throws naming the step; because the new values went to
 * the spare buffers, the model keeps the last good weights.
 */
import { Tensor } from "../engine/tensor.js";
import { gradients } from "../engine/autodiff.js";
import { runTraced, trace, type Traced } from "../engine/compile.js";
import { ort } from "../engine/session.js";
import { allocArray, fmtShape, type TypedArray } from "../engine/dtype.js";
import { NextframeError, NonFiniteLossError, ShapeError } from "../engine/errors.js";
import { tensor } from "../engine/ops.js";
import type { Module } from "../nn/module.js";
import type { AdamW } from "./adamw.js";

export interface TrainStep {
  /** Runs one step on a batch; resolves to the loss. */
  (...batch: (Tensor | number)[]): Promise<number>;
  /** Completed steps (same as optimizer.stepCount). */
  readonly step: number;
  /** Distinct batch signatures traced so far. */
  readonly traces: number;
  /** The session of the most recent step (for profiling / inspection). */
  readonly session: ort.InferenceSession | null;
}

const wrap = (a: TypedArray, like: Tensor): Tensor => { const t = new Tensor(like.shape, like.dtype); t._value = a; return t; };

export function makeTrainStep(model: Module, lossFn: (...batch: Tensor[]) => Tensor, optimizer: AdamW): TrainStep {
  const params = optimizer.params;
  const n = params.length;
  const traces = new Map<string, Promise<Traced>>();
  // spare (write) buffers for the ping-pong
  let spareP: TypedArray[] | null = null, spareM: TypedArray[] | null = null, spareV: TypedArray[] | null = null;
  void model;
  let lastSession: ort.InferenceSession | null = null;

  const graphFn = (nb: number) => (...a: Tensor[]) => {
    const batch = a.slice(0, nb);
    const [lr, c1, c2] = a.slice(nb, nb + 3) as [Tensor, Tensor, Tensor];
    const m = a.slice(nb + 3, nb + 3 + n), v = a.slice(nb + 3 + n, nb + 3 + 2 * n);
    const loss = lossFn(...batch);
    if (!(loss instanceof Tensor)) throw new NextframeError(`makeTrainStep: the loss function must return a Tensor, got ${typeof loss}`);
    if (loss.size !== 1) throw new ShapeError(`makeTrainStep: the loss must be a scalar, got shape ${fmtShape(loss.shape)}; reduce it with .mean()`);
    const grads = gradients(loss, params);
    const r = optimizer.update(params, grads, m, v, { lr, biasCorrection1: c1, sqrtBiasCorrection2: c2 });
    return [loss, ...r.params, ...r.m, ...r.v, r.gradNorm];
  };

  let inFlight = false;
  const step = async (...rawBatch: (Tensor | number)[]): Promise<number> => {
    // the ping-pong buffers belong to one step at a time
    if (inFlight) throw new NextframeError("trainStep: the previous step is still running; await each step before starting the next");
    inFlight = true;
    try { return await runStep(rawBatch); } finally { inFlight = false; }
  };
  const runStep = async (rawBatch: (Tensor | number)[]): Promise<number> => {
    const batch = rawBatch.map((b) => (typeof b === "number" ? tensor([b], { shape: [] }) : b));
    const [lr, c1, c2] = optimizer.scalarsForNextStep();
    const scalars = [lr, c1, c2].map((x) => tensor([x], { shape: [], dtype: "float64" }));
    const args = [...batch, ...scalars, ...optimizer.m.map((a, i) => wrap(a, params[i]!)), ...optimizer.v.map((a, i) => wrap(a, params[i]!))];
    const sig = batch.map((b) => `${b.dtype}[${b.shape}]`).join(";");
    let tp = traces.get(sig);
    if (!tp) { tp = trace(graphFn(batch.length), args); traces.set(sig, tp); tp.catch(() => traces.delete(sig)); }
    const tr = await tp;
    lastSession = tr.session;
    const outName = (k: number): string => {
      const s = tr.resultSlots[k]!;
      if (!("out" in s)) throw new NextframeError("makeTrainStep: internal: an updated value is not a graph output");
      return `out_${s.out}`;
    };
    spareP ??= params.map((p) => allocArray(p.dtype, p.size));
    spareM ??= params.map((p) => allocArray(p.dtype, p.size));
    spareV ??= params.map((p) => allocArray(p.dtype, p.size));
    const fetches: Record<string, ort.Tensor | null> = { [outName(0)]: null, [outName(1 + 3 * n)]: null };
    for (let i = 0; i < n; i++) {
      const p = params[i]!;
      if (spareP[i] === p._value) spareP[i] = allocArray(p.dtype, p.size);
      fetches[outName(1 + i)] = new ort.Tensor(p.dtype, spareP[i] as Float32Array, p.shape as number[]);
      fetches[outName(1 + n + i)] = new ort.Tensor(p.dtype, spareM[i] as Float32Array, p.shape as number[]);
      fetches[outName(1 + 2 * n + i)] = new ort.Tensor(p.dtype, spareV[i] as Float32Array, p.shape as number[]);
    }
    const values = await runTraced(tr, args, fetches as Record<string, ort.Tensor>);
    const slotValue = (k: number) => values[(tr.resultSlots[k] as { out: number }).out]!;
    const loss = Number(slotValue(0)[0]);
    const stepNo = optimizer.stepCount;
    if (!Number.isFinite(loss)) {
      throw new NonFiniteLossError(
        `trainStep: loss is ${loss} at step ${stepNo}; the update was discarded and the weights are those after step ${stepNo - 1} ` +
          `(try a lower learning rate, gradient clipping via maxGradNorm, or check the batch for NaN/Inf)`, stepNo, loss);
    }
    for (let i = 0; i < n; i++) {
      const p = params[i]!;
      [p._value, spareP[i]] = [spareP[i]!, p._value!];
      [optimizer.m[i], spareM[i]] = [spareM[i]!, optimizer.m[i]!];
      [optimizer.v[i], spareV[i]] = [spareV[i]!, optimizer.v[i]!];
    }
    optimizer.lastGradNorm = Number(slotValue(1 + 3 * n)[0]);
    optimizer.stepCount++;
    return loss;
  };
  Object.defineProperty(step, "step", { get: () => optimizer.stepCount });
  Object.defineProperty(step, "traces", { get: () => traces.size });
  Object.defineProperty(step, "session", { get: () => lastSession });
  return step as TrainStep;
}
