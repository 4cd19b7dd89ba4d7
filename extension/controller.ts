/**
 * The notebook controller "TypeScript (nextframe)" for VS Code's built-in .ipynb support.
 *
 * One kernel process per notebook (cwd = the notebook's folder). Cells run strictly one after another:
 * every requested cell gets its execution at once (so VS Code shows it as queued), then runs when the previous
 * one ended; every execution ends with end(ok). An interrupt or a failing cell cancels the cells queued behind it
 * (as Jupyter does). Outputs stream in while a cell runs; a display update for an
 * output of another cell, or output that arrives after a cell ended (timers, rejections), is written through a
 * short execution of that cell that keeps its order number and timing. Stream text is coalesced for
 * STREAM_FLUSH_MS, so a cell printing 100 000 lines makes a few output edits. clearOutput() in a cell replaces the
 * cell's outputs (with `wait`, when the next output arrives).
 */
import * as path from "node:path";
import * as os from "node:os";
import * as vscode from "vscode";
import type { CellOutput } from "../kernel/shared/protocol";
import { KernelClient, type KernelState } from "../kernel/shared/kernelClient";
import { ClearTracker, StreamBatcher, displayIdOf, toOutputData, type ShownOutput } from "./outputs";

const STREAM_FLUSH_MS = 50;

interface Tracked {
  cell: vscode.NotebookCell;
  output: vscode.NotebookCellOutput;
}

interface NotebookKernel {
  client: KernelClient;
  order: number;
  chain: Promise<void>;
  /** execId → cell, for outputs that arrive after the cell ended. */
  cells: Map<number, vscode.NotebookCell>;
  /** display id → the output that shows it, for in-place updates. */
  displays: Map<string, Tracked>;
  running: { cell: vscode.NotebookCell; exec: vscode.NotebookCellExecution; execId?: number } | null;
  /** Bumped by an interrupt or a failed cell: cells queued before that do not run (as in Jupyter). */
  aborts: number;
}

function toVsOutput(o: ShownOutput, executionCount?: number): vscode.NotebookCellOutput {
  const d = toOutputData(o, executionCount);
  return new vscode.NotebookCellOutput(d.items.map((i) => new vscode.NotebookCellOutputItem(i.data, i.mime)), d.metadata);
}

export class NextframeController implements vscode.Disposable {
  static readonly id = "nextframe-kernel";
  static readonly notebookType = "jupyter-notebook";
  static readonly label = "TypeScript (nextframe)";

  private readonly _controller: vscode.NotebookController;
  private readonly _kernels = new Map<string, NotebookKernel>();
  private readonly _stateEmitter = new vscode.EventEmitter<{ notebook: vscode.NotebookDocument; state: KernelState }>();
  readonly onDidChangeKernelState = this._stateEmitter.event;
  private readonly _commEmitter = new vscode.EventEmitter<{ notebook: vscode.NotebookDocument; target: string; data: unknown }>();
  /** A cell sent a comm message to the editor (sendComm / an onComm handler's reply). */
  readonly onDidReceiveComm = this._commEmitter.event;
  private readonly _disposables: vscode.Disposable[] = [];
  /** cell document uri → the last queued write of its late outputs (see _withExecution) */
  private readonly _lateWrites = new Map<string, Promise<void>>();

  constructor(private readonly _kernelMain: string, private readonly _log: (line: string) => void) {
    this._controller = vscode.notebooks.createNotebookController(
      NextframeController.id, NextframeController.notebookType, NextframeController.label);
    this._controller.supportedLanguages = ["typescript"];
    this._controller.supportsExecutionOrder = true;
    this._controller.description = "TypeScript cells in a Node.js process, with `nextframe`";
    this._controller.executeHandler = (cells, notebook) => this._execute(cells, notebook);
    this._controller.interruptHandler = (notebook) => this._interrupt(notebook);
    this._disposables.push(
      this._controller,
      this._stateEmitter,
      this._commEmitter,
      vscode.workspace.onDidCloseNotebookDocument((nb) => this._closeKernel(nb)),
    );
  }

  /** The kernel of `notebook` if one was started. */
  kernelOf(notebook: vscode.NotebookDocument): KernelClient | undefined {
    return this._kernels.get(notebook.uri.toString())?.client;
  }

  stateOf(notebook: vscode.NotebookDocument): KernelState | undefined {
    return this.kernelOf(notebook)?.state;
  }

  async restart(notebook: vscode.NotebookDocument): Promise<void> {
    const k = this._kernels.get(notebook.uri.toString());
    if (!k) return;
    k.order = 0;
    k.displays.clear();
    await k.client.restart();
  }

  private _kernel(notebook: vscode.NotebookDocument): NotebookKernel {
    const key = notebook.uri.toString();
    const k = this._kernels.get(key);
    if (k) return k;
    const cfg = vscode.workspace.getConfiguration("nextframe.kernel");
    const cwd = notebook.uri.scheme === "file"
      ? path.dirname(notebook.uri.fsPath)
      : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
    const client = new KernelClient({
      kernelMain: this._kernelMain,
      cwd,
      execPath: process.execPath,
      memoryLimitMb: cfg.get<number>("memoryLimitMb", 8192),
      rssLimitMb: cfg.get<number | null>("rssLimitMb", null) ?? undefined,
      threads: cfg.get<number>("threads", 2),
      device: cfg.get<string>("device", "cpu"),
      log: (line) => this._log(`${path.basename(notebook.uri.path)}: ${line}`),
    });
    const kernel: NotebookKernel = { client, order: 0, chain: Promise.resolve(), cells: new Map(), displays: new Map(), running: null, aborts: 0 };
    client.onState((state) => this._stateEmitter.fire({ notebook, state }));
    client.onLateOutput((execId, o) => this._late(kernel, execId, o));
    client.onComm((target, data) => this._commEmitter.fire({ notebook, target, data }));
    this._kernels.set(key, kernel);
    return kernel;
  }

  private _closeKernel(notebook: vscode.NotebookDocument): void {
    const key = notebook.uri.toString();
    const k = this._kernels.get(key);
    if (!k) return;
    this._kernels.delete(key);
    void k.client.stop();
  }

  private _execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    const kernel = this._kernel(notebook);
    // Create every execution now so that VS Code shows the cells as queued, then run them in order.
    const execs = cells.map((cell) => ({ cell, exec: this._controller.createNotebookCellExecution(cell) }));
    const queuedAt = kernel.aborts;
    const run = kernel.chain.then(async () => {
      for (const { cell, exec } of execs) {
        if (exec.token.isCancellationRequested || kernel.aborts !== queuedAt) {
          exec.end(undefined);
          continue;
        }
        const ok = await this._runCell(kernel, cell, exec);
        if (!ok) kernel.aborts++;
      }
    });
    kernel.chain = run.catch((e) => this._log(`internal: execution failed: ${(e as Error).stack}`));
    return kernel.chain;
  }

  /** Run one cell; resolves with whether it succeeded. */
  private async _runCell(kernel: NotebookKernel, cell: vscode.NotebookCell, exec: vscode.NotebookCellExecution): Promise<boolean> {
    exec.executionOrder = ++kernel.order;
    exec.start(Date.now());
    await exec.clearOutput();
    if (!vscode.workspace.isTrusted) {
      await exec.appendOutput(toVsOutput({
        kind: "error", ename: "UntrustedWorkspace",
        evalue: "this workspace is not trusted, so nextframe does not run its code",
        traceback: ["nextframe runs notebook cells only in a trusted workspace: its code could do anything your user can.",
          "Use 'Workspaces: Manage Workspace Trust' to trust this folder, then run the cell again."],
      }));
      exec.end(false, Date.now());
      return false;
    }
    const order = exec.executionOrder;
    const streams = new StreamBatcher();
    let timer: NodeJS.Timeout | null = null;
    let writes: Promise<unknown> = Promise.resolve();
    let lastStream: { name: string; output: vscode.NotebookCellOutput } | null = null;
    // Outputs are written strictly in arrival order (each VS Code edit is async).
    const enqueue = (f: () => Thenable<unknown>) => {
      writes = writes.then(f, f);
    };
    const flushStreams = () => {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      for (const s of streams.take()) {
        enqueue(async () => {
          const item = toVsOutput(s).items[0];
          if (lastStream && lastStream.name === s.name) await exec.appendOutputItems(item, lastStream.output);
          else {
            const out = toVsOutput(s);
            lastStream = { name: s.name, output: out };
            await exec.appendOutput(out);
          }
        });
      }
    };
    const clears = new ClearTracker();
    const clearNow = () => {
      streams.take(); // text not written yet goes with the rest
      lastStream = null;
      for (const [id, t] of kernel.displays) if (t.cell === cell) kernel.displays.delete(id);
      enqueue(() => exec.clearOutput());
    };
    const onOutput = (o: CellOutput) => {
      if (o.kind === "clear") {
        if (clears.clear(o.wait)) clearNow();
        return;
      }
      if (clears.beforeOutput()) clearNow();
      if (o.kind === "stream") {
        streams.push(o.name, o.text);
        if (!timer) timer = setTimeout(flushStreams, STREAM_FLUSH_MS);
        return;
      }
      flushStreams();
      lastStream = null;
      enqueue(() => this._show(kernel, cell, exec, o, order));
    };
    const sub = exec.token.onCancellationRequested(() => kernel.client.interrupt());
    kernel.running = { cell, exec };
    const { execId, done } = kernel.client.execute(cell.document.getText(), onOutput, `cell[${order}]`);
    kernel.running.execId = execId;
    kernel.cells.set(execId, cell);
    const outcome = await done;
    flushStreams();
    await writes;
    sub.dispose();
    kernel.running = null;
    exec.end(outcome.ok, Date.now());
    return outcome.ok;
  }

  /** Show a non-stream output of the running cell, or update a display in place. */
  private async _show(kernel: NotebookKernel, cell: vscode.NotebookCell, exec: vscode.NotebookCellExecution, o: CellOutput, order?: number): Promise<void> {
    if (o.kind === "clear") {
      // a clear after the cell ended (from a timer): at once, `wait` has no next output to wait for
      for (const [id, t] of kernel.displays) if (t.cell === cell) kernel.displays.delete(id);
      await exec.clearOutput();
      return;
    }
    if (o.kind === "display" && o.update) {
      const t = kernel.displays.get(o.displayId);
      if (t) {
        const fresh = toVsOutput(o);
        if (t.cell === cell) await exec.replaceOutputItems(fresh.items, t.output);
        else await this._withExecution(t.cell, (e) => e.replaceOutputItems(fresh.items, t.output));
        return;
      }
      // An update for a display we never saw (e.g. after a reload) shows as a new output.
    }
    const out = toVsOutput(o, order);
    const id = displayIdOf(out.metadata);
    if (id) kernel.displays.set(id, { cell, output: out });
    await exec.appendOutput(out);
  }

  /** Outputs for a cell that already ended; an update goes to the cell that shows that display. */
  private _late(kernel: NotebookKernel, execId: number, o: CellOutput): void {
    const from = kernel.cells.get(execId);
    if (!from) return;
    const cell = (o.kind === "display" && o.update ? kernel.displays.get(o.displayId)?.cell : undefined) ?? from;
    if (kernel.running && kernel.running.cell === cell) {
      void this._show(kernel, cell, kernel.running.exec, o);
      return;
    }
    void this._withExecution(cell, (e) => this._show(kernel, cell, e, o));
  }

  /**
   * Run `f` in a short execution of `cell` that keeps its order number, success and timing. VS Code allows one
   * execution of a cell at a time, and late outputs come in bursts (a moved slider, a timer updating a display):
   * they queue per cell and run in arrival order, so none is dropped and the last update stays shown.
   */
  private _withExecution(cell: vscode.NotebookCell, f: (e: vscode.NotebookCellExecution) => Thenable<void> | Promise<void>): Promise<void> {
    const key = cell.document.uri.toString();
    const run = (this._lateWrites.get(key) ?? Promise.resolve()).then(() => this._oneExecution(cell, f));
    const tail = run.catch((e) => this._log(`internal: late output failed: ${(e as Error).stack}`));
    this._lateWrites.set(key, tail);
    void tail.then(() => { if (this._lateWrites.get(key) === tail) this._lateWrites.delete(key); });
    return run;
  }

  private async _oneExecution(cell: vscode.NotebookCell, f: (e: vscode.NotebookCellExecution) => Thenable<void> | Promise<void>): Promise<void> {
    const summary = cell.executionSummary;
    let e: vscode.NotebookCellExecution;
    try {
      e = this._controller.createNotebookCellExecution(cell);
    } catch (err) {
      this._log(`late output for a cell that is queued or running elsewhere was dropped: ${(err as Error).message}`);
      return;
    }
    e.executionOrder = summary?.executionOrder;
    e.start(summary?.timing?.startTime ?? Date.now());
    try {
      await f(e);
    } finally {
      e.end(summary?.success, summary?.timing?.endTime ?? Date.now());
    }
  }

  private _interrupt(notebook: vscode.NotebookDocument): void {
    const k = this._kernels.get(notebook.uri.toString());
    if (!k) return;
    k.aborts++;
    k.client.interrupt();
  }

  dispose(): void {
    for (const k of this._kernels.values()) k.client.dispose();
    this._kernels.clear();
    for (const d of this._disposables) d.dispose();
  }
}
