// In-extension-host integration suite: VS Code loads this file as `extensionTestsPath` (next to
// `extensionDevelopmentPath` = this project) and calls run() inside the extension host, where the `vscode` API is
// available. code-server takes both from its `payload` URL parameter (test/e2e/host.e2e.test.ts); VS Code desktop
// from its command line (test/e2e/desktop.e2e.test.ts). Plain CommonJS because the extension host require()s it.
//
// It drives the fixture notebook (e2e.ipynb in the opened folder) through the API, not the UI, and checks the
// outputs' MIME types and data. Results go to the JSON file named by NEXTFRAME_HOST_TEST_RESULT (the extension
// host inherits the environment of the server that starts it); run() rejects when a check failed, which makes
// the extension host exit with code 1.
"use strict";
const vscode = require("vscode");
const assert = require("node:assert/strict");
const fs = require("node:fs");

const EXTENSION_ID = "nextframe.nextframe";
const KERNEL_LABEL = "TypeScript (nextframe)";
const CONTROLLER_ID = "nextframe-kernel"; // extension/controller.ts NextframeController.id
const STDOUT = "application/vnd.code.notebook.stdout";
const ERROR = "application/vnd.code.notebook.error";
const TABLE = "application/vnd.nextframe.table+json";

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await pause(100);
  }
}

const text = (item) => new TextDecoder().decode(item.data);
const describe = (cell) => JSON.stringify(cell.outputs.map((o) => o.items.map((i) => [i.mime, text(i).slice(0, 400)])));
const items = (cell, mime) => cell.outputs.flatMap((o) => o.items).filter((i) => i.mime === mime);

/** Index of the code cell whose source contains `snippet`. */
function cellIndex(nb, snippet) {
  const i = nb.getCells().findIndex((c) => c.kind === vscode.NotebookCellKind.Code && c.document.getText().includes(snippet));
  assert.ok(i >= 0, `no code cell containing ${JSON.stringify(snippet)}`);
  return i;
}

/** Starts a cell and resolves when it has ended (the execute command may return before the cell finishes). */
async function runCell(nb, i, timeoutMs = 120_000) {
  const before = nb.cellAt(i).executionSummary?.executionOrder;
  await vscode.commands.executeCommand("notebook.cell.execute", { ranges: [{ start: i, end: i + 1 }], document: nb.uri });
  return until(`cell ${i} to finish`, timeoutMs, async () => {
    const s = nb.cellAt(i).executionSummary;
    return s && s.timing && s.success !== undefined && s.executionOrder !== before ? nb.cellAt(i) : undefined;
  });
}

exports.run = async function run() {
  const resultFile = process.env.NEXTFRAME_HOST_TEST_RESULT;
  /** @type {{ name: string, ok: boolean, ms: number, error?: string }[]} */
  const results = [];
  const write = () => resultFile && fs.writeFileSync(resultFile, JSON.stringify({ vscode: vscode.version, results }, null, 2));
  async function test(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: Date.now() - t0 });
    } catch (e) {
      results.push({ name, ok: false, ms: Date.now() - t0, error: String((e && e.stack) || e) });
    }
    write();
  }

  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  let nb;
  let editor;
  await test("the extension activates for a Jupyter notebook", async () => {
    assert.ok(folder, "a folder is open");
    nb = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder.uri, "e2e.ipynb"));
    assert.equal(nb.notebookType, "jupyter-notebook");
    editor = await vscode.window.showNotebookDocument(nb);
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    await until(`${EXTENSION_ID} to activate`, 60_000, async () => (ext.isActive ? true : undefined));
  });

  await test(`the kernel "${KERNEL_LABEL}" can be selected`, async () => {
    // With an id that matches no kernel, VS Code falls back to showing the picker and would wait for a person.
    const selected = vscode.commands.executeCommand("notebook.selectKernel", { notebookEditor: editor, id: CONTROLLER_ID, extension: EXTENSION_ID });
    await Promise.race([selected, pause(30_000).then(() => { throw new Error(`no kernel ${EXTENSION_ID}/${CONTROLLER_ID}: the kernel picker opened instead`); })]);
  });

  await test("stdout streams into the cell and state carries over", async () => {
    const cell = await runCell(nb, cellIndex(nb, "hello from the nextframe kernel"));
    assert.equal(cell.executionSummary.success, true, `the cell succeeds: ${describe(cell)}`);
    assert.equal(typeof cell.executionSummary.executionOrder, "number", "it gets an execution order number");
    assert.match(items(cell, STDOUT).map(text).join(""), /hello from the nextframe kernel/);
  });

  await test("a runtime error is an error output pointing at the cell's line", async () => {
    const cell = await runCell(nb, cellIndex(nb, "kaboom from the fixture"));
    assert.equal(cell.executionSummary.success, false);
    const errs = items(cell, ERROR).map((i) => JSON.parse(text(i)));
    assert.equal(errs.length, 1, `one error output, got ${JSON.stringify(cell.outputs.map((o) => o.items.map((i) => i.mime)))}`);
    assert.match(errs[0].message, /kaboom from the fixture/);
    assert.match(errs[0].stack ?? "", /:2:\d+/, `the stack names line 2 of the cell:\n${errs[0].stack}`);
  });

  await test("interrupt stops a runaway cell; the next cell sees earlier state", async () => {
    const i = cellIndex(nb, "while (true)");
    const started = vscode.commands.executeCommand("notebook.cell.execute", { ranges: [{ start: i, end: i + 1 }], document: nb.uri });
    // Running, not queued or still compiling: its first line has printed (stdout streams while a cell runs).
    await until("the runaway cell to print before spinning", 60_000,
      async () => (/spinning until interrupted/.test(items(nb.cellAt(i), STDOUT).map(text).join("")) ? true : undefined));
    const t0 = Date.now();
    await vscode.commands.executeCommand("notebook.cell.cancelExecution", { ranges: [{ start: i, end: i + 1 }], document: nb.uri });
    await until("the interrupted cell to end", 30_000, async () => (nb.cellAt(i).executionSummary?.timing ? true : undefined));
    await started;
    assert.equal(nb.cellAt(i).executionSummary.success, false, "an interrupted cell ends as failed");
    const stoppedIn = Date.now() - t0;
    const next = await runCell(nb, cellIndex(nb, "after the interrupt"));
    assert.equal(next.executionSummary.success, true, `the cell after the interrupt failed: ${describe(next)}; interrupted cell: ${describe(nb.cellAt(i))}`);
    assert.match(items(next, STDOUT).map(text).join(""), /after the interrupt, answer \+ 1 = 42/);
    assert.ok(stoppedIn < 30_000, `interrupt took ${stoppedIn} ms`); // the 2 s bound is kernel/process's test
  });

  await test("showTable produces the nextframe table MIME bundle with an HTML fallback", async () => {
    const cell = await runCell(nb, cellIndex(nb, "showTable"));
    assert.equal(cell.executionSummary.success, true, JSON.stringify(cell.outputs.map((o) => o.items.map((i) => [i.mime, text(i).slice(0, 300)]))));
    const table = items(cell, TABLE).map((i) => JSON.parse(text(i)));
    assert.equal(table.length, 1, "one table output item");
    assert.equal(table[0].title, "e2e losses");
    assert.deepEqual(table[0].columns, ["step", "loss"]);
    assert.deepEqual(table[0].rows, [[1, 0.5], [2, 0.25]]);
    assert.match(items(cell, "text/html").map(text).join(""), /<caption>e2e losses<\/caption>/);
  });

  await test("display updates that arrive together after the cell ended all land, the last one shown", async () => {
    // A moved slider (interact) or a timer sends updates after its cell ended; each is written through a short
    // execution of that cell, and VS Code allows one at a time: a second one started at once was dropped.
    const cell = await runCell(nb, cellIndex(nb, "late update"));
    assert.equal(cell.executionSummary.success, true, describe(cell));
    await until("the last late update", 30_000, async () =>
      (items(nb.cellAt(cell.index), "text/plain").map(text).join("") === "late update 6" ? true : undefined))
      .catch((e) => { throw new Error(`${e.message}; outputs: ${describe(nb.cellAt(cell.index))}`); });
    assert.equal(nb.cellAt(cell.index).outputs.length, 1, "updated in place, not appended");
  });

  // "nextframe: Open the Course" (extension/course.ts). With a folder argument it copies without the folder dialog;
  // the development extension's notebooks/ folder is the course it ships.
  const CHAPTER_1 = "01-next-token.ipynb";
  const closeNotebook = async (uri) => {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputNotebook && t.input.uri.toString() === uri.toString());
    await vscode.window.tabGroups.close(tabs);
  };
  const courseTmp = fs.mkdtempSync(require("node:path").join(require("node:os").tmpdir(), "nextframe-course-host-"));
  await test("Open the Course copies the shipped course into a new folder and opens chapter 1 with the kernel", async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    const bundled = vscode.Uri.joinPath(ext.extensionUri, "notebooks").fsPath;
    const dest = vscode.Uri.file(`${courseTmp}/course`);
    const r = await vscode.commands.executeCommand("nextframe.openCourse", dest);
    assert.ok(r, "the command returned a result");
    assert.equal(r.from, "copied");
    assert.equal(r.notebook.toString(), vscode.Uri.joinPath(dest, CHAPTER_1).toString());
    assert.equal(r.kernelSelected, true, "the nextframe kernel was selected for chapter 1");
    const active = vscode.window.activeNotebookEditor;
    assert.ok(active, "a notebook editor is active");
    assert.equal(active.notebook.uri.toString(), r.notebook.toString(), "chapter 1 is the active notebook");
    assert.ok(active.notebook.cellCount > 5, "chapter 1 opened as a notebook with its cells");
    const chapters = fs.readdirSync(dest.fsPath).filter((f) => /^0\d-.*\.ipynb$/.test(f));
    assert.equal(chapters.length, 8, `eight chapters copied: ${chapters}`);
    const checkpoints = fs.readdirSync(`${dest.fsPath}/checkpoints`);
    assert.ok(checkpoints.some((f) => f.endsWith(".safetensors")), `checkpoints copied: ${checkpoints}`);
    for (const f of [CHAPTER_1, "README.md", ...checkpoints.map((c) => `checkpoints/${c}`)]) {
      assert.ok(fs.readFileSync(`${dest.fsPath}/${f}`).equals(fs.readFileSync(`${bundled}/${f}`)), `${f} is a byte-for-byte copy`);
    }
    assert.deepEqual(fs.readdirSync(dest.fsPath).filter((f) => f.startsWith(".")), [], "no staging folder left");
    await closeNotebook(r.notebook);
  });

  await test("Open the Course opens the workspace's notebooks/01-next-token.ipynb when the folder has the course", async () => {
    const mine = vscode.Uri.joinPath(folder.uri, "notebooks", CHAPTER_1);
    fs.mkdirSync(vscode.Uri.joinPath(folder.uri, "notebooks").fsPath, { recursive: true });
    fs.copyFileSync(`${courseTmp}/course/${CHAPTER_1}`, mine.fsPath);
    try {
      const r = await vscode.commands.executeCommand("nextframe.openCourse");
      assert.ok(r, "the command returned a result (no folder dialog)");
      assert.equal(r.from, "workspace");
      assert.equal(r.notebook.toString(), mine.toString());
      assert.equal(vscode.window.activeNotebookEditor?.notebook.uri.toString(), mine.toString());
      assert.equal(r.kernelSelected, true);
      await closeNotebook(mine);
    } finally {
      fs.rmSync(vscode.Uri.joinPath(folder.uri, "notebooks").fsPath, { recursive: true, force: true });
    }
  });
  fs.rmSync(courseTmp, { recursive: true, force: true });

  write();
  await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor").then(undefined, () => undefined);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} host test(s) failed:\n${failed.map((f) => `${f.name}: ${f.error}`).join("\n")}`);
};
