/**
 * Live line charts: `const chart = lineChart({title, series: ["train", "val"]})` displays a chart and returns
 * an object whose `.push(seriesName, x, y)` appends a point and updates the same output in place (through
 * its DisplayHandle, at most every `throttleMs`; `flush()` forces the update). The chart object is itself
 * displayable (mimeBundleSymbol), so it can also be a cell's last value.
 * Fallback: an SVG picture of the same chart (axes, ticks, titles, legend; see chartSvg) as an <img> in text/html
 * (svgImageHtml says why), plus text/plain with each series' last value. No PNG: a chart's words need text, and text
 * in a PNG would need a font rasterizer and a font shipped with the kernel.
 */
import { display, displayHandleSymbol, mimeBundleSymbol, type DisplayHandle, type MimeBundle } from "./display";
import { errorBundle, LIMITS, svgImageHtml } from "./bundle";
import { legendLayout, SERIES_COLORS } from "../../shared/chartLayout";
import { escapeXml, fmtTick, logTicks, niceTicks, SVG_FONT, svgId, textWidth } from "./svg";
import { MIME, PAYLOAD_VERSION, type ChartPayload, type ChartSeries } from "../../shared/payloads";

/** Options of lineChart: title, series names, axis titles, a log y axis and how often the output updates. */
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

export { SERIES_COLORS };

/** A line chart that grows while a cell runs: push(series, x, y) adds a point (e.g. a training loss) and the output updates in place, throttled. */
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
    return { [MIME.chart]: p, "text/html": svgImageHtml(chartSvg(p), text), "text/plain": text };
  }
}

const rgb = (c: readonly number[]) => `rgb(${c[0]},${c[1]},${c[2]})`;
const n1 = (v: number) => String(Math.round(v * 10) / 10);

/**
 * A polyline's points (pixels, x increasing) with at most four per pixel column: the first, lowest, highest and last
 * of each column, in order. The drawn line is the same to the pixel, and a 20 000-step training curve stays a few KB
 * in the saved notebook instead of hundreds.
 */
export function decimate(pts: [number, number][]): [number, number][] {
  if (pts.length <= 64) return pts;
  const out: [number, number][] = [];
  let i = 0;
  while (i < pts.length) {
    const col = Math.round(pts[i][0]);
    let j = i, lo = i, hi = i;
    while (j + 1 < pts.length && Math.round(pts[j + 1][0]) === col) {
      j++;
      if (pts[j][1] < pts[lo][1]) lo = j;
      if (pts[j][1] > pts[hi][1]) hi = j;
    }
    for (const k of [...new Set([i, lo, hi, j])].sort((a, b) => a - b)) out.push(pts[k]);
    i = j + 1;
  }
  return out;
}

/**
 * The chart as an SVG document (the fallback GitHub and Jupyter show): title, notes, axes with ticks and titles,
 * grid lines, one line per series in the renderer's colours, and a legend beside the plot when it is narrow,
 * below it otherwise. The plot area keeps its size; the picture grows by the legend's rows. Text is real text.
 */
export function chartSvg(p: ChartPayload, minWidth = 640): string {
  const pad = 12;
  const width = Math.ceil(Math.max(minWidth, p.title ? 2 * pad + textWidth(p.title, 15, true) : 0));
  const plotH = 280, tick = 11, font = `font-family="${SVG_FONT}"`;
  const parts: string[] = [];
  let top = pad;
  if (p.title) { parts.push(`<text x="${pad}" y="${top + 15}" font-size="15" font-weight="bold">${escapeXml(p.title)}</text>`); top += 24; }
  for (const n of p.notes ?? []) { parts.push(`<text x="${pad}" y="${top + 12}" font-size="11" font-style="italic" fill="#555">note: ${escapeXml(n)}</text>`); top += 16; }
  top += 6;
  // data range (log axis: the logs of the positive values)
  const ty = (v: number) => (p.logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of p.series) {
    s.x.forEach((x, i) => {
      const y = ty(s.y[i] as number);
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    });
  }
  const empty = !Number.isFinite(x0);
  if (empty) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const padY = (y1 - y0) * 0.05;
  y0 -= padY; y1 += padY;
  const yTicks = p.logY ? logTicks(Math.pow(10, y0), Math.pow(10, y1)).map(Math.log10) : niceTicks(y0, y1, 5);
  const yTickText = yTicks.map((t) => fmtTick(p.logY ? +Math.pow(10, t).toPrecision(6) : t));
  const left = pad + (p.yLabel ? 22 : 0) + Math.max(0, ...yTickText.map((t) => textWidth(t, tick))) + 8;
  // legend: beside when narrow enough, else below in columns
  const names = p.series.length > 1 ? p.series.map((s) => s.name) : [];
  const itemW = names.map((n) => 34 + textWidth(n, 12));
  const avail = width - left - pad;
  const lg = legendLayout(itemW, avail, 20);
  const plotW = names.length && lg.side === "right" ? avail - lg.columnWidth - 12 : avail;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  // grid, ticks and tick labels
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.round(plotW / 90)));
  for (const [i, t] of yTicks.entries()) {
    const y = n1(py(t));
    parts.push(`<line x1="${n1(left)}" x2="${n1(left + plotW)}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text class="tick y" x="${n1(left - 6)}" y="${y}" dy="0.35em" text-anchor="end" font-size="${tick}">${yTickText[i]}</text>`);
  }
  for (const t of xTicks) {
    const x = n1(px(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + plotH}" stroke="#e3e3e3"/>`,
      `<text class="tick x" x="${x}" y="${top + plotH + 17}" text-anchor="middle" font-size="${tick}">${fmtTick(t)}</text>`);
  }
  parts.push(`<rect class="plot-area" x="${n1(left)}" y="${top}" width="${n1(plotW)}" height="${plotH}" fill="none" stroke="#888"/>`);
  let bottom = top + plotH + 22;
  if (p.xLabel) {
    parts.push(`<text class="axis-title x" x="${n1(left + plotW / 2)}" y="${bottom + 14}" text-anchor="middle" font-size="12">${escapeXml(p.xLabel)}</text>`);
    bottom += 20;
  }
  if (p.yLabel) {
    const cy = n1(top + plotH / 2);
    parts.push(`<text class="axis-title y" x="${pad + 12}" y="${cy}" transform="rotate(-90 ${pad + 12} ${cy})" text-anchor="middle" font-size="12">${escapeXml(p.yLabel)}</text>`);
  }
  // the lines (gaps at NaN / null), clipped to the plot area
  const clip = svgId("plot", JSON.stringify(p));
  parts.push(`<clipPath id="${clip}"><rect x="${n1(left)}" y="${top}" width="${n1(plotW)}" height="${plotH}"/></clipPath><g clip-path="url(#${clip})">`);
  p.series.forEach((s, si) => {
    const c = rgb(SERIES_COLORS[si % SERIES_COLORS.length]);
    const runs: [number, number][][] = [[]], dots: string[] = [];
    s.x.forEach((x, i) => {
      const y = ty(s.y[i] as number);
      if (!Number.isFinite(x) || !Number.isFinite(y)) { if (runs[runs.length - 1].length) runs.push([]); return; }
      runs[runs.length - 1].push([px(x), py(y)]);
    });
    for (const r of runs) {
      const pts = decimate(r).map(([x, y]) => `${n1(x)},${n1(y)}`);
      if (pts.length > 1) parts.push(`<polyline class="series" points="${pts.join(" ")}" fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round"/>`);
      if (s.x.length <= 200 || r.length === 1) for (const [x, y] of r) dots.push(`<circle cx="${n1(x)}" cy="${n1(y)}" r="2.5"/>`);
    }
    if (dots.length) parts.push(`<g fill="${c}">${dots.join("")}</g>`);
  });
  parts.push("</g>");
  // legend
  let height = bottom + pad;
  if (names.length) {
    const lx0 = lg.side === "right" ? left + plotW + 12 : left, ly0 = lg.side === "right" ? top : bottom + 6;
    const items = names.map((n, i) => {
      const x = lx0 + (i % lg.columns) * lg.columnWidth, y = ly0 + Math.floor(i / lg.columns) * 20;
      const c = rgb(SERIES_COLORS[i % SERIES_COLORS.length]);
      return `<g class="legend-item"><line x1="${n1(x)}" x2="${n1(x + 24)}" y1="${y + 10}" y2="${y + 10}" stroke="${c}" stroke-width="2"/>` +
        `<circle cx="${n1(x + 12)}" cy="${y + 10}" r="2.5" fill="${c}"/><text x="${n1(x + 30)}" y="${y + 10}" dy="0.35em" font-size="12">${escapeXml(n)}</text></g>`;
    });
    parts.push(`<g class="legend">${items.join("")}</g>`);
    height = Math.max(height, lg.side === "right" ? top + lg.height + pad : ly0 + lg.height + pad);
  }
  if (empty) parts.push(`<text x="${n1(left + plotW / 2)}" y="${top + plotH / 2}" text-anchor="middle" font-size="12" fill="#555">no finite points</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(height)}" viewBox="0 0 ${width} ${Math.ceil(height)}" ` +
    `role="img" ${font} fill="#222"><title>${escapeXml(p.title ?? "line chart")}</title>` +
    `<rect width="100%" height="100%" fill="#fff"/>${parts.join("")}</svg>`;
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
