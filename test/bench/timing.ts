/** Shared by the benchmarks: JSON-line output, median timing, and PyTorch peers that alternate with our runs. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";

/** The interpreter with python3-torch (Debian) and the tuned environment of DESIGN §3 for every PyTorch peer. */
export const PY = "/usr/bin/python3";
export const TUNED_ENV = { GOMP_SPINCOUNT: "0", MALLOC_MMAP_THRESHOLD_: "33554432", MALLOC_TRIM_THRESHOLD_: "4294967296", OMP_NUM_THREADS: "2" };

export const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

/** Median wall seconds of `repeats` calls after `warmup` untimed ones. */
export async function timeIt(fn: () => Promise<unknown>, repeats: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

/**
 * A PyTorch peer as a long-lived process (`python3 <script> serve ...`): it prints {"op":"ready"} once set up,
 * then answers each command line on stdin with one JSON line ({"error": ...} for a failed command). Long-lived,
 * so a bench can alternate the peer's timed runs with its own (interleave) and both see the same load.
 */
export class TorchPeer {
  private lines: AsyncIterator<string>;
  private stderr = "";
  private constructor(private proc: ChildProcessWithoutNullStreams) {
    proc.stderr.on("data", (d) => { this.stderr = (this.stderr + String(d)).slice(-4000); });
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }

  /** Starts `PY script ...args` in the tuned environment, or says why it cannot run (no torch, a crash at start). */
  static async start(script: string, args: string[]): Promise<TorchPeer | string> {
    const check = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" });
    if (check.status !== 0) return `${PY} cannot import torch (${(check.stderr || check.error?.message || "").trim().split("\n").pop()})`;
    const proc = spawn(PY, [script, ...args], { env: { ...process.env, ...TUNED_ENV }, stdio: ["pipe", "pipe", "pipe"] });
    const peer = new TorchPeer(proc);
    try {
      await peer.read();                                 // {"op":"ready"}
      return peer;
    } catch (e) {
      proc.kill();
      return `peer failed to start: ${(e as Error).message}`;
    }
  }

  private async read(): Promise<any> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`peer exited: ${this.stderr.trim().split("\n").pop() ?? "(no stderr)"}`);
    const o = JSON.parse(r.value);
    if (o.error) throw new Error(`peer: ${o.error}`);
    return o;
  }

  async ask(cmd: string): Promise<any> {
    this.proc.stdin.write(cmd + "\n");
    return this.read();
  }

  close(): void {
    this.proc.stdin.end();
  }
}

/** Alternates `rounds` × (ours, then peer); returns the medians over all rounds and the peer's error if it broke. */
export async function interleave(rounds: number, ours: () => Promise<number[]>, peer: (() => Promise<number[]>) | null): Promise<{ ours: number; peer: number | null; error?: string }> {
  const o: number[] = [], p: number[] = [];
  let error: string | undefined;
  for (let r = 0; r < rounds; r++) {
    o.push(...(await ours()));
    if (peer && !error) {
      try { p.push(...(await peer())); } catch (e) { error = (e as Error).message; }
    }
  }
  return { ours: median(o), peer: p.length && !error ? median(p) : null, error };
}
