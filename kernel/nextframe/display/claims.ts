/**
 * Claims: the course's measured numbers, exposed so that a test can check them.
 *
 * A notebook cell that measures something calls `claim("ddim_psnr_50", psnr50, "DDIM, 50 steps")`. The output
 * is a compact table row for the reader AND a machine-readable MIME part
 * `application/vnd.nextframe.claim+json` = {name, value, note?}. In a kernel, a cell's consecutive claims (nothing
 * else shown between them) share one output: one small table, its part `{claims: [...]}` (an object, never a bare
 * list: VS Code's .ipynb reader takes a list in an output's data for lines of text). test/notebooks/claims.test.ts
 * reads these parts from the saved/executed notebooks and asserts relations between them (e.g. ddim_psnr_50 >
 * ddim_psnr_5), so the numbers are never re-typed in a test or in prose.
 *
 * Names are snake_case identifiers, unique within a notebook; values are finite numbers (booleans → 0/1).
 */
import { currentCellSymbol } from "../../shared/libraryContract";
import { capturingDisplays, display, outputsShownCount, ownDisplay, type MimeBundle } from "./display";

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

/** Checks a claim's name, value and note and returns it (booleans as 0/1); a clear error naming what is wrong. */
function checkedClaim(name: string, value: number | boolean, note?: string): Claim {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`claim: name must be a snake_case identifier like "ddim_psnr_50", got ${JSON.stringify(name)}`);
  }
  const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`claim "${name}": value must be a finite number (or boolean), got ${String(value)}`);
  }
  if (note !== undefined && typeof note !== "string") throw new TypeError(`claim "${name}": note must be a string, got ${typeof note}`);
  return note ? { name, value: v, note } : { name, value: v };
}

// names and notes left-aligned, values right-aligned, whatever the frontend's table style
const claimRow = (c: Claim) => `<tr><td style="text-align:left"><code>${escapeHtml(c.name)}</code></td>` +
  `<td style="text-align:right"><b>${escapeHtml(formatClaimValue(c.value))}</b></td>` +
  `<td style="text-align:left">${c.note ? `<i>${escapeHtml(c.note)}</i>` : ""}</td></tr>`;
const claimText = (c: Claim) => `${c.name} = ${formatClaimValue(c.value)}${c.note ? `  (${c.note})` : ""}`;

/** The MIME bundle of a claim: the claim part, a one-row HTML table and plain text. */
export function claimBundle(name: string, value: number | boolean, note?: string): MimeBundle {
  const c = checkedClaim(name, value, note);
  return { [CLAIM_MIME]: c, "text/html": `<table class="nextframe-claim">${claimRow(c)}</table>`, "text/plain": claimText(c) };
}

/** Claims shown together above this many fold into a one-line summary: the tables and charts above show them. */
const OPEN_CLAIMS = 4;

function claimsHtml(claims: readonly Claim[]): string {
  const table = `<table class="nextframe-claim">${claims.map(claimRow).join("")}</table>`;
  if (claims.length <= OPEN_CLAIMS) return table;
  const names = claims.slice(0, 3).map((c) => `<code>${escapeHtml(c.name)}</code>`).join(", ");
  return `<details class="nextframe-claims"><summary>${claims.length} measured values the course checks (${names}, …)</summary>${table}</details>`;
}

/**
 * The MIME bundle of claims shown together: their parts as `{claims: [...]}`, one small HTML table (a row each;
 * folded under a one-line summary above four claims) and plain text (a line each). A single claim gives
 * claimBundle's bundle.
 */
export function claimsBundle(claims: readonly Claim[]): MimeBundle {
  if (claims.length === 1) return claimBundle(claims[0].name, claims[0].value, claims[0].note);
  const checked = claims.map((c) => checkedClaim(c.name, c.value, c.note));
  return {
    [CLAIM_MIME]: { claims: checked },
    "text/html": claimsHtml(checked),
    "text/plain": checked.map(claimText).join("\n"),
  };
}

/** The claims recorded by `claim()` in this kernel, by name (a re-run cell replaces its values). */
const recorded = new Map<string, Claim>();

/** Record a claim for `recordedClaim` (the scorecard reads them) without showing it; returns the checked claim. */
export function recordClaim(name: string, value: number | boolean, note?: string): Claim {
  const c = checkedClaim(name, value, note);
  recorded.set(name, c);
  return c;
}

/** The output that the running cell's latest claims went to, while nothing else has been shown after it. */
let group: { cell: number; shownAt: number; claims: Claim[]; send(b: MimeBundle, update: boolean): void } | undefined;

/**
 * Show a measured value as a compact table row and expose it to the course's claims check. In a notebook, the
 * claims a cell makes one after another share one small table. Returns nothing, so a cell that ends with a claim
 * shows no extra result.
 */
export function claim(name: string, value: number | boolean, note?: string): void {
  const c = recordClaim(name, value, note);
  const cell = (globalThis as { [currentCellSymbol]?: () => number | undefined })[currentCellSymbol]?.();
  if (cell === undefined || capturingDisplays()) {
    display.bundle(claimBundle(c.name, c.value, c.note));
    return;
  }
  if (group && group.cell === cell && group.shownAt === outputsShownCount()) {
    const at = group.claims.findIndex((x) => x.name === c.name); // a re-claimed name keeps its row
    group.claims = at < 0 ? [...group.claims, c] : group.claims.map((x, i) => (i === at ? c : x));
    group.send(claimsBundle(group.claims), true);
    return;
  }
  const own = ownDisplay();
  own.send(claimBundle(c.name, c.value, c.note), false);
  group = { cell, shownAt: outputsShownCount(), claims: [c], send: own.send };
}

/** The claim recorded under `name` by `claim()` in this kernel; a clear error naming the recorded ones when there is none. */
export function recordedClaim(name: string): Claim {
  const c = recorded.get(name);
  if (c) return c;
  const known = [...recorded.keys()];
  throw new TypeError(`no claim named ${JSON.stringify(name)} has been recorded in this kernel (run the cell that claims it first); ` +
    (known.length ? `recorded: ${known.slice(0, 20).join(", ")}${known.length > 20 ? `, … (${known.length} in all)` : ""}` : "none recorded yet"));
}

/** Reads every claim from a list of cell outputs (nbformat 4 `display_data` / `execute_result`): a claim or `{claims: [...]}` per output. */
export function claimsFromOutputs(outputs: readonly { data?: Record<string, unknown> }[]): Claim[] {
  const out: Claim[] = [];
  for (const o of outputs) {
    const part = o.data?.[CLAIM_MIME] as Claim | { claims: Claim[] } | undefined;
    for (const c of part && "claims" in part && Array.isArray(part.claims) ? part.claims : part ? [part as Claim] : []) {
      if (c && typeof c.name === "string" && typeof c.value === "number") out.push(c);
    }
  }
  return out;
}
