import { test } from "node:test";
import assert from "node:assert/strict";
import { describeExit, mallocEnv } from "./kernelClient";

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
