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
 * A column that is mostly numbers is aligned right, its text cells too ("—", "≥ 0.9", "7/21"), so digits line up.
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

/**
 * Which columns are numeric, to be aligned right: those where at least half of the non-empty cells are numbers. The
 * text in such a column (a target "≥ 0.9", a count "7/21", "—") is aligned with the numbers.
 */
export function numericColumns(rows: readonly (readonly TableCell[])[], columns: number): boolean[] {
  return Array.from({ length: columns }, (_, j) => {
    const filled = rows.map((r) => r[j] ?? null).filter((c) => c !== null && c !== "");
    return filled.length > 0 && filled.filter((c) => typeof c === "number").length * 2 >= filled.length;
  });
}
