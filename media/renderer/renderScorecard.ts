/**
 * application/vnd.nextframe.scorecard+json → a table of the article's claims: claim (with its note), what was
 * measured, the baseline, and the verdict as a badge that carries its symbol and word (readable without colour) and
 * a colour from VS Code's theme (passed / warning / description / error), so light and dark themes both apply.
 */
import { VERDICTS, VERDICT_SYMBOL, type ScorecardPayload, type Verdict } from "../../kernel/shared/payloads";
import { el, header } from "../shared/dom";

const SLUG: Record<Verdict, string> = { shown: "shown", partly: "partly", "not at this scale": "scale", contradicted: "contradicted" };

export function renderScorecard(p: ScorecardPayload, container: HTMLElement, signal: AbortSignal): HTMLElement {
  if (!Array.isArray(p.rows)) throw new Error("scorecard: malformed payload (no rows)");
  const root = el("div", { class: "nf-scorecard-view" });
  const h = header(p.title, undefined);
  if (h) root.appendChild(h);
  const table = el("table", { class: "nf-table nf-scorecard" });
  const headRow = el("tr", {}, ...["claim", "measured", "baseline", "verdict"].map((t) => el("th", { text: t, attrs: { scope: "col" } })));
  const body = el("tbody", {}, ...p.rows.map((r) => {
    const v = (VERDICTS as readonly string[]).includes(r.verdict) ? r.verdict : null;
    const badge = el("span", {
      class: `nf-verdict nf-verdict-${v ? SLUG[v] : "unknown"}`,
      text: v ? `${VERDICT_SYMBOL[v]} ${v}` : `? ${String(r.verdict)}`,
      attrs: { "data-verdict": String(r.verdict) },
    });
    return el("tr", {},
      el("td", { class: "nf-sc-claim" }, el("span", { text: String(r.claim) }), r.note ? el("div", { class: "nf-sc-note", text: String(r.note) }) : null),
      el("td", { text: String(r.measured) }),
      el("td", { text: String(r.baseline) }),
      el("td", {}, badge));
  }));
  table.append(el("thead", {}, headRow), body);
  root.appendChild(el("div", { class: "nf-table-wrap nf-scorecard-wrap" }, table));
  container.appendChild(root);
  signal.addEventListener("abort", () => root.remove());
  return root;
}
