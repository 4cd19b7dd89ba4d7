/**
 * The notebook runner: executes the course's notebooks top to bottom, headless, through the REAL kernel child
 * process (dist/kernel/main.js --ipc, what VS Code forks), and reports every error output.
 *
 *   npm run notebooks:run [-- <filter>]     rebuild each notebook from notebooks/src/*.nb (when a source
 *                                           exists), run it, write it back WITH outputs, record its run time in
 *                                           notebooks/timings.json and refresh the table and the course-wide
 *                                           scorecard (test/notebooks/scorecard.ts) in notebooks/README.md
 *   node --import tsx test/notebooks/run.ts --check [<filter>]   run without writing anything
 *
 * "Error output" = an `error` output, a `stderr` stream, or a nextframe view that rendered an error payload.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startKernel, ROOT, type KernelSession } from "./kernel";
import { chapterKey, fromSource, joinSource, readNotebook, writeNotebook, type Notebook, type Output } from "./notebook";
import { renderReadmeScorecard } from "./scorecard";

export const NOTEBOOKS_DIR = path.join(ROOT, "notebooks");
export const SOURCES_DIR = path.join(NOTEBOOKS_DIR, "src");
export const TIMINGS_FILE = path.join(NOTEBOOKS_DIR, "timings.json");
export const SOLUTIONS_DIR = path.join(NOTEBOOKS_DIR, "solutions");

/** The solutions file of a chapter: notebooks/solutions/NN-name.nb for notebooks/NN-name.ipynb. */
export function solutionsFile(notebookFile: string): string {
  return path.join(SOLUTIONS_DIR, path.basename(notebookFile).replace(/\.ipynb$/, ".nb"));
}

export interface NotebookRun {
  name: string;
  notebook: Notebook;
  /** One line per error output: "cell 7: TypeError: ..." */
  errors: string[];
  /** Wall time from the first cell to the last, kernel start excluded. */
  seconds: number;
  kernelStartMs: number;
  cellSeconds: number[];
}

/** The chapter notebooks in order: notebooks/NN-*.ipynb and appendices NNx-*.ipynb (07b after 07). */
export function listNotebooks(filter?: string): string[] {
  if (!existsSync(NOTEBOOKS_DIR)) return [];
  return readdirSync(NOTEBOOKS_DIR).filter((f) => chapterKey(f) !== undefined && f.endsWith(".ipynb") && (!filter || f.includes(filter))).sort()
    .map((f) => path.join(NOTEBOOKS_DIR, f));
}

/** The readable sources: notebooks/src/NN-*.nb and NNx-*.nb. */
export function listSources(filter?: string): string[] {
  if (!existsSync(SOURCES_DIR)) return [];
  return readdirSync(SOURCES_DIR).filter((f) => chapterKey(f) !== undefined && f.endsWith(".nb") && (!filter || f.includes(filter))).sort()
    .map((f) => path.join(SOURCES_DIR, f));
}

/** Describes the error outputs of one cell. */
export function errorsIn(outputs: readonly Output[]): string[] {
  const errs: string[] = [];
  for (const o of outputs) {
    if (o.output_type === "error") errs.push(`${o.ename}: ${o.evalue}`);
    else if (o.output_type === "stream" && o.name === "stderr") errs.push(`stderr: ${String(Array.isArray(o.text) ? o.text.join("") : o.text).trim().slice(0, 500)}`);
    else if (o.data) {
      for (const [mime, v] of Object.entries(o.data)) {
        if (mime.startsWith("application/vnd.nextframe.") && v && typeof v === "object" && typeof (v as { error?: unknown }).error === "string") {
          errs.push(`${mime}: ${(v as { error: string }).error}`);
        }
      }
    }
  }
  return errs;
}

/** Runs every code cell of `nb` in a fresh kernel (or the given one); returns a copy with the new outputs. */
export async function runNotebook(file: string, opts: { kernel?: KernelSession; nb?: Notebook; stopOnError?: boolean } = {}): Promise<NotebookRun> {
  const nb: Notebook = structuredClone(opts.nb ?? readNotebook(file));
  const kernel = opts.kernel ?? await startKernel({ cwd: path.dirname(file) });
  const errors: string[] = [];
  const cellSeconds: number[] = [];
  const t0 = performance.now();
  let t1 = t0;
  try {
    let count = 0;
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      count++;
      const c0 = performance.now();
      const r = await kernel.execute(joinSource(cell.source), count, `[${count}]`);
      cellSeconds.push((performance.now() - c0) / 1000);
      cell.outputs = r.outputs; // normalized below, after late display updates had time to arrive
      cell.execution_count = count;
      const errs = errorsIn(cell.outputs);
      if (!r.ok && errs.length === 0) errs.push("the kernel reported failure without an error output");
      for (const e of errs) errors.push(`${path.basename(file)} cell ${i + 1} ([${count}]): ${e}`);
      if (errs.length && opts.stopOnError !== false) break;
    }
    t1 = performance.now();
    // live charts throttle their in-place updates (≤ 200 ms): let the last ones land before saving
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const e of errorsIn(kernel.late)) errors.push(`${path.basename(file)} after the last cell: ${e}`);
  } finally {
    if (!opts.kernel) await kernel.shutdown();
  }
  for (const cell of nb.cells) if (cell.cell_type === "code") cell.outputs = (cell.outputs ?? []).map(normalizeOutput);
  return { name: path.basename(file), notebook: nb, errors, seconds: ((t1 > t0 ? t1 : performance.now()) - t0) / 1000, kernelStartMs: kernel.startMs, cellSeconds };
}

/** nbformat stores text as line arrays; keep outputs diff-friendly. */
function normalizeOutput(o: Output): Output {
  const out: Output = { ...o };
  if (typeof out.text === "string") out.text = splitLines(out.text);
  if (out.data) {
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out.data)) data[k] = (k.startsWith("text/") || k === "image/svg+xml") && typeof v === "string" ? splitLines(v) : v;
    out.data = data;
  }
  return out;
}
function splitLines(s: string): string[] {
  const parts = s.split("\n");
  return parts.map((p, i) => (i < parts.length - 1 ? p + "\n" : p)).filter((p) => p !== "");
}

export interface Timings {
  machine: string;
  date: string;
  chapters: Record<string, { seconds: number; kernelStartSeconds: number; loadAverage: number }>;
}

export function readTimings(): Timings {
  return existsSync(TIMINGS_FILE) ? JSON.parse(readFileSync(TIMINGS_FILE, "utf8")) as Timings : { machine: "", date: "", chapters: {} };
}

/** Replaces the table between the README's `<!-- chapters:begin -->` and `<!-- chapters:end -->` markers. */
export function renderReadmeTable(timings: Timings): void {
  const readme = path.join(NOTEBOOKS_DIR, "README.md");
  if (!existsSync(readme)) return;
  const text = readFileSync(readme, "utf8");
  const begin = "<!-- chapters:begin -->", end = "<!-- chapters:end -->";
  const a = text.indexOf(begin), b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const chapters = JSON.parse(readFileSync(path.join(NOTEBOOKS_DIR, "chapters.json"), "utf8")) as { file: string; title: string; teaches: string }[];
  const lines = ["| # | chapter | what it teaches (measured) | run time |", "|---|---|---|---|"];
  for (const ch of chapters) {
    const exists = existsSync(path.join(NOTEBOOKS_DIR, ch.file));
    const t = timings.chapters[ch.file];
    const time = t ? `${t.seconds.toFixed(0)} s${t.loadAverage > os.cpus().length ? ` (load ${t.loadAverage})` : ""}` : exists ? "not measured yet" : "not written yet";
    lines.push(`| ${chapterKey(ch.file)} | ${exists ? `[${ch.title}](${ch.file})` : ch.title} | ${ch.teaches} | ${time} |`);
  }
  lines.push("", `Run times: measured by \`npm run notebooks:run\` (top to bottom in a fresh kernel, kernel start excluded) on ${timings.machine}, ${timings.date}; from [timings.json](timings.json). "load" is the 1-minute load average during the run when the machine was busier than its cores.`);
  writeFileSync(readme, text.slice(0, a + begin.length) + "\n" + lines.join("\n") + "\n" + text.slice(b));
}

async function main(argv: string[]): Promise<void> {
  const check = argv.includes("--check");
  const filter = argv.find((a) => !a.startsWith("--"));
  // notebooks authored as sources are rebuilt from them; others (hand-written .ipynb) run as they are
  const targets = new Map<string, Notebook | undefined>();
  for (const src of listSources(filter)) {
    const name = path.basename(src).replace(/\.nb$/, ".ipynb");
    targets.set(path.join(NOTEBOOKS_DIR, name), fromSource(readFileSync(src, "utf8"), name));
  }
  for (const f of listNotebooks(filter)) if (!targets.has(f)) targets.set(f, undefined);
  const timings = readTimings();
  let failed = false;
  for (const [file, nb] of [...targets].sort(([a], [b]) => a.localeCompare(b))) {
    process.stdout.write(`${path.basename(file)} … `);
    const load0 = os.loadavg()[0];
    const r = await runNotebook(file, { nb });
    const load = (load0 + os.loadavg()[0]) / 2;
    process.stdout.write(`${r.seconds.toFixed(1)} s (kernel start ${(r.kernelStartMs / 1000).toFixed(1)} s)${r.errors.length ? ", ERRORS" : ""}\n`);
    process.stdout.write(`  cells (s): ${r.cellSeconds.map((x) => x.toFixed(1)).join(" ")}\n`);
    for (const e of r.errors) process.stdout.write(`  ${e}\n`);
    if (r.errors.length) { failed = true; continue; }
    if (!check) {
      writeNotebook(file, r.notebook);
      const kb = readFileSync(file).byteLength / 1024;
      if (kb > 1500) { process.stdout.write(`  ${path.basename(file)} is ${kb.toFixed(0)} KB (limit 1500)\n`); failed = true; }
      timings.chapters[path.basename(file)] = { seconds: +r.seconds.toFixed(1), kernelStartSeconds: +(r.kernelStartMs / 1000).toFixed(2), loadAverage: +load.toFixed(1) };
      timings.machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, Node ${process.version}`;
      timings.date = new Date().toISOString().slice(0, 10);
    }
  }
  if (!check) {
    writeFileSync(TIMINGS_FILE, JSON.stringify(timings, null, 1) + "\n");
    renderReadmeTable(timings);
    const card = renderReadmeScorecard(path.join(NOTEBOOKS_DIR, "README.md"), listNotebooks());
    if (card) process.stdout.write(`course scorecard: ${card.rows} rows; ${card.missing.length} chapters without a scorecard yet\n`);
  }
  if (failed) process.exitCode = 1;
}

if (require.main === module) main(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(1); });
