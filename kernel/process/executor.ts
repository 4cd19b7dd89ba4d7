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
 * heap); for a cell waiting on a promise, interrupt() rejects the race the cell is awaiting, and the cell's async
 * scope (cellScope.ts) is marked interrupted, so that its timers never fire, its own awaits never resume
 * (awaitGate.ts), the library's native awaits stop (the library asks), and whatever it still prints is dropped
 * instead of showing up on a later cell. Code that never yields to the event loop (a loop of `await null`) sees
 * no interrupt; the client restarts the kernel after its grace period.
 *
 * Output limits: a cell's stream text is capped (NEXTFRAME_MAX_CELL_OUTPUT_MB, default 10 MB); what is over
 * is dropped and counted, and one note at the end of the cell says how much. Memory: with a watchdog
 * (memoryWatchdog.ts), a cell that grows the process past its RSS limit is stopped with a MemoryLimit error.
 */
import Module from "node:module";
import path from "node:path";
import { inspect as utilInspect, types as utilTypes } from "node:util";
import vm from "node:vm";
import { awaitGate } from "./awaitGate";
import { currentScope, installCellScopes, kernelTimers, runInScope, type CellScope } from "./cellScope";
import { memoryLimitMessage, type MemoryWatchdog } from "./memoryWatchdog";
import type { CellOutput, CompletionEntry, MimeBundle } from "../shared/protocol";
import { CellFiles, formatError, type FormattedError } from "./stackTrace";
import { tslabModule } from "./tslabCompat";
import { blankTopLevelExports, loadConverter, takeLastMaps } from "./tsHooks";
import {
  commHandlersSymbol, isDisplayHandle, kernelSinkSymbol, toMimeBundle, type CommHandler, type KernelSink,
} from "../shared/libraryContract";

export interface ExecutorOptions {
  /** The folder cells run in: relative imports and node_modules resolve from here (tslab uses process.cwd()). */
  rootDir: string;
  /**
   * Receives every output, tagged with the execution it belongs to. Returning false says the transport is
   * backed up (Node's process.send does when its queue is long): stream text is then gathered into larger
   * messages until `written` is called for the last output sent, which says the transport caught up.
   */
  emit(execId: number, output: CellOutput, written?: () => void): boolean | void;
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
  /** Stream text per cell beyond which it is dropped (with a note); default NEXTFRAME_MAX_CELL_OUTPUT_MB or 10 MB. */
  maxCellOutputBytes?: number;
  /** Stops cells that grow the process's resident memory past a limit (memoryWatchdog.ts). */
  memory?: MemoryWatchdog | null;
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
  /**
   * The process is about to exit: flush, then drop every later output and never finish the running cell (its
   * end is the kernel's exit, which the client reports).
   */
  halt(): void;
  /** The execution that receives outputs that arrive while no cell runs. */
  readonly lastExecId: number | null;
}

const interruptedMessage = "Script execution was interrupted by `SIGINT`";

/** The default per-cell stream limit, NEXTFRAME_MAX_CELL_OUTPUT_MB MB (0 = none), else 10 MB. */
export function outputLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NEXTFRAME_MAX_CELL_OUTPUT_MB;
  if (raw === undefined || raw.trim() === "") return 10 * 1048576;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`NEXTFRAME_MAX_CELL_OUTPUT_MB must be a number of MB per cell (0 = no limit), got ${JSON.stringify(raw)}`);
  }
  return Math.round(v * 1048576);
}

/** How many "\n" `s` holds. */
function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

const fmtSize = (bytes: number) => (bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`);

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
  const maxCellBytes = opts.maxCellOutputBytes ?? outputLimitFromEnv();
  const memory = opts.memory ?? null;
  installCellScopes();

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
  vm.runInThisContext("(x) => { globalThis.__nextframe_cell__ = x; }")({ exports: exportsProxy, require: cellRequire, gate: awaitGate });
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

  /** Set by halt(): the process exits once what was sent is written; nothing more goes out. */
  let halted = false;
  /** The transport said it is backed up, and the last output sent has not been written yet. */
  let congested = false;
  let sendSeq = 0;
  function send(execId: number, o: CellOutput): void {
    const seq = ++sendSeq;
    const r = opts.emit(execId, o, () => {
      if (seq !== sendSeq) return;
      congested = false;
      if (pending && !flushScheduled()) flushImmediate = kernelTimers.setImmediate(flush);
    });
    congested = r === false;
  }

  let pending: { name: "stdout" | "stderr"; text: string } | null = null;
  let lastFlush = 0;
  /** A flush is scheduled by time (batching by streamFlushMs) or for the next turn (the transport is backed up). */
  let flushTimeout: NodeJS.Timeout | null = null;
  let flushImmediate: NodeJS.Immediate | null = null;
  const flushScheduled = () => flushTimeout !== null || flushImmediate !== null;
  function flush(): void {
    if (flushTimeout) kernelTimers.clearTimeout(flushTimeout);
    if (flushImmediate) kernelTimers.clearImmediate(flushImmediate);
    flushTimeout = flushImmediate = null;
    if (!pending || halted) return;
    const p = pending;
    pending = null;
    lastFlush = Date.now();
    const id = target();
    if (id === null) opts.log(`[${p.name}] ${p.text.replace(/\n$/, "")}`);
    else send(id, { kind: "stream", name: p.name, text: p.text });
  }
  /** Whether output from the code running now must be dropped: its cell was interrupted (or the kernel exits). */
  function dropped(what: string): boolean {
    if (halted) return true;
    const scope = currentScope();
    if (!scope?.interrupted) return false;
    if (scope.dropped++ === 0) opts.log(`cell ${scope.execId} was interrupted; its later outputs are dropped (first: ${what})`);
    return true;
  }

  // The per-cell stream budget: what is over it is counted, and noteTruncation() says so once.
  let budgetId: number | null = null;
  let budgetUsed = 0;
  let droppedBytes = 0;
  let droppedLines = 0;
  let droppedOpenLine = false;
  let noteTimer: NodeJS.Timeout | null = null;
  function withinBudget(text: string): string {
    const id = target();
    if (id !== budgetId) {
      noteTruncation();
      budgetId = id;
      budgetUsed = 0;
    }
    if (maxCellBytes <= 0) return text;
    const bytes = Buffer.byteLength(text);
    if (budgetUsed + bytes <= maxCellBytes) {
      budgetUsed += bytes;
      return text;
    }
    // Keep whole lines up to the limit (the start of one long line if that is all there is), drop the rest.
    let keep = text.slice(0, Math.max(0, maxCellBytes - budgetUsed));
    const nl = keep.lastIndexOf("\n");
    if (nl >= 0) keep = keep.slice(0, nl + 1);
    else if (text.includes("\n")) keep = "";
    budgetUsed = maxCellBytes;
    const drop = text.slice(keep.length);
    droppedBytes += Buffer.byteLength(drop);
    droppedLines += countLines(drop);
    droppedOpenLine = !drop.endsWith("\n");
    if (current === null && !noteTimer) noteTimer = kernelTimers.setTimeout(noteTruncation, 1000);
    return keep;
  }
  /** One stderr note on the cell whose stream text was cut: how much was dropped and which limit applies. */
  function noteTruncation(): void {
    if (noteTimer) {
      kernelTimers.clearTimeout(noteTimer);
      noteTimer = null;
    }
    if (droppedBytes === 0 || budgetId === null) return;
    const lines = droppedLines + (droppedOpenLine ? 1 : 0);
    const text = `… output truncated: ${fmtSize(droppedBytes)} (${lines} line${lines === 1 ? "" : "s"}) more were dropped; ` +
      `the limit is ${+(maxCellBytes / 1048576).toPrecision(3)} MB per cell (NEXTFRAME_MAX_CELL_OUTPUT_MB)\n`;
    droppedBytes = 0;
    droppedLines = 0;
    droppedOpenLine = false;
    flush();
    if (!halted) send(budgetId, { kind: "stream", name: "stderr", text });
  }

  function write(name: "stdout" | "stderr", text: string): void {
    if (dropped(`${name} text`)) return;
    text = withinBudget(text);
    if (text === "") return;
    if (pending && pending.name !== name) flush();
    if (pending) pending.text += text;
    else pending = { name, text };
    // Flushed synchronously when the transport keeps up and enough time has passed, so output streams even
    // while synchronous code keeps the event loop busy. When the transport is backed up, its queue is written
    // only when the event loop runs again, so text gathered until then loses nothing in latency and travels
    // in fewer, larger messages (bounded in size).
    if (pending.text.length >= 256 * 1024) flush();
    else if (!congested && (flushMs === 0 || Date.now() - lastFlush >= flushMs)) flush();
    else if (!flushScheduled()) {
      if (congested) flushImmediate = kernelTimers.setImmediate(flush);
      else flushTimeout = kernelTimers.setTimeout(flush, flushMs);
    }
  }
  function output(o: CellOutput, execId = target()): void {
    flush();
    if (halted) return;
    if (execId === null) opts.log(`[${o.kind}] ${JSON.stringify(o).slice(0, 500)}`);
    else send(execId, o);
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

  /** Displays the running cell started whose bundles are still being computed; the cell ends after them. */
  const pendingDisplays = new Set<Promise<void>>();
  const sink: KernelSink = {
    display: (bundle: MimeBundle, displayId: string, update: boolean) => {
      if (!dropped("display")) output({ kind: "display", bundle, displayId, update });
    },
    clear: (wait: boolean) => {
      if (!dropped("clearOutput")) output({ kind: "clear", wait });
    },
    pending: (p: Promise<void>) => {
      if (current !== null) pendingDisplays.add(p);
    },
    comm: (t: string, data: unknown) => {
      if (dropped(`comm "${t}"`)) return;
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
  // An interrupted cell's own code may still fail afterwards (the library's InterruptedError out of a loop that
  // nobody awaits any more): that is the interrupt, already reported, not news for the cell running now. Node
  // calls these handlers in the async scope of the code that failed, so the scope says whose failure it is.
  const fromInterrupted = () => currentScope()?.interrupted === true;
  process.on("unhandledRejection", (reason) => {
    if (!fromInterrupted()) report(reason, "Unhandled promise rejection: ");
    else if (!halted) opts.log(`dropped a rejection from an interrupted cell: ${String(reason).slice(0, 200)}`);
  });
  process.on("uncaughtException", (err) => {
    if (!fromInterrupted()) report(err, "Uncaught exception: ");
    else if (!halted) opts.log(`dropped an exception from an interrupted cell: ${String(err).slice(0, 200)}`);
  });

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
  /** The async scope of the running cell (cellScope.ts). */
  let scope: CellScope | null = null;
  function markInterrupted(s: CellScope | null): void {
    if (s) s.interrupted = true;
  }
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
    markInterrupted(scope);
    rejectInterrupt(new InterruptedError());
    resetInterrupt();
  }
  /** Interrupted, or MemoryLimit when the memory watchdog's SIGINT stopped cell `execId`. */
  const interruptedOutput = (execId: number): CellOutput => {
    const stop = memory?.takeStop(execId);
    if (stop) {
      const evalue = memoryLimitMessage(stop);
      return { kind: "error", ename: "MemoryLimit", evalue, traceback: ["MemoryLimit: " + evalue] };
    }
    const evalue = new InterruptedError().message;
    return { kind: "error", ename: "Interrupted", evalue, traceback: ["Interrupted: " + evalue] };
  };

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
    await new Promise((r) => kernelTimers.setImmediate(r));
    if (interruptRequested) {
      output(interruptedOutput(execId));
      return false;
    }
    const prefix = conv.hasToplevelAwait ? "(async function (exports, require) { " : "(function (exports, require) { ";
    const filename = `nextframe-cell-${execId}.js`;
    const wrapped = prefix + conv.output + "\n})(__nextframe_cell__.exports, __nextframe_cell__.require)";
    cells.add(filename, { label, maps, firstLinePrefix: prefix.length, wrapperLine: wrapped.split("\n").length });
    currentFile = filename;
    const cellScope = scope!;
    try {
      const ret = runInScope(cellScope, () => vm.runInThisContext(wrapped, { filename, breakOnSigint: true, displayErrors: false }));
      if (conv.hasToplevelAwait) await Promise.race([ret as Promise<unknown>, interruptPromise]);
    } catch (e) {
      if (halted) return false;
      if (e instanceof Error && e.message === interruptedMessage) signalSeenFor = execId;
      if (e instanceof InterruptedError || (e instanceof Error && e.message === interruptedMessage)) {
        // the timers that the stopped code scheduled must not run either
        markInterrupted(cellScope);
        output(interruptedOutput(execId));
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
        if (halted) return false;
        if (e instanceof InterruptedError) output(interruptedOutput(execId));
        else report(e, "");
        return false;
      }
      // display(...) as the last line already showed its output; its handle (or a live chart that displayed
      // itself, which carries the same marker) is not a result.
      if (value !== undefined && !isDisplayHandle(value)) {
        try {
          // A string value shows quoted, as in the Node REPL, so that "1" and 1 differ.
          const v = value;
          const bundle = typeof v === "string"
            ? { "text/plain": utilInspect(v) }
            : await Promise.race([runInScope(cellScope, () => toMimeBundle(v)), interruptPromise]);
          output({ kind: "result", bundle });
        } catch (e) {
          if (halted) return false;
          if (e instanceof InterruptedError) output(interruptedOutput(execId));
          else report(e, "");
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
      scope = { execId, interrupted: false, dropped: 0 };
      withinBudget(""); // a new cell: a new stream budget (and the note for the last one's late output)
      interruptRequested = earlyInterrupts.delete(execId);
      memory?.setRunning(execId);
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await run(code, execId, label);
        if (pendingDisplays.size > 0 && !halted) {
          // Outputs still being computed belong to this cell; an interrupt ends the wait (they then arrive late).
          await Promise.race([Promise.all([...pendingDisplays]), interruptPromise.catch(() => {})]);
        }
      } catch (e) {
        report(e, "internal: ");
      } finally {
        pendingDisplays.clear();
        memory?.setRunning(0);
        memory?.takeStop(execId); // a stop that came after the cell ended anyway
        flush();
        noteTruncation();
        current = null;
        scope = null;
      }
      // The process exits (process.exit in the cell): the client reports that on the cell instead.
      if (halted) await new Promise<never>(() => {});
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
    halt() {
      noteTruncation();
      flush();
      halted = true;
    },
    get lastExecId() { return last; },
  };
}
