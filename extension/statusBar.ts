/** A status bar item with the state of the active notebook's nextframe kernel; click: show the kernel log. */
import * as vscode from "vscode";
import type { NextframeController } from "./controller";
import type { KernelState } from "../kernel/shared/kernelClient";

const icons: Record<KernelState, string> = {
  starting: "$(loading~spin)",
  idle: "$(circle-large-outline)",
  busy: "$(circle-large-filled)",
  restarting: "$(debug-restart)",
  stopped: "$(circle-slash)",
};

export class KernelStatusBar implements vscode.Disposable {
  private readonly _item = vscode.window.createStatusBarItem("nextframe.kernelState", vscode.StatusBarAlignment.Left, 100);
  private readonly _disposables: vscode.Disposable[] = [];

  constructor(private readonly _controller: NextframeController) {
    this._item.name = "nextframe kernel";
    this._item.command = "nextframe.showKernelLog";
    this._disposables.push(
      this._item,
      _controller.onDidChangeKernelState(() => this._update()),
      vscode.window.onDidChangeActiveNotebookEditor(() => this._update()),
    );
    this._update();
  }

  private _update(): void {
    const nb = vscode.window.activeNotebookEditor?.notebook;
    const state = nb ? this._controller.stateOf(nb) : undefined;
    if (!state) {
      this._item.hide();
      return;
    }
    this._item.text = `${icons[state]} nextframe: ${state}`;
    this._item.tooltip = `TypeScript (nextframe) kernel is ${state}. Click for the kernel log.`;
    this._item.show();
  }

  dispose(): void {
    for (const d of this._disposables) d.dispose();
  }
}
