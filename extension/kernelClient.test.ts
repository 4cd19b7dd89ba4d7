import { test } from "node:test";
import assert from "node:assert/strict";
import { describeExit, kernelEnv, mallocEnv } from "./kernelClient";

test("exit reasons name the code or signal, and out-of-memory with the setting to change", () => {
  assert.equal(describeExit(3, null, ""), "code 3");
  assert.equal(describeExit(null, "SIGKILL", ""), "signal SIGKILL");
  assert.equal(
    describeExit(134, null, "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", 512),
    "code 134, out of memory — the limit is 512 MB, setting nextframe.kernel.memoryLimitMb",
  );
});

test("the kernel gets DESIGN.md §4's malloc environment", () => {
  assert.deepEqual(mallocEnv, { MALLOC_MMAP_THRESHOLD_: "4294967296", MALLOC_TRIM_THRESHOLD_: "68719476736" });
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
});
