/**
 * makeTrainStep: forward + backward + AdamW update fused into ONE compiled graph, run with ONE session.run
 * per step. Parameters live in flat buffers (per dtype, in chunks of ≤ 4M values; each Parameter's data is a
 * view into one), and so do the Adam moments: the update is a dozen elementwise ops per chunk instead of a
 * dozen per parameter (small models are bound by the number of graph nodes). Flat parameters and moments are
 * graph inputs; their updated values are graph outputs written into pre-allocated buffers (ping-pong: read A,
 * write B, swap), so a step allocates no parameter-sized memory (fresh memory costs about 3 ms per MB on a 2-core machine).
 * The learning rate and bias corrections are scalar inputs, so schedules never retrace. A NaN/Inf loss or
 * gradient norm throws naming the step; because the new values went to the spare buffers, the model keeps the
 * last good weights and moments, bit for bit.
 *
 * On WebGPU the parameters and Adam moments stay on the GPU between steps (onnxruntime `gpu-buffer`
 * outputs fed back as the next step's inputs), and the model's parameters are slices of the flat buffer inside
 * the graph, so they are not fed a second time: a step copies nothing in but the batch, and the parameters
 * out (on an H100 through WebGPU, a DiT-S/4-sized step at batch 8 spent 115 ms in onnxruntime's run of a
 * 430 ms step when parameters went in twice and out once). The parameters come back every step, so
 * `p._value`, state dicts and compiled forwards always see the current weights; host-side changes (replaced
 * arrays, nn.init) are uploaded before the next step (writing into `_value` by hand is not seen, as for frozen
 * compiles). The optimizer's `m` / `v` arrays are brought up to date by `await optimizer.syncMoments()` (its
 * eager `step` does this).
 */
import { Tensor, withSubstitutes } from "../engine/tensor.js";
import { gradients } from "../engine/autodiff.js";
import { runTracedRaw, signature, trace, type Traced } from "../engine/compile.js";
import { currentDevice, downloadTensor, ort } from "../engine/session.js";
import { allocArray, fmtShape, type TypedArray } from "../engine/dtype.js";
import { NextframeError, NonFiniteGradientError, NonFiniteLossError, ShapeError } from "../engine/errors.js";
import { tensor, concat, constantOfShape, reshape, slice } from "../engine/ops.js";
import { canStartOutsideCells, halt, interruptedCheckForThisScope, native, onHalt, shouldHalt, type SharedWork } from "../engine/interrupt.js";
import type { DType } from "../engine/dtype.js";
import type { Module } from "../nn/module.js";
import type { AdamW } from "./adamw.js";

/** A compiled training step (forward, backward and AdamW update in one graph): step(...batch) trains once and resolves to the loss. */
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


/** Parameters of one dtype and one weight decay, packed into flat buffers (with spares for the ping-pong). */
interface Group {
  dtype: DType; weightDecay: number; idx: number[]; offsets: number[]; size: number;
  p: TypedArray; pSpare: TypedArray; m: TypedArray; mSpare: TypedArray; v: TypedArray; vSpare: TypedArray;
  /** The moments on the GPU after a GPU step (then `m` / `v` are stale until pulled), else null. */
  mDev: ort.Tensor | null; vDev: ort.Tensor | null;
  /** The parameters on the GPU (equal to `p`, which is downloaded every step) and their versions then. */
  pDev: ort.Tensor | null; pVersions: number[];
}

/**
 * The flat buffers are (size / LANES, LANES) matrices, their size padded to a multiple of LANES: the update's
 * m ← β₁m + c·g, v ← β₂v + c'·g² and p ← d·p − s·u are then each one Gemm pass without a Reshape to copy into the
 * fetched outputs (onnx.ts scaledSums, which views larger sums as (R, 16)).
 */
const LANES = 16;
const flatShape = (g: { size: number }): number[] => [g.size / LANES, LANES];

const viewOf = (flat: TypedArray, off: number, n: number): TypedArray => flat.subarray(off, off + n) as TypedArray;
const isViewOf = (a: TypedArray | null, flat: TypedArray, off: number): boolean =>
  a !== null && a.buffer === flat.buffer && a.byteOffset === flat.byteOffset + off * flat.BYTES_PER_ELEMENT;

/** Options of makeTrainStep: whether parameters and moments stay resident in onnxruntime's tensors between steps. */
export interface TrainStepOptions {
  /**
   * Keep parameters and moments in onnxruntime's tensors between steps, the parameters fed once (as slices of
   * the flat buffer inside the graph). Default: on WebGPU (onnxruntime-node's only device tensors), not on the
   * cpu (where feeding host arrays is free). True on the cpu runs the same path there (tests).
   */
  resident?: boolean;
}

/** Forward, backward and the AdamW update of `model` fused into one compiled graph: the returned step(...batch) runs it once and resolves to the loss. */
export function makeTrainStep(model: Module, lossFn: (...batch: Tensor[]) => Tensor, optimizer: AdamW, opts: TrainStepOptions = {}): TrainStep {
  const params = optimizer.params;
  const traces = new Map<string, SharedWork<Traced>>();
  let lastSession: ort.InferenceSession | null = null;
  void model;

  // ---- flat groups (built on the first step)
  let groups: Group[] | null = null;
  const buildGroups = (): Group[] => {
    // one group per dtype and weight decay (the optimizer's parameter groups), split into chunks of at most CHUNK
    // elements: big models then keep the update's temporaries chunk-sized (ORT reuses them) instead of several
    // full-model-sized buffers at once
    const CHUNK = 1 << 22;
    const lists: [DType, number, number[]][] = [];
    const open = new Map<string, { idx: number[]; size: number }>();
    params.forEach((p, i) => {
      const wd = optimizer.weightDecays[i]!, key = `${p.dtype}/${wd}`;
      let cur = open.get(key);
      if (!cur || (cur.size > 0 && cur.size + p.size > CHUNK)) {
        cur = { idx: [], size: 0 };
        open.set(key, cur);
        lists.push([p.dtype, wd, cur.idx]);
      }
      cur.idx.push(i);
      cur.size += p.size;
    });
    return lists.map(([dtype, weightDecay, idx]) => {
      const offsets: number[] = [];
      let size = 0;
      for (const i of idx) { offsets.push(size); size += params[i]!.size; }
      size = Math.ceil(size / LANES) * LANES; // zero padding at the end (its gradient is 0, so it stays 0)
      const mk = () => allocArray(dtype, size);
      return { dtype, weightDecay, idx, offsets, size, p: mk(), pSpare: mk(), m: mk(), mSpare: mk(), v: mk(), vSpare: mk(), mDev: null, vDev: null, pDev: null, pVersions: [] };
    });
  };
  /** Makes every Parameter (and moment) a view into its group's current flat buffer, adopting replaced data. */
  const pointViews = async (gs: Group[]): Promise<void> => {
    for (const g of gs) {
      // moments replaced on the host (an eager step, a loaded state) win over the copies on the GPU; the
      // others come home first, so a partial replacement loses nothing
      const replaced = (ms: TypedArray[], flat: TypedArray) => g.idx.some((i, k) => !isViewOf(ms[i]!, flat, g.offsets[k]!));
      if (replaced(optimizer.m, g.m)) await pullGroup(g, "m");
      if (replaced(optimizer.v, g.v)) await pullGroup(g, "v");
      // parameters changed on the host (loadStateDict, nn.init): the host copy, current otherwise, is fed
      if (g.pDev && g.idx.some((i, k) => !isViewOf(params[i]!._value, g.p, g.offsets[k]!) || params[i]!._version !== g.pVersions[k])) dropParams(g);
      g.idx.forEach((i, k) => {
        const p = params[i]!, off = g.offsets[k]!, n = p.size;
        if (!isViewOf(p._value, g.p, off)) { (g.p as Float32Array).set(p._value as Float32Array, off); p._value = viewOf(g.p, off, n); }
        if (!isViewOf(optimizer.m[i]!, g.m, off)) { (g.m as Float32Array).set(optimizer.m[i] as Float32Array, off); optimizer.m[i] = viewOf(g.m, off, n); }
        if (!isViewOf(optimizer.v[i]!, g.v, off)) { (g.v as Float32Array).set(optimizer.v[i] as Float32Array, off); optimizer.v[i] = viewOf(g.v, off, n); }
      });
    }
  };
  const dropParams = (g: Group): void => { g.pDev?.dispose(); g.pDev = null; };
  /** Copies one group's moment from the GPU into its host buffer and forgets the GPU copy. */
  const pullGroup = async (g: Group, which: "m" | "v"): Promise<void> => {
    const key = which === "m" ? "mDev" : "vDev";
    const dev = g[key];
    if (!dev) return;
    (g[which] as Float32Array).set(await downloadTensor(dev) as Float32Array);
    dev.dispose();
    g[key] = null;
  };
  /** Copies moments kept on the GPU into the host arrays (which the optimizer's m / v views point into). */
  const pullMoments = async (drop: boolean): Promise<void> => {
    for (const g of groups ?? []) {
      if (drop) dropParams(g);
      for (const which of ["m", "v"] as const) {
        if (drop) { await pullGroup(g, which); continue; }
        const dev = which === "m" ? g.mDev : g.vDev;
        if (dev) (g[which] as Float32Array).set(await downloadTensor(dev) as Float32Array);
      }
    }
  };
  optimizer._pullMoments = () => pullMoments(false);

  const graphFn = (nb: number, gs: Group[], resident: boolean) => (...a: Tensor[]) => {
    const batch = a.slice(0, nb);
    const [lr, c1, c2] = a.slice(nb, nb + 3) as [Tensor, Tensor, Tensor];
    const G = gs.length;
    const flatP = a.slice(nb + 3, nb + 3 + G), flatM = a.slice(nb + 3 + G, nb + 3 + 2 * G), flatV = a.slice(nb + 3 + 2 * G, nb + 3 + 3 * G);
    // resident: the model sees its parameters as slices of the flat buffer, so they are fed once; on the cpu
    // feeding them as well costs nothing (onnxruntime reads the host arrays in place)
    const subs = new Map<Tensor, Tensor>();
    if (resident) gs.forEach((g, j) => g.idx.forEach((i, k) => {
      const p = params[i]!, off = g.offsets[k]!;
      subs.set(p, reshape(slice(reshape(flatP[j]!, [-1]), 0, off, off + p.size), p.shape));
    }));
    const loss = resident ? withSubstitutes(subs, () => lossFn(...batch)) : lossFn(...batch);
    if (!(loss instanceof Tensor)) throw new NextframeError(`makeTrainStep: the loss function must return a Tensor, got ${typeof loss}`);
    if (loss.size !== 1) throw new ShapeError(`makeTrainStep: the loss must be a scalar, got shape ${fmtShape(loss.shape)}; reduce it with .mean()`);
    const grads = gradients(loss, resident ? params.map((p) => subs.get(p)!) : params);
    const flatG = gs.map((g) => {
      const used = g.idx.reduce((n, i) => n + params[i]!.size, 0);
      const parts = g.idx.map((i) => reshape(grads[i]!, [-1]));
      if (used < g.size) parts.push(constantOfShape([g.size - used], 0, g.dtype));
      return reshape(concat(parts, 0), flatShape(g));
    });
    const r = optimizer.update(flatP, flatG, flatM, flatV, { lr, biasCorrection1: c1, sqrtBiasCorrection2: c2 }, gs.map((g) => g.weightDecay));
    return [loss, ...r.params, ...r.m, ...r.v, r.gradNorm];
  };

  /** The step now running, and whether the cell that started it has been interrupted (asked from any cell). */
  let running: { done: Promise<void>; interrupted: () => boolean } | null = null;
  const step = async (...rawBatch: (Tensor | number)[]): Promise<number> => {
    const kept = () => `the weights are those after step ${optimizer.stepCount - 1}`;
    if (shouldHalt()) return halt(`trainStep: interrupted before step ${optimizer.stepCount}; ${kept()}`);
    // the ping-pong buffers belong to one step at a time
    while (running) {
      if (!running.interrupted()) throw new NextframeError("trainStep: the previous step is still running; await each step before starting the next");
      // a step of an interrupted cell: it applies nothing and halts when onnxruntime returns to it
      if (canStartOutsideCells()) { await running.done; continue; } // its run was started outside the cell: it ends
      // the kernel may have dropped onnxruntime's callback with the cell's timers, so it may never return: leave it
      // the buffers it was given and go on with fresh ones
      for (const g of groups ?? []) {
        const mk = () => allocArray(g.dtype, g.size);
        g.pSpare = mk(); g.mSpare = mk(); g.vSpare = mk();
      }
      running = null;
    }
    let finish!: () => void;
    const mine = { done: new Promise<void>((r) => { finish = r; }), interrupted: interruptedCheckForThisScope() };
    running = mine;
    const release = () => { if (running === mine) running = null; finish(); };
    // interrupted in the middle, the step halts (interrupt.ts) before it changes the weights or moments: they are
    // swapped in together, synchronously, after every await of the step
    const stepNo = optimizer.stepCount;
    try {
      return await onHalt(release, () => runStep(rawBatch), () => `trainStep: interrupted during step ${stepNo}; the update was not applied and the weights are those after step ${stepNo - 1}`);
    } finally { release(); }
  };
  const runStep = async (rawBatch: (Tensor | number)[]): Promise<number> => {
    const batch = rawBatch.map((b) => (typeof b === "number" ? tensor([b], { shape: [] }) : b));
    const gs = (groups ??= buildGroups());
    // gpu-buffer tensors are WebGPU's: onnxruntime-node binds no other device's memory
    const resident = opts.resident ?? currentDevice() === "webgpu";
    // back on the cpu after GPU steps: the moments come home first
    if (!resident) await pullMoments(true);
    await pointViews(gs);
    const G = gs.length;
    const [lr, c1, c2] = optimizer.scalarsForNextStep();
    const scalars = [lr, c1, c2].map((x) => tensor([x], { shape: [], dtype: optimizer.scalarDType }));
    const flat = (pick: (g: Group) => TypedArray) => gs.map((g) => { const t = new Tensor(flatShape(g), g.dtype); t._value = pick(g); return t; });
    const args = [...batch, ...scalars, ...flat((g) => g.p), ...flat((g) => g.m), ...flat((g) => g.v)];
    const sig = `${signature(batch)}${resident ? "/resident" : ""}`; // shapes, dtypes and device: setDevice takes effect
    let tp = traces.get(sig);
    if (!tp || tp.abandoned()) {
      // results: loss, params (G), m (G), v (G), grad norm; on a GPU parameters and moments stay there
      const gpuResults = resident ? Array.from({ length: 3 * G }, (_, j) => 1 + j) : undefined;
      tp = trace(graphFn(batch.length, gs, resident), args, { gpuResults });
      const made = tp;
      traces.set(sig, made);
      made.catch(() => { if (traces.get(sig) === made) traces.delete(sig); });
    }
    const tr = await native(tp, "trainStep");
    lastSession = tr.session;
    const outIndex = (k: number): number => {
      const s = tr.resultSlots[k]!;
      if (!("out" in s)) throw new NextframeError("makeTrainStep: internal: an updated value is not a graph output");
      return s.out;
    };
    const outName = (k: number) => `out_${outIndex(k)}`;
    const fetches: Record<string, ort.Tensor | null> = { [outName(0)]: null, [outName(1 + 3 * G)]: null };
    const onDevice = new Map<number, ort.Tensor>();
    const pArg = batch.length + 3, mArg = pArg + G, vArg = mArg + G;
    gs.forEach((g, j) => {
      // (the GPU path never preallocates CPU fetches: with device outputs onnxruntime-node runs through IO
      // binding, where a preallocated CPU fetch may be replaced instead of filled)
      const t = (a: TypedArray) => new ort.Tensor(g.dtype, a as Float32Array, flatShape(g));
      fetches[outName(1 + j)] = resident ? null : t(g.pSpare);
      fetches[outName(1 + G + j)] = resident ? null : t(g.mSpare);
      fetches[outName(1 + 2 * G + j)] = resident ? null : t(g.vSpare);
      if (resident && g.pDev) onDevice.set(pArg + j, g.pDev);
      if (resident && g.mDev) onDevice.set(mArg + j, g.mDev);
      if (resident && g.vDev) onDevice.set(vArg + j, g.vDev);
    });
    const out = await runTracedRaw(tr, args, fetches, onDevice);
    const loss = Number(out[outName(0)]!.data[0]);
    const gradNorm = Number(out[outName(1 + 3 * G)]!.data[0]);
    const stepNo = optimizer.stepCount;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      // The graph wrote the new parameters and moments to the spare buffers (or, resident, to new GPU tensors):
      // dropping them leaves the current ones, bit for bit, at no cost. Clipping cannot save such a step (a NaN
      // norm makes the clip factor NaN), so any non-finite gradient norm skips it.
      if (resident) for (let k = 1; k <= 3 * G; k++) out[outName(k)]?.dispose();
      const kept = `the update was skipped and the weights are those after step ${stepNo - 1} (the optimizer moments too)`;
      if (!Number.isFinite(loss)) {
        throw new NonFiniteLossError(
          `trainStep: loss is ${loss} at step ${stepNo}; ${kept} ` +
            `(try a lower learning rate, gradient clipping via maxGradNorm, or check the batch for NaN/Inf)`, stepNo, loss);
      }
      throw new NonFiniteGradientError(
        `trainStep: gradient norm is ${gradNorm} at step ${stepNo} (loss ${loss} is finite); ${kept}. ` +
          `Look for an op whose gradient is infinite where the forward pass is finite (sqrt or log at 0, pow with a ` +
          `fractional exponent at 0, division by 0 multiplied by 0); training can go on with the next batch`, stepNo, loss, gradNorm);
    }
    if (resident) {
      // the parameters come home every step (into fresh arrays; the GPU copy stays for the next step); all of
      // them before any is adopted, so a halt between the downloads leaves the previous step's state whole
      const home: TypedArray[] = [];
      await onHalt(() => { for (let k = 1; k <= 3 * G; k++) out[outName(k)]?.dispose(); }, async () => {
        for (let j = 0; j < G; j++) home.push((await downloadTensor(out[outName(1 + j)]!)) as TypedArray);
      });
      gs.forEach((g, j) => {
        g.pSpare = home[j]!;
        g.pDev?.dispose();
        g.pDev = out[outName(1 + j)]!;
      });
    }
    gs.forEach((g, j) => {
      [g.p, g.pSpare] = [g.pSpare, g.p];
      if (resident) {
        g.mDev?.dispose();
        g.vDev?.dispose();
        g.mDev = out[outName(1 + G + j)]!;
        g.vDev = out[outName(1 + 2 * G + j)]!;
      } else {
        [g.m, g.mSpare] = [g.mSpare, g.m];
        [g.v, g.vSpare] = [g.vSpare, g.v];
      }
    });
    for (const g of gs) {
      g.idx.forEach((i, k) => {
        const off = g.offsets[k]!, n = params[i]!.size;
        params[i]!._value = viewOf(g.p, off, n);
        optimizer.m[i] = viewOf(g.m, off, n);
        optimizer.v[i] = viewOf(g.v, off, n);
      });
      g.pVersions = g.idx.map((i) => params[i]!._version);
    }
    optimizer.lastGradNorm = gradNorm;
    optimizer.stepCount++;
    return loss;
  };
  Object.defineProperty(step, "step", { get: () => optimizer.stepCount });
  Object.defineProperty(step, "traces", { get: () => traces.size });
  Object.defineProperty(step, "session", { get: () => lastSession });
  return step as TrainStep;
}
