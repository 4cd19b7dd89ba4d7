/**
 * What the kernel process and the nextframe library agree on through `globalThis`: the library never imports the
 * kernel, and the kernel never imports the library (cells load it). Both import this file, so the symbols, the
 * sink's shape and the one MimeBundle type are defined once.
 *
 *   - Display: the kernel installs a *sink* on `globalThis[kernelSinkSymbol]` and a comm handler table on
 *     `globalThis[commHandlersSymbol]`; the library's display() reads them (without a sink — a plain `node` script,
 *     a training run — it prints the text/plain part). Objects with a `[mimeBundleSymbol]()` method (may return a
 *     Promise) render richly as a cell's last value or through display(). The World Viewer's comm target is
 *     WORLD_VIEWER_TARGET in kernel/shared/payloads.ts.
 *   - MimeBundle: "text/plain" string, "image/png" base64 string, "application/json" object,
 *     "application/vnd.nextframe.*+json" objects. Rich bundles also carry text/html (an SVG picture) or image/png,
 *     and text/plain.
 *   - Cell scope: `globalThis[cellInterruptedSymbol]` and `globalThis[outsideCellScopeSymbol]`, see below.
 *
 * Symbols are registered (`Symbol.for`) so that they are the same in every bundle that includes this file (the
 * kernel's and the library's).
 */
import { inspect } from "node:util";

/** MIME type → data. text/plain is a string, image/png a base64 string, JSON types are objects. */
export type MimeBundle = Record<string, unknown>;

/** Objects that define `[mimeBundleSymbol]()` render richly when they are a cell's last value or displayed. */
export const mimeBundleSymbol: unique symbol = Symbol.for("nextframe.mimeBundle") as never;

/** Where the kernel process installs its sink. */
export const kernelSinkSymbol: unique symbol = Symbol.for("nextframe.kernelSink") as never;

/** Where the kernel process keeps comm handlers (target → handler); onComm() adds to it. */
export const commHandlersSymbol: unique symbol = Symbol.for("nextframe.commHandlers") as never;

/** Marks display handles: a cell whose last value is a handle shows nothing more (display already showed it). */
export const displayHandleSymbol: unique symbol = Symbol.for("nextframe.displayHandle") as never;

/** Whether `x` is a handle returned by display(). */
export function isDisplayHandle(x: unknown): x is DisplayHandle {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[displayHandleSymbol] === true;
}

/** Something that can render itself as a MIME bundle. */
export interface HasMimeBundle {
  [mimeBundleSymbol](): MimeBundle | Promise<MimeBundle>;
}

/** The kernel process's side of display: it turns these calls into cell outputs. */
export interface KernelSink {
  /** Show `bundle`; with `update`, replace the output that was shown with the same `displayId`. */
  display(bundle: MimeBundle, displayId: string, update: boolean): void;
  /** Send `data` to the editor side of comm `target` (e.g. the World Viewer panel). */
  comm(target: string, data: unknown): void;
  /** Clear the running cell's outputs (Jupyter's clear_output); with `wait`, when its next output arrives. */
  clear?(wait: boolean): void;
  /**
   * A display whose bundle is still being computed (a Tensor's PNG, an interact() output's first run): the kernel
   * waits for it before the running cell counts as finished, so the output lands on that cell in every frontend
   * (Jupyter and nbconvert drop outputs that come after a cell's reply). The promise never rejects.
   */
  pending?(p: Promise<void>): void;
}

/** A handler of comm messages from the editor (onComm); a value it returns (or resolves to) is sent back on the same target. */
export type CommHandler = (data: unknown) => unknown | Promise<unknown>;

/** A shown output that can be replaced in place (a progress bar, a live chart). */
export interface DisplayHandle {
  readonly id: string;
  /** Replace the output shown by this handle with `x` (rendered like display(x)). */
  update(x: unknown): void;
}

/** Whether `x` renders itself through `[mimeBundleSymbol]()`. */
export function hasMimeBundle(x: unknown): x is HasMimeBundle {
  return (typeof x === "object" || typeof x === "function") && x !== null &&
    typeof (x as Partial<HasMimeBundle>)[mimeBundleSymbol] === "function";
}

/** A plain-text rendering like the Node REPL's (strings as they are). */
export function plainText(x: unknown): string {
  return typeof x === "string" ? x : inspect(x, { depth: 4, colors: false, maxArrayLength: 50, breakLength: 100 });
}

/**
 * The MIME bundle for `x`: its own `[mimeBundleSymbol]()` (awaited), a string as text/plain, anything else as
 * text/plain via util.inspect plus application/json for plain JSON-able objects and arrays.
 */
export async function toMimeBundle(x: unknown): Promise<MimeBundle> {
  if (hasMimeBundle(x)) {
    const b = await x[mimeBundleSymbol]();
    if (typeof b !== "object" || b === null) {
      throw new TypeError(`display: [Symbol.for("nextframe.mimeBundle")]() must return an object of MIME type → data, got ${typeof b}`);
    }
    return "text/plain" in b ? b : { ...b, "text/plain": plainText(x) };
  }
  const bundle: MimeBundle = { "text/plain": plainText(x) };
  if (isPlainJson(x)) bundle["application/json"] = x;
  return bundle;
}

/** Whether `x` is a plain object or array (shown as application/json too). */
export function isPlainJson(x: unknown): boolean {
  if (typeof x !== "object" || x === null) return false;
  if (Array.isArray(x)) return true;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * `globalThis[cellInterruptedSymbol]` is a function `() => boolean`: true when the code calling it runs in the
 * async scope of a cell that was interrupted, false outside any cell or in a cell that runs on. The kernel installs
 * it; the library calls it after native awaits and between the steps of its loops, and then never resumes.
 */
export const cellInterruptedSymbol: unique symbol = Symbol.for("nextframe.cellInterrupted") as never;

/**
 * `globalThis[outsideCellScopeSymbol]` is a function `(f) => f()` that runs `f` outside any cell's scope. The
 * library starts native work through it (onnxruntime-node schedules its runs and session creations with
 * `setImmediate`, which an interrupted cell's scope would drop): work that other cells may wait for (a shared
 * session) then always finishes, while the code that awaits it still runs, and halts, in the cell's scope.
 */
export const outsideCellScopeSymbol: unique symbol = Symbol.for("nextframe.outsideCellScope") as never;

/**
 * `globalThis[currentCellSymbol]` is a function `() => number | undefined`: the execution number of the cell whose
 * code is running (synchronously or in one of its continuations), undefined outside any cell. The kernel installs
 * it; the library uses it to gather a cell's consecutive `claim()`s into one output instead of one output each.
 */
export const currentCellSymbol: unique symbol = Symbol.for("nextframe.currentCell") as never;
