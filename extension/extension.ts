/**
 * nextframe's VS Code extension: activate() only constructs things and registers them.
 *   controller.ts   the "TypeScript (nextframe)" notebook controller (kernel child processes)
 *   completion.ts   completion and hover from the kernel
 *   statusBar.ts    the kernel state
 *   panels/         the World Viewer (comm target "worldViewer")
 *   interactMessages.ts  renderer messages from interact() controls → the notebook's kernel
 *   course.ts       "Open the Course": chapter 1 of the workspace, or a copy of the course the extension ships
 */
import * as vscode from "vscode";
import { registerLanguageFeatures } from "./completion";
import { registerOpenCourse, registerResetChapter } from "./course";
import { NextframeController } from "./controller";
import { routeInteractMessage } from "./interactMessages";
import { registerWorldViewer } from "./panels/worldViewerPanel";
import { KernelStatusBar } from "./statusBar";

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("nextframe kernel");
  const line = (s: string) => log.appendLine(`${new Date().toISOString()} ${s}`);
  const controller = new NextframeController(context.asAbsolutePath("dist/kernel/main.js"), line);

  // The World Viewer talks to the kernel of the notebook that last sent it a frame.
  let viewerNotebook: vscode.NotebookDocument | undefined;
  const viewer = registerWorldViewer(context, {
    sendComm: (target, data) => {
      const nb = viewerNotebook ?? vscode.window.activeNotebookEditor?.notebook;
      const kernel = nb && controller.kernelOf(nb);
      if (!kernel || kernel.state === "stopped") {
        line(`World Viewer: no running nextframe kernel for ${target} message`);
        throw new Error("the notebook's kernel is not running: run the play cell again");
      }
      kernel.sendComm(target, data);
    },
  });
  /** The column of the notebook's editor, so that the World Viewer opens beside it. */
  const columnOf = (nb: vscode.NotebookDocument) =>
    vscode.window.visibleNotebookEditors.find((e) => e.notebook === nb)?.viewColumn ?? vscode.window.activeNotebookEditor?.viewColumn;

  const activeNotebook = () => vscode.window.activeNotebookEditor?.notebook;
  // interact() controls in the nextframe renderer post their values; they go to that notebook's kernel
  const rendererMessaging = vscode.notebooks.createRendererMessaging("nextframe-renderer");
  context.subscriptions.push(
    rendererMessaging.onDidReceiveMessage(({ editor, message }) => {
      const why = routeInteractMessage(message, controller.kernelOf(editor.notebook));
      if (why) line(why);
    }),
    log,
    controller,
    registerLanguageFeatures(controller),
    new KernelStatusBar(controller),
    controller.onDidReceiveComm(({ notebook, target, data }) => {
      if (target !== "worldViewer") return;
      viewerNotebook = notebook;
      viewer.onKernelComm(data, columnOf(notebook));
    }),
    controller.onDidChangeKernelState(({ notebook, state }) => {
      if (notebook === viewerNotebook && (state === "restarting" || state === "stopped")) {
        viewer.kernelGone(`the kernel ${state === "stopped" ? "stopped" : "restarted"}; run the play cell again`);
      }
    }),
    vscode.commands.registerCommand("nextframe.restartKernel", async () => {
      const nb = activeNotebook();
      if (nb) await controller.restart(nb);
    }),
    vscode.commands.registerCommand("nextframe.showKernelLog", () => log.show(true)),
    registerOpenCourse(context, NextframeController.id, line),
    registerResetChapter(context, line),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("nextframe.kernel")) {
        line("kernel settings changed; they apply when a kernel (re)starts (nextframe.restartKernel)");
      }
    }),
  );
}

export function deactivate(): void {}
