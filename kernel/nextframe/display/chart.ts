/**
 * Live line charts: `const chart = lineChart({title, series: ["train", "val"]})` displays a chart and returns
 * an object whose `.push(seriesName, x, y)` appends a point and updates the same output in place (through
 * its DisplayHandle, at most every `throttleMs`; `flush()` forces the update). The chart object is itself
 * displayable (mimeBundleSymbol), so it can also be a cell's last value.
 * Fallback: a rasterized PNG (axes box and lines, no text) plus text/plain with each series' last value.
 */
import { display, displayHandleSymbol, mimeBundleSymbol, type DisplayHandle, type MimeBundle } from "./display";
import { errorBundle, LIMITS } from "./bundle";
import { pngBase64, Raster } from "./png";
import { MIME, PAYLOAD_VERSION, type ChartPayload, type ChartSeries } from "./payloads";

export interface LineChartOptions {
  title?: string;
  /** series names, or series with initial points */
  series?: (string | { name: string; x?: number[]; y?: number[] })[];
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  /** minimum time between in-place updates (default 200 ms) */
  throttleMs?: number;
  /** false: build the chart without displaying it (default true) */
  display?: boolean;
}

/** Series colours, shared with the renderer's fallback order (plotly's default palette). */
export const SERIES_COLORS: [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

export class LineChart {
  readonly series: ChartSeries[] = [];
  handle: DisplayHandle | undefined;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _last = 0;
  private readonly _throttle: number;
  private _dropped = false;

  constructor(readonly opts: LineChartOptions = {}) {
    this._throttle = opts.throttleMs ?? 200;
    for (const s of opts.series ?? []) {
      const name = typeof s === "string" ? s : String(s.name);
      const x = typeof s === "string" ? [] : [...(s.x ?? s.y?.map((_, i) => i) ?? [])];
      const y = typeof s === "string" ? [] : [...(s.y ?? [])];
      this.series.push({ name, x: x.slice(0, y.length), y: y.slice(0, x.length) });
    }
  }

  /** Append (x, y) to a series (created on first use) and schedule an in-place update. */
  push(seriesName: string, x: number, y: number): this {
    let s = this.series.find((t) => t.name === seriesName);
    if (!s) this.series.push((s = { name: String(seriesName), x: [], y: [] }));
    s.x.push(Number(x));
    s.y.push(Number(y));
    if (s.x.length > LIMITS.chartPoints) {
      // keep every other point of the older half: long runs stay drawable, recent points stay exact
      const half = s.x.length >> 1;
      s.x = [...s.x.slice(0, half).filter((_, i) => i % 2 === 0), ...s.x.slice(half)];
      s.y = [...s.y.slice(0, half).filter((_, i) => i % 2 === 0), ...s.y.slice(half)];
      this._dropped = true;
    }
    this._schedule();
    return this;
  }

  private _schedule(): void {
    if (!this.handle || this._timer) return;
    const wait = Math.max(0, this._last + this._throttle - Date.now());
    this._timer = setTimeout(() => this.flush(), wait);
    // a pending chart update must not keep a training script alive
    (this._timer as { unref?: () => void }).unref?.();
  }

  /** Push the current data to the output now. */
  flush(): void {
    if (this._timer) { clearTimeout(this._timer); this._timer = undefined; }
    this._last = Date.now();
    this.handle?.update(this);
  }

  toPayload(): ChartPayload {
    const o = this.opts;
    return {
      version: PAYLOAD_VERSION, series: this.series.map((s) => ({ name: s.name, x: [...s.x], y: s.y.map((v) => (Number.isFinite(v) ? v : NaN)) })),
      ...(o.title !== undefined ? { title: String(o.title) } : {}),
      ...(o.xLabel !== undefined ? { xLabel: String(o.xLabel) } : {}),
      ...(o.yLabel !== undefined ? { yLabel: String(o.yLabel) } : {}),
      ...(o.logY ? { logY: true } : {}),
      ...(this._dropped ? { notes: ["older points thinned to keep the chart light"] } : {}),
    };
  }

  [mimeBundleSymbol](): MimeBundle {
    const p = this.toPayload();
    if (p.series.length === 0) return errorBundle(MIME.chart, "lineChart: no series yet — call chart.push(name, x, y)");
    // JSON turns NaN into null; the renderer treats null as a gap
    const text = `${p.title ? p.title + ": " : ""}` + p.series.map((s) =>
      `${s.name} (${s.y.length} point${s.y.length === 1 ? "" : "s"}${s.y.length ? `, last ${+s.y[s.y.length - 1].toPrecision(4)} at x=${s.x[s.x.length - 1]}` : ""})`).join(", ");
    return { [MIME.chart]: p, "image/png": pngBase64(rasterChart(p)), "text/plain": text };
  }
}

/** Rasterize the chart for the PNG fallback: 480×270, a frame, and one polyline per series. */
export function rasterChart(p: ChartPayload, w = 480, h = 270) {
  const r = new Raster(w, h);
  const m = 10;
  r.rect(m, m, w - m - 1, h - m - 1, [160, 160, 160]);
  const ty = (v: number) => (p.logY ? Math.log10(Math.max(v, 1e-30)) : v);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of p.series) {
    s.x.forEach((x, i) => {
      const y = ty(s.y[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    });
  }
  if (!Number.isFinite(x0)) return r.image();
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const px = (x: number) => m + 2 + ((x - x0) / (x1 - x0)) * (w - 2 * m - 5);
  const py = (y: number) => h - m - 3 - ((ty(y) - y0) / (y1 - y0)) * (h - 2 * m - 5);
  p.series.forEach((s, si) => {
    const c = SERIES_COLORS[si % SERIES_COLORS.length];
    let prev: [number, number] | null = null;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(ty(y))) { prev = null; return; }
      const pt: [number, number] = [px(x), py(y)];
      if (prev) r.line(prev[0], prev[1], pt[0], pt[1], c); else r.set(pt[0], pt[1], c);
      prev = pt;
    });
  });
  return r.image();
}

/** Create a line chart, display it (unless {display: false}) and return it for `.push(series, x, y)`. */
export function lineChart(opts: LineChartOptions = {}): LineChart {
  const chart = new LineChart(opts);
  if (opts.display !== false) {
    chart.handle = display(chart);
    // already on screen: as a cell's last value it must not be shown a second time (the kernel skips handles)
    Object.defineProperty(chart, displayHandleSymbol, { value: true, enumerable: false });
  }
  return chart;
}
