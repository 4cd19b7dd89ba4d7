/** The World Viewer's own styles (the state bar, help line and step counter), adopted beside the shared sheet. */
const CSS = `
.nf-world .nf-state { display: flex; align-items: center; gap: 10px; margin: 4px 0; }
.nf-world .nf-state-text { font-weight: 600; }
.nf-world[data-state="live"] .nf-state-text { color: var(--vscode-testing-iconPassed, #388a34); }
.nf-world[data-state="stopped"] .nf-state-text, .nf-world[data-state="stopping"] .nf-state-text { color: var(--vscode-descriptionForeground, #717171); }
.nf-world .nf-help { opacity: 0.9; margin: 2px 0 6px; }
.nf-world[data-state="live"][data-focus="no"] .nf-help { color: var(--vscode-editorWarning-foreground, #bf8803); }
.nf-world .nf-play { cursor: pointer; }
.nf-world[data-state="live"][data-focus="yes"] .nf-play { outline: 2px solid var(--vscode-focusBorder, #0078d4); }
.nf-world .nf-step { font-family: var(--vscode-editor-font-family, monospace); font-size: 1.4em; font-weight: 600; margin: 4px 0; }
.nf-world button:disabled { opacity: 0.5; cursor: default; }
`;

let sheet: CSSStyleSheet | undefined;

export function adoptViewerStyles(doc: Document = document): void {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  if (!doc.adoptedStyleSheets.includes(sheet)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
}
