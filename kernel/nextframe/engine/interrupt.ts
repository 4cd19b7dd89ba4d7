/**
 * Interrupts: the library's loops and native awaits stop for good when the notebook cell that runs them has been
 * interrupted.
 *
 * The kernel runs each cell in its own async scope and publishes `globalThis[Symbol.for("nextframe.cellInterrupted")]`,
 * a `() => boolean` that is true when the code calling it runs in the scope of a cell that has been interrupted
 * (absent outside the kernel: never interrupted). The kernel reports the interrupt at once, but JavaScript cannot
 * cancel a pending promise: an `await step(x, y)` in a loop would resume when onnxruntime's run ends and go on
 * training in the background. So after every native await (onnxruntime runs, session creation, device copies) and
 * between the steps of its loops, the library asks whether its cell was interrupted, and if so it first puts its
 * own state back in order (cleanups registered with `onHalt`: e.g. the train step's "step in flight" flag) and then
 * returns a promise that never settles.
 *
 * Why never settle rather than reject: a rejection would run the interrupted cell's `catch` and `finally` blocks and
 * whatever follows them, i.e. the cell's code would go on after the person stopped it. A promise that never settles
 * resumes nothing; nothing holds it, so the cell's suspended frames are garbage-collected with it. Where the library
 * stopped is kept as an `InterruptedError` (`lastInterruption()`), e.g. "fit: interrupted before step 27310; the
 * weights are those after step 27309". Synchronous code that cannot return a promise uses `throwIfInterrupted`.
 *
 * The kernel also stops an interrupted cell's timers, and onnxruntime-node schedules its runs and session creations
 * with `setImmediate`: native work started inside a cell that is then interrupted may never finish. The library
 * starts it outside cells where the kernel allows (`outsideCells`); where it does not, caches of shared work (sessions,
 * traced graphs) start such work again for the next caller (`sharedWork`), and a train step does not wait for a
 * step of an interrupted cell.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { cellInterruptedSymbol, outsideCellScopeSymbol } from "../../shared/libraryContract";
import { NextframeError } from "./errors.js";

/** A library loop or native await stopped because its notebook cell was interrupted; the message says where. */
export class InterruptedError extends NextframeError {
  constructor(message: string) {
    super(message);
    this.name = "Interrupted";
    this.stack = this.stack?.replace(/^InterruptedError/, "Interrupted");
  }
}

/** True when the calling code runs in the async scope of a notebook cell that has been interrupted. */
export function isCellInterrupted(): boolean {
  const f = (globalThis as Record<symbol, unknown>)[cellInterruptedSymbol];
  if (typeof f !== "function") return false;
  try { return f() === true; } catch { return false; }
}

/** Throws an InterruptedError naming `where` when the calling cell has been interrupted (for synchronous code). */
export function throwIfInterrupted(where: string): void {
  if (isCellInterrupted()) throw new InterruptedError(where);
}

/**
 * A function that answers `isCellInterrupted()` for the async scope it was made in, wherever it is called from:
 * a later cell asks whether the cell that started a still-running step has been interrupted.
 */
export function interruptedCheckForThisScope(): () => boolean {
  return AsyncResource.bind(() => isCellInterrupted());
}

/**
 * Per async scope: cleanups to run before halting (innermost first), descriptions of the work in progress
 * (innermost first; the outermost, the call the person made, names the interruption), and whether the work is
 * shared (a session or trace that other callers await too: it must settle, so it never halts; its consumers do).
 */
interface Scope { cleanups: readonly (() => void)[]; describe: readonly (() => string)[]; shared: boolean }
const scopes = new AsyncLocalStorage<Scope>();
let last: InterruptedError | null = null;

/** Where the library last stopped an interrupted cell's work (null when it never did). */
export function lastInterruption(): InterruptedError | null { return last; }

/**
 * Runs `fn` with `cleanup` registered: if `fn`'s work is halted (below) in an interrupted cell, `cleanup` runs
 * first (innermost first, each at most once), so that state held across the await is put back in order.
 * `describe` says where the work stands then (e.g. "fit: interrupted during step 12; the weights are those after
 * step 11"); the outermost description is the one kept.
 */
export function onHalt<T>(cleanup: (() => void) | null, fn: () => Promise<T>, describe?: () => string): Promise<T> {
  let done = false;
  const once = () => { if (!done) { done = true; cleanup?.(); } };
  const outer = scopes.getStore();
  return scopes.run({
    cleanups: [once, ...(outer?.cleanups ?? [])],
    describe: describe ? [describe, ...(outer?.describe ?? [])] : outer?.describe ?? [],
    shared: outer?.shared ?? false,
  }, fn);
}

/**
 * Runs `fn`, whose promise is cached and awaited by other callers (a traced graph, a session), so that it always
 * settles: native awaits inside it do not halt. Whoever awaits it checks for the interrupt afterwards.
 */
export function shared<T>(fn: () => Promise<T>): Promise<T> {
  return scopes.run({ cleanups: [], describe: [], shared: true }, fn);
}

/**
 * Runs the registered cleanups, records where the work stopped (the outermost description, else `why`), and
 * returns a promise that never settles (see the file's doc).
 */
export function halt(why: string): Promise<never> {
  const scope = scopes.getStore();
  for (const c of scope?.cleanups ?? []) {
    try { c(); } catch { /* a cleanup must not keep the others from running */ }
  }
  let message = why;
  const outermost = scope?.describe.at(-1);
  if (outermost) { try { message = outermost(); } catch { /* keep why */ } }
  last = new InterruptedError(message);
  return new Promise<never>(() => {});
}

/**
 * Starts native work (an onnxruntime run or session creation) outside the calling cell's scope, through the
 * kernel's `globalThis[Symbol.for("nextframe.outsideCellScope")]` (`(f) => f()` run outside any cell) where it
 * exists. onnxruntime-node schedules its work with `setImmediate`, and the kernel stops the timers of an
 * interrupted cell: started inside the cell, work that other cells wait for (a shared session) would never finish.
 * The awaiting code still runs in the cell's scope, so it still halts.
 */
export function outsideCells<T>(start: () => T): T {
  const f = (globalThis as Record<symbol, unknown>)[outsideCellScopeSymbol];
  return typeof f === "function" ? (f as (g: () => T) => T)(start) : start();
}

/** True when the kernel lets the library start native work outside cells (so that work always finishes). */
export function canStartOutsideCells(): boolean {
  return typeof (globalThis as Record<symbol, unknown>)[outsideCellScopeSymbol] === "function";
}

/** A promise of shared native work that knows whether it may never settle (see `sharedWork`). */
export type SharedWork<T> = Promise<T> & { abandoned(): boolean };

/**
 * Runs `fn` as shared work (see `shared`) for a cache. If the cell that started it is interrupted before it
 * settles, and the kernel offers no way to start native work outside the cell (`outsideCells`), onnxruntime's
 * scheduled callbacks may have been dropped with the cell's timers: `abandoned()` is then true and the cache
 * starts the work again instead of waiting on it forever.
 */
export function sharedWork<T>(fn: () => Promise<T>): SharedWork<T> {
  let settled = false;
  const creatorInterrupted = interruptedCheckForThisScope();
  const p = shared(fn);
  p.then(() => { settled = true; }, () => { settled = true; });
  return Object.assign(p, {
    abandoned: () => !settled && !canStartOutsideCells() && creatorInterrupted(),
  });
}

/** True when the caller should halt now: its cell was interrupted and it is not computing shared work. */
export function shouldHalt(): boolean {
  return !scopes.getStore()?.shared && isCellInterrupted();
}

/** The message of a halt after native work of `op` (when no loop around it says more). */
export function interruptedIn(op: string): string {
  return `${op}: interrupted while onnxruntime ran; the cell's code does not resume`;
}

/**
 * Awaits native work; if the calling cell was interrupted meanwhile, halts (never settles) instead of returning.
 * `where` names what was awaited, for `lastInterruption()`.
 */
export async function native<T>(work: Promise<T>, where: string): Promise<T> {
  const value = await work;
  if (shouldHalt()) return halt(interruptedIn(where));
  return value;
}
