/**
 * Runtime errors as a person wants to read them: the cell's TypeScript line and column, no kernel frames.
 *
 * Every cell runs as its own vm script with a unique filename; `CellFiles` remembers, per filename, the cell's
 * label and the two source maps of its compilation (see tsHooks.ts), so a frame in a function declared three
 * cells ago still points at that cell's line.
 */
import { SourceMap } from "node:module";
import type { CellMaps } from "./tsHooks";

export interface CellFile {
  /** "cell" for the running cell, "cell[3]" for an earlier one, set by the caller when formatting. */
  label: string;
  maps: CellMaps | null;
  /** Characters the executor put before the converted code on its first line. */
  firstLinePrefix: number;
  /** The generated line that calls the wrapper; its frame is the kernel's, not the person's. */
  wrapperLine?: number;
}

interface Parsed { s1: SourceMap | null; s2: SourceMap }

/** One cell file per executed cell, bounded so that a long session does not grow without limit. */
export class CellFiles {
  private readonly files = new Map<string, CellFile & { parsed?: Parsed | null }>();
  constructor(private readonly limit = 1000) {}

  add(filename: string, file: CellFile): void {
    this.files.set(filename, file);
    if (this.files.size > this.limit) this.files.delete(this.files.keys().next().value as string);
  }

  has(filename: string): boolean {
    return this.files.has(filename);
  }

  isWrapperLine(filename: string, line: number): boolean {
    return this.files.get(filename)?.wrapperLine === line;
  }

  label(filename: string): string | undefined {
    return this.files.get(filename)?.label;
  }

  /** Map a 1-based line/column of the generated script to the cell's 1-based line/column. */
  map(filename: string, line: number, column: number): { line: number; column: number } | null {
    const f = this.files.get(filename);
    if (!f || !f.maps) return null;
    if (f.parsed === undefined) {
      try {
        f.parsed = { s1: f.maps.stage1 ? new SourceMap(f.maps.stage1 as never) : null, s2: new SourceMap(f.maps.stage2 as never) };
      } catch {
        f.parsed = null;
      }
    }
    if (!f.parsed) return null;
    const col0 = line === 1 ? Math.max(0, column - 1 - f.firstLinePrefix) : column - 1;
    const e2 = f.parsed.s2.findEntry(line - 1, col0) as { originalLine?: number; originalColumn?: number };
    if (e2.originalLine === undefined) return null;
    let l = e2.originalLine, c = e2.originalColumn ?? 0;
    if (f.parsed.s1) {
      const e1 = f.parsed.s1.findEntry(l, c) as { originalLine?: number; originalColumn?: number };
      if (e1.originalLine === undefined) return null;
      l = e1.originalLine;
      c = e1.originalColumn ?? 0;
    }
    // tslab prefixes every cell with one line ("export {};"), so the 0-based line of the prefixed file is the
    // 1-based line of the cell.
    return { line: Math.max(1, l), column: c + 1 };
  }
}

export interface FormattedError {
  ename: string;
  evalue: string;
  /** The header line ("TypeError: x is not a function") then one line per kept frame. */
  traceback: string[];
}

const frameRe = /^(\s+at (?:async )?)(?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * Format a thrown value. Frames in cells are rewritten to `label:line:col`; frames for which `isInternal`
 * holds (kernel, tslab, node:internal, vm) are dropped.
 */
export function formatError(
  err: unknown,
  cells: CellFiles,
  currentFile: string | null,
  isInternal: (file: string) => boolean,
): FormattedError {
  if (!(err instanceof Error) && !(typeof err === "object" && err !== null && "stack" in err)) {
    const s = typeof err === "string" ? err : safeString(err);
    return { ename: "Uncaught", evalue: s, traceback: [`Uncaught ${s}`] };
  }
  const e = err as Error;
  const ename = e.name || "Error";
  const evalue = e.message ?? "";
  const stack = typeof e.stack === "string" ? e.stack : `${ename}: ${evalue}`;
  const lines = stack.split("\n");
  const firstFrame = lines.findIndex((l) => frameRe.test(l));
  const header = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame);
  const kept: string[] = [];
  for (const line of frames) {
    const m = frameRe.exec(line);
    if (!m) continue;
    const [, at, fn, file, l, c] = m;
    if (cells.has(file)) {
      if (cells.isWrapperLine(file, Number(l))) continue;
      const pos = cells.map(file, Number(l), Number(c));
      const label = file === currentFile ? "cell" : cells.label(file) ?? "cell";
      const loc = pos ? `${label}:${pos.line}:${pos.column}` : `${label}`;
      // Earlier cells' functions are called through the kernel's exports proxy: "Proxy.f" is just "f".
      const name = fn?.replace(/^Proxy\./, "");
      kept.push(name ? `${at}${name} (${loc})` : `${at}${loc}`);
      continue;
    }
    if (isInternal(file)) continue;
    kept.push(line);
  }
  // An error from the cell's top level has a last frame like "at cell:3:1"; frames below it were the
  // kernel's (dropped above).
  return { ename, evalue, traceback: [...header, ...kept] };
}

function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}
