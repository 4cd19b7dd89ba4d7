/**
 * "nextframe: Open the Course" (nextframe.openCourse), the walkthrough's first step. If a workspace folder holds
 * the course (notebooks/01-next-token.ipynb, or 01-next-token.ipynb at its top), it opens chapter 1 there.
 * Otherwise it copies the course that ships in the extension (<extension>/notebooks: chapters, map, checkpoints)
 * into a folder the user picks (default ~/nextframe-course), asking before it replaces any existing file, and opens
 * chapter 1 with the "TypeScript (nextframe)" kernel selected. Files go through vscode.workspace.fs, so it works in
 * remote windows and code-server too; the copy logic itself is courseCopy.ts.
 *
 * The command takes an optional folder Uri (scripts, tests): copy there without showing the folder dialog.
 * It returns where chapter 1 opened and whether the kernel was selected, or undefined when the user cancelled.
 *
 * "nextframe: Reset Chapter" (nextframe.resetChapter) puts the course's version of one chapter (the active notebook,
 * or one picked from a list) over the learner's copy, after asking, and reloads it.
 */
import * as os from "node:os";
import * as vscode from "vscode";
import { posix } from "node:path";
import { CHAPTER_1, type CourseFs, type EntryType, copyCourse, isCourseFile, planCourseCopy, resetCourseFile } from "./courseCopy";

export interface OpenCourseResult {
  notebook: vscode.Uri;
  /** "workspace": the open folder's course; "copied": copied from the extension now */
  from: "workspace" | "copied";
  kernelSelected: boolean;
}

export function registerOpenCourse(
  context: vscode.ExtensionContext, controllerId: string, log: (line: string) => void,
): vscode.Disposable {
  return vscode.commands.registerCommand("nextframe.openCourse", async (target?: vscode.Uri) => {
    try {
      return await openCourse(context, controllerId, log, target instanceof vscode.Uri ? target : undefined);
    } catch (e) {
      log(`open the course: ${(e as Error).stack ?? e}`);
      void vscode.window.showErrorMessage(`nextframe: could not open the course: ${(e as Error).message}`);
      return undefined;
    }
  });
}

async function openCourse(
  context: vscode.ExtensionContext, controllerId: string, log: (line: string) => void, target: vscode.Uri | undefined,
): Promise<OpenCourseResult | undefined> {
  if (!target) {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const rel of [`notebooks/${CHAPTER_1}`, CHAPTER_1]) {
        const uri = vscode.Uri.joinPath(folder.uri, rel);
        if ((await statUri(uri)) === "file") {
          log(`open the course: chapter 1 of the workspace, ${uri.toString()}`);
          return { notebook: uri, from: "workspace", kernelSelected: await openChapter(uri, context, controllerId, log) };
        }
      }
    }
  }

  const src = vscode.Uri.joinPath(context.extensionUri, "notebooks");
  const dest = target ?? (await pickFolder());
  if (!dest) return undefined;
  const fs = workspaceFs([src, dest]);
  const plan = await planCourseCopy(fs, src.path, dest.path);

  let overwrite = false;
  if (plan.conflicts.length) {
    const overwriteItem = "Replace Them";
    const keepItem = "Keep Mine";
    const shown = plan.conflicts.slice(0, 6).join(", ") + (plan.conflicts.length > 6 ? ", …" : "");
    const answer = await vscode.window.showWarningMessage(
      `${plan.conflicts.length} of the course's ${plan.files.length} files already exist in ${dest.fsPath}.`,
      {
        modal: true,
        detail: `${shown}\n\n"${keepItem}" leaves them as they are (your edits and retrained checkpoints stay) and copies only what is missing; "${overwriteItem}" puts the original course files in their place.`,
      },
      keepItem, overwriteItem,
    );
    if (!answer) return undefined;
    overwrite = answer === overwriteItem;
  }

  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "nextframe: copying the course" },
    async (progress) => {
      let last = 0;
      return copyCourse(fs, src.path, dest.path, plan, {
        overwrite,
        onProgress: (done, total) => {
          const pct = (100 * done) / total;
          progress.report({ increment: pct - last });
          last = pct;
        },
      });
    },
  );
  log(`open the course: copied ${result.copied.length} files to ${dest.toString()}, kept ${result.kept.length} existing ones`);

  const chapter = vscode.Uri.joinPath(dest, CHAPTER_1);
  const kernelSelected = await openChapter(chapter, context, controllerId, log);
  if (!target) {
    void vscode.window.showInformationMessage(
      `The course is in ${dest.fsPath}: eight chapters, README.md is the map.`, "Open Folder",
    ).then((a) => (a ? vscode.commands.executeCommand("vscode.openFolder", dest) : undefined));
  }
  return { notebook: chapter, from: "copied", kernelSelected };
}

export function registerResetChapter(context: vscode.ExtensionContext, log: (line: string) => void): vscode.Disposable {
  return vscode.commands.registerCommand("nextframe.resetChapter", async (target?: vscode.Uri) => {
    try {
      return await resetChapter(context, log, target instanceof vscode.Uri ? target : undefined);
    } catch (e) {
      log(`reset chapter: ${(e as Error).stack ?? e}`);
      void vscode.window.showErrorMessage(`nextframe: could not reset the chapter: ${(e as Error).message}`);
      return undefined;
    }
  });
}

/** The chapter to reset: `target`, the active notebook if it is a chapter, or one the user picks. */
async function chapterToReset(src: vscode.Uri, target: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeNotebookEditor?.notebook.uri;
  const given = target ?? active;
  if (given && isCourseFile(posix.basename(given.path)) && given.path.endsWith(".ipynb")) return given;
  const chapters = (await vscode.workspace.fs.readDirectory(src)).map(([n]) => n).filter((n) => /^\d\d[a-z]?-.*\.ipynb$/.test(n)).sort();
  const folder = (vscode.workspace.workspaceFolders ?? [])[0];
  if (!folder) throw new Error("open the folder of your copy of the course first (npm start opens it), or run this in a chapter");
  const picked = await vscode.window.showQuickPick(chapters, { title: "nextframe: reset which chapter to the course's version?" });
  if (!picked) return undefined;
  for (const rel of [picked, `notebooks/${picked}`]) {
    const uri = vscode.Uri.joinPath(folder.uri, rel);
    if ((await statUri(uri)) === "file") return uri;
  }
  throw new Error(`${picked} is not in ${folder.uri.fsPath}: open the folder of your copy of the course (npm start opens it)`);
}

async function resetChapter(
  context: vscode.ExtensionContext, log: (line: string) => void, target: vscode.Uri | undefined,
): Promise<vscode.Uri | undefined> {
  const src = vscode.Uri.joinPath(context.extensionUri, "notebooks");
  const chapter = await chapterToReset(src, target);
  if (!chapter) return undefined;
  const name = posix.basename(chapter.path);
  const dest = chapter.with({ path: posix.dirname(chapter.path) });
  if (dest.toString() === src.toString()) {
    void vscode.window.showInformationMessage(
      `${name} is the course's own file (the nextframe folder's notebooks/), not a copy: there is nothing to reset it ` +
      "to. npm start opens a working copy of the course; use that, or git to restore this file.");
    return undefined;
  }
  const resetItem = "Reset Chapter";
  const answer = await vscode.window.showWarningMessage(`Reset ${name} to the course's version?`, {
    modal: true,
    detail: "Your edits and outputs in this chapter are replaced by the course's. Other chapters and the checkpoints stay as they are.",
  }, resetItem);
  if (answer !== resetItem) return undefined;
  await resetCourseFile(workspaceFs([src, dest]), src.path, dest.path, name);
  log(`reset chapter: ${chapter.toString()} is the course's version again`);
  const open = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === chapter.toString());
  if (open) {
    await vscode.window.showNotebookDocument(open);
    await vscode.commands.executeCommand("workbench.action.files.revert");
  }
  void vscode.window.showInformationMessage(`${name} is the course's version again.`);
  return chapter;
}

/** The folder dialog, starting at ~/nextframe-course (created for it; removed again if it stays unused and empty). */
async function pickFolder(): Promise<vscode.Uri | undefined> {
  const suggested = vscode.Uri.file(`${os.homedir()}/nextframe-course`);
  let created = false;
  if (!(await statUri(suggested))) {
    await vscode.workspace.fs.createDirectory(suggested).then(() => (created = true), () => undefined);
  }
  const picked = await vscode.window.showOpenDialog({
    title: "nextframe: where should the course go?",
    defaultUri: suggested,
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: "Copy the Course Here",
  });
  const dest = picked?.[0];
  if (created && dest?.toString() !== suggested.toString()) {
    const left = await vscode.workspace.fs.readDirectory(suggested).then((e) => e.length, () => 1);
    if (left === 0) await vscode.workspace.fs.delete(suggested, { recursive: true }).then(undefined, () => undefined);
  }
  return dest;
}

/** Opens a chapter and selects the nextframe kernel for it; false when the kernel could not be selected. */
async function openChapter(
  uri: vscode.Uri, context: vscode.ExtensionContext, controllerId: string, log: (line: string) => void,
): Promise<boolean> {
  const doc = await vscode.workspace.openNotebookDocument(uri);
  const editor = await vscode.window.showNotebookDocument(doc);
  // With a matching id VS Code selects the kernel at once; otherwise it would show the kernel picker and wait for
  // the user, so the wait is bounded and the picker left to them.
  const selected = Promise.resolve(vscode.commands.executeCommand("notebook.selectKernel", {
    notebookEditor: editor, id: controllerId, extension: context.extension.id,
  })).then(() => true, (e: unknown) => {
    log(`open the course: selecting the kernel failed: ${e}`);
    return false;
  });
  const ok = await Promise.race([selected, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
  if (!ok) log(`open the course: the kernel ${context.extension.id}/${controllerId} was not selected for ${uri.toString()}`);
  return ok;
}

async function statUri(uri: vscode.Uri): Promise<EntryType | undefined> {
  try {
    const s = await vscode.workspace.fs.stat(uri);
    return s.type & vscode.FileType.Directory ? "directory" : "file";
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === "FileNotFound") return undefined;
    throw e;
  }
}

/** CourseFs over vscode.workspace.fs; a path belongs to the root whose path it starts with (same scheme and host). */
function workspaceFs(roots: vscode.Uri[]): CourseFs {
  const byLength = [...roots].sort((a, b) => b.path.length - a.path.length);
  const uri = (path: string): vscode.Uri => {
    const root = byLength.find((r) => path === r.path || path.startsWith(r.path.endsWith("/") ? r.path : `${r.path}/`));
    if (!root) throw new Error(`open the course: ${path} is outside ${roots.map((r) => r.toString()).join(" and ")}`);
    return root.with({ path });
  };
  const wfs = vscode.workspace.fs;
  return {
    stat: (p) => statUri(uri(p)),
    readDirectory: async (p) => (await wfs.readDirectory(uri(p))).map(([name, type]): [string, EntryType] =>
      [name, type & vscode.FileType.Directory ? "directory" : "file"]),
    readFile: (p) => Promise.resolve(wfs.readFile(uri(p))),
    writeFile: (p, data) => Promise.resolve(wfs.writeFile(uri(p), data)),
    createDirectory: (p) => Promise.resolve(wfs.createDirectory(uri(p))),
    rename: (a, b) => Promise.resolve(wfs.rename(uri(a), uri(b), { overwrite: true })),
    delete: async (p) => {
      try {
        await wfs.delete(uri(p), { recursive: true, useTrash: false });
      } catch (e) {
        if (!(e instanceof vscode.FileSystemError && e.code === "FileNotFound")) throw e;
      }
    },
  };
}
