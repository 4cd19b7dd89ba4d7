/**
 * Tensor display: a one-line text form (sync) and a notebook MIME bundle (text/plain + text/html) with shape,
 * dtype, device, min/max/mean and a small preview. The kernel's display layer looks for
 * `[Symbol.for("nextframe.mimeBundle")]` on any value.
 */
import type { MimeBundle } from "../../shared/libraryContract";
import type { Tensor } from "./tensor.js";

function fmtNum(v: number, isFloat: boolean): string {
  if (!isFloat) return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

function header(t: Tensor): string {
  return `Tensor(shape=[${t.shape.join(", ")}], dtype=${t.dtype}, device=${t.device})`;
}

interface Summary { min: number; max: number; mean: number; nan: number; preview: string }

function summarize(t: Tensor, data: ArrayLike<number | bigint>): Summary {
  const isF = t.dtype === "float32" || t.dtype === "float64";
  let min = Infinity, max = -Infinity, sum = 0, nan = 0, n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (Number.isNaN(v)) { nan++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v; n++;
  }
  return { min, max, mean: n ? sum / n : NaN, nan, preview: preview(t, data, isF) };
}

/** numpy-like nested preview, eliding the middle of long dims. */
function preview(t: Tensor, data: ArrayLike<number | bigint>, isF: boolean, edge = 3): string {
  const show = (v: number | bigint) => (t.dtype === "bool" ? (Number(v) ? "true" : "false") : fmtNum(Number(v), isF));
  if (t.rank === 0) return show(data[0]!);
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rec = (dim: number, off: number): string => {
    const n = t.shape[dim]!;
    const idx = n > 2 * edge ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i === -1 ? "..." : dim === t.rank - 1 ? show(data[off + i]!) : rec(dim + 1, off + i * strides[dim]!)));
    return `[${parts.join(dim === t.rank - 1 ? ", " : ",\n" + " ".repeat(dim + 1))}]`;
  };
  return rec(0, 0);
}

/** Synchronous text form; values only when already computed. */
export function formatTensor(t: Tensor): string {
  if (t._value === null) return `${header(t)} <lazy: await t.data() to compute>`;
  return `${header(t)}\n${preview(t, t._value as ArrayLike<number>, t.dtype.startsWith("float"))}`;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The notebook MIME bundle (computes the tensor if needed). */
export async function mimeBundle(t: Tensor): Promise<MimeBundle> {
  const data = (await t.data()) as ArrayLike<number>;
  const s = summarize(t, data);
  const isF = t.dtype.startsWith("float");
  const stats = t.size === 0 ? "empty"
    : `min=${fmtNum(s.min, isF)} max=${fmtNum(s.max, isF)} mean=${fmtNum(s.mean, true)}${s.nan ? ` nan=${s.nan}` : ""}`;
  const plain = `${header(t)}\n${stats}\n${s.preview}`;
  const html =
    `<div class="nextframe-tensor" style="font-family:var(--vscode-editor-font-family,monospace);font-size:12px">` +
    `<div><b>Tensor</b> <code>[${t.shape.join(", ")}]</code> <span>${t.dtype}</span> <span>${t.device}</span></div>` +
    `<div style="opacity:0.8">${esc(stats)}</div>` +
    `<pre style="margin:4px 0">${esc(s.preview)}</pre></div>`;
  return { "text/plain": plain, "text/html": html };
}
