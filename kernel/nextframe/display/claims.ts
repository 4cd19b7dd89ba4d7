/**
 * Claims: the course's measured numbers, exposed so that a test can check them.
 *
 * A notebook cell that measures something calls `claim("ddim_psnr_50", psnr50, "DDIM, 50 steps")`. The output
 * is a compact one-row table for the reader AND a machine-readable MIME part
 * `application/vnd.nextframe.claim+json` = {name, value, note?}. test/notebooks/claims.test.ts reads these parts
 * from the saved/executed notebooks and asserts relations between them (e.g. ddim_psnr_50 > ddim_psnr_5), so the
 * numbers are never re-typed in a test or in prose.
 *
 * Names are snake_case identifiers, unique within a notebook; values are finite numbers (booleans → 0/1).
 */
import { display, type MimeBundle } from "./display";

export const CLAIM_MIME = "application/vnd.nextframe.claim+json";

export interface Claim {
  name: string;
  value: number;
  note?: string;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Formats a measured value compactly: integers as they are, others with 4 significant digits. */
export function formatClaimValue(v: number): string {
  if (Number.isInteger(v)) return Math.abs(v) >= 1e6 ? v.toExponential(3) : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(+v.toPrecision(4));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** The MIME bundle of a claim: the claim part, a one-row HTML table and plain text. */
export function claimBundle(name: string, value: number | boolean, note?: string): MimeBundle {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`claim: name must be a snake_case identifier like "ddim_psnr_50", got ${JSON.stringify(name)}`);
  }
  const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`claim "${name}": value must be a finite number (or boolean), got ${String(value)}`);
  }
  if (note !== undefined && typeof note !== "string") throw new TypeError(`claim "${name}": note must be a string, got ${typeof note}`);
  const c: Claim = note ? { name, value: v, note } : { name, value: v };
  const shown = formatClaimValue(v);
  const html = `<table class="nextframe-claim"><tr><td><code>${escapeHtml(name)}</code></td>` +
    `<td style="text-align:right"><b>${escapeHtml(shown)}</b></td>` +
    (note ? `<td><i>${escapeHtml(note)}</i></td>` : "") + `</tr></table>`;
  return { [CLAIM_MIME]: c, "text/html": html, "text/plain": `${name} = ${shown}${note ? `  (${note})` : ""}` };
}

/** The claims recorded by `claim()` in this kernel, by name (a re-run cell replaces its values). */
const recorded = new Map<string, Claim>();

/**
 * Show a measured value as a compact table row and expose it to the course's claims check. Returns nothing, so a
 * cell that ends with a claim shows no extra result.
 */
export function claim(name: string, value: number | boolean, note?: string): void {
  const b = claimBundle(name, value, note);
  recorded.set(name, b[CLAIM_MIME] as Claim);
  display.bundle(b);
}

/** The claim recorded under `name` by `claim()` in this kernel; a clear error naming the recorded ones when there is none. */
export function recordedClaim(name: string): Claim {
  const c = recorded.get(name);
  if (c) return c;
  const known = [...recorded.keys()];
  throw new TypeError(`no claim named ${JSON.stringify(name)} has been recorded in this kernel (run the cell that claims it first); ` +
    (known.length ? `recorded: ${known.slice(0, 20).join(", ")}${known.length > 20 ? `, … (${known.length} in all)` : ""}` : "none recorded yet"));
}

/** Reads every claim from a list of cell outputs (nbformat 4 `display_data` / `execute_result`). */
export function claimsFromOutputs(outputs: readonly { data?: Record<string, unknown> }[]): Claim[] {
  const out: Claim[] = [];
  for (const o of outputs) {
    const c = o.data?.[CLAIM_MIME] as Claim | undefined;
    if (c && typeof c.name === "string" && typeof c.value === "number") out.push(c);
  }
  return out;
}
