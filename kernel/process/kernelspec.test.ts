// The Jupyter kernelspec: memory settings and the interrupt mode the front needs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mallocEnv } from "../shared/environment";
import { DEFAULT_MEMORY_LIMIT_MB, kernelSpec, memoryLimitFromEnv } from "./kernelspec";

test("NEXTFRAME_MEMORY_LIMIT_MB sets the heap limit (default VS Code's 8192); a bad value is named", () => {
  assert.equal(memoryLimitFromEnv({}), DEFAULT_MEMORY_LIMIT_MB);
  assert.equal(DEFAULT_MEMORY_LIMIT_MB, 8192);
  assert.equal(memoryLimitFromEnv({ NEXTFRAME_MEMORY_LIMIT_MB: " " }), 8192);
  assert.equal(memoryLimitFromEnv({ NEXTFRAME_MEMORY_LIMIT_MB: "16384" }), 16384);
  assert.equal(memoryLimitFromEnv({ NEXTFRAME_MEMORY_LIMIT_MB: "0" }), 0);
  assert.throws(() => memoryLimitFromEnv({ NEXTFRAME_MEMORY_LIMIT_MB: "8G" }), /NEXTFRAME_MEMORY_LIMIT_MB must be the kernel's heap limit in MB .* got "8G"/);
});

test("kernel.json: message interrupts, the allocator settings, and the limits pinned only when the installer sets them", () => {
  const plain = kernelSpec("/x/main.js", "/usr/bin/node", {});
  assert.deepEqual(plain.argv, ["/usr/bin/node", "/x/main.js", "--jupyter", "{connection_file}"]);
  assert.equal(plain.interrupt_mode, "message");
  assert.deepEqual(plain.env, { ...mallocEnv });
  const pinned = kernelSpec("/x/main.js", "/usr/bin/node", { NEXTFRAME_MEMORY_LIMIT_MB: "4096", NEXTFRAME_RSS_LIMIT_MB: "12000" });
  assert.deepEqual(pinned.env, { ...mallocEnv, NEXTFRAME_MEMORY_LIMIT_MB: "4096", NEXTFRAME_RSS_LIMIT_MB: "12000" });
  assert.throws(() => kernelSpec("/x/main.js", "/usr/bin/node", { NEXTFRAME_MEMORY_LIMIT_MB: "lots" }), /got "lots"/);
});
