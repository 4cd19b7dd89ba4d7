/**
 * Kernel benchmark (`npm run bench -- kernel`): the built kernel (dist/kernel/main.js) driven through the
 * extension's KernelClient, as VS Code drives it.
 *   cold start to first result   spawn → ready → `1 + 1` shown (goal: a few seconds)
 *   warm trivial cell round trip  execute `1 + 1` → result → done, median of 30 (goal ≤ 30 ms)
 *   completion latency            `Math.` completions after a declaration, median of 20
 *   interrupt                     `while (true) {}` interrupted → cell ended (goal ≤ 2 s)
 *   RSS after 100 cells           kernel RSS after cells 1-10 and after cells 1-100 that declare nothing
 *                                 (goal: no growth)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelClient } from "../../kernel/shared/kernelClient";
import type { CellOutput } from "../../kernel/shared/protocol";

const root = path.resolve(__dirname, "..", "..");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function run(k: KernelClient, code: string): Promise<{ ms: number; outputs: CellOutput[]; ok: boolean }> {
  const outputs: CellOutput[] = [];
  const t0 = performance.now();
  const r = await k.execute(code, (o) => outputs.push(o)).done;
  return { ms: performance.now() - t0, outputs, ok: r.ok };
}

export async function main(): Promise<void> {
  const kernelMain = path.join(root, "dist", "kernel", "main.js");
  if (!fs.existsSync(kernelMain)) {
    console.log(JSON.stringify({ bench: "kernel", skipped: "dist/kernel/main.js is not built (npm run build:kernel)" }));
    return;
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "nextframe-kernel-bench-"));
  // --expose-gc only so the RSS case can separate retained memory from garbage not yet collected.
  const k = new KernelClient({ kernelMain, cwd, interruptGraceMs: 10_000, execArgv: ["--expose-gc"] });
  try {
    const t0 = performance.now();
    const ready = await k.start();
    const first = await run(k, "1 + 1");
    const coldMs = performance.now() - t0;
    console.log(JSON.stringify({ bench: "kernel", case: "cold start to first result", ours_s: coldMs / 1000, ready_s: ready.startMs / 1000, goal_s: 5 }));
    if (!first.ok) throw new Error(`first cell failed: ${JSON.stringify(first.outputs)}`);

    const warm: number[] = [];
    for (let i = 0; i < 30; i++) warm.push((await run(k, "1 + 1")).ms);
    console.log(JSON.stringify({ bench: "kernel", case: "warm trivial cell round trip (median of 30)", ours_s: median(warm) / 1000, p90_s: [...warm].sort((a, b) => a - b)[26] / 1000, goal_s: 0.03 }));

    await run(k, "const learningRate = 3e-4;");
    const comp: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const c = await k.complete("learningRate.toF", 16);
      comp.push(performance.now() - t);
      if (!c?.entries.some((e) => e.name === "toFixed")) throw new Error("completion did not offer toFixed");
    }
    console.log(JSON.stringify({ bench: "kernel", case: "completion latency (median of 20)", ours_s: median(comp) / 1000 }));

    const ints: number[] = [];
    for (let i = 0; i < 3; i++) {
      const cell = run(k, "let spin = 0;\nwhile (true) { spin++; }");
      await new Promise((r) => setTimeout(r, 1500));
      const t = performance.now();
      k.interrupt();
      const r = await cell;
      ints.push(performance.now() - t);
      if (!r.outputs.some((o) => o.kind === "error" && o.ename === "Interrupted")) throw new Error(`not interrupted: ${JSON.stringify(r.outputs)}`);
    }
    console.log(JSON.stringify({ bench: "kernel", case: "interrupt while(true) (max of 3)", ours_s: Math.max(...ints) / 1000, goal_s: 2 }));

    const pid = k.pid!;
    // Cells that declare nothing: growth here is the kernel's, not the person's variables.
    const cell = (i: number) => `Array.from({ length: 100000 }, (_, j) => j * ${i}).length`;
    // V8 heap still in use after a full GC: what the kernel really retains (RSS also holds freed-but-kept pages).
    const heapAfterGcMb = async (): Promise<number> => {
      const r = await run(k, "(globalThis as any).gc(); process.memoryUsage().heapUsed");
      const out = r.outputs.find((o) => o.kind === "result") as { bundle: Record<string, unknown> } | undefined;
      return Number(out?.bundle["text/plain"]) / 2 ** 20;
    };
    for (let i = 0; i < 10; i++) await run(k, cell(i));
    const rss10 = rssMb(pid);
    const heap10 = await heapAfterGcMb();
    for (let i = 10; i < 100; i++) await run(k, cell(i));
    const rss100 = rssMb(pid);
    const heap100 = await heapAfterGcMb();
    console.log(JSON.stringify({ bench: "kernel", case: "RSS after 100 cells", ours_mb: Math.round(rss100), after_10_mb: Math.round(rss10), growth_mb_per_cell: +((rss100 - rss10) / 90).toFixed(3), heap_after_gc_mb: +heap100.toFixed(1), heap_after_gc_10_mb: +heap10.toFixed(1), heap_growth_mb_per_cell: +((heap100 - heap10) / 91).toFixed(3) }));
  } finally {
    await k.stop();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
