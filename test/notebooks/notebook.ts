/**
 * The course's notebooks as data: nbformat 4 types, the readable source format they are authored in, and
 * reading/writing .ipynb files.
 *
 * Source format (notebooks/src/NN-name.nb): percent cells, like jupytext's "percent" format for TypeScript.
 *   // %% [markdown]      a markdown cell; the following lines are markdown as they are
 *   // %%                 a code cell (TypeScript, run by the nextframe kernel)
 *   // %% exercise NAME   a code cell tagged "exercise", metadata.nextframe.exercise = NAME: the learner's piece,
 *                         shipped unsolved (a TODO that runs); the next cells check it with checkExercise("NAME", …)
 * Lines before the first marker are ignored (a header comment). Trailing blank lines of a cell are dropped.
 *
 * Solutions (notebooks/solutions/NN-name.nb) use the same format with only `// %% exercise NAME` cells;
 * withSolutions() puts them in place of the chapter's exercise cells of the same names (the tests run every chapter
 * both ways).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";

export interface Output {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: "stdout" | "stderr";
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface Cell {
  id: string;
  cell_type: "markdown" | "code";
  source: string[] | string;
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
}

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

export const NOTEBOOK_METADATA = {
  kernelspec: { name: "nextframe", display_name: "TypeScript (nextframe)", language: "typescript" },
  language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
};

/** nbformat stores multi-line strings as arrays of lines that keep their "\n". */
export function toLines(s: string): string[] {
  if (s === "") return [];
  const parts = s.split("\n");
  return parts.map((p, i) => (i < parts.length - 1 ? p + "\n" : p)).filter((p) => p !== "");
}

export function joinSource(s: string[] | string | undefined): string {
  return Array.isArray(s) ? s.join("") : (s ?? "");
}

/** Parses the percent source format into a notebook without outputs. */
export function fromSource(text: string, name: string): Notebook {
  const cells: Cell[] = [];
  let cur: { type: "markdown" | "code"; tags: string[]; exercise?: string; lines: string[] } | null = null;
  const flush = () => {
    if (!cur) return;
    while (cur.lines.length && cur.lines[cur.lines.length - 1].trim() === "") cur.lines.pop();
    while (cur.lines.length && cur.lines[0].trim() === "") cur.lines.shift();
    const src = cur.lines.join("\n");
    const id = createHash("sha1").update(`${name}:${cells.length}`).digest("hex").slice(0, 8);
    const metadata: Record<string, unknown> = cur.tags.length ? { tags: cur.tags } : {};
    if (cur.exercise) metadata.nextframe = { exercise: cur.exercise };
    cells.push(cur.type === "code"
      ? { id, cell_type: "code", source: toLines(src), metadata, outputs: [], execution_count: null }
      : { id, cell_type: "markdown", source: toLines(src), metadata });
  };
  for (const line of text.split("\n")) {
    const m = /^\/\/ %%(.*)$/.exec(line);
    if (m) {
      flush();
      const rest = m[1].trim();
      const type = rest.startsWith("[markdown]") ? "markdown" : "code";
      const words = rest.replace("[markdown]", "").trim().split(/\s+/).filter(Boolean);
      if (words[0] === "exercise") {
        if (!/^[a-z][a-z0-9_]*$/.test(words[1] ?? "")) throw new Error(`${name}: "${line}" — an exercise cell is "// %% exercise NAME" with a snake_case NAME`);
        cur = { type, tags: ["exercise"], exercise: words[1], lines: [] };
      } else cur = { type, tags: words, lines: [] };
    } else if (cur) cur.lines.push(line);
  }
  flush();
  return { nbformat: 4, nbformat_minor: 5, metadata: structuredClone(NOTEBOOK_METADATA), cells };
}

/**
 * Chapter file names: "NN-name" for a core chapter, "NNx-name" (one lowercase letter) for an optional appendix to
 * chapter NN, e.g. 07b-permanence. The key ("07", "07b") names the chapter in relations, timings and scorecards.
 */
export const CHAPTER_NAME = /^(\d\d[a-z]?)-/;

/** "07" for 07-world-model.ipynb, "07b" for 07b-permanence.nb (any path); undefined for a file that is no chapter. */
export function chapterKey(file: string): string | undefined {
  return CHAPTER_NAME.exec(file.split(/[\\/]/).pop()!)?.[1];
}

/** The exercise name of a cell (`// %% exercise NAME`), if it is one. */
export function exerciseName(cell: Cell): string | undefined {
  const nf = cell.metadata.nextframe as { exercise?: unknown } | undefined;
  return typeof nf?.exercise === "string" ? nf.exercise : undefined;
}

/**
 * `nb` with each exercise cell's source replaced by the solution of the same name from `solutionsText` (the
 * solutions file, `// %% exercise NAME` cells). Throws when a solution has no exercise or an exercise no solution.
 */
export function withSolutions(nb: Notebook, solutionsText: string, name: string): Notebook {
  const solutions = new Map<string, string[] | string>();
  for (const c of fromSource(solutionsText, name).cells) {
    const ex = exerciseName(c);
    if (!ex) throw new Error(`${name}: the solutions file may only hold "// %% exercise NAME" cells`);
    solutions.set(ex, c.source);
  }
  const out = structuredClone(nb);
  const used = new Set<string>();
  for (const c of out.cells) {
    const ex = exerciseName(c);
    if (!ex) continue;
    const sol = solutions.get(ex);
    if (sol === undefined) throw new Error(`${name}: exercise "${ex}" has no solution`);
    c.source = sol;
    used.add(ex);
  }
  const extra = [...solutions.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new Error(`${name}: solutions without an exercise cell: ${extra.join(", ")}`);
  return out;
}

export function readNotebook(path: string): Notebook {
  const nb = JSON.parse(readFileSync(path, "utf8")) as Notebook;
  if (nb.nbformat !== 4) throw new Error(`${path}: expected nbformat 4, got ${String(nb.nbformat)}`);
  return nb;
}

/** Writes with one-space indentation like Jupyter, and a trailing newline, so diffs stay readable. */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileSync(path, JSON.stringify(nb, null, 1) + "\n");
}
