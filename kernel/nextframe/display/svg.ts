/**
 * Pieces of the SVG fallbacks (what GitHub, JupyterLab and nbconvert show for a chart, a heatmap or a frame grid when
 * the nextframe renderer is not there): XML escaping, a text-width estimate for laying out labels, "nice" axis ticks,
 * and the legend placement rule the renderer uses too. Pure arithmetic and strings: no Node, no DOM, so the browser
 * renderer imports it as well.
 *
 * Why SVG and not a PNG with drawn text: the labels are real text (crisp at any zoom), the picture is a few KB, and
 * no font rasterizer or font file has to ship with the kernel. Pixel data (heatmap cells, frames) sits inside as an
 * embedded PNG, upscaled by whole numbers in the kernel so no viewer blurs it. The bundles carry the SVG as an <img>
 * in text/html (svgImageHtml in bundle.ts says why not as raw image/svg+xml).
 */

/** Escape text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!)
    // characters XML 1.0 does not allow at all
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd");
}

/**
 * An element id for `prefix` unique to this picture: a hash of its content, so that pictures put inline in one page
 * (a tool that inlines SVG, chartSvg used directly) do not resolve each other's clip paths and gradients, where a shared
 * id like "plot" would clip every chart to the first chart's plot area. A hash, not a counter, so re-running a notebook
 * gives the same output.
 */
export function svgId(prefix: string, content: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) { h ^= content.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return `nf-${prefix}-${(h >>> 0).toString(36)}`;
}

/** The font stack of every fallback (DejaVu Sans is what most Linux viewers have; the widths below are its). */
export const SVG_FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

// Advance widths of DejaVu Sans (the widest of the stack's fonts) in em, for ASCII 32–126.
const ASCII_EM = [
  0.318, 0.401, 0.460, 0.838, 0.636, 0.950, 0.780, 0.275, 0.390, 0.390, 0.500, 0.838, 0.318, 0.361, 0.318, 0.337,
  0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531,
  1.000, 0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787,
  0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.390, 0.337, 0.390, 0.838, 0.500,
  0.500, 0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612,
  0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838,
];

/**
 * Estimated width in px of `s` at `size` px, bold adding 10 %. Slightly generous on purpose: layouts built on it
 * leave room rather than overlap when the viewer substitutes a narrower font. CJK and other wide characters count 1 em.
 */
export function textWidth(s: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    em += c >= 32 && c <= 126 ? ASCII_EM[c - 32] : c >= 0x1100 ? 1 : 0.7;
  }
  return em * size * (bold ? 1.1 : 1) * 1.04;
}

/** Tick values between lo and hi: 1, 2 or 5 × 10^k steps, about `count` of them (d3's tickIncrement rule). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  const step = (m >= 7.07 ? 10 : m >= 3.16 ? 5 : m >= 1.41 ? 2 : 1) * p;
  const out: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-6); i * step <= hi + step * 1e-6; i++) out.push(+(i * step).toPrecision(12));
  return out;
}

/** Ticks of a log10 axis between lo and hi (> 0): powers of ten, with 2 and 5 between them when there are few decades. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 3 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) { const v = m * Math.pow(10, e); if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(+v.toPrecision(12)); }
  return out;
}

/** A tick label: short, no float noise (0.30000000000000004 → 0.3), exponents for very large/small values. */
export function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  return String(+v.toPrecision(6));
}
