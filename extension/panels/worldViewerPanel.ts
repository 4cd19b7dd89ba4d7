/**
 * The World Viewer panel (one class, after vscode-extension-samples' webview-sample CatCodingPanel): a nonce
 * CSP, localResourceRoots limited to dist/media and media, and typed {command} messages validated for type and
 * size in both directions.
 *
 *   webview ──{command:"action"}──▶ panel ──sendComm("worldViewer", {type:"action"})──▶ kernel (playWorld)
 *   kernel ──comm "worldViewer" {type:"frame"}──▶ bridge.onKernelComm ──▶ panel ──{command:"frame"}──▶ webview
 *
 * Placement (messages.ts placeViewer): the panel opens beside the notebook that plays, as a pinned tab, and
 * then stays in whatever column it is in: kernel messages (frames answering keys) never reveal or move it.
 */
import * as vscode from "vscode";
import { WORLD_VIEWER_TARGET, toPanelMessage, type PanelInbound } from "../../kernel/shared/payloads";
import { parseKernelMessage, parsePanelMessage, placeViewer, toKernelMessage, type ShowReason } from "./messages";
import { makeNonce, worldViewerHtml } from "./worldViewerHtml";

/** How the panel reaches the kernel: the kernel side of comm (provided by the notebook controller). */
export interface WorldViewerKernelLink {
  /** Deliver `data` to the kernel's comm `target` (its reply, if any, comes back through onKernelComm). Throws or rejects when there is no kernel. */
  sendComm(target: string, data: unknown): unknown;
}

/** workspaceState key: the column the panel was last in, so that a reopened panel goes back there. */
const COLUMN_KEY = "nextframe.worldViewer.column";

export class WorldViewerPanel {
  static currentPanel: WorldViewerPanel | undefined;
  static readonly viewType = "nextframe.worldViewer";

  private readonly _disposables: vscode.Disposable[] = [];
  private _ready = false;
  private _pending: PanelInbound[] = [];
  /** Whether the kernel last said a session is live (so that a kernel going away can say it stopped). */
  private _live = false;
  /** The step count the kernel last reported. */
  private _steps = 0;

  /** Create the panel or bring it forward, as placeViewer decides; undefined when there is no panel to talk to. */
  static show(context: vscode.ExtensionContext, link: () => WorldViewerKernelLink | undefined, reason: ShowReason,
    notebookColumn?: vscode.ViewColumn): WorldViewerPanel | undefined {
    const current = WorldViewerPanel.currentPanel;
    const p = placeViewer({
      exists: current !== undefined, visible: current?._panel.visible ?? false, reason, notebookColumn,
      rememberedColumn: context.workspaceState.get<number>(COLUMN_KEY),
      hasActiveEditor: vscode.window.activeTextEditor !== undefined || vscode.window.activeNotebookEditor !== undefined,
    });
    if (current) {
      // reveal in its own column: revealing into another column would move it (and make it a preview tab there)
      if (p.kind === "reveal") current._panel.reveal(current._panel.viewColumn, p.preserveFocus);
      return current;
    }
    if (p.kind !== "create") return undefined;
    const panel = vscode.window.createWebviewPanel(WorldViewerPanel.viewType, "World Viewer",
      { viewColumn: p.column as vscode.ViewColumn, preserveFocus: p.preserveFocus }, {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, "dist", "media"), vscode.Uri.joinPath(context.extensionUri, "media")],
      });
    WorldViewerPanel.currentPanel = new WorldViewerPanel(panel, context, link);
    return WorldViewerPanel.currentPanel;
  }

  private constructor(private readonly _panel: vscode.WebviewPanel, context: vscode.ExtensionContext,
    private readonly _link: () => WorldViewerKernelLink | undefined) {
    const webview = _panel.webview;
    webview.html = worldViewerHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, "dist", "media", "worldViewer.js")).toString(),
      cspSource: webview.cspSource,
      nonce: makeNonce(),
    });
    const remember = () => { if (_panel.viewColumn !== undefined) void context.workspaceState.update(COLUMN_KEY, _panel.viewColumn); };
    remember();
    _panel.onDidChangeViewState(remember, null, this._disposables);
    _panel.onDidDispose(() => this.dispose(), null, this._disposables);
    webview.onDidReceiveMessage((m: unknown) => this._fromWebview(m), null, this._disposables);
  }

  /** A message from the kernel's comm target "worldViewer": validate and forward to the webview. */
  fromKernel(data: unknown): void {
    const p = parseKernelMessage(data);
    if (!p.ok) {
      console.warn(`nextframe World Viewer: dropped kernel message: ${p.reason}`);
      return;
    }
    if (p.value.type === "state") { this._live = p.value.status === "live"; this._steps = p.value.steps; }
    if (p.value.type === "frame") this._steps = p.value.step;
    this._post(toPanelMessage(p.value));
  }

  /** The kernel of the playing notebook stopped or restarts: its session is gone. */
  kernelGone(message: string): void {
    if (!this._live) return;
    this._live = false;
    this._post({ command: "state", state: "stopped", steps: this._steps, message });
  }

  private _post(m: PanelInbound): void {
    if (!this._ready) {
      // keep only the latest message of each kind until the page has loaded
      this._pending = [...this._pending.filter((x) => x.command !== m.command), m];
      return;
    }
    void this._panel.webview.postMessage(m);
  }

  private _fromWebview(m: unknown): void {
    const p = parsePanelMessage(m);
    if (!p.ok) {
      console.warn(`nextframe World Viewer: dropped webview message: ${p.reason}`);
      return;
    }
    const quiet = p.value.command === "ready";
    if (quiet) {
      this._ready = true;
      const pending = this._pending;
      this._pending = [];
      pending.forEach((x) => void this._panel.webview.postMessage(x));
    }
    // "ready" asks the kernel for a live session's state and frame (a panel reopened after playWorld ran);
    // without a kernel or a session there is nothing to show, so that failure stays quiet.
    const failed = (e: unknown) => {
      if (quiet) return;
      this._post({ command: "error", message: `kernel: ${e instanceof Error ? e.message : String(e)}` });
      if (this._live || p.value.command === "stop") this.kernelGone("the kernel did not take the message; run the play cell again");
    };
    const link = this._link();
    if (!link) return failed(new Error("no running nextframe kernel: run a cell that calls playWorld(world) first"));
    try {
      void Promise.resolve(link.sendComm(WORLD_VIEWER_TARGET, toKernelMessage(p.value))).catch(failed);
    } catch (e) {
      failed(e);
    }
  }

  dispose(): void {
    WorldViewerPanel.currentPanel = undefined;
    this._panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}

/** What extension.ts gets back: the hook for kernel comm messages and for plugging in the kernel link. */
export interface WorldViewerBridge {
  /**
   * The kernel sent `data` on comm target "worldViewer": show it, opening the panel beside the notebook (in
   * `notebookColumn`'s neighbour) if it is not open. An open panel stays where it is.
   */
  onKernelComm(data: unknown, notebookColumn?: vscode.ViewColumn): void;
  /** The playing notebook's kernel stopped or restarts: a live session shows as stopped, saying `message`. */
  kernelGone(message: string): void;
  /** Tell the panel how to reach the (current) kernel. */
  setKernelLink(link: WorldViewerKernelLink | undefined): void;
}

/** The bridge of the active extension, for the notebook controller's comm routing. */
export let worldViewerBridge: WorldViewerBridge | undefined;

/** Why a kernel message asks for the panel: a session starting, a session ending, or anything else. */
function reasonOf(data: unknown): ShowReason {
  const s = data as { type?: unknown; status?: unknown } | null;
  if (s?.type !== "state") return "message";
  return s.status === "live" ? "session" : "ended";
}

/** Register the World Viewer: the nextframe.openWorldViewer command and the kernel comm bridge. */
export function registerWorldViewer(context: vscode.ExtensionContext, link?: WorldViewerKernelLink): WorldViewerBridge {
  let current = link;
  const getLink = () => current;
  const bridge: WorldViewerBridge = {
    onKernelComm(data, notebookColumn) {
      WorldViewerPanel.show(context, getLink, reasonOf(data), notebookColumn)?.fromKernel(data);
    },
    kernelGone(message) { WorldViewerPanel.currentPanel?.kernelGone(message); },
    setKernelLink(l) { current = l; },
  };
  context.subscriptions.push(
    vscode.commands.registerCommand("nextframe.openWorldViewer", () =>
      void WorldViewerPanel.show(context, getLink, "command", vscode.window.activeNotebookEditor?.viewColumn)),
    // internal: lets the controller forward comm messages without importing this module
    vscode.commands.registerCommand("nextframe.worldViewer.kernelComm", (data: unknown) => bridge.onKernelComm(data)),
    { dispose: () => { WorldViewerPanel.currentPanel?.dispose(); worldViewerBridge = undefined; } },
  );
  worldViewerBridge = bridge;
  return bridge;
}
