/**
 * Installs the Jupyter kernelspec "nextframe" for the current user (what `jupyter kernelspec install --user`
 * would do, without needing Python): <data dir>/kernels/nextframe/kernel.json.
 *
 *   npm run kernelspec:install                 → $JUPYTER_DATA_DIR or ~/.local/share/jupyter
 *   node dist/kernel/main.js --install-kernelspec --prefix /usr/local   → /usr/local/share/jupyter
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mallocEnv } from "../../extension/kernelClient";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal" | "message";
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

/** The kernel.json for a kernel whose entry point is `mainJs`, run by `node`. */
export function kernelSpec(mainJs: string, node = process.execPath): KernelSpec {
  return {
    argv: [node, mainJs, "--jupyter", "{connection_file}"],
    display_name: "TypeScript (nextframe)",
    language: "typescript",
    // SIGINT stops synchronous code (vm breakOnSigint); see kernel/process/executor.ts.
    interrupt_mode: "signal",
    env: { ...mallocEnv },
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
