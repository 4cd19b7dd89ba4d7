/**
 * How a table shows its numbers, shared by the notebook renderer and the kernel's HTML/text fallback so both read
 * the same. A reader compares numbers down a column, so a column is shown at one precision where it can be:
 *   - a column of integers shows them as they are;
 *   - otherwise, when its non-zero values lie within two orders of magnitude, every value gets the decimals that
 *     give its largest value three significant digits (0.2, 0.571, 0.067 → "0.200", "0.571", "0.067"), less the
 *     trailing zeros all of them share (0.3, 0.1 → "0.3", "0.1");
 *   - a column spanning more than that (1e-5 next to 0.97) shows each value with four significant digits, so the
 *     small ones are not rounded away.
 * A value that would round to zero without being zero is written in exponent form, never as a misleading 0.
 * A column of numbers is aligned right, its text cells that stand for values too ("—", "≥ 0.9", "7/21"), so digits
 * line up (numericColumns).
 */
import type { TableCell } from "./payloads";

/** How one column is shown: `fixed` decimals for all, or each value's own four significant digits. */
type ColumnStyle = { kind: "integers" } | { kind: "fixed"; decimals: number } | { kind: "significant" };

function columnStyle(values: readonly TableCell[]): ColumnStyle {
  const nums = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (nums.every((v) => Number.isInteger(v))) return { kind: "integers" };
  const abs = nums.map(Math.abs).filter((a) => a > 0);
  const max = Math.max(...abs), min = Math.min(...abs);
  if (max >= 1e6 || max / min > 100) return { kind: "significant" };
  let decimals = Math.max(0, Math.min(4, 2 - Math.floor(Math.log10(max))));
  // no zeros that every value ends with: 0.3, 0.1 stay "0.3", "0.1", a lone 7.5 stays "7.5"
  while (decimals > 0 && nums.every((v) => Number(v.toFixed(decimals - 1)) === Number(v.toFixed(decimals)))) decimals -= 1;
  return { kind: "fixed", decimals };
}

function formatNumber(v: number, style: ColumnStyle): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (style.kind === "integers" || (Number.isInteger(v) && style.kind === "significant")) return String(v);
  if (style.kind === "significant") return String(+v.toPrecision(4));
  const s = v.toFixed(style.decimals);
  return v !== 0 && Number(s) === 0 ? v.toExponential(1) : s;
}

/** The shown text of every cell of a table (rows × columns), each column formatted as the header comment says. */
export function formatTableRows(rows: readonly (readonly TableCell[])[], columns: number): string[][] {
  const styles = Array.from({ length: columns }, (_, j) => columnStyle(rows.map((r) => r[j] ?? null)));
  return rows.map((r) => styles.map((style, j) => {
    const c = r[j] ?? null;
    return c === null ? "" : typeof c === "number" ? formatNumber(c, style) : String(c);
  }));
}

const NUM = String.raw`[-−+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?`;
/** Text that stands for a value: a dash, a bound or target ("≥ 0.9", "≥ 5 of 6"), a count ("7/21"), a range ("0.1 – 0.4"). */
const VALUE_TEXT = new RegExp(String.raw`^(?:[—–-]|[≥≤<>≈~±]?\s*${NUM}\s*(?:%|×|dB|px|ms|s)?(?: of ${NUM})?|${NUM}\s*/\s*${NUM}|${NUM}\s*[–-]\s*${NUM})$`);

/**
 * Which columns are numeric, to be aligned right: those whose cells are all numbers or text that stands for a value
 * (VALUE_TEXT: "—", "≥ 0.9", "7/21", "0.00 – 0.22"), and those where at least half of the non-empty cells are numbers.
 * Names, notes and labels ("world model", "2 steps, guidance 2") keep a column left-aligned.
 */
export function numericColumns(rows: readonly (readonly TableCell[])[], columns: number): boolean[] {
  return Array.from({ length: columns }, (_, j) => {
    const filled = rows.map((r) => r[j] ?? null).filter((c) => c !== null && c !== "");
    const numbers = filled.filter((c) => typeof c === "number").length;
    return filled.length > 0 && (numbers * 2 >= filled.length || filled.every((c) => typeof c === "number" || VALUE_TEXT.test(String(c).trim())));
  });
}
