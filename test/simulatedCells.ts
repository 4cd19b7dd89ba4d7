// The kernel's cell-interruption contract (kernel/shared/libraryContract.ts), simulated for the library's tests:
// each "cell" runs in its own async scope, and the contract's global function says whether the calling scope's cell
// has been interrupted. The kernel process does the same with its own scopes (kernel/process/cellScope.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { cellInterruptedSymbol } from "../kernel/shared/libraryContract";

export interface SimulatedCell { interrupted: boolean }

/** The scopes of the simulated cells; `cells.getStore()` is the calling code's cell. */
export const cells = new AsyncLocalStorage<SimulatedCell>();

/** Installs the contract's function on globalThis; returns a function that removes it again. */
export function installCellContract(): () => void {
  const g = globalThis as Record<symbol, unknown>;
  g[cellInterruptedSymbol] = () => cells.getStore()?.interrupted === true;
  return () => { delete g[cellInterruptedSymbol]; };
}

/** Runs `fn` as a new cell; `settled()` tells whether its promise has settled (an interrupted one never should). */
export function runCell<T>(fn: () => Promise<T>): { cell: SimulatedCell; settled: () => boolean; promise: Promise<T> } {
  const cell = { interrupted: false };
  let settled = false;
  const promise = cells.run(cell, fn);
  promise.then(() => { settled = true; }, () => { settled = true; });
  return { cell, settled: () => settled, promise };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `pollMs` until it holds; throws naming `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms: number, pollMs: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}
