/**
 * display(): rich outputs from notebook cells, and comm messages between cells and the editor.
 *
 * The library never talks to the kernel process directly. The kernel process installs a *sink* on
 * `globalThis[Symbol.for("nextframe.kernelSink")]` and a comm handler table on
 * `globalThis[Symbol.for("nextframe.commHandlers")]`; this file only reads those. Without a sink (a plain
 * `node` script, a training run) `display` prints the text/plain part to stdout, so the same library
 * works in scripts. Symbols are registered (`Symbol.for`) so that two copies of this module (the kernel's
 * bundled one and the library's) agree.
 *
 * The contract between this file, the view helpers (display/*.ts) and the kernel process:
 *   - MimeBundle: "text/plain" string, "image/png" base64 string, "application/json" object,
 *     "application/vnd.nextframe.*+json" objects. Rich bundles also carry image/png or text/html and text/plain.
 *   - objects with a `[mimeBundleSymbol]()` method (may return a Promise) render richly as a cell's last
 *     value or through display().
 *   - World Viewer comm: target "worldViewer".
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
}

export type CommHandler = (data: unknown) => unknown | Promise<unknown>;

/** A shown output that can be replaced in place (a progress bar, a live chart). */
export interface DisplayHandle {
  readonly id: string;
  /** Replace the output shown by this handle with `x` (rendered like display(x)). */
  update(x: unknown): void;
}

type Glob = typeof globalThis & {
  [kernelSinkSymbol]?: KernelSink;
  [commHandlersSymbol]?: Map<string, CommHandler>;
};

function sink(): KernelSink | undefined {
  return (globalThis as Glob)[kernelSinkSymbol];
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

function isPlainJson(x: unknown): boolean {
  if (typeof x !== "object" || x === null) return false;
  if (Array.isArray(x)) return true;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

let counter = 0;
function newDisplayId(): string {
  counter += 1;
  return `nf-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Send one bundle (or a promise of one) to the sink, or print its text without a kernel. */
function emit(bundle: MimeBundle | Promise<MimeBundle>, id: string, update: boolean): void {
  const s = sink();
  const send = (b: MimeBundle) => {
    if (s) s.display(b, id, update);
    else process.stdout.write(String(b["text/plain"] ?? "") + "\n");
  };
  if (bundle instanceof Promise) {
    // A library object's bundle can take time (PNG encoding); errors go where unhandled rejections go:
    // the kernel reports them on the cell.
    bundle.then(send).catch((e) => { throw e; });
  } else send(bundle);
}

function handle(id: string): DisplayHandle {
  const h: DisplayHandle = { id, update: (x: unknown) => emit(bundleOf(x), id, true) };
  Object.defineProperty(h, displayHandleSymbol, { value: true, enumerable: false });
  return h;
}

/** Synchronous when possible so that outputs keep the order in which cells called display(). */
function bundleOf(x: unknown): MimeBundle | Promise<MimeBundle> {
  if (hasMimeBundle(x)) return toMimeBundle(x);
  const bundle: MimeBundle = { "text/plain": plainText(x) };
  if (isPlainJson(x)) bundle["application/json"] = x;
  return bundle;
}

function show(bundle: MimeBundle | Promise<MimeBundle>): DisplayHandle {
  const id = newDisplayId();
  emit(bundle, id, false);
  return handle(id);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export interface DisplayFunction {
  /** Show `x` as a cell output: bundle-producing objects richly, strings as text, plain objects as JSON. */
  (x: unknown): DisplayHandle;
  text(s: string): DisplayHandle;
  markdown(s: string): DisplayHandle;
  html(s: string): DisplayHandle;
  svg(s: string): DisplayHandle;
  /** PNG file bytes (e.g. from fast-png's encode). */
  png(bytes: Uint8Array): DisplayHandle;
  json(obj: unknown): DisplayHandle;
  /** Any MIME bundle; give it a text/plain entry so that scripts and plain frontends show something. */
  bundle(b: MimeBundle): DisplayHandle;
}

export const display: DisplayFunction = Object.assign((x: unknown) => show(bundleOf(x)), {
  text: (s: string) => show({ "text/plain": s }),
  markdown: (s: string) => show({ "text/markdown": s, "text/plain": s }),
  html: (s: string) => show({ "text/html": s, "text/plain": "[HTML]" }),
  svg: (s: string) => show({ "image/svg+xml": s, "text/plain": "[SVG image]" }),
  png: (bytes: Uint8Array) => show({ "image/png": base64(bytes), "text/plain": `[PNG image, ${bytes.byteLength} bytes]` }),
  json: (obj: unknown) => show({ "application/json": obj, "text/plain": plainText(obj) }),
  bundle: (b: MimeBundle) => show("text/plain" in b ? b : { ...b, "text/plain": "[" + Object.keys(b).join(", ") + "]" }),
});

/**
 * Clear the outputs of the cell that is running, as Jupyter's `clear_output`: its printed text, displays and
 * charts. With `{ wait: true }` the outputs go when the next output arrives, so a loop that clears and draws a
 * new picture each step replaces it without flicker. Without a kernel (a script) there is nothing to clear.
 */
export function clearOutput({ wait = false }: { wait?: boolean } = {}): void {
  sink()?.clear?.(wait);
}

function commHandlers(): Map<string, CommHandler> {
  const g = globalThis as Glob;
  let m = g[commHandlersSymbol];
  if (!m) {
    m = new Map();
    g[commHandlersSymbol] = m;
  }
  return m;
}

/**
 * Handle messages that the editor sends to comm `target` (e.g. World Viewer key actions). A handler's return
 * value, if not undefined, is sent back on the same target. Returns a function that removes the handler.
 */
export function onComm(target: string, handler: CommHandler): () => void {
  const m = commHandlers();
  m.set(target, handler);
  return () => {
    if (m.get(target) === handler) m.delete(target);
  };
}

/** Send `data` to the editor side of comm `target`. Without a kernel (a script) this does nothing. */
export function sendComm(target: string, data: unknown): void {
  sink()?.comm(target, data);
}
