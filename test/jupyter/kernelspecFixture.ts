// Shared by the Jupyter tests (test/jupyter/, test/notebooks/jupyter.test.ts): why Jupyter tests must skip here, and
// the "nextframe" kernelspec installed into a throw-away prefix that Jupyter finds through JUPYTER_PATH.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const KERNEL_MAIN = path.join(ROOT, "dist", "kernel", "main.js");

/** The reason to skip (kernel not built, a Python module or `jupyter nbconvert` missing), or false. */
export function jupyterMissing(pythonModules: readonly string[]): string | false {
  if (!fs.existsSync(KERNEL_MAIN) || !fs.existsSync(path.join(ROOT, "dist", "nextframe", "index.js"))) {
    return "dist/kernel/main.js or dist/nextframe is not built (npm run build:kernel)";
  }
  const py = spawnSync("/usr/bin/python3", ["-c", `import ${pythonModules.join(", ")}`], { encoding: "utf8" });
  if (py.status !== 0) return `Debian's Jupyter packages are not installed (python3 cannot import ${pythonModules.join(", ")}; .ci/run installs them)`;
  if (spawnSync("jupyter", ["nbconvert", "--version"], { encoding: "utf8" }).status !== 0) return "`jupyter nbconvert` is not on PATH";
  return false;
}

/** Installs the kernelspec under a fresh temp prefix; returns the folder, the spec's path and Jupyter's env. */
export function installTempKernelspec(prefix: string, extraEnv: NodeJS.ProcessEnv = {}): { tmp: string; specFile: string; env: NodeJS.ProcessEnv } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // The installer sees the same environment: memory limits set there are pinned in kernel.json.
  const env = { ...process.env, ...extraEnv, JUPYTER_PATH: path.join(tmp, "share", "jupyter"), JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime") };
  const r = spawnSync(process.execPath, [KERNEL_MAIN, "--install-kernelspec", "--prefix", tmp], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  return { tmp, specFile: path.join(tmp, "share", "jupyter", "kernels", "nextframe", "kernel.json"), env };
}
