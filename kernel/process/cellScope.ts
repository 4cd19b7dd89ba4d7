/**
 * Async scopes of cells, so that an interrupt stops a cell that awaits and not only one that computes.
 *
 * vm's breakOnSigint stops synchronous code. A cell that awaits (a training loop, `await sleep(0)` in a loop)
 * is not on the stack when the interrupt comes: its continuations run later from timers and native callbacks.
 * So every cell runs inside an AsyncLocalStorage scope `{ execId, interrupted }`, which follows its promise
 * continuations and timers. After an interrupt:
 *   - timer callbacks scheduled from the cell's scope never run (an interval is cleared), also those of the
 *     `timers` and `timers/promises` modules, so `for (;;) { await new Promise(r => setTimeout(r, 0)) }` waits
 *     forever on a promise that never resolves and its frames are garbage;
 *   - code that resumes after a native await (onnxruntime's `session.run`) asks
 *     `globalThis[Symbol.for("nextframe.cellInterrupted")]()` and stops; the nextframe library does this after
 *     each native await and between loop steps (it defines its own reader of the same symbol);
 *   - the executor drops what the scope still prints or displays (see executor.ts);
 *   - awaits in the cell's own code never resume (awaitGate.ts).
 * The library starts native work that must finish whatever happens to the cell outside the scope
 * (`nextframe.outsideCellScope` below).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import timers from "node:timers";
import timersPromises from "node:timers/promises";
import { promisify } from "node:util";
import { cellInterruptedSymbol, currentCellSymbol, outsideCellScopeSymbol } from "../shared/libraryContract";

export interface CellScope {
  readonly execId: number;
  /** Set once by an interrupt (or a memory stop); never cleared. */
  interrupted: boolean;
  /** Outputs dropped because they came from this scope after its interrupt. */
  dropped: number;
}


const storage = new AsyncLocalStorage<CellScope>();

/** The scope of the cell whose code is running now (synchronously or in a continuation), if any. */
export function currentScope(): CellScope | undefined {
  return storage.getStore();
}

/** Run `f` (a cell's code) in `scope`: everything it schedules, awaits or resumes carries the scope. */
export function runInScope<T>(scope: CellScope, f: () => T): T {
  return storage.run(scope, f);
}

/** Run `f` outside any cell's scope (kernel work started from cell code, e.g. a batched flush). */
export function runOutsideScopes<T>(f: () => T): T {
  return storage.exit(f);
}

export function cellInterrupted(): boolean {
  return storage.getStore()?.interrupted === true;
}

/** The timer functions as Node made them, for the kernel's own timers (which must run after any interrupt). */
export const kernelTimers = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
};

let installed = false;

/**
 * Replace the global timer functions and those of `timers` / `timers/promises` with ones that do not run a
 * callback (or resolve a promise) scheduled from a cell that was interrupted, and publish the interrupted test.
 * Outside cells they behave exactly as Node's. Idempotent.
 */
export function installCellScopes(): void {
  if (installed) return;
  installed = true;
  (globalThis as Record<symbol, unknown>)[cellInterruptedSymbol] = cellInterrupted;
  (globalThis as Record<symbol, unknown>)[outsideCellScopeSymbol] = runOutsideScopes;
  (globalThis as Record<symbol, unknown>)[currentCellSymbol] = () => storage.getStore()?.execId;

  type Fn = (...args: unknown[]) => unknown;
  const callbackTimer = (orig: Fn, clear: Fn | null): Fn => {
    const wrapped = function (this: unknown, cb: unknown, ...rest: unknown[]) {
      const scope = storage.getStore();
      if (!scope || typeof cb !== "function") return Reflect.apply(orig, this, [cb, ...rest]);
      const guarded = function (this: unknown, ...args: unknown[]) {
        if (scope.interrupted) {
          if (clear) clear(handle);
          return undefined;
        }
        return Reflect.apply(cb, this, args);
      };
      const handle: unknown = Reflect.apply(orig, this, [guarded, ...rest]);
      return handle;
    };
    Object.defineProperty(wrapped, "name", { value: orig.name });
    return wrapped;
  };
  /** A promise timer whose promise never settles if its cell is interrupted before it would. */
  const promiseTimer = (orig: Fn): Fn => function (this: unknown, ...args: unknown[]) {
    const scope = storage.getStore();
    const p = Reflect.apply(orig, this, args) as Promise<unknown>;
    if (!scope) return p;
    return new Promise((resolve, reject) => {
      p.then((v) => { if (!scope.interrupted) resolve(v); }, (e) => { if (!scope.interrupted) reject(e); });
    });
  };
  /** timers/promises' setInterval is an async iterator: its next() stops resolving after an interrupt. */
  const intervalIterator = (orig: Fn): Fn => function (this: unknown, ...args: unknown[]) {
    const scope = storage.getStore();
    const it = Reflect.apply(orig, this, args) as AsyncIterableIterator<unknown>;
    if (!scope) return it;
    const next = it.next.bind(it);
    it.next = () => new Promise((resolve, reject) => {
      next().then((v) => {
        if (!scope.interrupted) resolve(v);
        else void it.return?.();
      }, (e) => { if (!scope.interrupted) reject(e); });
    });
    return it;
  };

  const pSetTimeout = promiseTimer(timersPromises.setTimeout as Fn);
  const pSetImmediate = promiseTimer(timersPromises.setImmediate as Fn);
  const pSetInterval = intervalIterator(timersPromises.setInterval as Fn);
  const setTimeoutW = callbackTimer(kernelTimers.setTimeout as Fn, kernelTimers.clearTimeout as Fn);
  const setIntervalW = callbackTimer(kernelTimers.setInterval as Fn, kernelTimers.clearInterval as Fn);
  const setImmediateW = callbackTimer(kernelTimers.setImmediate as Fn, null);
  // util.promisify(setTimeout) / (setImmediate) use these, as Node's own functions do
  Object.defineProperty(setTimeoutW, promisify.custom, { value: pSetTimeout });
  Object.defineProperty(setImmediateW, promisify.custom, { value: pSetImmediate });

  const g = globalThis as unknown as Record<string, unknown>;
  const t = timers as unknown as Record<string, unknown>;
  for (const target of [g, t]) {
    target.setTimeout = setTimeoutW;
    target.setInterval = setIntervalW;
    target.setImmediate = setImmediateW;
  }
  const tp = timersPromises as unknown as Record<string, unknown>;
  tp.setTimeout = pSetTimeout;
  tp.setImmediate = pSetImmediate;
  tp.setInterval = pSetInterval;
  const scheduler = timersPromises.scheduler as unknown as Record<string, Fn> | undefined;
  if (scheduler && typeof scheduler.wait === "function") {
    const wait = scheduler.wait.bind(scheduler);
    scheduler.wait = promiseTimer(wait as Fn);
    const yieldFn = scheduler.yield.bind(scheduler);
    scheduler.yield = promiseTimer(yieldFn as Fn);
  }
}
