/**
 * The extension's handle on one kernel child process (kernel/process/main.ts --ipc).
 *
 * Plain Node (no `vscode` import) so that the kernel tests drive the real kernel through exactly this code.
 * It queues executions (one cell at a time), restarts the kernel when it exits under a running cell (the cell
 * gets "the kernel exited (…) and was restarted" and the next cell runs on the new kernel), and escalates an
 * interrupt that did not stop the cell to a restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { CellOutput, CompletionEntry, FromKernel, ToKernel } from "./protocol";
import { isFromKernel } from "./protocol";
import { mallocEnv } from "./environment";

export type KernelState = "starting" | "idle" | "busy" | "restarting" | "stopped";

export interface KernelClientOptions {
  /** dist/kernel/main.js (or kernel/process/main.ts with execArgv ["--import", "tsx"]). */
  kernelMain: string;
  /** The notebook's folder: cells' relative imports and node_modules resolve from here. */
  cwd: string;
  /** Node to run: in VS Code process.execPath is Electron, which ELECTRON_RUN_AS_NODE=1 turns into node. */
  execPath?: string;
  execArgv?: string[];
  /** V8 heap limit (--max-old-space-size); 0 or undefined keeps Node's default. */
  memoryLimitMb?: number;
  /** Passed to the library as NEXTFRAME_THREADS (onnxruntime intra-op threads). */
  threads?: number;
  /** Passed to the library as NEXTFRAME_DEVICE: the execution provider cells start on ("cpu", "webgpu", "cuda"). */
  device?: string;
  /**
   * Resident-memory limit in MB, passed as NEXTFRAME_RSS_LIMIT_MB: a cell that grows the kernel past it is
   * stopped with a MemoryLimit error (kernel/process/memoryWatchdog.ts). 0 turns it off; undefined keeps the
   * kernel's default (80 % of the machine's memory).
   */
  rssLimitMb?: number;
  env?: NodeJS.ProcessEnv;
  /** How long an interrupted cell may keep running before the kernel is restarted. */
  interruptGraceMs?: number;
  log?(line: string): void;
}

export interface ExecutionOutcome {
  ok: boolean;
  durationMs: number;
  /** Set when the kernel exited under this cell and was restarted. */
  kernelExited?: string;
}

interface Running {
  execId: number;
  onOutput(o: CellOutput): void;
  resolve(r: ExecutionOutcome): void;
  interruptTimer?: NodeJS.Timeout;
}

/** The kernel process's environment: the editor's, the caller's extras, the malloc settings and the library's settings. */
export function kernelEnv(o: Pick<KernelClientOptions, "env" | "threads" | "device" | "rssLimitMb">, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...o.env, ...mallocEnv, ELECTRON_RUN_AS_NODE: "1" };
  if (o.threads && o.threads > 0) env.NEXTFRAME_THREADS = String(o.threads);
  if (o.device) env.NEXTFRAME_DEVICE = o.device;
  if (o.rssLimitMb !== undefined && o.rssLimitMb !== null && o.rssLimitMb >= 0) env.NEXTFRAME_RSS_LIMIT_MB = String(Math.round(o.rssLimitMb));
  return env;
}


/** What the common signals mean, for people who do not know them by name. */
const signalMeaning: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: "killed; without a kill from you this is most often the system's out-of-memory killer: the machine ran " +
    "out of memory (the kernel's memory limit, nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB, stops a cell before that)",
  SIGSEGV: "a crash in native code (a segmentation fault)",
  SIGABRT: "aborted (a fatal error in Node or a native library; the kernel log has its message)",
  SIGBUS: "a crash in native code (bus error)",
  SIGTERM: "terminated by another process",
  SIGINT: "interrupted by a SIGINT it did not handle",
  SIGHUP: "its terminal or parent went away",
};

/** Why the kernel exited, in words for the cell. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null, stderrTail: string, memoryLimitMb?: number): string {
  const what = signal ? `signal ${signal}` : `code ${code}`;
  // The memory watchdog's own last words (kernel/process/memoryWatchdog.ts).
  const watchdog = /nextframe kernel: (resident memory [^\n]*)/.exec(stderrTail);
  if (watchdog) return `${what}: ${watchdog[1]}; free large arrays or raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB`;
  if (/heap out of memory|Allocation failed|Reached heap limit/i.test(stderrTail)) {
    const limit = memoryLimitMb && memoryLimitMb > 0 ? `its limit of ${memoryLimitMb} MB` : "Node's default limit";
    return `${what}: out of memory — the JavaScript heap reached ${limit}; raise the setting nextframe.kernel.memoryLimitMb ` +
      "(--max-old-space-size) or keep less in JavaScript arrays and objects";
  }
  if (signal) return signalMeaning[signal] ? `${what}: ${signalMeaning[signal]}` : what;
  return what;
}

export class KernelClient {
  private child: ChildProcess | null = null;
  private ready: Promise<Extract<FromKernel, { type: "ready" }>> | null = null;
  private nextExecId = 1;
  private nextReqId = 1;
  private running: Running | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly requests = new Map<number, (m: FromKernel) => void>();
  /** Processes this client killed because a cell did not stop after an interrupt, with the grace it had. */
  private readonly interruptKills = new WeakMap<ChildProcess, number>();
  private stderrTail = "";
  private stopping = false;
  /** Whether the current process reported ready (a process that never did is not restarted in a loop). */
  private wasReady = false;
  private _state: KernelState = "stopped";
  private readonly stateListeners: ((s: KernelState) => void)[] = [];
  private readonly commListeners: ((target: string, data: unknown) => void)[] = [];
  private readonly lateListeners: ((execId: number, o: CellOutput) => void)[] = [];
  /** The execId of every cell that ran, so late outputs can be routed. */
  lastExecId: number | null = null;

  constructor(private readonly opts: KernelClientOptions) {}

  get state(): KernelState { return this._state; }
  get pid(): number | undefined { return this.child?.pid; }

  onState(f: (s: KernelState) => void): void { this.stateListeners.push(f); }
  /** Comm messages a cell sends to the editor (onComm/sendComm in the library). */
  onComm(f: (target: string, data: unknown) => void): void { this.commListeners.push(f); }
  /** Outputs for a cell that already finished (timers, unhandled rejections, display updates). */
  onLateOutput(f: (execId: number, o: CellOutput) => void): void { this.lateListeners.push(f); }

  private setState(s: KernelState): void {
    this._state = s;
    for (const f of this.stateListeners) f(s);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /** Start the process if needed; resolves when the kernel reports ready. */
  start(): Promise<Extract<FromKernel, { type: "ready" }>> {
    if (this.ready) return this.ready;
    this.stopping = false;
    this.setState("starting");
    const o = this.opts;
    const args = [...(o.execArgv ?? [])];
    if (o.memoryLimitMb && o.memoryLimitMb > 0) args.push(`--max-old-space-size=${Math.round(o.memoryLimitMb)}`);
    args.push(o.kernelMain, "--ipc");
    const env = kernelEnv(o);
    const child = spawn(o.execPath ?? process.execPath, args, {
      cwd: o.cwd, env, stdio: ["ignore", "pipe", "pipe", "ipc"], serialization: "json",
    });
    this.child = child;
    this.wasReady = false;
    this.stderrTail = "";
    this.log(`starting kernel: ${o.execPath ?? process.execPath} ${args.join(" ")} (cwd ${o.cwd})`);
    child.stdout!.setEncoding("utf8").on("data", (s: string) => this.log(`[kernel stdout] ${s.replace(/\n$/, "")}`));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4000);
      this.log(`[kernel stderr] ${s.replace(/\n$/, "")}`);
    });
    this.ready = new Promise((resolve, reject) => {
      child.on("message", (m: unknown) => {
        if (!isFromKernel(m)) return;
        if (m.type === "ready") {
          this.log(`kernel ready (pid ${m.pid}, ${m.startMs.toFixed(0)} ms, node ${m.node})`);
          this.wasReady = true;
          this.setState(this.running ? "busy" : "idle");
          resolve(m);
          return;
        }
        this.onMessage(m);
      });
      child.on("error", (e) => {
        this.log(`kernel process error: ${e.message}`);
        reject(e);
      });
      child.on("exit", (code, signal) => {
        const graceMs = this.interruptKills.get(child);
        const why = graceMs !== undefined && signal === "SIGKILL"
          ? `signal SIGKILL, sent by the editor: the cell did not stop within ${+(graceMs / 1000).toFixed(1)} s of the interrupt ` +
            "(code that never yields to the event loop, such as a loop of `await null`)"
          : describeExit(code, signal, this.stderrTail, o.memoryLimitMb);
        reject(new Error(`the kernel exited before it was ready (${why}): ${this.stderrTail.slice(-1000)}`));
        this.onExit(child, why);
      });
    });
    this.ready.catch(() => {});
    return this.ready;
  }

  private onMessage(m: FromKernel): void {
    switch (m.type) {
      case "output": {
        const r = this.running;
        if (r && r.execId === m.execId) r.onOutput(m.output);
        else for (const f of this.lateListeners) f(m.execId, m.output);
        return;
      }
      case "done": {
        const r = this.running;
        if (r && r.execId === m.execId) {
          this.finish({ ok: m.ok, durationMs: m.durationMs });
        }
        return;
      }
      case "completion":
      case "hover": {
        const f = this.requests.get(m.reqId);
        this.requests.delete(m.reqId);
        f?.(m);
        return;
      }
      case "comm":
        for (const f of this.commListeners) f(m.target, m.data);
        return;
      case "log":
        this.log(m.text);
        return;
    }
  }

  private finish(outcome: ExecutionOutcome): void {
    const r = this.running;
    if (!r) return;
    if (r.interruptTimer) clearTimeout(r.interruptTimer);
    this.running = null;
    if (this._state === "busy") this.setState("idle");
    r.resolve(outcome);
  }

  private onExit(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = null;
    this.ready = null;
    for (const f of this.requests.values()) f({ type: "log", text: "kernel exited" });
    this.requests.clear();
    const r = this.running;
    if (this.stopping || !this.wasReady) {
      this.log(`kernel stopped (${why})`);
      this.setState("stopped");
      if (r) this.finish({ ok: false, durationMs: 0, kernelExited: why });
      return;
    }
    this.log(`kernel exited (${why}); restarting`);
    if (r) {
      r.onOutput({
        kind: "error", ename: "KernelExited", evalue: `the kernel exited (${why}) and was restarted`,
        traceback: [`the kernel exited (${why}) and was restarted; its state (variables, imports) is gone`],
      });
      this.finish({ ok: false, durationMs: 0, kernelExited: why });
    }
    this.setState("restarting");
    this.start().catch((e) => this.log(`restart failed: ${(e as Error).message}`));
  }

  private send(m: ToKernel): void {
    this.child?.send(m);
  }

  /**
   * Run `code` after every earlier execution finished. Outputs arrive through `onOutput` while it runs.
   * Never rejects: a kernel that exits mid-cell yields `{ ok: false, kernelExited }`.
   */
  execute(code: string, onOutput: (o: CellOutput) => void, label?: string): { execId: number; done: Promise<ExecutionOutcome> } {
    const execId = this.nextExecId++;
    const done = this.chain.then(async () => {
      try {
        await this.start();
      } catch (e) {
        onOutput({ kind: "error", ename: "KernelStartFailed", evalue: (e as Error).message, traceback: [(e as Error).message] });
        this.ready = null;
        return { ok: false, durationMs: 0 };
      }
      return new Promise<ExecutionOutcome>((resolve) => {
        this.running = { execId, onOutput, resolve };
        this.lastExecId = execId;
        this.setState("busy");
        this.send({ type: "execute", execId, code, label });
      });
    });
    this.chain = done.catch(() => {});
    return { execId, done };
  }

  /**
   * Interrupt the running cell: SIGINT stops synchronous code; the message rejects what an async cell awaits.
   * If the cell still runs after interruptGraceMs, the kernel is restarted.
   */
  interrupt(): void {
    const r = this.running;
    if (!r || !this.child) return;
    this.log(`interrupting cell ${r.execId}`);
    this.child.kill("SIGINT");
    this.send({ type: "interrupt", execId: r.execId });
    if (!r.interruptTimer) {
      // A SIGINT that lands between two vm scripts is not seen by breakOnSigint; repeat it while the cell runs.
      const grace = this.opts.interruptGraceMs ?? 3000;
      const t0 = Date.now();
      const tick = () => {
        if (this.running !== r || !this.child) return;
        if (Date.now() - t0 >= grace) {
          this.log(`cell ${r.execId} did not stop after an interrupt; restarting the kernel`);
          this.interruptKills.set(this.child, grace);
          this.child.kill("SIGKILL"); // onExit reports it on the cell and restarts
          return;
        }
        this.child.kill("SIGINT");
        r.interruptTimer = setTimeout(tick, Math.min(1000, grace - (Date.now() - t0)));
      };
      r.interruptTimer = setTimeout(tick, Math.min(1000, grace));
    }
  }

  private request<T extends FromKernel["type"]>(m: ToKernel & { reqId: number }, timeoutMs: number): Promise<Extract<FromKernel, { type: T }> | null> {
    return new Promise((resolve) => {
      if (!this.child || this._state === "starting" || this._state === "restarting") return resolve(null);
      const timer = setTimeout(() => {
        this.requests.delete(m.reqId);
        resolve(null);
      }, timeoutMs);
      this.requests.set(m.reqId, (reply) => {
        clearTimeout(timer);
        resolve(reply.type === "log" ? null : (reply as Extract<FromKernel, { type: T }>));
      });
      this.send(m);
    });
  }

  /** Completions at `offset` of `code`, aware of earlier cells' declarations; null if the kernel is busy/starting. */
  async complete(code: string, offset: number, timeoutMs = 5000): Promise<{ start: number; end: number; entries: CompletionEntry[] } | null> {
    const r = await this.request<"completion">({ type: "complete", reqId: this.nextReqId++, code, offset }, timeoutMs);
    return r && { start: r.start, end: r.end, entries: r.entries };
  }

  async inspect(code: string, offset: number, timeoutMs = 5000): Promise<{ text: string; start: number; length: number } | null> {
    const r = await this.request<"hover">({ type: "inspect", reqId: this.nextReqId++, code, offset }, timeoutMs);
    return r && r.text !== null ? { text: r.text, start: r.start, length: r.length } : null;
  }

  sendComm(target: string, data: unknown): void {
    this.send({ type: "comm", target, data });
  }

  /** Kill the process; the next execution starts a fresh one. Pending cells end with ok=false. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      child.send({ type: "shutdown" } satisfies ToKernel);
    } catch {
      // already gone
    }
    const t = setTimeout(() => child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(t);
  }

  /** Restart: all state is cleared; resolves when the new kernel is ready. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    this.stopping = true;
    this.child?.kill("SIGKILL");
  }
}
