import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fsp from "node:fs/promises";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  CHAPTER_1, type CourseFs, copyCourse, isCourseFile, MANIFEST, nodeCourseFs, planCourseCopy, resetCourseFile, syncWorkingCopy,
} from "./courseCopy";

/** CourseFs over node:fs, optionally failing on the n-th write. */
function nodeFs(failOnWrite?: number): CourseFs & { writes: number } {
  const fs = {
    writes: 0,
    stat: async (p: string) => {
      try {
        return (await fsp.stat(p)).isDirectory() ? "directory" as const : "file" as const;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    readDirectory: async (p: string) =>
      (await fsp.readdir(p, { withFileTypes: true })).map((d) => [d.name, d.isDirectory() ? "directory" : "file"] as [string, "file" | "directory"]),
    readFile: (p: string) => fsp.readFile(p),
    writeFile: async (p: string, data: Uint8Array) => {
      if (++fs.writes === failOnWrite) throw new Error("disk full (simulated)");
      await fsp.writeFile(p, data);
    },
    createDirectory: async (p: string) => void (await fsp.mkdir(p, { recursive: true })),
    rename: (a: string, b: string) => fsp.rename(a, b),
    delete: (p: string) => fsp.rm(p, { recursive: true, force: true }),
  };
  return fs;
}

/** A fake bundled notebooks/ folder with course files and things that are not part of the course. */
function fakeBundle(root: string): string {
  const src = join(root, "ext", "notebooks");
  const files: Record<string, string> = {
    [CHAPTER_1]: "{\"cells\":[]} chapter 1",
    "02-patches.ipynb": "chapter 2",
    "README.md": "map",
    "chapters.json": "[]",
    "timings.json": "{}",
    "checkpoints/gpt-textworld.safetensors": "weights",
    "checkpoints/gpt-textworld.json": "card",
    // not the course:
    "checkpoints/world-model.safetensors.123.tmp": "half-written",
    ".ipynb_checkpoints/01-next-token-checkpoint.ipynb": "jupyter autosave",
    "notes.txt": "scratch",
    "checkpoints/old/x.json": "nested",
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, rel)), { recursive: true });
    writeFileSync(join(src, rel), text);
  }
  return src;
}

const COURSE = [
  CHAPTER_1, "02-patches.ipynb", "README.md", "chapters.json", "checkpoints/gpt-textworld.json",
  "checkpoints/gpt-textworld.safetensors", "timings.json",
].sort();

function withTmp(f: (root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), "nextframe-course-"));
    try {
      await f(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

describe("course copy", () => {
  it("isCourseFile keeps notebooks, the map and checkpoints, nothing else", () => {
    for (const f of [...COURSE, "WORKSHOP.md"]) assert.equal(isCourseFile(f), true, f);
    for (const f of ["notes.txt", ".ipynb_checkpoints/a.ipynb", "checkpoints/x.safetensors.1.tmp", "checkpoints/old/x.json",
      ".nextframe-course-abc/01-next-token.ipynb", "sub/01.ipynb", "/etc/passwd", "../x.ipynb"]) {
      assert.equal(isCourseFile(f), false, f);
    }
  });

  it("copies the course into a folder that does not exist yet, byte for byte, and nothing else", withTmp(async (root) => {
    const src = fakeBundle(root);
    const dest = join(root, "home", "nextframe-course");
    const fs = nodeFs();
    const plan = await planCourseCopy(fs, src, dest);
    assert.deepEqual(plan, { files: COURSE, conflicts: [] });
    const steps: number[] = [];
    const r = await copyCourse(fs, src, dest, plan, { overwrite: false, onProgress: (d, n) => steps.push(d / n) });
    assert.deepEqual(r, { copied: COURSE, kept: [] });
    assert.equal(steps.at(-1), 1);
    for (const f of COURSE) assert.equal(readFileSync(join(dest, f), "utf8"), readFileSync(join(src, f), "utf8"), f);
    assert.deepEqual(readdirSync(dest).sort(), ["01-next-token.ipynb", "02-patches.ipynb", "README.md", "chapters.json", "checkpoints", "timings.json"]);
    assert.deepEqual(readdirSync(join(dest, "checkpoints")).sort(), ["gpt-textworld.json", "gpt-textworld.safetensors"]);
  }));

  it("lists existing files as conflicts and keeps them unless told to overwrite", withTmp(async (root) => {
    const src = fakeBundle(root);
    const dest = join(root, "course");
    mkdirSync(join(dest, "checkpoints"), { recursive: true });
    writeFileSync(join(dest, CHAPTER_1), "my edits");
    writeFileSync(join(dest, "checkpoints/gpt-textworld.safetensors"), "my retrained weights");
    writeFileSync(join(dest, "mine.txt"), "unrelated");
    const fs = nodeFs();
    const plan = await planCourseCopy(fs, src, dest);
    assert.deepEqual(plan.conflicts, [CHAPTER_1, "checkpoints/gpt-textworld.safetensors"]);

    const kept = await copyCourse(fs, src, dest, plan, { overwrite: false });
    assert.deepEqual(kept.kept, plan.conflicts);
    assert.deepEqual(kept.copied, COURSE.filter((f) => !plan.conflicts.includes(f)));
    assert.equal(readFileSync(join(dest, CHAPTER_1), "utf8"), "my edits");
    assert.equal(readFileSync(join(dest, "checkpoints/gpt-textworld.safetensors"), "utf8"), "my retrained weights");
    assert.equal(readFileSync(join(dest, "02-patches.ipynb"), "utf8"), "chapter 2");

    const again = await planCourseCopy(fs, src, dest);
    assert.deepEqual(again.conflicts, COURSE, "a second run sees the whole course there");
    const over = await copyCourse(fs, src, dest, again, { overwrite: true });
    assert.deepEqual(over, { copied: COURSE, kept: [] });
    assert.match(readFileSync(join(dest, CHAPTER_1), "utf8"), /chapter 1/);
    assert.equal(readFileSync(join(dest, "mine.txt"), "utf8"), "unrelated", "files that are not the course stay");
  }));

  it("never overwrites a file that appeared after planning", withTmp(async (root) => {
    const src = fakeBundle(root);
    const dest = join(root, "course");
    const fs = nodeFs();
    const plan = await planCourseCopy(fs, src, dest);
    mkdirSync(dest);
    writeFileSync(join(dest, "README.md"), "written meanwhile");
    const r = await copyCourse(fs, src, dest, plan, { overwrite: true });
    assert.deepEqual(r.kept, ["README.md"]);
    assert.equal(readFileSync(join(dest, "README.md"), "utf8"), "written meanwhile");
  }));

  it("a failed copy leaves no half-written files and no staging folder", withTmp(async (root) => {
    const src = fakeBundle(root);
    const dest = join(root, "course");
    mkdirSync(dest);
    writeFileSync(join(dest, "mine.txt"), "unrelated");
    const fs = nodeFs(3);
    const plan = await planCourseCopy(fs, src, dest);
    await assert.rejects(copyCourse(fs, src, dest, plan, { overwrite: false }), /disk full \(simulated\)/);
    assert.deepEqual(readdirSync(dest), ["mine.txt"]);
  }));

  it("names the folder when there is no course in it, and a folder in the way of a file", withTmp(async (root) => {
    const fs = nodeFs();
    await assert.rejects(planCourseCopy(fs, join(root, "nowhere"), join(root, "d")), /no course in .*nowhere: expected 01-next-token\.ipynb/);
    const src = fakeBundle(root);
    mkdirSync(join(root, "d", "README.md"), { recursive: true });
    await assert.rejects(planCourseCopy(fs, src, join(root, "d")), /d\/README\.md is a folder; expected a file or nothing/);
  }));

  it("the repository's notebooks/ folder is a complete course (what the .vsix ships)", withTmp(async (root) => {
    const src = resolve(__dirname, "..", "notebooks");
    const plan = await planCourseCopy(nodeFs(), src, join(root, "d"));
    for (let n = 1; n <= 8; n++) assert.ok(plan.files.some((f) => f.startsWith(`0${n}-`) && f.endsWith(".ipynb")), `chapter ${n}`);
    for (const f of ["README.md", "chapters.json"]) assert.ok(plan.files.includes(f), f);
    // a card beside its weights; a model's record of variants tried (NAME.tried.json, read by its chapter) beside its card
    const tried = plan.files.filter((f) => /^checkpoints\/.*\.tried\.json$/.test(f));
    const cards = plan.files.filter((f) => /^checkpoints\/.*\.json$/.test(f) && !tried.includes(f));
    assert.ok(cards.length >= 1, "checkpoint cards");
    for (const c of cards) assert.ok(plan.files.includes(c.replace(/\.json$/, ".safetensors")), `weights beside ${c}`);
    for (const t of tried) assert.ok(cards.includes(t.replace(/\.tried\.json$/, ".json")), `a card beside ${t}`);
    assert.ok(existsSync(join(src, CHAPTER_1)));
  }));
});

describe("working copy (npm start, Reset Chapter)", () => {
  const read = (p: string) => readFileSync(p, "utf8");

  it("a first sync copies the course and records it; a second one changes nothing", withTmp(async (root) => {
    const src = fakeBundle(root), dest = join(root, "work"), fs = nodeCourseFs();
    const first = await syncWorkingCopy(fs, src, dest);
    assert.deepEqual(first.copied.sort(), COURSE);
    assert.deepEqual([first.updated, first.kept], [[], []]);
    assert.equal(read(join(dest, "02-patches.ipynb")), "chapter 2");
    assert.deepEqual(Object.keys(JSON.parse(read(join(dest, MANIFEST))).files).sort(), COURSE);
    assert.deepEqual(await syncWorkingCopy(fs, src, dest), { copied: [], updated: [], kept: [] });
    assert.deepEqual(readdirSync(dest).filter((n) => n.endsWith(".tmp")), [], "no temporary files left");
  }));

  it("a course update reaches the chapters the learner did not edit, and never overwrites an edited one", withTmp(async (root) => {
    const src = fakeBundle(root), dest = join(root, "work"), fs = nodeCourseFs();
    await syncWorkingCopy(fs, src, dest);
    writeFileSync(join(dest, CHAPTER_1), "my notes and outputs");              // the learner works in chapter 1
    writeFileSync(join(src, CHAPTER_1), "chapter 1, fixed upstream");           // git pull changes both chapters
    writeFileSync(join(src, "02-patches.ipynb"), "chapter 2, fixed upstream");
    writeFileSync(join(src, "03-space-time.ipynb"), "chapter 3, new");           // and adds one
    const r = await syncWorkingCopy(fs, src, dest);
    assert.deepEqual(r, { copied: ["03-space-time.ipynb"], updated: ["02-patches.ipynb"], kept: [CHAPTER_1] });
    assert.equal(read(join(dest, CHAPTER_1)), "my notes and outputs");
    assert.equal(read(join(dest, "02-patches.ipynb")), "chapter 2, fixed upstream");
    // Reset Chapter gives the learner the course's version, and later updates reach it again.
    await resetCourseFile(fs, src, dest, CHAPTER_1);
    assert.equal(read(join(dest, CHAPTER_1)), "chapter 1, fixed upstream");
    writeFileSync(join(src, CHAPTER_1), "chapter 1, fixed again");
    assert.deepEqual((await syncWorkingCopy(fs, src, dest)).updated, [CHAPTER_1]);
    assert.equal(read(join(dest, CHAPTER_1)), "chapter 1, fixed again");
  }));

  it("Reset Chapter names what it cannot reset", withTmp(async (root) => {
    const src = fakeBundle(root), dest = join(root, "work"), fs = nodeCourseFs();
    await syncWorkingCopy(fs, src, dest);
    await assert.rejects(resetCourseFile(fs, src, dest, "notes.txt"), /notes\.txt is not a file of the course in .*expected a chapter such as 01-next-token\.ipynb/);
    await assert.rejects(resetCourseFile(fs, src, dest, "09-missing.ipynb"), /09-missing\.ipynb is not a file of the course/);
  }));
});
