/**
 * The renderer's stylesheet, built from VS Code's theme variables so light, dark and high-contrast themes
 * apply without code. Adopted once per document as a constructable stylesheet (no inline <style>, which a
 * nonce CSP would block).
 */
import { PLOTLY_CSS } from "./plotlyCss";

const CSS = `
.nf-root { color: var(--vscode-editor-foreground, #333); font-family: var(--vscode-font-family, sans-serif);
  font-size: var(--vscode-font-size, 13px); max-width: 100%; }
.nf-root :focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 1px; }
.nf-header { margin: 2px 0 4px; }
.nf-title { font-weight: 600; }
.nf-note { opacity: 0.8; font-style: italic; }
.nf-error { color: var(--vscode-errorForeground, #c00); white-space: pre-wrap; font-family: var(--vscode-editor-font-family, monospace);
  border-left: 3px solid var(--vscode-errorForeground, #c00); padding: 4px 8px; }
.nf-stage { background: var(--vscode-editor-background, #fff); padding: 4px; display: inline-block; max-width: 100%; box-sizing: border-box; }
.nf-player { background: var(--vscode-editor-background, #fff); padding: 6px; display: inline-block; max-width: 100%; box-sizing: border-box; }
.nf-grid { display: flex; flex-wrap: wrap; gap: 6px; align-items: flex-start; }
.nf-grid.nf-rows { display: grid; gap: 8px 8px; align-items: center; }
.nf-row-label { text-align: right; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 0.95em; }
.nf-strip { display: flex; gap: 6px; align-items: flex-end; overflow: hidden; padding: 3px; }
.nf-strip-cell { display: flex; flex-direction: column; align-items: center; gap: 1px; cursor: pointer; }
.nf-strip-index { font-size: 0.8em; opacity: 0.75; font-variant-numeric: tabular-nums; line-height: 1.1; margin-bottom: 2px; }
.nf-strip-cell canvas { outline: 2px solid transparent; outline-offset: 1px; }
.nf-strip-cell[data-current="true"] canvas { outline-color: var(--vscode-focusBorder, #0078d4); }
.nf-cell { display: flex; flex-direction: column; align-items: center; gap: 2px; }
.nf-caption { font-size: 0.95em; opacity: 0.9; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nf-canvas { image-rendering: pixelated; image-rendering: crisp-edges; display: block; max-width: 100%; }
.nf-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 4px; }
.nf-btn { background: var(--vscode-button-secondaryBackground, #e5e5e5); color: var(--vscode-button-secondaryForeground, #333);
  border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; padding: 2px 8px; cursor: pointer; font: inherit; min-width: 28px; }
.nf-btn:hover { background: var(--vscode-button-secondaryHoverBackground, #ddd); }
.nf-btn[aria-pressed="true"] { background: var(--vscode-button-background, #0078d4); color: var(--vscode-button-foreground, #fff); }
.nf-select, .nf-num { background: var(--vscode-dropdown-background, #fff); color: var(--vscode-dropdown-foreground, #333);
  border: 1px solid var(--vscode-dropdown-border, #ccc); font: inherit; }
.nf-num { width: 5em; }
.nf-field { display: inline-flex; align-items: center; gap: 2px; }
.nf-interact-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; margin-bottom: 6px; }
.nf-slider { width: 160px; vertical-align: middle; }
.nf-slider-value { min-width: 3em; font-variant-numeric: tabular-nums; }
.nf-interact-image { max-width: 100%; height: auto; }
.nf-interact-text { white-space: pre-wrap; margin: 0; }
.nf-scrub { flex: 1 1 120px; min-width: 80px; accent-color: var(--vscode-button-background, #0078d4); }
.nf-counter { font-variant-numeric: tabular-nums; min-width: 5em; }
.nf-multiples { display: grid; gap: 3px; margin-top: 6px; overflow-x: auto; width: max-content; max-width: 100%; justify-content: start; }
.nf-multiples .nf-axis { font-size: 0.85em; opacity: 0.8; align-self: center; text-align: center; }
.nf-thumb { cursor: pointer; border: 2px solid transparent; box-sizing: content-box; }
.nf-thumb[aria-pressed="true"] { border-color: var(--vscode-focusBorder, #0078d4); }
.nf-plot { width: 100%; max-width: 720px; min-height: 120px; }
/* plotly draws a heatmap as one image pixel per cell; keep cells crisp even where its own pixelated check is
   blocked by the CSP (it probes with a style attribute) */
.nf-plot image { image-rendering: pixelated; }
.nf-chart-body { display: flex; flex-direction: column; gap: 4px; max-width: 100%; }
.nf-chart-body.nf-legend-right { flex-direction: row; align-items: flex-start; }
.nf-chart-body .nf-plot { flex: 1 1 auto; min-width: 0; max-width: none; }
.nf-chart-legend { display: grid; gap: 0 0; font-size: 12px; align-content: start; }
.nf-chart-body.nf-legend-right .nf-chart-legend { padding-top: 10px; flex: none; }
.nf-legend-item { display: inline-flex; align-items: center; gap: 6px; min-height: 22px; background: none; border: none; color: inherit;
  font: inherit; padding: 0 8px 0 2px; cursor: pointer; text-align: left; white-space: nowrap; justify-self: start; }
.nf-legend-item[aria-pressed="false"] { opacity: 0.4; text-decoration: line-through; }
.nf-legend-item svg { flex: none; }
.nf-scroll { overflow: auto; max-width: 100%; max-height: 900px; }
.nf-legend { display: flex; align-items: center; gap: 4px; font-size: 0.9em; }
.nf-legend canvas { height: 10px; width: 160px; image-rendering: auto; }
.nf-status { font-family: var(--vscode-editor-font-family, monospace); font-size: 0.9em; min-height: 1.3em; opacity: 0.9; white-space: pre; }
.nf-tokens { font-family: var(--vscode-editor-font-family, monospace); line-height: 1.9; white-space: pre-wrap; word-break: break-all; }
.nf-token { padding: 1px 2px; margin-right: 2px; border-radius: 2px; }
.nf-token[data-selected="true"] { outline: 2px solid var(--vscode-focusBorder, #0078d4); }
.nf-table-wrap { max-height: 420px; overflow: auto; max-width: 100%; }
.nf-table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.nf-table th, .nf-table td { border-bottom: 1px solid var(--vscode-editorWidget-border, #ddd); padding: 2px 8px; text-align: left; }
.nf-table .nf-num-cell { text-align: right; }
.nf-scorecard-wrap { max-height: none; }
.nf-scorecard td { vertical-align: top; padding: 4px 8px; }
.nf-scorecard th { font-weight: 600; }
.nf-sc-note { opacity: 0.8; font-size: 0.9em; margin-top: 2px; }
.nf-verdict { display: inline-block; white-space: nowrap; font-weight: 600; border: 1px solid currentColor; border-radius: 9px;
  padding: 0 8px; line-height: 1.5; }
.nf-verdict-shown { color: var(--vscode-testing-iconPassed, #388a34); }
.nf-verdict-partly { color: var(--vscode-editorWarning-foreground, #bf8803); }
.nf-verdict-scale { color: var(--vscode-descriptionForeground, #717171); }
.nf-verdict-contradicted, .nf-verdict-unknown { color: var(--vscode-errorForeground, #e51400); }
.nf-table th button { background: none; border: none; color: inherit; font: inherit; font-weight: 600; cursor: pointer; padding: 0; }
`;

let sheet: CSSStyleSheet | undefined;

export function adoptStyles(doc: Document = document): void {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS + PLOTLY_CSS);
  }
  if (!doc.adoptedStyleSheets.includes(sheet)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
}
