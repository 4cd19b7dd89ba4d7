/**
 * The course's notebooks as data: nbformat 4 types, the readable source format they are authored in, and
 * reading/writing .ipynb files.
 *
 * Source format (notebooks/src/NN-name.nb): percent cells, like jupytext's "percent" format for TypeScript.
 *   // %% [markdown]      a markdown cell; the following lines are markdown as they are
 *   // %%                 a code cell (TypeScript, run by the nextframe kernel)
 *   // %% exercise        a code cell tagged "exercise" (the learner edits it; the next cell checks it)
 * Lines before the first marker are ignored (a header comment). Trailing blank lines of a cell are dropped.
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
  let cur: { type: "markdown" | "code"; tags: string[]; lines: string[] } | null = null;
  const flush = () => {
    if (!cur) return;
    while (cur.lines.length && cur.lines[cur.lines.length - 1].trim() === "") cur.lines.pop();
    while (cur.lines.length && cur.lines[0].trim() === "") cur.lines.shift();
    const src = cur.lines.join("\n");
    const id = createHash("sha1").update(`${name}:${cells.length}`).digest("hex").slice(0, 8);
    const metadata: Record<string, unknown> = cur.tags.length ? { tags: cur.tags } : {};
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
      const tags = rest.replace("[markdown]", "").trim().split(/\s+/).filter(Boolean);
      cur = { type, tags, lines: [] };
    } else if (cur) cur.lines.push(line);
  }
  flush();
  return { nbformat: 4, nbformat_minor: 5, metadata: structuredClone(NOTEBOOK_METADATA), cells };
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
