/** Shared by the benchmarks: JSON-line output, median timing, and PyTorch peers that alternate with our runs. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { torchCpuEnv } from "../../kernel/shared/environment";
import { PY, torchMissing } from "../../kernel/torch/torchEnv";
import type { Module } from "../../kernel/nextframe/nn/index";

/** Every PyTorch peer runs tuned for the CPU (kernel/shared/environment.ts), on 2 threads like our engine. */
export const TUNED_ENV = { ...torchCpuEnv, OMP_NUM_THREADS: "2" };

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
    const missing = torchMissing();
    if (missing) return missing;
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

/** A turn for interleave: k timed runs of f, seconds each. */
export const runs = (f: () => Promise<unknown>) => async (k: number): Promise<number[]> => {
  const ts: number[] = [];
  for (let i = 0; i < k; i++) ts.push(await timeIt(f, 1, 0));
  return ts;
};

/**
 * Alternates `rounds` × (ours, then peer), each turn `n` timed runs after one untimed run: the first run after the
 * other side's turn finds caches and allocator in the other's state, which costs the faster side proportionally
 * more. Returns the medians over all rounds and the peer's error if it broke. `ours(k, warm)` / `peer(k, warm)` do
 * k runs and return their seconds (warm: the untimed run, whose seconds are dropped).
 */
type Turn = (k: number, warm: boolean) => Promise<number[]>;
export async function interleave(rounds: number, n: number, ours: Turn, peer: Turn | null): Promise<{ ours: number; peer: number | null; error?: string }> {
  const o: number[] = [], p: number[] = [];
  let error: string | undefined;
  for (let r = 0; r < rounds; r++) {
    await ours(1, true);
    o.push(...(await ours(n, false)));
    if (peer && !error) {
      try { await peer(1, true); p.push(...(await peer(n, false))); } catch (e) { error = (e as Error).message; }
    }
  }
  return { ours: median(o), peer: p.length && !error ? median(p) : null, error };
}

/**
 * A copy of `source` (built by `make`, e.g. `() => new WorldModel(source.config)`) in eval mode, with every trainable
 * weight nudged by 0.02·sin(1.3·i + k), for parity checks against a PyTorch twin: fresh adaLN-Zero weights output
 * zeros, which would make any two residual models agree.
 */
export function nudgedCopy<M extends Module>(source: M, make: () => M): M {
  const model = make();
  model.loadStateDict(source.stateDict());
  model.eval();
  model.namedParameters().forEach(([, p], k) => {
    if (!p.requiresGrad) return;
    const v = p._value as Float32Array;
    for (let i = 0; i < v.length; i++) v[i] += 0.02 * Math.sin(1.3 * i + k);
  });
  return model;
}
