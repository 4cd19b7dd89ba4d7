import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describeExit } from "../shared/kernelClient";
import { memoryLimitMessage } from "./memoryWatchdog";

const root = path.resolve(__dirname, "..", "..");

test("memory that a builtin fills past the hard limit (no SIGINT can stop it) kills the process with the reason on stderr", () => {
  // TypedArray.prototype.fill is one builtin call: breakOnSigint stops it only when it returns. The watchdog's
  // SIGINT is ignored here, so only the hard limit can act.
  const script = `
    const { startMemoryWatchdog } = require(${JSON.stringify(path.join(__dirname, "memoryWatchdog.ts"))});
    process.on("SIGINT", () => {});
    const w = startMemoryWatchdog({ limitMb: 300, hardLimitMb: 600, growthMb: 0 });
    w.setRunning(1);
    setTimeout(() => {
      const a = new Float32Array(4e8).fill(1); // 1.6 GB
      console.log("survived", a.length);
      process.exit(0);
    }, 200);`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.signal, "SIGKILL", `exit ${r.status} ${r.signal}; stdout ${r.stdout}; stderr ${r.stderr}`);
  assert.doesNotMatch(r.stdout, /survived/);
  assert.match(r.stderr, /^nextframe kernel: resident memory \d+\.\d GB passed the hard limit of 0\.6 GB \(the cell did not stop at 0\.3 GB\); the kernel was killed to protect the machine$/m);
  assert.match(describeExit(null, "SIGKILL", r.stderr), /^signal SIGKILL: resident memory .* the kernel was killed to protect the machine; free large arrays or raise nextframe\.kernel\.rssLimitMb/);
});

test("the MemoryLimit message says the limit, the resident size, and what to do", () => {
  assert.equal(memoryLimitMessage({ limitMb: 600, rssMb: 1300 }),
    "the cell used more than 0.59 GB of memory (resident 1.27 GB); it was stopped to protect the machine. Free large arrays " +
    "(set variables to null) or raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB");
  assert.match(memoryLimitMessage({ limitMb: 19660, rssMb: 20000 }), /^the cell used more than 19\.2 GB of memory \(resident 19\.5 GB\)/);
});
