/**
 * The kernel's Jupyter mode: the Jupyter messaging protocol (v5.3) over zeromq, on the same executor and the
 * same MIME bundles as the VS Code kernel. Structure after tslab's jupyter.ts (ZmqServer), rewritten for
 * nextframe's outputs (errors as `error` messages, results as `execute_result`, display ids as
 * `update_display_data`) and comms.
 *
 * Spec: https://jupyter-client.readthedocs.io/en/stable/messaging.html
 * Interrupt: the kernelspec's interrupt_mode is "signal" (SIGINT stops synchronous code, see executor.ts);
 * an interrupt_request on the control channel interrupts a cell that waits on a promise.
 * Restart: Jupyter sends shutdown_request and starts a new process.
 */
import { createHmac, randomUUID } from "node:crypto";
import fs from "node:fs";
import { createExecutor } from "./executor";
import type { CellOutput } from "./protocol";

interface ConnectionInfo {
  shell_port: number; iopub_port: number; stdin_port: number; control_port: number; hb_port: number;
  ip: string; key: string; transport: string; signature_scheme: string;
}

interface Header { msg_id: string; session: string; username: string; date: string; msg_type: string; version: string }

interface Message {
  identities: Buffer[];
  header: Header;
  parent: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

const DELIM = "<IDS|MSG>";
const PROTOCOL_VERSION = "5.3";

/** Parse and verify one multipart message. */
export function parseMessage(frames: Buffer[], key: string): Message {
  const i = frames.findIndex((f) => f.toString() === DELIM);
  if (i < 0) throw new Error(`jupyter: message without the ${DELIM} delimiter`);
  const [sig, h, p, m, c] = frames.slice(i + 1, i + 6).map((f) => f.toString("utf8"));
  if (key) {
    const expected = sign(key, [h, p, m, c]);
    if (expected !== sig) throw new Error("jupyter: bad message signature (HMAC) — wrong key in the connection file?");
  }
  return { identities: frames.slice(0, i), header: JSON.parse(h), parent: JSON.parse(p), metadata: JSON.parse(m), content: JSON.parse(c) };
}

export function sign(key: string, parts: string[]): string {
  if (!key) return "";
  const hmac = createHmac("sha256", key);
  for (const p of parts) hmac.update(p);
  return hmac.digest("hex");
}

/** Serialize a message to frames: identities, delimiter, signature, header, parent, metadata, content. */
export function encodeMessage(key: string, identities: Buffer[], header: Header, parent: object, content: object, metadata: object = {}): Buffer[] {
  const parts = [JSON.stringify(header), JSON.stringify(parent), JSON.stringify(metadata), JSON.stringify(content)];
  return [...identities, Buffer.from(DELIM), Buffer.from(sign(key, parts)), ...parts.map((s) => Buffer.from(s))];
}

/** zeromq 6 allows one send in flight per socket; this keeps sends in order. */
function sender(sock: { send(frames: Buffer[]): Promise<void> }, log: (s: string) => void) {
  let chain: Promise<void> = Promise.resolve();
  return (frames: Buffer[]) => {
    chain = chain.then(() => sock.send(frames)).catch((e) => log(`zmq send failed: ${(e as Error).message}`));
    return chain;
  };
}

export async function serveJupyter(connectionFile: string, log: (s: string) => void): Promise<void> {
  if (!connectionFile) throw new Error("--jupyter needs the connection file path (kernel.json argv {connection_file})");
  const conn = JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  if (conn.signature_scheme && conn.signature_scheme !== "hmac-sha256") {
    throw new Error(`jupyter: signature scheme ${conn.signature_scheme} is not supported (expected hmac-sha256)`);
  }
  const zmq = await import("zeromq");
  const addr = (port: number) => `${conn.transport}://${conn.ip}:${port}`;
  const shell = new zmq.Router();
  const control = new zmq.Router();
  const stdin = new zmq.Router();
  const iopub = new zmq.Publisher();
  const hb = new zmq.Reply();
  await Promise.all([
    shell.bind(addr(conn.shell_port)), control.bind(addr(conn.control_port)), stdin.bind(addr(conn.stdin_port)),
    iopub.bind(addr(conn.iopub_port)), hb.bind(addr(conn.hb_port)),
  ]);
  const sendShell = sender(shell, log);
  const sendControl = sender(control, log);
  const sendIopub = sender(iopub, log);
  const session = randomUUID();

  const header = (msg_type: string): Header => ({
    msg_id: randomUUID(), session, username: "nextframe", date: new Date().toISOString(), msg_type, version: PROTOCOL_VERSION,
  });
  const publish = (msg_type: string, parent: Header | Record<string, never>, content: object) =>
    sendIopub(encodeMessage(conn.key, [Buffer.from(msg_type)], header(msg_type), parent, content));
  const reply = (send: (f: Buffer[]) => Promise<void>, req: Message, msg_type: string, content: object) =>
    send(encodeMessage(conn.key, req.identities, header(msg_type), req.header, content));

  // ##### executor ###########################################################################################
  let executionCount = 0;
  let requestNumber = 0;
  const parents = new Map<number, Header>();
  const counts = new Map<number, number>();
  /** comm_id ↔ target for comms the frontend opened or we opened. */
  const commIds = new Map<string, string>();
  const commByTarget = new Map<string, string>();

  const executor = createExecutor({
    rootDir: process.cwd(),
    log,
    emit: (execId, o) => {
      publishOutput(parents.get(execId) ?? {}, o, counts.get(execId) ?? executionCount);
    },
    comm: (target, data) => {
      const parent = parents.get(executor.lastExecId ?? -1) ?? {};
      let id = commByTarget.get(target);
      if (!id) {
        id = randomUUID();
        commIds.set(id, target);
        commByTarget.set(target, id);
        publish("comm_open", parent, { comm_id: id, target_name: target, data });
        return;
      }
      publish("comm_msg", parent, { comm_id: id, data });
    },
  });

  function publishOutput(parent: Header | Record<string, never>, o: CellOutput, count: number): void {
    switch (o.kind) {
      case "stream":
        publish("stream", parent, { name: o.name, text: o.text });
        return;
      case "display":
        publish(o.update ? "update_display_data" : "display_data", parent, {
          data: o.bundle, metadata: {}, transient: { display_id: o.displayId },
        });
        return;
      case "result":
        publish("execute_result", parent, { execution_count: count, data: o.bundle, metadata: {} });
        return;
      case "error":
        publish("error", parent, { ename: o.ename, evalue: o.evalue, traceback: o.traceback });
        return;
    }
  }

  const kernelInfo = () => {
    const tsVersion = (() => {
      try {
        return (require("@tslab/typescript-for-tslab/package.json") as { version: string }).version;
      } catch {
        return "5";
      }
    })();
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "nextframe",
      implementation_version: "0.1.0",
      language_info: {
        name: "typescript", version: tsVersion, mimetype: "text/typescript", file_extension: ".ts",
        // As tslab: this combination turns on TypeScript highlighting in Notebook and JupyterLab.
        codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
      },
      banner: `nextframe TypeScript kernel (node ${process.version}, TypeScript ${tsVersion})`,
      help_links: [],
    };
  };

  async function handle(req: Message, send: (f: Buffer[]) => Promise<void>, channel: "shell" | "control"): Promise<void> {
    const t = req.header.msg_type;
    switch (t) {
      case "kernel_info_request":
        await reply(send, req, "kernel_info_reply", kernelInfo());
        return;
      case "execute_request": {
        const code = String(req.content.code ?? "");
        const silent = Boolean(req.content.silent);
        const store = req.content.store_history !== false && !silent;
        if (store) executionCount += 1;
        const count = executionCount;
        const execId = ++requestNumber;
        parents.set(execId, req.header);
        counts.set(execId, count);
        if (parents.size > 1000) {
          const oldest = parents.keys().next().value as number;
          parents.delete(oldest);
          counts.delete(oldest);
        }
        publish("execute_input", req.header, { code, execution_count: count });
        const r = await executor.execute(code, execId, `In[${count}]`);
        await reply(send, req, "execute_reply", r.ok
          ? { status: "ok", execution_count: count, payload: [], user_expressions: {} }
          : { status: "error", execution_count: count, ename: "Error", evalue: "the cell failed", traceback: [] });
        return;
      }
      case "complete_request": {
        const code = String(req.content.code ?? "");
        const pos = Number(req.content.cursor_pos ?? code.length);
        const c = executor.complete(code, pos);
        await reply(send, req, "complete_reply", {
          status: "ok", matches: c.entries.map((e) => e.name), cursor_start: c.start, cursor_end: c.end, metadata: {},
        });
        return;
      }
      case "inspect_request": {
        const code = String(req.content.code ?? "");
        const info = executor.inspect(code, Number(req.content.cursor_pos ?? code.length));
        await reply(send, req, "inspect_reply", info
          ? { status: "ok", found: true, data: { "text/plain": info.text }, metadata: {} }
          : { status: "ok", found: false, data: {}, metadata: {} });
        return;
      }
      case "is_complete_request": {
        const r = executor.isComplete(String(req.content.code ?? ""));
        await reply(send, req, "is_complete_reply", r.completed ? { status: "complete" } : { status: "incomplete", indent: r.indent ?? "" });
        return;
      }
      case "comm_info_request": {
        const comms: Record<string, { target_name: string }> = {};
        for (const [id, target] of commIds) comms[id] = { target_name: target };
        await reply(send, req, "comm_info_reply", { status: "ok", comms });
        return;
      }
      case "comm_open": {
        const id = String(req.content.comm_id), target = String(req.content.target_name);
        commIds.set(id, target);
        commByTarget.set(target, id);
        if (req.content.data !== undefined) await executor.deliverComm(target, req.content.data);
        return;
      }
      case "comm_msg": {
        const target = commIds.get(String(req.content.comm_id));
        if (target) await executor.deliverComm(target, req.content.data);
        return;
      }
      case "comm_close": {
        const id = String(req.content.comm_id);
        const target = commIds.get(id);
        commIds.delete(id);
        if (target && commByTarget.get(target) === id) commByTarget.delete(target);
        return;
      }
      case "interrupt_request":
        executor.interrupt();
        await reply(send, req, "interrupt_reply", { status: "ok" });
        return;
      case "shutdown_request": {
        await reply(send, req, "shutdown_reply", { status: "ok", restart: Boolean(req.content.restart) });
        executor.flush();
        log(`shutdown (restart: ${Boolean(req.content.restart)}) via ${channel}`);
        setTimeout(() => process.exit(0), 50);
        return;
      }
      default:
        log(`unhandled ${channel} message ${t}`);
    }
  }

  async function serve(sock: AsyncIterable<Buffer[]>, send: (f: Buffer[]) => Promise<void>, channel: "shell" | "control") {
    for await (const frames of sock) {
      let req: Message;
      try {
        req = parseMessage(frames, conn.key);
      } catch (e) {
        log((e as Error).message);
        continue;
      }
      publish("status", req.header, { execution_state: "busy" });
      const done = handle(req, send, channel)
        .catch((e) => log(`internal: ${req.header.msg_type} failed: ${(e as Error).stack}`))
        .finally(() => publish("status", req.header, { execution_state: "idle" }));
      // Shell requests are handled in order (executions queue in the executor anyway); control requests
      // (interrupt, shutdown) must not wait behind a running cell.
      if (channel === "shell" && req.header.msg_type !== "execute_request") await done;
    }
  }

  process.on("SIGINT", () => executor.interrupt());
  publish("status", {}, { execution_state: "starting" });
  log(`listening on ${conn.transport}://${conn.ip} (shell ${conn.shell_port}, iopub ${conn.iopub_port})`);
  void (async () => {
    for await (const [m] of hb) await hb.send(m);
  })();
  // stdin (input_request) is bound but unused: cells cannot prompt for input.
  await Promise.all([serve(shell, sendShell, "shell"), serve(control, sendControl, "control")]);
}
