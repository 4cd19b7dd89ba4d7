/**
 * Colour maps shared by the kernel (PNG fallbacks) and the browser renderer (canvas views), so the
 * fallback image and the rich view colour a value the same way. Pure data and arithmetic: no Node, no DOM.
 * Stops are matplotlib's viridis / magma sampled at 9 points (linear interpolation between them).
 */

export type ColorscaleName = "viridis" | "magma" | "gray";

const STOPS: Record<ColorscaleName, [number, number, number][]> = {
  viridis: [
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
  ],
  magma: [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
  ],
  gray: [[0, 0, 0], [255, 255, 255]],
};

/** 256-entry RGB lookup table (768 bytes) for a colour scale; index with a 0–255 level. */
export function colormapLut(name: ColorscaleName = "viridis"): Uint8Array {
  const stops = STOPS[name] ?? STOPS.viridis;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const a = Math.min(Math.floor(t), stops.length - 2);
    const f = t - a;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(stops[a][c] * (1 - f) + stops[a + 1][c] * f);
  }
  return lut;
}

/** Plotly colorscale form [[0,"rgb(..)"], …, [1,"rgb(..)"]] of the same stops. */
export function plotlyColorscale(name: ColorscaleName = "viridis"): [number, string][] {
  const stops = STOPS[name] ?? STOPS.viridis;
  return stops.map((s, i) => [i / (stops.length - 1), `rgb(${s[0]},${s[1]},${s[2]})`]);
}

/** Map v in [vmin, vmax] to a 0–255 level (clamped; NaN → 0). */
export function level(v: number, vmin: number, vmax: number): number {
  if (!(vmax > vmin)) return Number.isFinite(v) ? 128 : 0;
  const t = (v - vmin) / (vmax - vmin);
  if (!(t > 0)) return 0;
  return t >= 1 ? 255 : Math.round(t * 255);
}
