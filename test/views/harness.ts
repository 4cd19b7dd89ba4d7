/**
 * Headless-Chromium harness for the views tests and benchmark: a page that mimics VS Code's notebook
 * renderer host (ActivationFunction + OutputItem {mime, json(), text(), data()}) under a strict nonce CSP,
 * serving dist/media from a fake origin. Fixtures are bundles from the real kernel-side helpers.
 */
import { existsSync, readFileSync, statSync, readdirSync } from "node:fs";
import { join, extname } from "node:path";
import { spawnSync } from "node:child_process";
import { after, before } from "node:test";
import type { Browser, Page } from "playwright-core";
import { decode } from "fast-png";
import type { MimeBundle } from "../../kernel/nextframe/display/display";
import assert from "node:assert/strict";
import { worldViewerHtml } from "../../extension/panels/worldViewerHtml";
import { parseKernelMessage, parsePanelMessage, toKernelMessage } from "../../extension/panels/messages";
import { commHandlersSymbol, kernelSinkSymbol } from "../../kernel/shared/libraryContract";
import { toPanelMessage } from "../../kernel/shared/payloads";

// Browser globals used inside page.evaluate callbacks: those run in Chromium; the root tsconfig has no DOM lib.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any;

export const CHROMIUM = "/usr/bin/chromium";
export const ROOT = new URL("../..", import.meta.url).pathname;
export const ORIGIN = "http://nf.test";
export const NONCE = "nf7Test9Nonce3xyz";

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium; .ci/run installs it)`;
}

function newest(dir: string): number {
  let t = 0;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Build dist/media if it is missing or older than its sources (media/ and the shared payload files). */
export function ensureMediaBuilt(): void {
  const out = join(ROOT, "dist/media/renderer.js");
  const srcT = Math.max(newest(join(ROOT, "media")), newest(join(ROOT, "kernel/nextframe/display")));
  if (existsSync(out) && statSync(out).mtimeMs >= srcT && existsSync(join(ROOT, "dist/media/worldViewer.js"))) return;
  const r = spawnSync("npm", ["run", "-s", "build:media"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run build:media failed:\n${r.stdout}\n${r.stderr}`);
}

export async function launch(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html" };

/** The renderer test page's CSP: only our nonce'd module (and what it imports); no inline handlers. */
export const RENDERER_CSP = `default-src 'none'; script-src 'nonce-${NONCE}' 'strict-dynamic'; style-src 'nonce-${NONCE}'; img-src data: blob:`;

const RENDERER_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<div id="out"></div>
<script type="module" nonce="${NONCE}">
import { activate } from "/dist/media/renderer.js";

window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
const api = await activate({ setState() {}, getState() { return undefined; }, workspace: { isTrusted: true },
  postMessage(m) { (window.__posted ??= []).push(m); }, getRenderer: async () => undefined });
const controllers = new Map();
window.nfRender = async (id, mime, json, width) => {
  const text = JSON.stringify(json);
  const bytes = new TextEncoder().encode(text);
  let el = document.getElementById("cell-" + id);
  if (!el) { el = document.createElement("div"); el.id = "cell-" + id; el.className = "cell"; document.getElementById("out").appendChild(el); }
  el.style.width = (width ?? 800) + "px";
  const ac = new AbortController();
  controllers.set(id, ac);
  const t0 = performance.now();
  await api.renderOutputItem({ id, mime, metadata: {}, text: () => text, json: () => JSON.parse(text), data: () => bytes,
    blob: () => new Blob([bytes]) }, el, ac.signal);
  return performance.now() - t0;
};
window.nfDispose = (id) => { api.disposeOutputItem(id); document.getElementById("cell-" + id)?.remove(); };
window.nfReady = true;
</script></body></html>`;

async function serve(page: Page, html: string, csp: string): Promise<void> {
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === "/" || url.pathname === "/index.html") {
      const headers: Record<string, string> = { "content-type": "text/html" };
      if (csp) headers["content-security-policy"] = csp;
      return route.fulfill({ status: 200, headers, body: html });
    }
    const file = join(ROOT, decodeURIComponent(url.pathname));
    if (!file.startsWith(join(ROOT, "dist/media")) || !existsSync(file)) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ status: 200, headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }, body: readFileSync(file) });
  });
}

export async function rendererPage(browser: Browser, viewport = { width: 1000, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  (page as Page & { nfErrors: string[] }).nfErrors = errors;
  await serve(page, RENDERER_PAGE, RENDERER_CSP);
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => (window as unknown as { nfReady?: boolean }).nfReady === true);
  return page;
}

/**
 * For a `describe` block of renderer tests: builds the media bundle if needed, launches Chromium and opens the
 * renderer page before the tests, closes Chromium after them. `page()` is that page (inside the tests).
 */
export function rendererPageSession(viewport?: { width: number; height: number }): { page(): Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  before(async () => {
    ensureMediaBuilt();
    browser = await launch();
    page = await rendererPage(browser, viewport);
  });
  after(async () => { await browser?.close(); });
  return {
    page() {
      if (!page) throw new Error("rendererPageSession: the page exists only inside the describe block's tests");
      return page;
    },
  };
}

/** Render the nextframe MIME part of `bundle` into cell `id`; returns the render call's duration (ms). */
export async function renderBundle(page: Page, id: string, bundle: MimeBundle, width = 800): Promise<number> {
  const mime = Object.keys(bundle).find((k) => k.startsWith("application/vnd.nextframe."));
  if (!mime) throw new Error(`bundle has no nextframe MIME type: ${Object.keys(bundle)}`);
  return page.evaluate(([i, m, j, w]) => (window as unknown as { nfRender: (...a: unknown[]) => Promise<number> }).nfRender(i, m, j, w),
    [id, mime, bundle[mime], width] as const);
}

/** World Viewer page: the very HTML the panel serves, with a fake acquireVsCodeApi posting to `onMessage`. */
export async function worldViewerPage(browser: Browser, onMessage: (m: unknown) => void): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  (page as Page & { nfErrors: string[] }).nfErrors = errors;
  await page.exposeFunction("__nfToExtension", (m: unknown) => onMessage(m));
  // a string, not a function: tsx's transform would wrap a function with helpers that do not exist in the page
  await page.addInitScript(`window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__nfToExtension(m), getState: () => undefined, setState: () => undefined });`);
  const html = worldViewerHtml({ scriptUri: `${ORIGIN}/dist/media/worldViewer.js`, cspSource: ORIGIN, nonce: NONCE });
  await serve(page, html, ""); // like a VS Code webview: the page's own <meta> CSP is the policy
  await page.goto(`${ORIGIN}/`);
  return page;
}

/**
 * A World Viewer page wired to the library as the extension and the kernel wire it: each message of the webview is
 * validated (parsePanelMessage) and handed to the library's "worldViewer" comm handler, whose reply — like
 * everything the library sends on a comm, through a kernel sink installed on globalThis — goes back to the webview
 * validated (parseKernelMessage). Resolves once the webview said it is ready. `fromWebview` records every valid
 * message of the webview, `sent` every comm the library sent after that. disconnect() removes the sink and waits
 * for the messages still on their way to the page (a session's stop() sends one), so the browser can close after it.
 */
export async function connectedWorldViewer(browser: Browser): Promise<{ page: Page; fromWebview: unknown[]; sent: unknown[]; disconnect(): Promise<void> }> {
  const g = globalThis as Record<symbol, unknown>;
  const fromWebview: unknown[] = [], sent: unknown[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let connected = true;
  const toWebview = async (data: unknown) => {
    if (!connected) return;
    const p = parseKernelMessage(data);
    assert.ok(p.ok, p.ok ? "" : p.reason);
    const posted = page.evaluate((m) => window.postMessage(m, "*"), toPanelMessage(p.value));
    inFlight.add(posted);
    try { await posted; } finally { inFlight.delete(posted); }
  };
  let ready: () => void;
  const isReady = new Promise<void>((r) => { ready = r; });
  const page = await worldViewerPage(browser, (m) => {
    const p = parsePanelMessage(m);
    if (!p.ok) return;
    fromWebview.push(p.value);
    if (p.value.command === "ready") return ready();
    const handler = (g[commHandlersSymbol] as Map<string, (d: unknown) => Promise<unknown>>).get("worldViewer")!;
    void handler(toKernelMessage(p.value)).then(async (reply) => { if (reply !== undefined) await toWebview(reply); });
  });
  await isReady;
  g[kernelSinkSymbol] = { display() {}, comm: (_t: string, d: unknown) => { sent.push(d); void toWebview(d); } };
  const disconnect = async () => {
    delete g[kernelSinkSymbol];
    connected = false;
    await Promise.allSettled([...inFlight]);
  };
  return { page, fromWebview, sent, disconnect };
}

export interface Rgba { w: number; h: number; data: Uint8Array | Uint8ClampedArray | Uint16Array; channels: number }

export function decodeScreenshot(png: Buffer): Rgba {
  const d = decode(png);
  return { w: d.width, h: d.height, data: d.data, channels: d.channels };
}

export function pixel(img: Rgba, x: number, y: number): number[] {
  const i = (y * img.w + x) * img.channels;
  return Array.from(img.data.subarray(i, i + 3));
}
