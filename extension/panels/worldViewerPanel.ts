/**
 * The World Viewer panel (one class, after vscode-extension-samples' webview-sample CatCodingPanel):
 * createOrShow, a nonce CSP, localResourceRoots limited to dist/media and media, and typed {command}
 * messages validated for type and size in both directions.
 *
 *   webview ──{command:"action"}──▶ panel ──sendComm("worldViewer", {type:"action"})──▶ kernel (playWorld)
 *   kernel ──comm "worldViewer" {type:"frame"}──▶ bridge.onKernelComm ──▶ panel ──{command:"frame"}──▶ webview
 */
import * as vscode from "vscode";
import { WORLD_VIEWER_TARGET, toPanelMessage, type PanelInbound } from "../../kernel/nextframe/display/payloads";
import { parseKernelMessage, parsePanelMessage, toKernelMessage } from "./messages";
import { makeNonce, worldViewerHtml } from "./worldViewerHtml";

/** How the panel reaches the kernel: the kernel side of comm (provided by the notebook controller). */
export interface WorldViewerKernelLink {
  /** Deliver `data` to the kernel's comm `target` (its reply, if any, comes back through onKernelComm). */
  sendComm(target: string, data: unknown): unknown;
}

export class WorldViewerPanel {
  static currentPanel: WorldViewerPanel | undefined;
  static readonly viewType = "nextframe.worldViewer";

  private readonly _disposables: vscode.Disposable[] = [];
  private _ready = false;
  private _pending: PanelInbound[] = [];

  static createOrShow(extensionUri: vscode.Uri, link: () => WorldViewerKernelLink | undefined, preserveFocus = false): WorldViewerPanel {
    const column = vscode.window.activeTextEditor || vscode.window.activeNotebookEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    if (WorldViewerPanel.currentPanel) {
      WorldViewerPanel.currentPanel._panel.reveal(column, preserveFocus);
      return WorldViewerPanel.currentPanel;
    }
    const panel = vscode.window.createWebviewPanel(WorldViewerPanel.viewType, "World Viewer", { viewColumn: column, preserveFocus }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "media"), vscode.Uri.joinPath(extensionUri, "media")],
    });
    WorldViewerPanel.currentPanel = new WorldViewerPanel(panel, extensionUri, link);
    return WorldViewerPanel.currentPanel;
  }

  private constructor(private readonly _panel: vscode.WebviewPanel, extensionUri: vscode.Uri,
    private readonly _link: () => WorldViewerKernelLink | undefined) {
    const webview = _panel.webview;
    webview.html = worldViewerHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "media", "worldViewer.js")).toString(),
      cspSource: webview.cspSource,
      nonce: makeNonce(),
    });
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
    this._post(toPanelMessage(p.value));
  }

  private _post(m: PanelInbound): void {
    if (!this._ready) {
      // keep only the latest frame/show until the page has loaded
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
    if (p.value.command === "ready") {
      this._ready = true;
      const pending = this._pending;
      this._pending = [];
      pending.forEach((x) => void this._panel.webview.postMessage(x));
      return;
    }
    const k = toKernelMessage(p.value);
    const link = this._link();
    if (!link) {
      this._post({ command: "error", message: "No running nextframe kernel: run a cell that calls playWorld(world) first." });
      return;
    }
    try {
      void Promise.resolve(link.sendComm(WORLD_VIEWER_TARGET, k)).catch((e: unknown) =>
        this._post({ command: "error", message: `kernel: ${e instanceof Error ? e.message : String(e)}` }));
    } catch (e) {
      this._post({ command: "error", message: `kernel: ${e instanceof Error ? e.message : String(e)}` });
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
  /** The kernel sent `data` on comm target "worldViewer": open the panel if needed and show it. */
  onKernelComm(data: unknown): void;
  /** Tell the panel how to reach the (current) kernel. */
  setKernelLink(link: WorldViewerKernelLink | undefined): void;
}

/** The bridge of the active extension, for the notebook controller's comm routing. */
export let worldViewerBridge: WorldViewerBridge | undefined;

/** Register the World Viewer: the nextframe.openWorldViewer command and the kernel comm bridge. */
export function registerWorldViewer(context: vscode.ExtensionContext, link?: WorldViewerKernelLink): WorldViewerBridge {
  let current = link;
  const getLink = () => current;
  const bridge: WorldViewerBridge = {
    onKernelComm(data) {
      WorldViewerPanel.createOrShow(context.extensionUri, getLink, true).fromKernel(data);
    },
    setKernelLink(l) { current = l; },
  };
  context.subscriptions.push(
    vscode.commands.registerCommand("nextframe.openWorldViewer", () => WorldViewerPanel.createOrShow(context.extensionUri, getLink)),
    // internal: lets the controller forward comm messages without importing this module
    vscode.commands.registerCommand("nextframe.worldViewer.kernelComm", (data: unknown) => bridge.onKernelComm(data)),
    { dispose: () => { WorldViewerPanel.currentPanel?.dispose(); worldViewerBridge = undefined; } },
  );
  worldViewerBridge = bridge;
  return bridge;
}
