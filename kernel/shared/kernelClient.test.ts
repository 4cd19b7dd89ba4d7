import { test } from "node:test";
import assert from "node:assert/strict";
import { mallocEnv } from "./environment";
import { describeExit, kernelEnv } from "./kernelClient";

test("exit reasons name the code or signal in words, and out-of-memory with the setting to change", () => {
  assert.equal(describeExit(3, null, ""), "code 3");
  assert.match(describeExit(null, "SIGKILL", ""), /^signal SIGKILL: killed; .* the system's out-of-memory killer: the machine ran out of memory \(the kernel's memory limit, nextframe\.kernel\.rssLimitMb \/ NEXTFRAME_RSS_LIMIT_MB, stops/);
  assert.equal(describeExit(null, "SIGSEGV", ""), "signal SIGSEGV: a crash in native code (a segmentation fault)");
  assert.equal(describeExit(null, "SIGUSR2", ""), "signal SIGUSR2");
  const oom = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory";
  assert.equal(describeExit(134, null, oom, 512),
    "code 134: out of memory — the JavaScript heap reached its limit of 512 MB; raise the setting nextframe.kernel.memoryLimitMb " +
    "(--max-old-space-size) or keep less in JavaScript arrays and objects");
  assert.match(describeExit(null, "SIGABRT", oom), /^signal SIGABRT: out of memory — the JavaScript heap reached Node's default limit;/);
  const watchdog = "nextframe kernel: resident memory 15.2 GB passed the hard limit of 15.0 GB (the cell did not stop at 12.0 GB); the kernel was killed to protect the machine\n";
  assert.equal(describeExit(null, "SIGKILL", watchdog),
    "signal SIGKILL: resident memory 15.2 GB passed the hard limit of 15.0 GB (the cell did not stop at 12.0 GB); the kernel was killed " +
    "to protect the machine; free large arrays or raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB");
});

test("the kernel runs with the allocator settings even when the editor's environment sets others", () => {
  const env = kernelEnv({}, { MALLOC_MMAP_THRESHOLD_: "131072", MALLOC_TRIM_THRESHOLD_: "0" });
  assert.ok(Number(mallocEnv.MALLOC_MMAP_THRESHOLD_) >= 2 ** 30, "big tensors stay in the heap, not in fresh mmaps");
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, mallocEnv.MALLOC_MMAP_THRESHOLD_);
  assert.equal(env.MALLOC_TRIM_THRESHOLD_, mallocEnv.MALLOC_TRIM_THRESHOLD_);
});

test("the kernel's environment carries the threads and device settings, the malloc settings, and the caller's extras", () => {
  const env = kernelEnv({ threads: 4, device: "webgpu", env: { EXTRA: "1" } }, { PATH: "/bin", NEXTFRAME_DEVICE: "cpu" });
  assert.equal(env.NEXTFRAME_THREADS, "4");
  assert.equal(env.NEXTFRAME_DEVICE, "webgpu");            // the setting wins over the editor's environment
  assert.equal(env.EXTRA, "1");
  assert.equal(env.PATH, "/bin");
  assert.equal(env.ELECTRON_RUN_AS_NODE, "1");
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, mallocEnv.MALLOC_MMAP_THRESHOLD_);
  const plain = kernelEnv({}, { PATH: "/bin" });
  assert.equal(plain.NEXTFRAME_THREADS, undefined);
  assert.equal(plain.NEXTFRAME_DEVICE, undefined);
  assert.equal(plain.NEXTFRAME_RSS_LIMIT_MB, undefined, "unset: the kernel's own default");
  assert.equal(kernelEnv({ rssLimitMb: 6000 }, {}).NEXTFRAME_RSS_LIMIT_MB, "6000");
  assert.equal(kernelEnv({ rssLimitMb: 0 }, {}).NEXTFRAME_RSS_LIMIT_MB, "0", "0 turns the watchdog off");
});
