/**
 * Wall time of each chapter notebook through the real kernel process (dist/kernel/main.js --ipc):
 *   cold — fork a fresh kernel, wait for "ready", run every cell (what "Run All" costs right after opening);
 *   warm — a kernel that is already started and has loaded `nextframe` (one warm-up cell), then run every cell.
 * Prints one JSON line per chapter and case. No peer: "peer" is null.
 */
import path from "node:path";
import { startKernel } from "../notebooks/kernel";
import { listNotebooks, runNotebook } from "../notebooks/run";

export async function main(): Promise<void> {
  const filter = process.env.NEXTFRAME_BENCH_FILTER;
  for (const file of listNotebooks(filter)) {
    const chapter = path.basename(file, ".ipynb");
    // cold: fork + ready + run
    const t0 = performance.now();
    const cold = await runNotebook(file);
    const coldS = (performance.now() - t0) / 1000;
    // warm: kernel started and library loaded before the clock starts
    const kernel = await startKernel({ cwd: path.dirname(file) });
    try {
      const warmup = await kernel.execute('import * as nf from "nextframe";\nconst warm = Object.keys(nf).length;', 1);
      if (!warmup.ok) throw new Error(`notebooks bench: warm-up cell failed: ${JSON.stringify(warmup.outputs).slice(0, 300)}`);
      const warm = await runNotebook(file, { kernel });
      const errors = [...cold.errors, ...warm.errors];
      console.log(JSON.stringify({ bench: "notebooks", case: `${chapter} cold`, ours_s: +coldS.toFixed(2), kernel_start_s: +(cold.kernelStartMs / 1000).toFixed(2), peer: null, ...(errors.length ? { errors: errors.length } : {}) }));
      console.log(JSON.stringify({ bench: "notebooks", case: `${chapter} warm`, ours_s: +warm.seconds.toFixed(2), peer: null }));
    } finally {
      await kernel.shutdown();
    }
  }
}
