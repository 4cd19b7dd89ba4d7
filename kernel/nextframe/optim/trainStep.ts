/**
 * makeTrainStep: forward + backward + AdamW update fused into ONE compiled graph, run with ONE session.run
 * per step. Parameters live in flat buffers (per dtype, in chunks of ≤ 4M values; each Parameter's data is a
 * view into one), and so do the Adam moments: the update is a dozen elementwise ops per chunk instead of a
 * dozen per parameter (small models are bound by the number of graph nodes). Flat parameters and moments are
 * graph inputs; their updated values are graph outputs written into pre-allocated buffers (ping-pong: read A,
 * write B, swap), so a step allocates no parameter-sized memory (DESIGN §4: fresh memory ≈ 3 ms/MB here).
 * The learning rate and bias corrections are scalar inputs, so schedules never retrace. A NaN/Inf loss
 * throws naming the step; because the new values went to the spare buffers, the model keeps the last good
 * weights.
 */
import { Tensor } from "../engine/tensor.js";
import { gradients } from "../engine/autodiff.js";
import { runTraced, signature, trace, type Traced } from "../engine/compile.js";
import { ort } from "../engine/session.js";
import { allocArray, fmtShape, type TypedArray } from "../engine/dtype.js";
import { NextframeError, NonFiniteLossError, ShapeError } from "../engine/errors.js";
import { tensor, concat, reshape } from "../engine/ops.js";
import type { DType } from "../engine/dtype.js";
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


/** Parameters of one dtype, packed into flat buffers (with spares for the ping-pong). */
interface Group {
  dtype: DType; idx: number[]; offsets: number[]; size: number;
  p: TypedArray; pSpare: TypedArray; m: TypedArray; mSpare: TypedArray; v: TypedArray; vSpare: TypedArray;
}

const viewOf = (flat: TypedArray, off: number, n: number): TypedArray => flat.subarray(off, off + n) as TypedArray;
const isViewOf = (a: TypedArray | null, flat: TypedArray, off: number): boolean =>
  a !== null && a.buffer === flat.buffer && a.byteOffset === flat.byteOffset + off * flat.BYTES_PER_ELEMENT;

export function makeTrainStep(model: Module, lossFn: (...batch: Tensor[]) => Tensor, optimizer: AdamW): TrainStep {
  const params = optimizer.params;
  const traces = new Map<string, Promise<Traced>>();
  let lastSession: ort.InferenceSession | null = null;
  void model;

  // ---- flat groups (built on the first step)
  let groups: Group[] | null = null;
  const buildGroups = (): Group[] => {
    // one group per dtype, split into chunks of at most CHUNK elements: big models then keep the update's
    // temporaries chunk-sized (ORT reuses them) instead of several full-model-sized buffers at once
    const CHUNK = 1 << 22;
    const lists: [DType, number[]][] = [];
    const open = new Map<DType, { idx: number[]; size: number }>();
    params.forEach((p, i) => {
      let cur = open.get(p.dtype);
      if (!cur || (cur.size > 0 && cur.size + p.size > CHUNK)) {
        cur = { idx: [], size: 0 };
        open.set(p.dtype, cur);
        lists.push([p.dtype, cur.idx]);
      }
      cur.idx.push(i);
      cur.size += p.size;
    });
    return lists.map(([dtype, idx]) => {
      const offsets: number[] = [];
      let size = 0;
      for (const i of idx) { offsets.push(size); size += params[i]!.size; }
      const mk = () => allocArray(dtype, size);
      return { dtype, idx, offsets, size, p: mk(), pSpare: mk(), m: mk(), mSpare: mk(), v: mk(), vSpare: mk() };
    });
  };
  /** Makes every Parameter (and moment) a view into its group's current flat buffer, adopting replaced data. */
  const pointViews = (gs: Group[]): void => {
    for (const g of gs) {
      g.idx.forEach((i, k) => {
        const p = params[i]!, off = g.offsets[k]!, n = p.size;
        if (!isViewOf(p._value, g.p, off)) { (g.p as Float32Array).set(p._value as Float32Array, off); p._value = viewOf(g.p, off, n); }
        if (!isViewOf(optimizer.m[i]!, g.m, off)) { (g.m as Float32Array).set(optimizer.m[i] as Float32Array, off); optimizer.m[i] = viewOf(g.m, off, n); }
        if (!isViewOf(optimizer.v[i]!, g.v, off)) { (g.v as Float32Array).set(optimizer.v[i] as Float32Array, off); optimizer.v[i] = viewOf(g.v, off, n); }
      });
    }
  };

  const graphFn = (nb: number, gs: Group[]) => (...a: Tensor[]) => {
    const batch = a.slice(0, nb);
    const [lr, c1, c2] = a.slice(nb, nb + 3) as [Tensor, Tensor, Tensor];
    const G = gs.length;
    const flatP = a.slice(nb + 3, nb + 3 + G), flatM = a.slice(nb + 3 + G, nb + 3 + 2 * G), flatV = a.slice(nb + 3 + 2 * G, nb + 3 + 3 * G);
    const loss = lossFn(...batch);
    if (!(loss instanceof Tensor)) throw new NextframeError(`makeTrainStep: the loss function must return a Tensor, got ${typeof loss}`);
    if (loss.size !== 1) throw new ShapeError(`makeTrainStep: the loss must be a scalar, got shape ${fmtShape(loss.shape)}; reduce it with .mean()`);
    const grads = gradients(loss, params);
    const flatG = gs.map((g) => concat(g.idx.map((i) => reshape(grads[i]!, [-1])), 0));
    const r = optimizer.update(flatP, flatG, flatM, flatV, { lr, biasCorrection1: c1, sqrtBiasCorrection2: c2 });
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
    const gs = (groups ??= buildGroups());
    pointViews(gs);
    const G = gs.length;
    const [lr, c1, c2] = optimizer.scalarsForNextStep();
    const scalars = [lr, c1, c2].map((x) => tensor([x], { shape: [], dtype: "float64" }));
    const flat = (pick: (g: Group) => TypedArray) => gs.map((g) => { const t = new Tensor([g.size], g.dtype); t._value = pick(g); return t; });
    const args = [...batch, ...scalars, ...flat((g) => g.p), ...flat((g) => g.m), ...flat((g) => g.v)];
    const sig = signature(batch); // shapes, dtypes and device: setDevice takes effect
    let tp = traces.get(sig);
    if (!tp) { tp = trace(graphFn(batch.length, gs), args); traces.set(sig, tp); tp.catch(() => traces.delete(sig)); }
    const tr = await tp;
    lastSession = tr.session;
    const outIndex = (k: number): number => {
      const s = tr.resultSlots[k]!;
      if (!("out" in s)) throw new NextframeError("makeTrainStep: internal: an updated value is not a graph output");
      return s.out;
    };
    const fetches: Record<string, ort.Tensor | null> = { [`out_${outIndex(0)}`]: null, [`out_${outIndex(1 + 3 * G)}`]: null };
    gs.forEach((g, j) => {
      const t = (a: TypedArray) => new ort.Tensor(g.dtype, a as Float32Array, [g.size]);
      fetches[`out_${outIndex(1 + j)}`] = t(g.pSpare);
      fetches[`out_${outIndex(1 + G + j)}`] = t(g.mSpare);
      fetches[`out_${outIndex(1 + 2 * G + j)}`] = t(g.vSpare);
    });
    const values = await runTraced(tr, args, fetches as Record<string, ort.Tensor>);
    const loss = Number(values[outIndex(0)]![0]);
    const stepNo = optimizer.stepCount;
    if (!Number.isFinite(loss)) {
      throw new NonFiniteLossError(
        `trainStep: loss is ${loss} at step ${stepNo}; the update was discarded and the weights are those after step ${stepNo - 1} ` +
          `(try a lower learning rate, gradient clipping via maxGradNorm, or check the batch for NaN/Inf)`, stepNo, loss);
    }
    for (const g of gs) {
      [g.p, g.pSpare] = [g.pSpare, g.p];
      [g.m, g.mSpare] = [g.mSpare, g.m];
      [g.v, g.vSpare] = [g.vSpare, g.v];
    }
    for (const g of gs) {
      g.idx.forEach((i, k) => {
        const off = g.offsets[k]!, n = params[i]!.size;
        params[i]!._value = viewOf(g.p, off, n);
        optimizer.m[i] = viewOf(g.m, off, n);
        optimizer.v[i] = viewOf(g.v, off, n);
      });
    }
    optimizer.lastGradNorm = Number(values[outIndex(1 + 3 * G)]![0]);
    optimizer.stepCount++;
    return loss;
  };
  Object.defineProperty(step, "step", { get: () => optimizer.stepCount });
  Object.defineProperty(step, "traces", { get: () => traces.size });
  Object.defineProperty(step, "session", { get: () => lastSession });
  return step as TrainStep;
}
