/**
 * display(): rich outputs from notebook cells, and comm messages between cells and the editor.
 *
 * The library never talks to the kernel process directly: it reads the sink and the comm handler table the kernel
 * installs on globalThis (kernel/shared/libraryContract.ts defines both sides' contract). Without a sink (a plain
 * `node` script, a training run) `display` prints the text/plain part to stdout, so the same library works in
 * scripts.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  commHandlersSymbol, displayHandleSymbol, hasMimeBundle, isPlainJson, kernelSinkSymbol, plainText, toMimeBundle,
  type CommHandler, type DisplayHandle, type KernelSink, type MimeBundle,
} from "../../shared/libraryContract";

export {
  displayHandleSymbol, hasMimeBundle, isDisplayHandle, mimeBundleSymbol, plainText, toMimeBundle,
  type CommHandler, type DisplayHandle, type HasMimeBundle, type KernelSink, type MimeBundle,
} from "../../shared/libraryContract";

type Glob = typeof globalThis & {
  [kernelSinkSymbol]?: KernelSink;
  [commHandlersSymbol]?: Map<string, CommHandler>;
};

function sink(): KernelSink | undefined {
  return (globalThis as Glob)[kernelSinkSymbol];
}

let counter = 0;
function newDisplayId(): string {
  counter += 1;
  return `nf-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Displays made inside captureDisplays(): display id → its latest bundle, in the order first shown. */
export type CapturedDisplays = Map<string, MimeBundle | Promise<MimeBundle>>;
const capturing = new AsyncLocalStorage<CapturedDisplays>();

/**
 * Run `f` with its display() calls (and those of the code it awaits: showFrames, showTable, …) collected instead of
 * shown, so that interact() can show what fn displays as its own output. Not part of the public API.
 */
export function captureDisplays<T>(f: () => T): { result: T; shown: CapturedDisplays } {
  const shown: CapturedDisplays = new Map();
  return { result: capturing.run(shown, f), shown };
}

/** Whether display() calls are being collected by captureDisplays() here. Not part of the public API. */
export function capturingDisplays(): boolean {
  return capturing.getStore() !== undefined;
}

let outputsShown = 0;
/**
 * How many new outputs (not in-place updates) this process has shown so far: a caller that extends its own last
 * output (claim()) checks that nothing else was shown after it. Not part of the public API.
 */
export function outputsShownCount(): number {
  return outputsShown;
}

/** Send one bundle (or a promise of one) to the sink, or print its text without a kernel. */
function emit(bundle: MimeBundle | Promise<MimeBundle>, id: string, update: boolean): void {
  if (!update) outputsShown += 1;
  const captured = capturing.getStore();
  if (captured) {
    captured.set(id, bundle);
    return;
  }
  const s = sink();
  const send = (b: MimeBundle) => {
    if (s) s.display(b, id, update);
    else process.stdout.write(String(b["text/plain"] ?? "") + "\n");
  };
  if (bundle instanceof Promise) {
    // A library object's bundle can take time (PNG encoding); errors go where unhandled rejections go:
    // the kernel reports them on the cell.
    const shown = bundle.then(send);
    shown.catch((e) => { throw e; });
    s?.pending?.(shown.catch(() => {}));
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

/**
 * A display id and its handle, for a caller that sends the bundles itself, in order (interact(): an update must not
 * overtake the first bundle, which may be a promise the kernel waits for). Not part of the public API.
 */
export function ownDisplay(): { handle: DisplayHandle; send(bundle: MimeBundle | Promise<MimeBundle>, update: boolean): void } {
  const id = newDisplayId();
  return { handle: handle(id), send: (b, update) => capturing.exit(() => emit(b, id, update)) };
}

function show(bundle: MimeBundle | Promise<MimeBundle>): DisplayHandle {
  const id = newDisplayId();
  emit(bundle, id, false);
  return handle(id);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** The type of display(): show a value, or a string as text, markdown, HTML, SVG, PNG bytes, JSON or a raw MIME bundle. */
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

/** Show `x` as a cell output (rich when it has a MIME bundle, JSON for plain objects, text otherwise); returns a handle whose update() replaces it in place. */
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
