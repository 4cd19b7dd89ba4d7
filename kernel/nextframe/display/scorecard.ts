/**
 * Scorecards: the last cell of a chapter sums up which of the article's claims the chapter's measurements support.
 *
 *   scorecard([
 *     scorecardRow({ claim: "a transformer learns the world's rules", measuredKey: "gpt_loss", baselineKey: "bigram_loss",
 *                    verdict: "shown" }),
 *   ], { title: "Chapter 1" });
 *
 * Each row: the article's claim in a few words, what was measured, the baseline it was compared with, and a verdict
 * (shown / partly / not at this scale / contradicted). The output carries the rows as data
 * (`application/vnd.nextframe.scorecard+json`), a plain HTML table whose verdicts read without colour, and text/plain;
 * test/notebooks/scorecard.ts builds the course-wide scorecard in notebooks/README.md from those saved outputs.
 * `scorecardRow` fills `measured` and `baseline` from values recorded with `claim()`, so no number is typed.
 */
import { display, type MimeBundle } from "./display";
import { escapeHtml } from "./html";
import { formatClaimValue, recordedClaim } from "./claims";
import { MIME, PAYLOAD_VERSION, VERDICTS, VERDICT_SYMBOL, type ScorecardPayload, type ScorecardRow, type Verdict } from "../../shared/payloads";

export type { ScorecardRow, Verdict };

/** Options of scorecard(): its title. */
export interface ScorecardOptions {
  title?: string;
}

/** A verdict as text with its symbol, e.g. "✓ shown", so it reads without colour. */
export const verdictText = (v: Verdict): string => `${VERDICT_SYMBOL[v]} ${v}`;

function text(where: string, field: string, v: unknown, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return formatClaimValue(v);
  if (typeof v !== "string" || v.trim() === "") {
    throw new TypeError(`${where}: "${field}" must be a non-empty string${field === "measured" || field === "baseline" ? " or a finite number" : ""}, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
  }
  return v.trim();
}

function checkVerdict(where: string, v: unknown): Verdict {
  if (!(VERDICTS as readonly unknown[]).includes(v)) {
    throw new TypeError(`${where}: verdict must be one of ${VERDICTS.map((x) => JSON.stringify(x)).join(", ")}; got ${JSON.stringify(v)}`);
  }
  return v as Verdict;
}

/** Checks one row given by a cell and returns it in the payload's form (numbers in `measured` formatted as claims are). */
export function validateRow(r: unknown, i = 0): ScorecardRow {
  const where = `scorecard row ${i + 1}`;
  if (typeof r !== "object" || r === null || Array.isArray(r)) throw new TypeError(`${where}: must be an object { claim, measured, baseline, verdict, note? }, got ${JSON.stringify(r)}`);
  const o = r as Record<string, unknown>;
  const unknownKeys = Object.keys(o).filter((k) => !["claim", "measured", "baseline", "verdict", "note"].includes(k));
  if (unknownKeys.length) throw new TypeError(`${where}: unknown field(s) ${unknownKeys.join(", ")}; a row has claim, measured, baseline, verdict and note`);
  const row: ScorecardRow = {
    claim: text(where, "claim", o.claim)!,
    measured: text(where, "measured", o.measured)!,
    baseline: text(where, "baseline", o.baseline)!,
    verdict: checkVerdict(where, o.verdict),
  };
  const note = text(where, "note", o.note, true);
  if (note !== undefined) row.note = note;
  return row;
}

/** The MIME bundle of a scorecard: its rows as data, a plain HTML table, and text. Throws on bad rows. */
export function scorecardBundle(rows: readonly unknown[], opts: ScorecardOptions = {}): MimeBundle {
  if (!Array.isArray(rows) || rows.length === 0) throw new TypeError(`scorecard: rows must be a non-empty array of { claim, measured, baseline, verdict }, got ${JSON.stringify(rows)}`);
  if (opts.title !== undefined && typeof opts.title !== "string") throw new TypeError(`scorecard: title must be a string, got ${typeof opts.title}`);
  const rs = rows.map(validateRow);
  const payload: ScorecardPayload = { version: PAYLOAD_VERSION, ...(opts.title ? { title: opts.title } : {}), rows: rs };
  const head = ["claim", "measured", "baseline", "verdict"];
  const html = `<table class="nextframe-scorecard">${opts.title ? `<caption>${escapeHtml(opts.title)}</caption>` : ""}` +
    `<thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>` +
    rs.map((r) => `<tr><td>${escapeHtml(r.claim)}${r.note ? `<br><small>${escapeHtml(r.note)}</small>` : ""}</td>` +
      `<td>${escapeHtml(r.measured)}</td><td>${escapeHtml(r.baseline)}</td><td><b>${escapeHtml(verdictText(r.verdict))}</b></td></tr>`).join("") +
    "</tbody></table>";
  const plain = (opts.title ? `${opts.title}\n` : "") + rs.map((r) =>
    `${verdictText(r.verdict)}: ${r.claim} — measured ${r.measured}; baseline ${r.baseline}${r.note ? ` (${r.note})` : ""}`).join("\n");
  return { [MIME.scorecard]: payload, "text/html": html, "text/plain": plain };
}

/**
 * Show a chapter's scorecard. Returns nothing, so a last cell that ends with it shows no extra result. An unknown
 * verdict or a missing field is an error that names what is allowed.
 */
export function scorecard(rows: readonly unknown[], opts: ScorecardOptions = {}): void {
  display.bundle(scorecardBundle(rows, opts));
}

/** A scorecard row whose measured and baseline values are claims recorded in this kernel, by name. */
export interface ScorecardRowFromClaims {
  /** the article's claim in a few words */
  claim: string;
  /** name of the recorded claim() that holds the measured value */
  measuredKey: string;
  /** name of the recorded claim() that holds the baseline's value */
  baselineKey: string;
  verdict: Verdict;
  note?: string;
  /** words before the measured value; default: the claim's note, else its name */
  measuredLabel?: string;
  /** words before the baseline's value; default: the baseline claim's note without a leading "baseline: ", else its name */
  baselineLabel?: string;
}

/** A scorecard row whose measured and baseline values are the ones recorded with `claim()` in this kernel. */
export function scorecardRow(o: ScorecardRowFromClaims): ScorecardRow {
  const m = recordedClaim(o.measuredKey), b = recordedClaim(o.baselineKey);
  // a baseline claim's note usually starts with "baseline: " (the course's convention); the column already says so
  const said = (label: string | undefined, c: { name: string; value: number; note?: string }) =>
    `${label ?? c.note?.replace(/^(learned )?baseline:\s*/i, "") ?? c.name}: ${formatClaimValue(c.value)}`;
  return validateRow({
    claim: o.claim, measured: said(o.measuredLabel, m), baseline: said(o.baselineLabel, b), verdict: o.verdict,
    ...(o.note !== undefined ? { note: o.note } : {}),
  });
}

/** Reads every scorecard from a list of cell outputs (nbformat 4 `display_data` / `execute_result`). */
export function scorecardsFromOutputs(outputs: readonly { data?: Record<string, unknown> }[]): ScorecardPayload[] {
  const out: ScorecardPayload[] = [];
  for (const o of outputs) {
    const p = o.data?.[MIME.scorecard] as ScorecardPayload | undefined;
    if (p && Array.isArray(p.rows)) out.push(p);
  }
  return out;
}
