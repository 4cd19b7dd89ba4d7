/** application/vnd.nextframe.table+json → a table; header buttons sort by a column (click or Enter). */
import type { TableCell, TablePayload } from "../../kernel/shared/payloads";
import { formatTableRows, numericColumns } from "../../kernel/shared/tableFormat";
import { el, header } from "../shared/dom";

export function renderTable(p: TablePayload, container: HTMLElement, signal: AbortSignal): HTMLElement {
  if (!Array.isArray(p.columns) || !Array.isArray(p.rows)) throw new Error("table: malformed payload");
  const root = el("div", { class: "nf-table-view" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);
  const table = el("table", { class: "nf-table" });
  const tbody = el("tbody");
  const shown = formatTableRows(p.rows, p.columns.length), numeric = numericColumns(p.rows, p.columns.length);
  let order = p.rows.map((_, i) => i), sortCol = -1, asc = true;
  const fill = () => {
    tbody.replaceChildren(...order.map((r) => el("tr", {}, ...p.columns.map((_, j) => {
      const c: TableCell = p.rows[r][j] ?? null, text = shown[r][j];
      // the full value on hover when the column's precision shortened it
      const full = typeof c === "number" && String(c) !== text ? { title: String(c) } : undefined;
      return el("td", { class: numeric[j] ? "nf-num-cell" : undefined, text, attrs: full });
    }))));
  };
  const headRow = el("tr", {}, ...p.columns.map((name, j) => {
    const b = el("button", { text: String(name), attrs: { type: "button", "aria-label": `sort by ${name}` } });
    b.addEventListener("click", () => {
      asc = sortCol === j ? !asc : true;
      sortCol = j;
      const key = (r: number) => p.rows[r][j];
      order = [...order].sort((a, b2) => {
        const x = key(a), y = key(b2);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      headRow.querySelectorAll("th").forEach((th, k) => th.setAttribute("aria-sort", k === j ? (asc ? "ascending" : "descending") : "none"));
      fill();
    });
    return el("th", { class: numeric[j] ? "nf-num-cell" : undefined, attrs: { scope: "col", "aria-sort": "none" } }, b);
  }));
  table.append(el("thead", {}, headRow), tbody);
  fill();
  root.appendChild(el("div", { class: "nf-table-wrap" }, table));
  container.appendChild(root);
  signal.addEventListener("abort", () => root.remove());
  return root;
}
