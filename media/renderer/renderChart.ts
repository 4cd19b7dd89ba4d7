/**
 * application/vnd.nextframe.chart+json → a plotly line chart with axes titles and ticks, and a legend of its own
 * (HTML, outside the plotly figure) that can never overlap the axes: beside the plot when its widest entry leaves
 * the plot 70 % of the width, below it in equal columns otherwise (the rule of the SVG fallback, legendLayout). The
 * figure keeps its height, so the plot area keeps its size and the chart grows by the legend's rows. Clicking an
 * entry hides or shows its series.
 *
 * When the kernel updates the output (a live training curve), the renderer is called again for the same element;
 * if a chart already lives there it is updated with Plotly.react (no flicker, no re-layout of the cell).
 */
import type { ChartPayload } from "../../kernel/shared/payloads";
import { legendLayout, SERIES_COLORS } from "../../kernel/shared/chartLayout";
import { el, header, onThemeChange } from "../shared/dom";
import { loadPlotly, plotlyText, plotlyTheme, type PlotlyLike } from "../shared/plotly";

/** Height of the plotly figure (plot area plus tick labels and axis titles); the legend sits outside it. */
const FIGURE_HEIGHT = 360;
const LEGEND_ROW = 22;

interface ChartState { root: HTMLElement; body: HTMLElement; plotEl: HTMLElement; legendEl: HTMLElement; payload: ChartPayload; hidden: Set<string> }
const live = new WeakMap<HTMLElement, ChartState>();

const color = (i: number) => { const c = SERIES_COLORS[i % SERIES_COLORS.length]; return `rgb(${c[0]},${c[1]},${c[2]})`; };

function traces(p: ChartPayload, hidden: Set<string>) {
  return p.series.map((s, i) => ({
    type: "scatter", mode: s.x.length > 200 ? "lines" : "lines+markers", name: plotlyText(String(s.name)),
    x: s.x, y: s.y.map((v) => (v === null ? null : v)), marker: { size: 5, color: color(i) }, line: { color: color(i), width: 2 },
    visible: hidden.has(String(s.name)) ? false : true,
    hovertemplate: `${plotlyText(String(s.name))}<br>x %{x}<br>y %{y:.5g}<extra></extra>`,
  }));
}

function layout(p: ChartPayload, ref: Element) {
  const t = plotlyTheme(ref);
  const axis = (title: string | undefined) => ({
    title: { text: plotlyText(title ?? ""), standoff: 8, font: { size: 12 } }, automargin: true,
    gridcolor: t.grid, zerolinecolor: t.grid, linecolor: t.grid, showline: true, ticks: "outside", tickcolor: t.grid, ticklen: 4,
  });
  return {
    margin: { l: 8, r: 12, t: 10, b: 8 }, height: FIGURE_HEIGHT, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: t.fg, family: t.font, size: 11 }, showlegend: false,
    xaxis: axis(p.xLabel), yaxis: { ...axis(p.yLabel), type: p.logY ? "log" : "linear" },
  };
}

const config = { displayModeBar: false, responsive: true };

/** A short line with a dot in the series' colour, as in the plot. */
function swatch(i: number): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "24"); svg.setAttribute("height", "10"); svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: "0", x2: "24", y1: "5", y2: "5", stroke: color(i), "stroke-width": "2" })) line.setAttribute(k, v);
  const dot = document.createElementNS(ns, "circle");
  for (const [k, v] of Object.entries({ cx: "12", cy: "5", r: "3", fill: color(i) })) dot.setAttribute(k, v);
  svg.append(line, dot);
  return svg;
}

/** Rebuild the legend's entries and place it beside or below the plot. */
function placeLegend(st: ChartState, Plotly: PlotlyLike, width: number): void {
  const { payload: p, legendEl, body } = st;
  legendEl.replaceChildren();
  if (p.series.length < 2) {
    legendEl.hidden = true;
    body.classList.remove("nf-legend-right");
    return;
  }
  legendEl.hidden = false;
  p.series.forEach((s, i) => {
    const name = String(s.name);
    const item = el("button", { class: "nf-legend-item", attrs: { type: "button", "aria-pressed": st.hidden.has(name) ? "false" : "true",
      title: `show or hide "${name}"` } }, swatch(i), el("span", { text: name }));
    item.addEventListener("click", () => {
      if (st.hidden.has(name)) st.hidden.delete(name); else st.hidden.add(name);
      item.setAttribute("aria-pressed", st.hidden.has(name) ? "false" : "true");
      void Plotly.react(st.plotEl, traces(st.payload, st.hidden), layout(st.payload, st.root), config);
    });
    legendEl.appendChild(item);
  });
  // measure the entries at their natural width, then choose
  legendEl.style.gridTemplateColumns = "max-content";
  const widths = [...legendEl.children].map((c) => Math.ceil((c as HTMLElement).getBoundingClientRect().width) + 16);
  const lg = legendLayout(widths, width, LEGEND_ROW);
  body.classList.toggle("nf-legend-right", lg.side === "right");
  legendEl.style.gridTemplateColumns = lg.side === "right" ? "max-content" : `repeat(${lg.columns}, ${lg.columnWidth}px)`;
}

export async function renderChart(p: ChartPayload, container: HTMLElement, signal: AbortSignal): Promise<HTMLElement> {
  if (!Array.isArray(p.series) || p.series.some((s) => !Array.isArray(s.x) || !Array.isArray(s.y))) throw new Error("chart: malformed payload");
  const Plotly = await loadPlotly();
  const width = () => (container.clientWidth > 0 ? container.clientWidth : 640);
  const prev = live.get(container);
  if (prev && prev.root.isConnected) {
    const wasRight = prev.body.classList.contains("nf-legend-right"), names = prev.payload.series.map((s) => s.name).join("\n");
    prev.payload = p;
    if (names !== p.series.map((s) => s.name).join("\n")) placeLegend(prev, Plotly, width());
    await Plotly.react(prev.plotEl, traces(p, prev.hidden), layout(p, prev.root), config);
    if (wasRight !== prev.body.classList.contains("nf-legend-right")) Plotly.Plots?.resize(prev.plotEl);
    return prev.root;
  }
  const root = el("div", { class: "nf-chart" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);
  const plotEl = el("div", { class: "nf-plot" });
  // plotly's resize (window resize, responsive) sizes the figure to this element: give it the figure's height
  plotEl.style.height = `${FIGURE_HEIGHT}px`;
  const legendEl = el("div", { class: "nf-chart-legend", attrs: { role: "group", "aria-label": "legend: click an entry to show or hide it" } });
  const body = el("div", { class: "nf-chart-body" }, plotEl, legendEl);
  root.appendChild(body);
  container.appendChild(root);
  const state: ChartState = { root, body, plotEl, legendEl, payload: p, hidden: new Set() };
  live.set(container, state);
  placeLegend(state, Plotly, width());
  await Plotly.newPlot(plotEl, traces(p, state.hidden), layout(p, root), config);
  root.dataset.plotted = "true";
  onThemeChange(() => void Plotly.relayout(plotEl, layout(state.payload, root)), signal);
  // a narrower or wider cell may move the legend between beside and below
  let lastWidth = width();
  const ro = typeof ResizeObserver !== "undefined" ? new ResizeObserver(() => {
    const w = width();
    if (Math.abs(w - lastWidth) < 8) return;
    lastWidth = w;
    const wasRight = body.classList.contains("nf-legend-right");
    placeLegend(state, Plotly, w);
    if (wasRight !== body.classList.contains("nf-legend-right")) Plotly.Plots?.resize(plotEl);
  }) : undefined;
  ro?.observe(container);
  signal.addEventListener("abort", () => { ro?.disconnect(); Plotly.purge(plotEl); root.remove(); live.delete(container); });
  return root;
}
