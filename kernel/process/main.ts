/**
 * The kernel process entry: wires converter → executor → protocol.
 *
 *   node dist/kernel/main.js --ipc                          child of the VS Code extension (kernel/shared/protocol.ts)
 *   node dist/kernel/main.js --jupyter <connection_file>    Jupyter kernel: a front owning the sockets, cells in an --ipc child (jupyter.ts)
 *   node dist/kernel/main.js --install-kernelspec [--prefix P]   installs the "nextframe" kernelspec
 *
 * Cells run in process.cwd() (the notebook's folder). `import ... from "nextframe"` resolves to the built
 * library beside this file (dist/nextframe), or to NEXTFRAME_LIB_DIR.
 */
import fs from "node:fs";
import path from "node:path";
import { createExecutor } from "./executor";
import { serveIpc } from "./ipc";
import { rssLimitFromEnv, startMemoryWatchdog } from "./memoryWatchdog";
import type { FromKernel } from "../shared/protocol";
import { provideNextframe, type LibraryLocation } from "./tsHooks";

function libraryLocation(): LibraryLocation {
  const candidates = process.env.NEXTFRAME_LIB_DIR
    ? [process.env.NEXTFRAME_LIB_DIR]
    : [path.resolve(__dirname, "..", "nextframe"), path.resolve(__dirname, "..", "..", "dist", "nextframe")];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, "index.js"))) ?? candidates[0];
  return { main: path.join(dir, "index.js"), types: path.join(dir, "types", "nextframe", "index.d.ts") };
}

async function main(argv: string[]): Promise<void> {
  const t0 = performance.now();
  const mode = argv[0];
  if (mode === "--install-kernelspec") {
    const { installKernelspec } = await import("./kernelspec");
    installKernelspec(argv.slice(1));
    return;
  }
  if (mode !== "--ipc" && mode !== "--jupyter") {
    console.error("usage: main.js --ipc | --jupyter <connection_file> | --install-kernelspec [--prefix DIR]");
    process.exit(2);
  }
  if (mode === "--jupyter") {
    // The front runs no cells (they run in a `--ipc` child of it), so it loads neither the converter nor the library.
    const { serveJupyter } = await import("./jupyter");
    // The server's log; the child is this same file, with the same loader flags but its own heap limit.
    await serveJupyter(argv[1], (text) => fs.writeSync(2, `[nextframe kernel] ${text}\n`), {
      kernelMain: __filename,
      execArgv: process.execArgv.filter((a) => !a.startsWith("--max-old-space-size")),
    });
    return;
  }
  // Stack frames of the library (dist/nextframe/index.js) point at its TypeScript sources.
  process.setSourceMapsEnabled(true);
  const logs: string[] = [];
  let send: ((m: FromKernel, written?: () => void) => boolean) | null = null;
  const log = (text: string) => {
    if (mode === "--ipc" && send) send({ type: "log", text });
    else if (mode === "--ipc") logs.push(text);
    // Jupyter: the server's log. fs.writeSync because process.stderr.write is routed into cells.
    else fs.writeSync(2, `[nextframe kernel] ${text}\n`);
  };
  if (mode === "--ipc") {
    // Returns false when Node's queue for the channel is long (the executor then sends fewer, larger stream
    // messages); `written` runs once the message (and so everything before it) was written to the channel.
    send = (m, written) => {
      try {
        return process.send!(m, undefined, {}, written ? () => written() : undefined);
      } catch {
        // the channel is gone; "disconnect" ends the process
        return false;
      }
    };
    for (const l of logs.splice(0)) send({ type: "log", text: l });
  }
  provideNextframe(libraryLocation(), process.cwd(), log);

  if (mode === "--ipc") {
    const s = send!;
    const memory = startMemoryWatchdog({ limitMb: rssLimitFromEnv(), log });
    const executor = createExecutor({
      rootDir: process.cwd(),
      emit: (execId, output, written) => s({ type: "output", execId, output }, written),
      comm: (target, data) => s({ type: "comm", target, data }),
      log,
      memory,
    });
    serveIpc(executor, s, log);
    s({ type: "ready", pid: process.pid, startMs: performance.now() - t0, node: process.version });
    return;
  }
}

main(process.argv.slice(2)).catch((e) => {
  // Use the real stderr: process.stderr.write may be redirected into a cell by now.
  fs.writeSync(2, `nextframe kernel failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
