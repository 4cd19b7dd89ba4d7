/**
 * Installs the Jupyter kernelspec "nextframe" for the current user (what `jupyter kernelspec install --user`
 * would do, without needing Python): <data dir>/kernels/nextframe/kernel.json.
 *
 *   npm run kernelspec:install                 → $JUPYTER_DATA_DIR or ~/.local/share/jupyter
 *   node dist/kernel/main.js --install-kernelspec --prefix /usr/local   → /usr/local/share/jupyter
 *
 * Memory settings (the same as the VS Code kernel's). The front process (main.js --jupyter) reads them from its
 * environment and hands them to the child that runs the cells:
 *   NEXTFRAME_MEMORY_LIMIT_MB  the child's V8 heap limit in MB (--max-old-space-size; default 8192 like VS Code's
 *                              nextframe.kernel.memoryLimitMb; 0 = Node's default). A cell that fills the heap
 *                              kills the child; the cell shows "out of memory — the limit is N MB" and a fresh
 *                              child starts.
 *   NEXTFRAME_RSS_LIMIT_MB     the kernel's resident-memory watchdog (the child reads it from its environment).
 *   MALLOC_*                   glibc keeps large freed blocks instead of returning them to the OS (mallocEnv;
 *                              always in kernel.json).
 * To change one, set it in the Jupyter server's environment (e.g. `NEXTFRAME_MEMORY_LIMIT_MB=16384 jupyter lab`),
 * or pin it in the installed kernel.json's `env`, which wins over the server's environment. Installing with the
 * variable set (`NEXTFRAME_MEMORY_LIMIT_MB=16384 npm run kernelspec:install`) writes it into kernel.json; without
 * it, kernel.json leaves the limits to the server's environment and the defaults.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mallocEnv } from "../shared/environment";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal" | "message";
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The child's heap limit when NEXTFRAME_MEMORY_LIMIT_MB is not set (VS Code's nextframe.kernel.memoryLimitMb default). */
export const DEFAULT_MEMORY_LIMIT_MB = 8192;

/** NEXTFRAME_MEMORY_LIMIT_MB as a heap limit in MB (0: Node's default); a value that is not one is named. */
export function memoryLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NEXTFRAME_MEMORY_LIMIT_MB;
  if (raw === undefined || raw.trim() === "") return DEFAULT_MEMORY_LIMIT_MB;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new Error(`NEXTFRAME_MEMORY_LIMIT_MB must be the kernel's heap limit in MB (a number ≥ 0; 0 = Node's default), got ${JSON.stringify(raw)}`);
  }
  return mb;
}

/**
 * The kernel.json for a kernel whose entry point is `mainJs`, run by `node`. `env` is the installer's environment:
 * NEXTFRAME_MEMORY_LIMIT_MB and NEXTFRAME_RSS_LIMIT_MB set there are pinned in the spec.
 */
export function kernelSpec(mainJs: string, node = process.execPath, env: NodeJS.ProcessEnv = process.env): KernelSpec {
  const memory: Record<string, string> = {};
  if (env.NEXTFRAME_MEMORY_LIMIT_MB?.trim()) memory.NEXTFRAME_MEMORY_LIMIT_MB = String(memoryLimitFromEnv(env));
  if (env.NEXTFRAME_RSS_LIMIT_MB?.trim()) memory.NEXTFRAME_RSS_LIMIT_MB = env.NEXTFRAME_RSS_LIMIT_MB.trim();
  return {
    argv: [node, mainJs, "--jupyter", "{connection_file}"],
    display_name: "TypeScript (nextframe)",
    language: "typescript",
    // The front (jupyter.ts) always answers on the control channel and interrupts only the child; a signal would
    // reach the child twice, since jupyter_client signals the kernel's whole process group.
    interrupt_mode: "message",
    env: { ...mallocEnv, ...memory },
    metadata: { debugger: false },
  };
}

export function jupyterDataDir(prefix?: string): string {
  if (prefix) return path.join(prefix, "share", "jupyter");
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(xdg, "jupyter");
}

export function installKernelspec(args: string[]): string {
  const i = args.indexOf("--prefix");
  const prefix = i >= 0 ? args[i + 1] : undefined;
  const mainJs = path.resolve(__filename.endsWith(".ts") ? path.join(__dirname, "..", "..", "dist", "kernel", "main.js") : __filename);
  if (!fs.existsSync(mainJs)) throw new Error(`kernelspec: ${mainJs} does not exist; run npm run build:kernel first`);
  const dir = path.join(jupyterDataDir(prefix), "kernels", "nextframe");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(kernelSpec(mainJs), null, 2) + "\n");
  process.stdout.write(`installed Jupyter kernelspec "nextframe" (TypeScript (nextframe)) in ${dir}\n`);
  return dir;
}
