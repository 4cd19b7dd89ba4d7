/**
 * The glibc allocator settings every nextframe (Node) process runs with: the kernel (the extension's KernelClient and the
 * Jupyter kernelspec), the trainer (npm run train), the benchmarks and the test runner. With them malloc keeps big
 * freed blocks instead of returning them to the system: a tensor-sized allocation is fresh memory otherwise, and
 * mapping fresh memory costs about 3 ms per MB on a 2-core machine. Only a process's environment at start-up
 * counts, so the values live in allocatorEnv.json, which the plain-JavaScript test runner (test/run.mjs) reads too.
 */
import allocatorEnv from "./allocatorEnv.json";

export const mallocEnv: Readonly<{ MALLOC_MMAP_THRESHOLD_: string; MALLOC_TRIM_THRESHOLD_: string }> = allocatorEnv;

/**
 * A PyTorch process on the CPU (the torch trainer's workers and the benchmarks' PyTorch peers), tuned as a PyTorch
 * user would: OpenMP threads sleep instead of spinning between kernels (GOMP_SPINCOUNT=0; spinning threads on a busy
 * machine made a world-model step 8× slower, 3.9 s against 0.45 s), and glibc keeps freed buffers of up to 32 MB
 * (PyTorch's own allocation pattern; the onnxruntime settings above do not suit it).
 */
export const torchCpuEnv: Readonly<{ GOMP_SPINCOUNT: string; MALLOC_MMAP_THRESHOLD_: string; MALLOC_TRIM_THRESHOLD_: string }> = {
  GOMP_SPINCOUNT: "0", MALLOC_MMAP_THRESHOLD_: "33554432", MALLOC_TRIM_THRESHOLD_: "4294967296",
};

/**
 * Re-runs this Node process with the allocator settings when it started without them (the entry points people
 * start by hand: `npm run train`, `npm run bench`); returns only in a process that has them.
 */
export function reexecWithAllocatorEnv(): void {
  if (process.env.MALLOC_MMAP_THRESHOLD_) return;
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit", env: { ...process.env, ...mallocEnv },
  });
  process.exit(r.status ?? 1);
}
