/**
 * Completion and hover in TypeScript cells of .ipynb notebooks, answered by the notebook's kernel: tslab's
 * converter sees the earlier cells' declarations, which VS Code's own TypeScript service (one cell at a time)
 * does not.
 */
import * as vscode from "vscode";
import type { NextframeController } from "./controller";

const selector: vscode.DocumentSelector = { notebookType: "jupyter-notebook", language: "typescript" };

/** TypeScript's ScriptElementKind → VS Code's completion kind. */
const kinds: Record<string, vscode.CompletionItemKind> = {
  keyword: vscode.CompletionItemKind.Keyword,
  var: vscode.CompletionItemKind.Variable,
  let: vscode.CompletionItemKind.Variable,
  const: vscode.CompletionItemKind.Constant,
  "local var": vscode.CompletionItemKind.Variable,
  function: vscode.CompletionItemKind.Function,
  "local function": vscode.CompletionItemKind.Function,
  method: vscode.CompletionItemKind.Method,
  property: vscode.CompletionItemKind.Property,
  getter: vscode.CompletionItemKind.Property,
  setter: vscode.CompletionItemKind.Property,
  class: vscode.CompletionItemKind.Class,
  interface: vscode.CompletionItemKind.Interface,
  type: vscode.CompletionItemKind.TypeParameter,
  enum: vscode.CompletionItemKind.Enum,
  "enum member": vscode.CompletionItemKind.EnumMember,
  module: vscode.CompletionItemKind.Module,
  alias: vscode.CompletionItemKind.Reference,
  parameter: vscode.CompletionItemKind.Variable,
};

function notebookOf(doc: vscode.TextDocument): vscode.NotebookDocument | undefined {
  return vscode.workspace.notebookDocuments.find((nb) => nb.getCells().some((c) => c.document === doc));
}

export function registerLanguageFeatures(controller: NextframeController): vscode.Disposable {
  const completion = vscode.languages.registerCompletionItemProvider(selector, {
    async provideCompletionItems(doc, position) {
      const nb = notebookOf(doc);
      const kernel = nb && controller.kernelOf(nb);
      if (!kernel || kernel.state !== "idle") return undefined;
      const r = await kernel.complete(doc.getText(), doc.offsetAt(position));
      if (!r) return undefined;
      const range = new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end));
      return r.entries.map((e, i) => {
        const item = new vscode.CompletionItem(e.name, kinds[e.kind] ?? vscode.CompletionItemKind.Text);
        item.range = range;
        item.sortText = String(i).padStart(5, "0");
        return item;
      });
    },
  }, ".");
  const hover = vscode.languages.registerHoverProvider(selector, {
    async provideHover(doc, position) {
      const nb = notebookOf(doc);
      const kernel = nb && controller.kernelOf(nb);
      if (!kernel || kernel.state !== "idle") return undefined;
      const r = await kernel.inspect(doc.getText(), doc.offsetAt(position));
      if (!r) return undefined;
      const md = new vscode.MarkdownString().appendCodeblock(r.text, "typescript");
      return new vscode.Hover(md, new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.start + r.length)));
    },
  });
  return vscode.Disposable.from(completion, hover);
}
