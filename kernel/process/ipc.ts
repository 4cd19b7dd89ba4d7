/**
 * The kernel's IPC mode: the VS Code extension (extension/kernelClient.ts) forks `main.js --ipc` and talks
 * protocol.ts messages over Node's IPC channel. SIGINT interrupts the running cell.
 */
import type { Executor } from "./executor";
import { isToKernel, type FromKernel, type ToKernel } from "./protocol";

export function serveIpc(executor: Executor, send: (m: FromKernel) => void, log: (s: string) => void): void {
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
        executor.flush();
        process.exit(0);
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
  process.on("disconnect", () => process.exit(0));
}
