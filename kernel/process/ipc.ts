/**
 * The kernel's IPC mode: the VS Code extension (kernel/shared/kernelClient.ts) forks `main.js --ipc` and talks
 * kernel/shared/protocol.ts messages over Node's IPC channel. SIGINT interrupts the running cell.
 *
 * process.exit from a cell would lose what the cell printed just before: Node queues IPC messages that the
 * pipe does not take at once, and exiting drops that queue. So process.exit is replaced: it sends what is
 * pending, then one last message whose callback (run once everything before it was written) ends the process,
 * and stops the calling code by throwing (Node's process.exit never returns either).
 */
import type { Executor } from "./executor";
import { isToKernel, type FromKernel, type ToKernel } from "../shared/protocol";
import { kernelTimers } from "./cellScope";

/** Thrown by the kernel's process.exit to stop the code that called it; the process exits right after. */
class KernelExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code}): the kernel exits once the cell's outputs are written`);
    this.name = "KernelExit";
  }
}

export function serveIpc(
  executor: Executor, send: (m: FromKernel, written?: () => void) => boolean, log: (s: string) => void,
): void {
  const realExit = process.exit.bind(process) as (code?: number) => never;
  let exiting = false;
  const exitAfterWrites = (code: number): void => {
    if (exiting) return;
    exiting = true;
    executor.halt();
    // If the parent stops reading, exit anyway after a while.
    kernelTimers.setTimeout(() => realExit(code), 10_000);
    const sent = send({ type: "log", text: `process.exit(${code}) called; exiting once the outputs are written` }, () => realExit(code));
    if (!sent && !process.connected) realExit(code);
  };
  process.exit = ((code?: number | string | null) => {
    const c = code === undefined || code === null ? Number(process.exitCode ?? 0) : Number(code);
    exitAfterWrites(Number.isFinite(c) ? c : 1);
    throw new KernelExit(c);
  }) as typeof process.exit;

  async function handle(m: ToKernel): Promise<void> {
    switch (m.type) {
      case "execute": {
        const r = await executor.execute(m.code, m.execId, m.label);
        send({ type: "done", execId: m.execId, ok: r.ok, durationMs: r.durationMs });
        return;
      }
      case "complete": {
        let r: ReturnType<Executor["complete"]> = { start: m.offset, end: m.offset, entries: [] };
        try {
          r = executor.complete(m.code, m.offset);
        } catch (e) {
          log(`completion failed: ${(e as Error).stack}`);
        }
        send({ type: "completion", reqId: m.reqId, ...r });
        return;
      }
      case "inspect": {
        let r: ReturnType<Executor["inspect"]> = null;
        try {
          r = executor.inspect(m.code, m.offset);
        } catch (e) {
          log(`hover failed: ${(e as Error).stack}`);
        }
        send({ type: "hover", reqId: m.reqId, text: r?.text ?? null, start: r?.start ?? m.offset, length: r?.length ?? 0 });
        return;
      }
      case "comm":
        await executor.deliverComm(m.target, m.data);
        return;
      case "interrupt":
        executor.interrupt(m.execId);
        return;
      case "shutdown":
        exitAfterWrites(0);
    }
  }
  process.on("message", (m: unknown) => {
    if (!isToKernel(m)) {
      log(`ignored an unknown message: ${JSON.stringify(m).slice(0, 200)}`);
      return;
    }
    handle(m).catch((e) => log(`internal: ${m.type} failed: ${(e as Error).stack}`));
  });
  process.on("SIGINT", () => executor.interrupt());
  // The extension host went away: nothing will read our outputs any more.
  process.on("disconnect", () => realExit(0));
}
