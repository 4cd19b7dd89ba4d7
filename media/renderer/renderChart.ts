/**
 * application/vnd.nextframe.chart+json → a plotly line chart. When the kernel updates the output (a live
 * training curve), the renderer is called again for the same element; if a chart already lives there it is
 * updated with Plotly.react (no flicker, no re-layout of the cell).
 */
import type { ChartPayload } from "../../kernel/nextframe/display/payloads";
import { el, header, onThemeChange } from "../shared/dom";
import { loadPlotly, plotlyText, plotlyTheme } from "../shared/plotly";

interface ChartState { root: HTMLElement; plotEl: HTMLElement; payload: ChartPayload }
const live = new WeakMap<HTMLElement, ChartState>();

function traces(p: ChartPayload) {
  return p.series.map((s) => ({
    type: "scatter", mode: s.x.length > 200 ? "lines" : "lines+markers", name: plotlyText(String(s.name)),
    x: s.x, y: s.y.map((v) => (v === null ? null : v)), marker: { size: 4 },
    hovertemplate: `${plotlyText(String(s.name))}<br>x %{x}<br>y %{y:.5g}<extra></extra>`,
  }));
}

function layout(p: ChartPayload, ref: Element) {
  const t = plotlyTheme(ref);
  return {
    margin: { l: 50, r: 10, t: 10, b: 40 }, height: 280, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: t.fg, family: t.font, size: 11 }, showlegend: p.series.length > 1, legend: { orientation: "h" },
    xaxis: { title: { text: plotlyText(p.xLabel ?? "") }, gridcolor: t.grid, zerolinecolor: t.grid },
    yaxis: { title: { text: plotlyText(p.yLabel ?? "") }, type: p.logY ? "log" : "linear", gridcolor: t.grid, zerolinecolor: t.grid },
  };
}

const config = { displayModeBar: false, responsive: true };

export async function renderChart(p: ChartPayload, container: HTMLElement, signal: AbortSignal): Promise<HTMLElement> {
  if (!Array.isArray(p.series) || p.series.some((s) => !Array.isArray(s.x) || !Array.isArray(s.y))) throw new Error("chart: malformed payload");
  const Plotly = await loadPlotly();
  const prev = live.get(container);
  if (prev && prev.root.isConnected) {
    prev.payload = p;
    await Plotly.react(prev.plotEl, traces(p), layout(p, prev.root), config);
    return prev.root;
  }
  const root = el("div", { class: "nf-chart" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);
  const plotEl = el("div", { class: "nf-plot" });
  root.appendChild(plotEl);
  container.appendChild(root);
  const state: ChartState = { root, plotEl, payload: p };
  live.set(container, state);
  await Plotly.newPlot(plotEl, traces(p), layout(p, root), config);
  root.dataset.plotted = "true";
  onThemeChange(() => void Plotly.relayout(plotEl, layout(state.payload, root)), signal);
  signal.addEventListener("abort", () => { Plotly.purge(plotEl); root.remove(); live.delete(container); });
  return root;
}
