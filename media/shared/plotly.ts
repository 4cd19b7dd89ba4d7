/**
 * plotly.js loaded lazily: the ~3.5 MB module is a separate chunk fetched only when a heatmap or chart
 * first renders, so notebooks without them never pay for it.
 */
export interface PlotlyLike {
  newPlot(el: HTMLElement, data: unknown[], layout?: object, config?: object): Promise<unknown>;
  react(el: HTMLElement, data: unknown[], layout?: object, config?: object): Promise<unknown>;
  relayout(el: HTMLElement, update: object): Promise<unknown>;
  purge(el: HTMLElement): void;
  /** resize a figure to its element after its box changed (plotly's Plots namespace) */
  Plots?: { resize(el: HTMLElement): unknown };
}

let loading: Promise<PlotlyLike> | undefined;

export function loadPlotly(): Promise<PlotlyLike> {
  loading ??= import("plotly.js-dist-min").then((m: { default?: PlotlyLike } & Partial<PlotlyLike>) => (m.default ?? m) as PlotlyLike);
  return loading;
}

/** Escape text that plotly would otherwise read as its pseudo-HTML (hover text, tick labels, titles). */
export function plotlyText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Plotly layout colours from the VS Code theme. */
export function plotlyTheme(ref: Element): { fg: string; grid: string; font: string } {
  const cs = getComputedStyle(ref);
  const fg = cs.getPropertyValue("--vscode-editor-foreground").trim() || cs.color || "#333";
  const grid = cs.getPropertyValue("--vscode-editorWidget-border").trim() || "rgba(128,128,128,0.3)";
  const font = cs.getPropertyValue("--vscode-font-family").trim() || "sans-serif";
  return { fg, grid, font };
}
