/**
 * The kernel's Jupyter mode, a front process in the manner of a nanny: it owns Jupyter's zeromq sockets (shell,
 * control, iopub, stdin, heartbeat) and the message signing, and runs the cells in ONE child kernel
 * (`main.js --ipc`) driven through the VS Code extension's own KernelClient — the same executor, interrupt
 * escalation and restart-on-death as in VS Code. Because the sockets live in a process that never runs user
 * code, the kernel answers kernel_info and heartbeats while the child starts or loops, and when the child dies
 * (heap out of memory, process.exit, a signal) the front is still there to say why on the running cell and to
 * start a fresh child.
 *
 * Messages of one execution, in order: status busy, execute_input, the cell's outputs (stream text coalesced by
 * StreamBatcher, so 100 000 printed lines are a few dozen messages; iopub's high-water mark is off, so nothing
 * is dropped), execute_result if any, then execute_reply on shell (with the cell's real ename/evalue/traceback
 * on error), then status idle. With stop_on_error (the default), requests that were already waiting when a cell
 * failed get status "aborted" without running, as in ipykernel.
 *
 * Spec: https://jupyter-client.readthedocs.io/en/stable/messaging.html
 * Interrupt: interrupt_mode "message" (kernelspec.ts): an interrupt_request on control, or SIGINT to this front,
 * calls KernelClient.interrupt(), which signals only the child. (With mode "signal", jupyter_client signals the
 * whole process group, so the child would get a second, stray SIGINT besides the one KernelClient sends.)
 * Restart: Jupyter sends shutdown_request and starts a new front; the front stops its child first.
 */
import { createHmac, randomUUID } from "node:crypto";
import fs from "node:fs";
import { setImmediate as nextTurn } from "node:timers/promises";
import { KernelClient } from "../shared/kernelClient";
import { History } from "./history";
import { memoryLimitFromEnv } from "./kernelspec";
import type { CellOutput } from "../shared/protocol";
import { StreamBatcher } from "./streamBatcher";

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

/** zeromq 6 allows one send in flight per socket; this keeps sends in order. The result settles after this send. */
function sender(sock: { send(frames: Buffer[]): Promise<void> }, log: (s: string) => void) {
  let chain: Promise<void> = Promise.resolve();
  return (frames: Buffer[]) => {
    chain = chain.then(() => sock.send(frames)).catch((e) => log(`zmq send failed: ${(e as Error).message}`));
    return chain;
  };
}

export interface FrontOptions {
  /** The kernel entry the child runs with `--ipc` (dist/kernel/main.js, or main.ts with execArgv for tsx). */
  kernelMain: string;
  execArgv?: string[];
  /** The child's V8 heap limit in MB (0: Node's default); default from NEXTFRAME_MEMORY_LIMIT_MB. */
  memoryLimitMb?: number;
}

/**
 * How the front starts its child. On Linux it goes through util-linux's `setpriv --pdeathsig SIGKILL` (util-linux
 * is essential on Debian), so the OS kills the child the moment the front dies, even by SIGKILL and even while a
 * cell runs synchronous code; the child's own exit when its IPC channel closes runs only once its event loop is
 * free. Without setpriv, that exit on disconnect is all there is.
 */
export function childCommand(execArgv: string[], node = process.execPath, setpriv: string | null = findSetpriv()): { execPath: string; execArgv: string[] } {
  if (!setpriv) return { execPath: node, execArgv };
  return { execPath: setpriv, execArgv: ["--pdeathsig", "SIGKILL", "--", node, ...execArgv] };
}

function findSetpriv(): string | null {
  if (process.platform !== "linux") return null;
  return ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => fs.existsSync(p)) ?? null;
}

type Parent = Header | Record<string, never>;
type ErrorOutput = Extract<CellOutput, { kind: "error" }>;

/**
 * KernelClient words a dead child's reason, and the memory watchdog its MemoryLimit error, for VS Code, naming
 * its settings (nextframe.kernel.memoryLimitMb, nextframe.kernel.rssLimitMb); in Jupyter the same limits are the
 * environment variables the front and the child read.
 */
export function forJupyter(o: ErrorOutput): ErrorOutput {
  if (o.ename !== "KernelExited" && o.ename !== "MemoryLimit") return o;
  const fix = (s: string) => s
    .replace(/(the setting )?nextframe\.kernel\.memoryLimitMb/g, "NEXTFRAME_MEMORY_LIMIT_MB in the Jupyter server's environment or kernel.json's env")
    .replace(/nextframe\.kernel\.rssLimitMb( \/ NEXTFRAME_RSS_LIMIT_MB)?/g, "NEXTFRAME_RSS_LIMIT_MB");
  return { ...o, evalue: fix(o.evalue), traceback: o.traceback.map(fix) };
}

export async function serveJupyter(connectionFile: string, log: (s: string) => void, opts: FrontOptions): Promise<void> {
  if (!connectionFile) throw new Error("--jupyter needs the connection file path (kernel.json argv {connection_file})");
  const conn = JSON.parse(fs.readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  if (conn.signature_scheme && conn.signature_scheme !== "hmac-sha256") {
    throw new Error(`jupyter: signature scheme ${conn.signature_scheme} is not supported (expected hmac-sha256)`);
  }
  const memoryLimitMb = opts.memoryLimitMb ?? memoryLimitFromEnv();
  const zmq = await import("zeromq");
  const addr = (port: number) => `${conn.transport}://${conn.ip}:${port}`;
  const shell = new zmq.Router();
  const control = new zmq.Router();
  const stdin = new zmq.Router();
  // No high-water mark on iopub: at zeromq's default (1000 queued messages) a PUB socket silently drops what a
  // slow subscriber has not taken yet. What a cell can queue is bounded by the kernel's per-cell output limit.
  const iopub = new zmq.Publisher({ sendHighWaterMark: 0, linger: 2000 });
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
  /** Settles when every iopub message published so far went to zeromq. */
  let iopubSent: Promise<void> = Promise.resolve();
  /** Resolves when this message and every earlier iopub message went to zeromq. */
  const publish = (msg_type: string, parent: Parent, content: object) =>
    (iopubSent = sendIopub(encodeMessage(conn.key, [Buffer.from(msg_type)], header(msg_type), parent, content)));
  const reply = (send: (f: Buffer[]) => Promise<void>, req: Message, msg_type: string, content: object, metadata: object = {}) =>
    send(encodeMessage(conn.key, req.identities, header(msg_type), req.header, content, metadata));

  // ##### the child kernel ###################################################################################
  const client = new KernelClient({
    kernelMain: opts.kernelMain,
    ...childCommand(opts.execArgv ?? []),
    cwd: process.cwd(),
    memoryLimitMb,
    // The child's stdout/stderr and KernelClient's own lines go to the Jupyter server's log.
    log: (line) => {
      log(line);
      const died = /^kernel exited \((.*)\); restarting$/.exec(line);
      if (died && !executing) reportIdleDeath(died[1]);
    },
  });
  // The child must not outlive the front: the parent-death signal (childCommand) and the child's exit when its
  // IPC channel closes cover a front that is killed; this covers a front that exits (an error, shutdown, SIGTERM).
  process.on("exit", () => client.dispose());
  client.start().catch((e) => log(`the kernel child did not start: ${(e as Error).message}`));

  const batcher = new StreamBatcher<Parent>((parent, name, text) => void publish("stream", parent, { name, text }));
  const history = new History();

  /** The cell that receives outputs the child sends after its cell ended (timers, display updates). */
  const cells = new Map<number, { parent: Header; count: number }>();
  let lastCell: { parent: Header; count: number } | null = null;
  /** The request whose cell runs now (its parent gets "busy" back after other requests' status messages). */
  let executing: Header | null = null;

  function publishOutput(parent: Parent, o: CellOutput, count: number, silent = false): void {
    if (o.kind === "stream") {
      batcher.write(parent, o.name, o.text);
      return;
    }
    batcher.flush();
    switch (o.kind) {
      case "display":
        void publish(o.update ? "update_display_data" : "display_data", parent, {
          data: o.bundle, metadata: {}, transient: { display_id: o.displayId },
        });
        return;
      case "result": {
        if (silent) return;
        void publish("execute_result", parent, { execution_count: count, data: o.bundle, metadata: {} });
        const text = o.bundle["text/plain"];
        if (typeof text === "string") history.setOutput(count, text);
        return;
      }
      case "error": {
        const e = forJupyter(o);
        void publish("error", parent, { ename: e.ename, evalue: e.evalue, traceback: e.traceback });
        return;
      }
      case "clear":
        void publish("clear_output", parent, { wait: o.wait });
        return;
      default: {
        const unknown: never = o;
        log(`an output of unknown kind from the kernel child: ${JSON.stringify(unknown).slice(0, 200)}`);
      }
    }
  }

  client.onLateOutput((execId, o) => {
    const cell = cells.get(execId) ?? lastCell;
    publishOutput(cell?.parent ?? {}, o, cell?.count ?? 0);
  });

  /** The child died while no cell ran (a timer's process.exit, a kill): say so on the last cell, as a late error. */
  function reportIdleDeath(why: string): void {
    const text = `the kernel exited (${why}) while no cell was running and was restarted; its state (variables, imports) is gone`;
    publishOutput(lastCell?.parent ?? {}, { kind: "error", ename: "KernelExited", evalue: text, traceback: [text] }, lastCell?.count ?? 0);
  }

  /** comm_id ↔ target for comms the frontend opened or we opened. */
  const commIds = new Map<string, string>();
  const commByTarget = new Map<string, string>();
  client.onComm((target, data) => {
    batcher.flush();
    const parent = lastCell?.parent ?? {};
    let id = commByTarget.get(target);
    if (!id) {
      id = randomUUID();
      commIds.set(id, target);
      commByTarget.set(target, id);
      void publish("comm_open", parent, { comm_id: id, target_name: target, data });
      return;
    }
    void publish("comm_msg", parent, { comm_id: id, data });
  });

  // ##### execute ############################################################################################
  let executionCount = 0;
  let received = 0;
  /** Execute requests numbered up to this one are aborted (stop_on_error after a failed cell). */
  let abortThrough = 0;
  let shuttingDown = false;
  let queue: Promise<void> = Promise.resolve();

  function enqueueExecute(req: Message, send: (f: Buffer[]) => Promise<void>): void {
    const seq = ++received;
    queue = queue.then(() => execute(req, send, seq)).catch((e) => log(`internal: execute_request failed: ${(e as Error).stack}`));
  }

  async function execute(req: Message, send: (f: Buffer[]) => Promise<void>, seq: number): Promise<void> {
    void publish("status", req.header, { execution_state: "busy" });
    try {
      if (seq <= abortThrough || shuttingDown) {
        await reply(send, req, "execute_reply", { status: "aborted" }, { status: "aborted" });
        return;
      }
      executing = req.header;
      const code = String(req.content.code ?? "");
      const silent = Boolean(req.content.silent);
      const store = req.content.store_history !== false && !silent;
      const stopOnError = req.content.stop_on_error !== false;
      if (store) executionCount += 1;
      const count = executionCount;
      if (!silent) void publish("execute_input", req.header, { code, execution_count: count });
      if (store) history.add(count, code);
      let error: ErrorOutput | null = null;
      const { execId, done } = client.execute(code, (o) => {
        if (o.kind === "error") error = forJupyter(o);
        publishOutput(req.header, o, count, silent);
      }, `In[${count}]`);
      lastCell = { parent: req.header, count };
      cells.set(execId, lastCell);
      if (cells.size > 1000) cells.delete(cells.keys().next().value as number);
      const outcome = await done;
      executing = null;
      batcher.flush();
      const failed = error as ErrorOutput | null;
      const content = outcome.ok
        ? { status: "ok", execution_count: count, payload: [], user_expressions: {} }
        : {
          status: "error", execution_count: count,
          ename: failed?.ename ?? "Error",
          evalue: failed?.evalue ?? (outcome.kernelExited ? `the kernel exited (${outcome.kernelExited})` : "the cell failed without an error output"),
          traceback: failed?.traceback ?? [],
        };
      // Every output of the cell is handed to zeromq before its reply.
      await iopubSent;
      await reply(send, req, "execute_reply", content, { status: content.status });
      if (!outcome.ok && stopOnError && !silent) {
        // Abort what is queued now, and what zeromq already received but this loop has not read yet (ipykernel
        // flushes its shell stream for the same reason); a request that comes later runs normally.
        await nextTurn();
        abortThrough = received;
      }
    } finally {
      executing = null;
      void publish("status", req.header, { execution_state: "idle" });
    }
  }

  // ##### other requests #####################################################################################
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

  /** tslab's is_complete check is a parse of the code alone, so the front answers it (loaded on first use). */
  let isCompleteCode: ((code: string) => { completed: boolean; indent?: string }) | null = null;

  async function handle(req: Message, send: (f: Buffer[]) => Promise<void>, channel: "shell" | "control"): Promise<void> {
    const t = req.header.msg_type;
    switch (t) {
      case "kernel_info_request":
        await reply(send, req, "kernel_info_reply", kernelInfo());
        return;
      case "complete_request": {
        const code = String(req.content.code ?? "");
        const pos = Number(req.content.cursor_pos ?? code.length);
        const c = await client.complete(code, pos);
        await reply(send, req, "complete_reply", {
          status: "ok", matches: c?.entries.map((e) => e.name) ?? [], cursor_start: c?.start ?? pos, cursor_end: c?.end ?? pos, metadata: {},
        });
        return;
      }
      case "inspect_request": {
        const code = String(req.content.code ?? "");
        const info = await client.inspect(code, Number(req.content.cursor_pos ?? code.length));
        await reply(send, req, "inspect_reply", info
          ? { status: "ok", found: true, data: { "text/plain": info.text }, metadata: {} }
          : { status: "ok", found: false, data: {}, metadata: {} });
        return;
      }
      case "is_complete_request": {
        if (!isCompleteCode) {
          const { loadConverter } = await import("./tsHooks");
          isCompleteCode = loadConverter().isCompleteCode;
        }
        const r = isCompleteCode(String(req.content.code ?? ""));
        await reply(send, req, "is_complete_reply", r.completed ? { status: "complete" } : { status: "incomplete", indent: r.indent ?? "" });
        return;
      }
      case "history_request": {
        let content: object;
        try {
          content = history.query(req.content);
        } catch (e) {
          const msg = (e as Error).message;
          content = { status: "error", ename: "ValueError", evalue: msg, traceback: [msg], history: [] };
        }
        await reply(send, req, "history_reply", content);
        return;
      }
      case "comm_info_request": {
        const comms: Record<string, { target_name: string }> = {};
        for (const [id, target] of commIds) {
          if (req.content.target_name === undefined || req.content.target_name === target) comms[id] = { target_name: target };
        }
        await reply(send, req, "comm_info_reply", { status: "ok", comms });
        return;
      }
      case "comm_open": {
        const id = String(req.content.comm_id), target = String(req.content.target_name);
        commIds.set(id, target);
        commByTarget.set(target, id);
        if (req.content.data !== undefined) client.sendComm(target, req.content.data);
        return;
      }
      case "comm_msg": {
        const target = commIds.get(String(req.content.comm_id));
        if (target) client.sendComm(target, req.content.data);
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
        client.interrupt();
        await reply(send, req, "interrupt_reply", { status: "ok" });
        return;
      case "shutdown_request": {
        const restart = Boolean(req.content.restart);
        shuttingDown = true;
        log(`shutdown (restart: ${restart}) via ${channel}`);
        await reply(send, req, "shutdown_reply", { status: "ok", restart });
        // The child flushes what its cells printed and exits (KernelClient kills it after a second otherwise).
        await client.stop();
        batcher.flush();
        await publish("status", req.header, { execution_state: "idle" });
        for (const s of [shell, control, stdin, iopub, hb]) s.close();
        process.exit(0);
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
      if (req.header.msg_type === "execute_request" && channel === "shell") {
        enqueueExecute(req, send);
        continue;
      }
      // Everything else is answered at once, also while a cell runs or the child starts. Its busy/idle pair
      // must not leave the kernel looking idle under a running cell, so the running cell's busy follows.
      void publish("status", req.header, { execution_state: "busy" });
      void handle(req, send, channel)
        .catch((e) => log(`internal: ${req.header.msg_type} failed: ${(e as Error).stack}`))
        .finally(() => {
          void publish("status", req.header, { execution_state: "idle" });
          if (executing) void publish("status", executing, { execution_state: "busy" });
        });
    }
  }

  process.on("SIGINT", () => client.interrupt());
  process.on("SIGTERM", () => {
    log("SIGTERM: stopping the kernel child");
    client.dispose();
    process.exit(0);
  });
  void publish("status", {}, { execution_state: "starting" });
  log(`listening on ${conn.transport}://${conn.ip} (shell ${conn.shell_port}, iopub ${conn.iopub_port}); ` +
    `child heap limit ${memoryLimitMb ? `${memoryLimitMb} MB` : "Node's default"}`);
  void (async () => {
    for await (const [m] of hb) await hb.send(m);
  })();
  // stdin (input_request) is bound but unused: cells cannot prompt for input.
  await Promise.all([serve(shell, sendShell, "shell"), serve(control, sendControl, "control")]);
}
