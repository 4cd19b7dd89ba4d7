/**
 * Copying the course that ships in the extension (notebooks/: the chapters, their map and the checkpoints) into a
 * folder of the user's. Pure logic over a tiny file-system interface and "/"-separated paths, so it runs under
 * node:test with node:fs (courseCopy.test.ts) and in VS Code with vscode.workspace.fs (course.ts), remote included.
 *
 * Layout of the copy: the folder the user picks becomes the course folder —
 *   <dest>/01-next-token.ipynb … 08-…ipynb, README.md, WORKSHOP.md, chapters.json, timings.json, checkpoints/*.safetensors|json
 * The kernel runs with the notebook's folder as cwd, and checkpointsDir() finds <dest>/checkpoints from there.
 *
 * Never overwrites without being told to: planCourseCopy() lists the files that already exist, the caller asks the
 * user, and copyCourse() either overwrites them or keeps them. The copy is staged in a hidden folder inside <dest>
 * and each file is then renamed into place, so an interrupted or failed copy leaves no half-written notebook.
 */
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import { posix } from "node:path";

export const CHAPTER_1 = "01-next-token.ipynb";

export type EntryType = "file" | "directory";

/** The few file-system calls the copy needs; absolute "/"-separated paths. */
export interface CourseFs {
  /** undefined when nothing is there */
  stat(path: string): Promise<EntryType | undefined>;
  readDirectory(path: string): Promise<[name: string, type: EntryType][]>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  createDirectory(path: string): Promise<void>;
  /** replaces `to` when it exists */
  rename(from: string, to: string): Promise<void>;
  /** recursive; no error when missing */
  delete(path: string): Promise<void>;
}

/** Which files of the bundled notebooks/ folder are the course (paths relative to it, "/"-separated). */
export function isCourseFile(rel: string): boolean {
  const parts = rel.split("/");
  if (parts.some((p) => p === "" || p.startsWith("."))) return false; // .ipynb_checkpoints, staging folders, dot files
  if (parts.length === 1) return /\.ipynb$/.test(rel) || ["README.md", "WORKSHOP.md", "chapters.json", "timings.json"].includes(rel);
  return parts.length === 2 && parts[0] === "checkpoints" && /\.(safetensors|json)$/.test(parts[1]);
}

export interface CoursePlan {
  /** every course file, relative to the source (= to the destination) */
  files: string[];
  /** the ones that already exist in the destination */
  conflicts: string[];
}

/** Lists the course files under `src` and which of them exist under `dest` (which need not exist). */
export async function planCourseCopy(fs: CourseFs, src: string, dest: string): Promise<CoursePlan> {
  if ((await fs.stat(posix.join(src, CHAPTER_1))) !== "file") {
    throw new Error(`planCourseCopy: no course in ${src}: expected ${CHAPTER_1} there`);
  }
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const [name, type] of await fs.readDirectory(posix.join(src, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (type === "directory") await walk(r);
      else if (isCourseFile(r)) files.push(r);
    }
  };
  await walk("");
  files.sort();
  const conflicts: string[] = [];
  for (const f of files) {
    const t = await fs.stat(posix.join(dest, f));
    if (t === "directory") throw new Error(`planCourseCopy: ${posix.join(dest, f)} is a folder; expected a file or nothing`);
    if (t) conflicts.push(f);
  }
  return { files, conflicts };
}

export interface CopyResult {
  copied: string[];
  /** conflicts left as they were (overwrite: false) */
  kept: string[];
}

/**
 * Copies `plan.files` from `src` to `dest`, creating `dest` if needed. Files in `plan.conflicts` are replaced only
 * with `overwrite: true`, else kept. A file that appeared in `dest` after planning is kept too (never overwritten
 * unasked). All files are first written into `dest/.nextframe-course-<random>/`, then renamed into place; the
 * staging folder is removed whatever happens.
 */
export async function copyCourse(
  fs: CourseFs, src: string, dest: string, plan: CoursePlan,
  opts: { overwrite: boolean; onProgress?: (done: number, total: number) => void },
): Promise<CopyResult> {
  const conflicts = new Set(plan.conflicts);
  const kept: string[] = [];
  const todo: string[] = [];
  for (const f of plan.files) {
    if (conflicts.has(f) && !opts.overwrite) kept.push(f);
    else if (!conflicts.has(f) && (await fs.stat(posix.join(dest, f)))) kept.push(f); // appeared meanwhile
    else todo.push(f);
  }
  await fs.createDirectory(dest);
  const stage = posix.join(dest, `.nextframe-course-${Math.random().toString(36).slice(2, 10)}`);
  try {
    await fs.createDirectory(stage);
    let done = 0;
    for (const f of todo) {
      const dir = posix.dirname(f);
      if (dir !== ".") await fs.createDirectory(posix.join(stage, dir));
      await fs.writeFile(posix.join(stage, f), await fs.readFile(posix.join(src, f)));
      opts.onProgress?.(++done, todo.length * 2);
    }
    for (const f of todo) {
      const dir = posix.dirname(f);
      if (dir !== ".") await fs.createDirectory(posix.join(dest, dir));
      await fs.rename(posix.join(stage, f), posix.join(dest, f));
      opts.onProgress?.(++done, todo.length * 2);
    }
  } finally {
    await fs.delete(stage);
  }
  return { copied: todo, kept };
}

// ##### a working copy that follows course updates ###########################################################

/**
 * What a working copy was made from: for each course file, the sha256 of the course's version that was last copied
 * into it. Kept beside the chapters as .nextframe-course.json; a file whose content still has that hash was not
 * edited by the learner, so a newer course version may replace it.
 */
export interface CourseManifest {
  files: Record<string, string>;
}

export const MANIFEST = ".nextframe-course.json";

export interface SyncResult {
  /** new in the course (or missing in the copy): copied */
  copied: string[];
  /** changed in the course and not edited in the copy: replaced by the course's new version */
  updated: string[];
  /** edited in the copy (and changed in the course, or never recorded): left as the learner has it */
  kept: string[];
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function readManifest(fs: CourseFs, dest: string): Promise<CourseManifest> {
  const p = posix.join(dest, MANIFEST);
  if ((await fs.stat(p)) !== "file") return { files: {} };
  try {
    const m = JSON.parse(new TextDecoder().decode(await fs.readFile(p))) as CourseManifest;
    return m && typeof m.files === "object" && m.files !== null ? m : { files: {} };
  } catch {
    return { files: {} }; // unreadable: treat every existing file as the learner's
  }
}

/** Writes `data` to `path` through a temporary file in the same folder and a rename: never half a file. */
async function writeAtomically(fs: CourseFs, path: string, data: Uint8Array): Promise<void> {
  const tmp = posix.join(posix.dirname(path), `.${posix.basename(path)}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } finally {
    await fs.delete(tmp);
  }
}

/**
 * Brings the working copy `dest` up to date with the course in `src` (the repository's notebooks/ after a
 * `git pull`, or the extension's): course files missing in the copy are copied; files the learner has not edited
 * since they were copied get the course's new version; files the learner edited are kept (Reset Chapter restores
 * one). The repository is only read, so its notebooks stay clean and pull without conflicts.
 */
export async function syncWorkingCopy(fs: CourseFs, src: string, dest: string): Promise<SyncResult> {
  const plan = await planCourseCopy(fs, src, dest);
  const manifest = await readManifest(fs, dest);
  const result: SyncResult = { copied: [], updated: [], kept: [] };
  await fs.createDirectory(dest);
  for (const f of plan.files) {
    const data = await fs.readFile(posix.join(src, f));
    const srcHash = sha256(data);
    const target = posix.join(dest, f);
    if ((await fs.stat(target)) === undefined) {
      const dir = posix.dirname(f);
      if (dir !== ".") await fs.createDirectory(posix.join(dest, dir));
      await writeAtomically(fs, target, data);
      manifest.files[f] = srcHash;
      result.copied.push(f);
      continue;
    }
    const destHash = sha256(await fs.readFile(target));
    if (destHash === srcHash) {
      manifest.files[f] = srcHash;
    } else if (manifest.files[f] === destHash) {
      await writeAtomically(fs, target, data);
      manifest.files[f] = srcHash;
      result.updated.push(f);
    } else {
      result.kept.push(f);
    }
  }
  await writeAtomically(fs, posix.join(dest, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
  return result;
}

/**
 * Puts the course's version of one file (a chapter, e.g. "03-space-time.ipynb") over the working copy's, and records
 * it, so later course updates reach it again. Throws when `rel` is not a course file in `src`.
 */
export async function resetCourseFile(fs: CourseFs, src: string, dest: string, rel: string): Promise<void> {
  if (!isCourseFile(rel) || (await fs.stat(posix.join(src, rel))) !== "file") {
    throw new Error(`reset: ${rel} is not a file of the course in ${src} (expected a chapter such as ${CHAPTER_1})`);
  }
  const data = await fs.readFile(posix.join(src, rel));
  await writeAtomically(fs, posix.join(dest, rel), data);
  const manifest = await readManifest(fs, dest);
  manifest.files[rel] = sha256(data);
  await writeAtomically(fs, posix.join(dest, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
}

/** CourseFs over node:fs (the start script and the tests; the extension uses vscode.workspace.fs). */
export function nodeCourseFs(): CourseFs {
  return {
    stat: async (p) => {
      try {
        return (await fsp.stat(p)).isDirectory() ? "directory" : "file";
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    readDirectory: async (p) =>
      (await fsp.readdir(p, { withFileTypes: true })).map((d): [string, EntryType] => [d.name, d.isDirectory() ? "directory" : "file"]),
    readFile: (p) => fsp.readFile(p),
    writeFile: (p, data) => fsp.writeFile(p, data),
    createDirectory: async (p) => void (await fsp.mkdir(p, { recursive: true })),
    rename: (a, b) => fsp.rename(a, b),
    delete: (p) => fsp.rm(p, { recursive: true, force: true }),
  };
}
