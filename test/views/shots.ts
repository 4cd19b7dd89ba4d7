// Screenshots of the views a person reads most, rendered by the notebook renderer in headless Chromium and, beside
// them, the fallback that GitHub and plain Jupyter show. Not a test: run it to look at the pictures.
//   node --import tsx test/views/shots.ts [out-dir] [dark]     (default /tmp/views-shots; "dark": VS Code's dark colours)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { LineChart } from "../../kernel/nextframe/display/chart";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { videosBundle } from "../../kernel/nextframe/display/frames";
import { mimeBundleSymbol, type MimeBundle } from "../../kernel/nextframe/display/display";
import { ensureMediaBuilt, launch, renderBundle, rendererPage } from "./harness";
import { fixtureAttention, fixtureTokens, horizonChart, rolloutFixture } from "./fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const out = process.argv[2] ?? "/tmp/views-shots";
mkdirSync(out, { recursive: true });

/** Show the bundle's fallback (its text/html <img>, else its PNG) in a plain <img>, the way a notebook viewer does. */
async function showFallback(page: Page, id: string, b: MimeBundle): Promise<void> {
  const html = b["text/html"] as string | undefined;
  const src = html ? /src="([^"]+)"/.exec(html)![1] : `data:image/png;base64,${b["image/png"]}`;
  await page.evaluate(([i, s]) => {
    const d = document.createElement("div");
    d.id = "fb-" + i;
    d.style.cssText = "display:inline-block;background:#fff;padding:8px";
    const img = document.createElement("img");
    img.src = s;
    d.appendChild(img);
    document.getElementById("out").appendChild(d);
    return new Promise((r) => { img.onload = r; img.onerror = r; });
  }, [id, src] as const);
}

async function main(): Promise<void> {
ensureMediaBuilt();
const browser = await launch();
try {
  const page = await rendererPage(browser, { width: 1000, height: 1200 });
  if (process.argv[3] === "dark") {
    await page.evaluate(() => {
      const s = document.documentElement.style;
      s.setProperty("--vscode-editor-background", "#1f1f1f");
      s.setProperty("--vscode-editor-foreground", "#cccccc");
      s.setProperty("--vscode-editorWidget-border", "#454545");
      document.body.style.background = "#1f1f1f";
      document.body.style.color = "#cccccc";
    });
  }
  const chart = horizonChart(LineChart);
  const cb = await chart[mimeBundleSymbol]() as MimeBundle;
  await renderBundle(page, "chart", cb, 800);
  await page.waitForFunction(() => document.querySelector("#cell-chart .nf-chart")?.dataset.plotted === "true");
  await page.locator("#cell-chart").screenshot({ path: join(out, "chart-renderer.png") });
  await showFallback(page, "chart", cb);
  await page.locator("#fb-chart").screenshot({ path: join(out, "chart-fallback.png") });

  const hb = await heatmapBundle(fixtureAttention(48), { title: "block 1, head 2: query token (row) → key token (column)",
    labels: fixtureTokens(48), xTitle: "key", yTitle: "query" });
  await renderBundle(page, "heat", hb, 800);
  await page.waitForFunction(() => document.querySelector("#cell-heat .nf-heatmap")?.dataset.plotted === "true");
  await page.locator("#cell-heat").screenshot({ path: join(out, "heatmap-renderer.png") });
  await showFallback(page, "heat", hb);
  await page.locator("#fb-heat").screenshot({ path: join(out, "heatmap-fallback.png") });

  const rows = rolloutFixture();
  const fb = await videosBundle(rows, { fps: 4, title: "first clip: counterfactual rollouts", rows: true } as never);
  await renderBundle(page, "frames", fb, 800);
  await page.waitForTimeout(300);
  await page.locator("#cell-frames").screenshot({ path: join(out, "frames-renderer.png") });
  await showFallback(page, "frames", fb);
  await page.locator("#fb-frames").screenshot({ path: join(out, "frames-fallback.png") });
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
}
}

void main();
