/**
 * The World Viewer page (pure: no vscode import, so tests load the very same HTML in Chromium).
 * Strict CSP: nothing but our nonce'd module script (and the chunks it imports from our own resource
 * root), no inline handlers, no remote content; images only from data:/blob:.
 */
export interface WorldViewerHtmlOptions {
  /** URL of dist/media/worldViewer.js as the webview sees it */
  scriptUri: string;
  /** webview.cspSource: the origin of the extension's local resources */
  cspSource: string;
  nonce: string;
}

export function worldViewerHtml(o: WorldViewerHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data: blob:`,
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}' 'strict-dynamic'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>World Viewer</title>
</head>
<body>
<div id="app"></div>
<script type="module" nonce="${o.nonce}" src="${o.scriptUri}"></script>
</body>
</html>`;
}

/** 32 random alphanumerics (crypto-random). */
export function makeNonce(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}
