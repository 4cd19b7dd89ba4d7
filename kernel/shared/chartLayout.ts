/**
 * The chart rules the notebook renderer (media/renderer/renderChart.ts, in the browser) and the library's SVG
 * fallback (kernel/nextframe/display/chart.ts) share, so that a chart looks the same in VS Code and on GitHub:
 * the series colours and where the legend goes. Pure arithmetic: no Node, no DOM.
 */

/** Series colours (plotly's default palette), shared by the renderer's chart, its legend and the SVG fallback. */
export const SERIES_COLORS: [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/**
 * Where a chart's legend goes: beside the plot when its widest entry leaves the plot at least 70 % of the width,
 * otherwise below it in equal columns; the chart grows by the legend's rows. Shared by the renderer (measured
 * widths) and the SVG fallback (estimated widths), so both make the same choice.
 */
export function legendLayout(itemWidths: number[], width: number, rowHeight: number):
  { side: "right" | "below"; columns: number; rows: number; columnWidth: number; height: number } {
  const widest = Math.max(0, ...itemWidths);
  if (itemWidths.length > 0 && widest <= 0.3 * width) {
    return { side: "right", columns: 1, rows: itemWidths.length, columnWidth: widest, height: itemWidths.length * rowHeight };
  }
  const columnWidth = Math.min(widest, width);
  const columns = Math.max(1, Math.min(itemWidths.length, Math.floor(width / Math.max(1, columnWidth))));
  const rows = Math.ceil(itemWidths.length / columns);
  return { side: "below", columns, rows, columnWidth, height: rows * rowHeight };
}
