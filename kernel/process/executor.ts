/**
 * The kernel's executor: TypeScript cells → tslab's converter → one vm script per cell, with outputs.
 *
 * Modeled on tslab's executor (yunabe/tslab src/executor.ts, Apache-2.0): cells' declarations live on an
 * `exports` proxy that later cells read, `prevDecl` carries the declarations' types to the next cell, local
 * .ts/.js files imported by a cell come back from the converter as side outputs and are required from memory.
 * Unlike tslab's, it runs each cell under its own filename with source maps (stackTrace.ts), shows the last
 * value as a MIME bundle, streams stdout/stderr as outputs, and reports errors that surface later (timers,
 * unhandled rejections) on the cell that is running, or else on the last cell.
 *
 * Interrupt: SIGINT stops synchronous code (vm's breakOnSigint turns it into an exception and keeps the
 * heap); for a cell waiting on a promise, interrupt() rejects the race the cell is awaiting.
 */
import Module from "node:module";
import path from "node:path";
import { inspect as utilInspect, types as utilTypes } from "node:util";
import vm from "node:vm";
import type { CellOutput, CompletionEntry, MimeBundle } from "./protocol";
import { CellFiles, formatError, type FormattedError } from "./stackTrace";
import { tslabModule } from "./tslabCompat";
import { blankTopLevelExports, loadConverter, takeLastMaps } from "./tsHooks";
import {
  commHandlersSymbol, isDisplayHandle, kernelSinkSymbol, toMimeBundle, type CommHandler, type KernelSink,
} from "../nextframe/display/display";

export interface ExecutorOptions {
  /** The folder cells run in: relative imports and node_modules resolve from here (tslab uses process.cwd()). */
  rootDir: string;
  /** Receives every output, tagged with the execution it belongs to. */
  emit(execId: number, output: CellOutput): void;
  /** Receives comm messages that cells send to the editor. */
  comm(target: string, data: unknown): void;
  /** Kernel log (not shown in cells). */
  log(text: string): void;
  /**
   * How long stream text may wait to be batched (default 0: every write is sent at once). Batching by timer
   * cannot stream: a timer never fires while a cell's synchronous code runs, so text printed just before a
   * long computation would wait for its end. The extension coalesces instead.
   */
  streamFlushMs?: number;
}

export interface ExecuteResult { ok: boolean; durationMs: number }

export interface Executor {
  /** Run one cell. Outputs go to `emit(execId, …)` while it runs; resolves when it finished. */
  execute(code: string, execId: number, label?: string): Promise<ExecuteResult>;
  complete(code: string, offset: number): { start: number; end: number; entries: CompletionEntry[] };
  inspect(code: string, offset: number): { text: string; start: number; length: number } | null;
  isComplete(code: string): { completed: boolean; indent?: string };
  /** Stop a cell that awaits a promise (sync code is stopped by SIGINT); with `execId`, only that cell. */
  interrupt(execId?: number): void;
  /** Deliver a comm message from the editor to the handler a cell registered with onComm. */
  deliverComm(target: string, data: unknown): Promise<void>;
  /** Flush batched stream text now. */
  flush(): void;
  /** The execution that receives outputs that arrive while no cell runs. */
  readonly lastExecId: number | null;
}

const interruptedMessage = "Script execution was interrupted by `SIGINT`";

class InterruptedError extends Error {
  constructor() {
    super("the cell was interrupted; the kernel's state is kept");
    this.name = "Interrupted";
  }
}

/** Files whose frames never help the person reading a traceback. */
function internalFileTest(): (file: string) => boolean {
  const own = [path.dirname(__filename), path.dirname(require.resolve("tslab/package.json"))];
  return (file) =>
    file.startsWith("node:") || file === "vm" || file === "evalmachine.<anonymous>" ||
    own.some((d) => file.startsWith(d + path.sep) || file === d);
}

export function createExecutor(opts: ExecutorOptions): Executor {
  const { createConverter, isCompleteCode } = loadConverter();
  const converter = createConverter({ isJS: false, isBrowser: false });
  const cells = new CellFiles();
  const isInternal = internalFileTest();
  const flushMs = opts.streamFlushMs ?? 0;

  // ##### state shared by cells (tslab's design) ##############################################################
  const store: Record<string, unknown> = {};
  const exportsProxy = new Proxy(store, {
    // TypeScript turns named imports into defineProperty getters; store values so that they can be rewritten.
    defineProperty: (_t, prop, attrs) => {
      if (prop === "__esModule") return true;
      store[prop as string] = attrs.get ? attrs.get() : attrs.value;
      return true;
    },
  });
  const sideOutputs = new Map<string, string>();
  const sideModules = new Map<string, NodeJS.Module>();
  const cellRequire = wrapRequire(Module.createRequire(path.join(opts.rootDir, "src.js")), opts.rootDir);
  vm.runInThisContext("(x) => { globalThis.__nextframe_cell__ = x; }")({ exports: exportsProxy, require: cellRequire });
  let prevDecl = "";

  function wrapRequire(req: NodeJS.Require, dirname: string): NodeJS.Require {
    const fromSide = (id: string): unknown => {
      let filename = path.resolve(dirname, id);
      if (path.extname(filename) === "") filename += ".js";
      const cached = sideModules.get(filename);
      if (cached) return cached.exports;
      const src = sideOutputs.get(filename);
      if (src === undefined) return null;
      const mod = new Module(filename) as NodeJS.Module & { _compile(src: string, f: string): void; paths: string[] };
      mod.filename = filename;
      mod.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(path.dirname(filename));
      mod.require = wrapRequire(mod.require.bind(mod) as NodeJS.Require, path.dirname(filename));
      mod._compile(src, filename);
      sideModules.set(filename, mod);
      return mod.exports;
    };
    return new Proxy(req, {
      apply: (_t, thisArg, args: unknown[]) => {
        if (args.length === 1 && args[0] === "tslab") return tslabModule();
        if (args.length === 1 && typeof args[0] === "string" && (args[0].startsWith("./") || args[0].startsWith("../"))) {
          const m = fromSide(args[0]);
          if (m) return m;
        }
        return Reflect.apply(req, thisArg, args);
      },
    });
  }

  // ##### output routing #####################################################################################
  let current: number | null = null;
  let last: number | null = null;
  const target = () => current ?? last;

  let pending: { name: "stdout" | "stderr"; text: string } | null = null;
  let lastFlush = 0;
  let flushTimer: NodeJS.Timeout | null = null;
  function flush(): void {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (!pending) return;
    const p = pending;
    pending = null;
    lastFlush = Date.now();
    const id = target();
    if (id === null) opts.log(`[${p.name}] ${p.text.replace(/\n$/, "")}`);
    else opts.emit(id, { kind: "stream", name: p.name, text: p.text });
  }
  function write(name: "stdout" | "stderr", text: string): void {
    if (pending && pending.name !== name) flush();
    if (pending) pending.text += text;
    else pending = { name, text };
    // Flushed synchronously when enough time has passed, so output streams even while synchronous code
    // keeps the event loop busy; otherwise a timer batches many small writes into one message.
    if (flushMs === 0 || Date.now() - lastFlush >= flushMs) flush();
    else if (!flushTimer) flushTimer = setTimeout(flush, flushMs);
  }
  function output(o: CellOutput, execId = target()): void {
    flush();
    if (execId === null) opts.log(`[${o.kind}] ${JSON.stringify(o).slice(0, 500)}`);
    else opts.emit(execId, o);
  }
  function errorOutput(e: FormattedError, prefix = ""): CellOutput {
    const traceback = prefix ? [prefix + (e.traceback[0] ?? ""), ...e.traceback.slice(1)] : e.traceback;
    return { kind: "error", ename: prefix ? prefix + e.ename : e.ename, evalue: e.evalue, traceback };
  }

  const utf8 = new TextDecoder();
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    stream.write = ((chunk: string | Uint8Array, encOrCb?: unknown, cb?: unknown) => {
      write(name, typeof chunk === "string" ? chunk : utf8.decode(chunk));
      const done = typeof encOrCb === "function" ? encOrCb : cb;
      if (typeof done === "function") process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }

  const sink: KernelSink = {
    display: (bundle: MimeBundle, displayId: string, update: boolean) =>
      output({ kind: "display", bundle, displayId, update }),
    comm: (t: string, data: unknown) => {
      flush();
      opts.comm(t, data);
    },
  };
  const g = globalThis as Record<symbol, unknown>;
  g[kernelSinkSymbol] = sink;
  if (!g[commHandlersSymbol]) g[commHandlersSymbol] = new Map<string, CommHandler>();

  let currentFile: string | null = null;
  const report = (err: unknown, prefix: string) =>
    output(errorOutput(formatError(err, cells, currentFile, isInternal), prefix));
  process.on("unhandledRejection", (reason) => report(reason, "Unhandled promise rejection: "));
  process.on("uncaughtException", (err) => report(err, "Uncaught exception: "));

  // ##### interrupt ##########################################################################################
  let rejectInterrupt: (e: Error) => void = () => {};
  let interruptPromise: Promise<never>;
  function resetInterrupt(): void {
    interruptPromise = new Promise<never>((_, reject) => { rejectInterrupt = reject; });
    interruptPromise.catch(() => {});
  }
  resetInterrupt();
  /** Set by an interrupt that arrives while a cell is being compiled, before its code runs. */
  let interruptRequested = false;
  /** Interrupts for cells whose request has not been dequeued yet (the message overtook the SIGINT). */
  const earlyInterrupts = new Set<number>();
  // The client sends SIGINT and then an interrupt message naming the cell. Either may be handled first; when
  // the message came first and already ended an awaiting cell, the SIGINT can be handled only after the next
  // cell started, and must not interrupt that one. So each message waits for its signal (unless the signal
  // was seen already, by the handler or as vm's breakOnSigint exception), and a signal that comes while its
  // message's cell is no longer the current one is dropped.
  let signalSeenFor: number | null = null;
  let awaitingSignalOf: number | null = null;
  function interrupt(execId?: number): void {
    if (execId === undefined) {
      const stale = awaitingSignalOf !== null && awaitingSignalOf !== current;
      awaitingSignalOf = null;
      if (stale) return;
      signalSeenFor = current;
    } else if (signalSeenFor === execId) {
      signalSeenFor = null;
    } else {
      awaitingSignalOf = execId;
    }
    if (execId !== undefined && execId !== current) {
      if (last === null || execId > last) earlyInterrupts.add(execId);
      return;
    }
    if (current !== null) interruptRequested = true;
    rejectInterrupt(new InterruptedError());
    resetInterrupt();
  }
  const interruptedOutput = (): CellOutput => ({
    kind: "error", ename: "Interrupted", evalue: new InterruptedError().message,
    traceback: ["Interrupted: " + new InterruptedError().message],
  });

  // ##### execute ############################################################################################
  let queue: Promise<unknown> = Promise.resolve();

  async function run(code: string, execId: number, label: string): Promise<boolean> {
    const conv = converter.convert(prevDecl, blankTopLevelExports(code));
    const maps = takeLastMaps();
    for (const s of conv.sideOutputs ?? []) {
      sideModules.delete(s.path);
      sideOutputs.set(s.path, s.data);
    }
    if (conv.diagnostics.length > 0) {
      // Printed like tsc: `file line:col - message`; the file of the running cell is "cell".
      const lines = conv.diagnostics.map((d) =>
        `${d.fileName ?? "cell"} ${d.start.line + 1}:${d.start.character + 1} - ${d.messageText}`);
      output({ kind: "error", ename: "TypeScript", evalue: lines.join("\n"), traceback: lines });
      return false;
    }
    if (!conv.output) {
      prevDecl = conv.declOutput ?? "";
      return true;
    }
    // A SIGINT that arrived while the converter ran is still queued in the event loop (breakOnSigint only
    // sees signals that arrive while the script runs): let its handler run, and honour it.
    await new Promise((r) => setImmediate(r));
    if (interruptRequested) {
      output(interruptedOutput());
      return false;
    }
    const prefix = conv.hasToplevelAwait ? "(async function (exports, require) { " : "(function (exports, require) { ";
    const filename = `nextframe-cell-${execId}.js`;
    const wrapped = prefix + conv.output + "\n})(__nextframe_cell__.exports, __nextframe_cell__.require)";
    cells.add(filename, { label, maps, firstLinePrefix: prefix.length, wrapperLine: wrapped.split("\n").length });
    currentFile = filename;
    try {
      const ret = vm.runInThisContext(wrapped, { filename, breakOnSigint: true, displayErrors: false });
      if (conv.hasToplevelAwait) await Promise.race([ret as Promise<unknown>, interruptPromise]);
    } catch (e) {
      if (e instanceof Error && e.message === interruptedMessage) signalSeenFor = execId;
      if (e instanceof InterruptedError || (e instanceof Error && e.message === interruptedMessage)) {
        output(interruptedOutput());
      } else {
        report(e, "");
      }
      // What ran before the error exists (functions, earlier statements), so later cells may use it — as in
      // a Python notebook. (tslab keeps the previous declarations instead.)
      prevDecl = conv.declOutput ?? prevDecl;
      return false;
    }
    prevDecl = conv.declOutput ?? "";
    if (conv.lastExpressionVar) {
      let value = store[conv.lastExpressionVar];
      delete store[conv.lastExpressionVar];
      try {
        // A cell ending in a Promise (showTable(...), an async helper) shows what it resolves to, as in Deno's
        // notebook kernel; otherwise `showTable(rows)` as the last line would show "Promise { <pending> }"
        // under the table it already displayed.
        if (utilTypes.isPromise(value)) value = await Promise.race([value, interruptPromise]);
      } catch (e) {
        if (e instanceof InterruptedError) output(interruptedOutput());
        else report(e, "");
        return false;
      }
      // display(...) as the last line already showed its output; its handle (or a live chart that displayed
      // itself, which carries the same marker) is not a result.
      if (value !== undefined && !isDisplayHandle(value)) {
        try {
          // A string value shows quoted, as in the Node REPL, so that "1" and 1 differ.
          const bundle = typeof value === "string"
            ? { "text/plain": utilInspect(value) }
            : await Promise.race([toMimeBundle(value), interruptPromise]);
          output({ kind: "result", bundle });
        } catch (e) {
          report(e, "");
          return false;
        }
      }
    }
    return true;
  }

  function execute(code: string, execId: number, label = `cell[${execId}]`): Promise<ExecuteResult> {
    // Cells run one after another even if a protocol sends the next request early.
    const p = queue.then(async () => {
      flush();
      current = execId;
      last = execId;
      interruptRequested = earlyInterrupts.delete(execId);
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await run(code, execId, label);
      } catch (e) {
        report(e, "internal: ");
      } finally {
        flush();
        current = null;
      }
      return { ok, durationMs: performance.now() - t0 };
    });
    queue = p.catch(() => {});
    return p;
  }

  function complete(code: string, offset: number) {
    const info = converter.complete(prevDecl, code, offset);
    const kinds = new Map<string, string>();
    for (const e of info.original?.entries ?? []) kinds.set(e.name, e.kind);
    return {
      start: info.start,
      end: info.end,
      entries: info.candidates.map((name) => ({ name, kind: kinds.get(name) ?? "" })),
    };
  }

  function inspect(code: string, offset: number) {
    const info = converter.inspect(prevDecl, code, offset);
    if (!info) return null;
    const { printQuickInfo } = require(path.join(path.dirname(require.resolve("tslab/package.json")), "dist", "inspect.js")) as
      { printQuickInfo(i: unknown): string };
    return { text: printQuickInfo(info), start: info.textSpan.start, length: info.textSpan.length };
  }

  async function deliverComm(t: string, data: unknown): Promise<void> {
    const handler = (g[commHandlersSymbol] as Map<string, CommHandler>).get(t);
    if (!handler) {
      opts.log(`comm message for "${t}" but no cell registered onComm("${t}", …)`);
      return;
    }
    try {
      const reply = await handler(data);
      if (reply !== undefined) sink.comm(t, reply);
    } catch (e) {
      report(e, `comm "${t}": `);
    }
  }

  return {
    execute,
    complete,
    inspect,
    isComplete: (code) => isCompleteCode(code),
    interrupt,
    deliverComm,
    flush,
    get lastExecId() { return last; },
  };
}
