/**
 * How the tests beside this file reach PyTorch: /usr/bin/python3 (Debian's python3-torch; $NEXTFRAME_PYTHON
 * overrides it) with this folder on PYTHONPATH so `import nextframe_torch` works. Without torch the tests skip and say
 * why, except in CI (CI=true), where a missing torch is a failure: CI installs python3-torch.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const PY = process.env.NEXTFRAME_PYTHON ?? "/usr/bin/python3";
/** The folder that holds the nextframe_torch package. */
export const TORCH_ROOT = __dirname;

let missing: string | null | undefined;
/** Why PY cannot import torch, or null when it can (asked once per process). */
export function torchMissing(): string | null {
  if (missing === undefined) {
    const r = spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" });
    missing = r.status === 0 ? null : `${PY} cannot import torch (${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`;
  }
  return missing;
}

/** node:test's `skip` option: the reason outside CI when torch is missing; false in CI so the test runs and fails. */
export function skipWithoutTorch(): string | false {
  const why = torchMissing();
  return why && process.env.CI !== "true" ? `${why}; install python3-torch (CI installs it)` : false;
}

/** Throws when torch is missing (first line of every torch test: in CI the test fails here with the reason). */
export function requireTorch(): void {
  const why = torchMissing();
  if (why) throw new Error(`${why}; CI must install python3-torch (apt-get install python3-torch)`);
}

/** Environment for the Python side: the package importable, 2 threads, nothing else changed. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const pp = process.env.PYTHONPATH ? `${TORCH_ROOT}:${process.env.PYTHONPATH}` : TORCH_ROOT;
  return { ...process.env, PYTHONPATH: pp, OMP_NUM_THREADS: "2", ...extra };
}

/** Runs `PY -m <module> ...args`; throws with its stderr when it fails. Returns stdout. */
export function runPython(module: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): string {
  const r = spawnSync(PY, ["-m", module, ...args], { encoding: "utf8", env: pythonEnv(opts.env), cwd: join(TORCH_ROOT, "..", ".."), timeout: opts.timeoutMs ?? 300_000 });
  if (r.status !== 0) throw new Error(`${PY} -m ${module} ${args.join(" ")} failed (status ${r.status}${r.signal ? `, ${r.signal}` : ""}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Relative L2 error |a - b| / |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths differ (${a.length} vs ${b.length})`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
