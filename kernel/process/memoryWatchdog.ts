/**
 * A resident-memory watchdog for the kernel process: a worker thread polls the process's RSS, so it keeps
 * watching while the main thread is stuck in synchronous code (filling a `new Float32Array(4e9)`), where no
 * timer of the main thread runs.
 *
 * When the RSS passes the limit while a cell runs, and the cell itself grew it (by `growthMb` over the RSS when
 * it started, so that a kernel already holding much memory can still run `big = null`), the worker records
 * which cell it stops and what it measured in shared memory and sends SIGINT to the process: vm's breakOnSigint
 * stops synchronous code, the executor's interrupt stops awaiting code, and the executor, reading the shared
 * record synchronously in its catch block, reports MemoryLimit instead of Interrupted. A SIGINT is repeated
 * every second while the cell still runs above the limit. A builtin such as TypedArray.prototype.fill cannot be
 * stopped midway; if the RSS then passes the hard limit (between the limit and the machine's size), the worker
 * writes why to stderr and kills the process, before the system's OOM killer picks a process at random.
 *
 * Limits: NEXTFRAME_RSS_LIMIT_MB (the VS Code setting nextframe.kernel.rssLimitMb sets it), default 80 % of
 * the machine's memory (or of a container's limit, if lower); 0 turns the watchdog off.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";

export interface MemoryStop { limitMb: number; rssMb: number }

export interface MemoryWatchdog {
  readonly limitMb: number;
  readonly hardLimitMb: number;
  /** A cell starts (`execId` > 0, measured from the RSS now) or no cell runs (0). */
  setRunning(execId: number): void;
  /** If the watchdog stopped cell `execId`, what it measured; clears the record. */
  takeStop(execId: number): MemoryStop | null;
  close(): Promise<void>;
}

export interface MemoryWatchdogOptions {
  limitMb: number;
  /** Default: the limit plus three quarters of what the machine has above it. */
  hardLimitMb?: number;
  /** Growth during the cell that a stop needs (default 256 MB). */
  growthMb?: number;
  pollMs?: number;
  log?(text: string): void;
}

/**
 * The memory this process may use in MB: the machine's, or less where a container (cgroup) limits it, since there
 * the container's OOM killer acts at its own limit.
 */
export function availableMemoryMb(): number {
  const total = os.totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return (constrained && constrained > 0 && constrained < total ? constrained : total) / 1048576;
}

/** The RSS limit from NEXTFRAME_RSS_LIMIT_MB: a number of MB, 0 = off, unset = 80 % of the available memory. */
export function rssLimitFromEnv(env: NodeJS.ProcessEnv = process.env, totalMb = availableMemoryMb()): number {
  const raw = env.NEXTFRAME_RSS_LIMIT_MB;
  if (raw === undefined || raw.trim() === "") return Math.round(totalMb * 0.8);
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`NEXTFRAME_RSS_LIMIT_MB must be a number of MB (0 turns the memory watchdog off), got ${JSON.stringify(raw)}`);
  }
  return Math.round(v);
}

/** Slots of the shared Int32Array. */
const RUNNING = 0, BASELINE_MB = 1, STOPPED = 2, STOP_RSS_MB = 3, SLOTS = 4;

// Plain JavaScript: the worker runs from a string (eval), which works from the bundle and from source alike.
const workerSource = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { flags, limitMb, hardLimitMb, growthMb, pollMs } = workerData;
const gb = (mb) => (mb / 1024).toFixed(1) + " GB";
let lastSignal = 0;
setInterval(() => {
  const rssMb = process.memoryUsage.rss() / 1048576;
  if (rssMb > hardLimitMb) {
    fs.writeSync(2, "nextframe kernel: resident memory " + gb(rssMb) + " passed the hard limit of " + gb(hardLimitMb) +
      " (the cell did not stop at " + gb(limitMb) + "); the kernel was killed to protect the machine\\n");
    process.kill(process.pid, "SIGKILL");
  }
  const running = Atomics.load(flags, ${RUNNING});
  if (running === 0 || rssMb <= limitMb || rssMb < Atomics.load(flags, ${BASELINE_MB}) + growthMb) return;
  const now = Date.now();
  if (Atomics.load(flags, ${STOPPED}) === running && now - lastSignal < 1000) return;
  Atomics.store(flags, ${STOP_RSS_MB}, Math.round(rssMb));
  Atomics.store(flags, ${STOPPED}, running);
  lastSignal = now;
  process.kill(process.pid, "SIGINT");
}, pollMs);
`;

/** Starts the watchdog, or returns null when the limit is 0 (off). */
export function startMemoryWatchdog(o: MemoryWatchdogOptions): MemoryWatchdog | null {
  if (!(o.limitMb > 0)) return null;
  const totalMb = availableMemoryMb();
  const limitMb = o.limitMb;
  const hardLimitMb = o.hardLimitMb ?? Math.round(limitMb + 0.75 * Math.max(0, totalMb - limitMb));
  const flags = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { flags, limitMb, hardLimitMb, growthMb: o.growthMb ?? 256, pollMs: o.pollMs ?? 50 },
    // a small worker: it only reads a number and compares
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  worker.on("error", (e) => o.log?.(`memory watchdog failed: ${e.stack ?? e}`));
  o.log?.(`memory watchdog: a cell is stopped above ${limitMb} MB resident, the kernel killed above ${hardLimitMb} MB`);
  return {
    limitMb,
    hardLimitMb,
    setRunning(execId) {
      if (execId !== 0) Atomics.store(flags, BASELINE_MB, Math.round(process.memoryUsage.rss() / 1048576));
      Atomics.store(flags, RUNNING, execId);
    },
    takeStop(execId) {
      if (Atomics.compareExchange(flags, STOPPED, execId, 0) !== execId || execId === 0) return null;
      return { limitMb, rssMb: Atomics.load(flags, STOP_RSS_MB) };
    },
    close: () => worker.terminate().then(() => undefined),
  };
}

/** The MemoryLimit error's message. */
export function memoryLimitMessage(s: MemoryStop): string {
  const gb = (mb: number) => `${(mb / 1024).toFixed(mb < 10240 ? 2 : 1)} GB`;
  return `the cell used more than ${gb(s.limitMb)} of memory (resident ${gb(s.rssMb)}); it was stopped to protect the ` +
    "machine. Free large arrays (set variables to null) or raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB";
}
