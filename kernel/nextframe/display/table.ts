/**
 * Tables of metrics: `showTable(rows)` with rows as objects (columns = union of their keys, in first-seen
 * order) or as arrays with {columns}. The renderer sorts by a column on click/Enter; the fallback is an
 * escaped text/html table.
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded, LIMITS } from "./bundle";
import { escapeHtml } from "./html";
import { DisplayInputError } from "./ndarray";
import { MIME, PAYLOAD_VERSION, type TableCell, type TablePayload } from "../../shared/payloads";
import { formatTableRows, numericColumns } from "../../shared/tableFormat";

/** Options of showTable: a title and the column order. */
export interface TableOptions {
  title?: string;
  columns?: string[];
}

function cell(v: unknown): TableCell {
  if (v === null || v === undefined) return null;
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return Number(v);
  return JSON.stringify(v) ?? String(v);
}

export function tableBundle(rows: unknown, opts: TableOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.table, () => {
    if (!Array.isArray(rows)) throw new DisplayInputError(`showTable: rows must be an array of objects or arrays, got ${typeof rows}`);
    const notes: string[] = [];
    let rs = rows;
    if (rs.length > LIMITS.tableRows) { notes.push(`showing the first ${LIMITS.tableRows} of ${rs.length} rows`); rs = rs.slice(0, LIMITS.tableRows); }
    let columns: string[];
    let body: TableCell[][];
    if (rs.every((r) => Array.isArray(r))) {
      const width = Math.max(0, ...rs.map((r) => (r as unknown[]).length));
      columns = opts.columns ?? Array.from({ length: width }, (_, i) => String(i));
      body = rs.map((r) => columns.map((_, i) => cell((r as unknown[])[i])));
    } else if (rs.every((r) => typeof r === "object" && r !== null && !Array.isArray(r))) {
      const seen = new Set<string>(opts.columns ?? []);
      if (!opts.columns) for (const r of rs) for (const k of Object.keys(r as object)) seen.add(k);
      columns = [...seen];
      body = rs.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])));
    } else {
      throw new DisplayInputError("showTable: rows must be all objects or all arrays");
    }
    const payload: TablePayload = { version: PAYLOAD_VERSION, columns, rows: body,
      ...(opts.title !== undefined ? { title: String(opts.title) } : {}), ...(notes.length ? { notes } : {}) };
    const shown = formatTableRows(body, columns.length), numeric = numericColumns(body, columns.length);
    // numeric columns aligned right: `align` survives the HTML sanitizers of GitHub and Jupyter, unlike style
    const align = (j: number) => (numeric[j] ? ' align="right"' : "");
    const html = `<table>${opts.title ? `<caption>${escapeHtml(String(opts.title))}</caption>` : ""}` +
      `<thead><tr>${columns.map((c, j) => `<th${align(j)}>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>` +
      shown.map((r) => `<tr>${r.map((s, j) => `<td${align(j)}>${escapeHtml(s)}</td>`).join("")}</tr>`).join("") +
      "</tbody></table>";
    const strs = [columns, ...shown.slice(0, 50)];
    const widths = columns.map((_, j) => Math.max(...strs.map((r) => r[j].length)));
    const pad = (s: string, j: number) => (numeric[j] ? s.padStart(widths[j]) : s.padEnd(widths[j]));
    const text = (opts.title ? opts.title + "\n" : "") +
      strs.map((r) => r.map(pad).join("  ").trimEnd()).join("\n") +
      (body.length > 50 ? `\n… ${body.length} rows` : "");
    return { [MIME.table]: payload, "text/html": html, "text/plain": text };
  });
}

/** Show rows (objects with the same keys) as a table; each numeric column at one readable precision, with an HTML fallback. */
export async function showTable(rows: unknown, opts: TableOptions = {}): Promise<DisplayHandle> {
  return display.bundle(await tableBundle(rows, opts));
}
