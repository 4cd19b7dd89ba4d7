/**
 * A headless client of the REAL kernel child process — the same dist/kernel/main.js that the VS Code extension
 * forks — speaking kernel/shared/protocol.ts over Node's IPC channel. The notebook runner and the benchmark use
 * it; outputs come back as nbformat 4 outputs.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { CellOutput, FromKernel, ToKernel } from "../../kernel/shared/protocol";
import { mallocEnv } from "../../kernel/shared/environment";
import type { Output } from "./notebook";

export const ROOT = path.resolve(__dirname, "..", "..");
export const KERNEL_MAIN = path.join(ROOT, "dist", "kernel", "main.js");

/** The environment the extension gives the kernel (kernel/shared/environment.ts says why). */
export const KERNEL_ENV = mallocEnv;

export interface CellRun {
  ok: boolean;
  outputs: Output[];
  /** Kernel-measured execution time of the cell. */
  durationMs: number;
}

export interface KernelSession {
  readonly pid: number;
  /** Milliseconds from fork to "ready". */
  readonly startMs: number;
  execute(code: string, executionCount: number, label?: string): Promise<CellRun>;
  shutdown(): Promise<void>;
  /** Kernel log lines (startup, library resolution). */
  readonly logs: string[];
  /** Outputs that arrived while no cell was running (late errors, timers), as nbformat outputs. */
  readonly late: Output[];
}

/** Appends one protocol output to an nbformat output list (streams merge; display updates replace). */
export function appendOutput(outs: Output[], o: CellOutput, executionCount: number, ids: Map<string, Output>): void {
  switch (o.kind) {
    case "stream": {
      const last = outs[outs.length - 1];
      if (last && last.output_type === "stream" && last.name === o.name) last.text = String(last.text) + o.text;
      else outs.push({ output_type: "stream", name: o.name, text: o.text });
      return;
    }
    case "display": {
      const prev = ids.get(o.displayId);
      if (prev) {
        prev.data = o.bundle;
        return;
      }
      if (o.update) return; // an update of an output shown in an earlier cell
      const out: Output = { output_type: "display_data", data: o.bundle, metadata: {} };
      ids.set(o.displayId, out);
      outs.push(out);
      return;
    }
    case "result":
      outs.push({ output_type: "execute_result", data: o.bundle, metadata: {}, execution_count: executionCount });
      return;
    case "error":
      outs.push({ output_type: "error", ename: o.ename, evalue: o.evalue, traceback: o.traceback });
      return;
  }
}

/** Forks dist/kernel/main.js --ipc in `cwd` (the notebook's folder) and waits for "ready". */
export async function startKernel(opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<KernelSession> {
  if (!existsSync(KERNEL_MAIN)) throw new Error(`kernel: ${KERNEL_MAIN} does not exist; run \`npm run build\` first`);
  const t0 = performance.now();
  const child: ChildProcess = fork(KERNEL_MAIN, ["--ipc"], {
    cwd: opts.cwd,
    env: { ...process.env, ...KERNEL_ENV, ...opts.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
    execArgv: [],          // plain node, as VS Code forks it (not the test runner's --import tsx)
  });
  const logs: string[] = [];
  const late: Output[] = [];
  let native = "";
  child.stdout!.on("data", (d) => { native += String(d); });
  child.stderr!.on("data", (d) => { native += String(d); });
  let pending: { execId: number; count: number; outs: Output[]; resolve: (r: CellRun) => void; reject: (e: Error) => void } | null = null;
  const ids = new Map<string, Output>();
  let readyResolve: (() => void) | null = null;
  let exitError: Error | null = null;
  child.on("message", (raw) => {
    const m = raw as FromKernel;
    if (m.type === "ready") readyResolve?.();
    else if (m.type === "log") logs.push(m.text);
    else if (m.type === "output" && pending && m.execId === pending.execId) appendOutput(pending.outs, m.output, pending.count, ids);
    // a late in-place update (a throttled live chart) of an output shown earlier: apply it where it is
    else if (m.type === "output" && m.output.kind === "display" && m.output.update && ids.has(m.output.displayId)) ids.get(m.output.displayId)!.data = m.output.bundle;
    // anything else that arrives between cells (a late error, a timer's print) is kept for the runner to report
    else if (m.type === "output") appendOutput(late, m.output, 0, ids);
    else if (m.type === "done" && pending && m.execId === pending.execId) {
      const p = pending;
      pending = null;
      p.resolve({ ok: m.ok, outputs: p.outs, durationMs: m.durationMs });
    }
  });
  const exited = new Promise<void>((resolve) => child.on("exit", (code, signal) => {
    exitError = new Error(`kernel exited (code ${code}, signal ${signal})${native ? `:\n${native.slice(-2000)}` : ""}`);
    pending?.reject(exitError);
    pending = null;
    resolve();
  }));
  await new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    const timer = setTimeout(() => reject(new Error(`kernel: no "ready" within ${opts.timeoutMs ?? 60000} ms; logs:\n${logs.join("\n")}${native}`)), opts.timeoutMs ?? 60000);
    exited.then(() => reject(exitError));
    child.once("message", () => clearTimeout(timer));
  });
  const startMs = performance.now() - t0;
  let nextId = 1;
  const send = (m: ToKernel) => child.send(m);
  return {
    pid: child.pid!,
    startMs,
    logs,
    late,
    execute(code, count, label) {
      if (exitError) return Promise.reject(exitError);
      if (pending) return Promise.reject(new Error("kernel: a cell is already running"));
      const execId = nextId++;
      return new Promise<CellRun>((resolve, reject) => {
        pending = { execId, count, outs: [], resolve, reject };
        send({ type: "execute", execId, code, label });
      });
    },
    async shutdown() {
      if (exitError) return;
      try { send({ type: "shutdown" }); } catch { /* channel closed */ }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
