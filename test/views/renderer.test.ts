// The notebook renderer in headless Chromium, fed bundles from the real kernel-side helpers: pixels where the
// data puts them, player advancing, heatmap brightest cell, theme variables, CSP against injected markup.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { framesBundle, videosBundle, contactIndices, contactScale, CONTACT_GAP } from "../../kernel/nextframe/display/frames";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { tokensBundle } from "../../kernel/nextframe/display/tokens";
import { tableBundle } from "../../kernel/nextframe/display/table";
import { scorecardBundle } from "../../kernel/nextframe/display/scorecard";
import { patchesBundle } from "../../kernel/nextframe/display/patches";
import { LineChart } from "../../kernel/nextframe/display/chart";
import { colormapLut } from "../../kernel/shared/colormap";
import { decodePng } from "../../kernel/nextframe/display/png";
import { svgOfImageHtml } from "../../kernel/nextframe/display/bundle";
import { mimeBundleSymbol, type MimeBundle } from "../../kernel/nextframe/display/display";
import { chromiumMissing, decodeScreenshot, pixel, renderBundle, rendererPageSession } from "./harness";

// Browser globals used inside page.evaluate callbacks: those run in Chromium; the root tsconfig has no DOM lib.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any; declare function getComputedStyle(e: unknown): any;


const skip = chromiumMissing();
const tensor = (shape: number[], data: Float32Array) => ({ shape, dtype: "float32", data: async () => data });

/** T frames of 8×8 RGB: frame t is dark blue with a red pixel at (y=t, x=7−t) and a green one at (7, t). */
function fixtureVideo(T: number): Float32Array {
  const v = new Float32Array(T * 8 * 8 * 3);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < 64; i++) v[(t * 64 + i) * 3 + 2] = 0.4;
    const put = (y: number, x: number, rgb: number[]) => rgb.forEach((c, k) => { v[(t * 64 + y * 8 + x) * 3 + k] = c; });
    put(t, 7 - t, [1, 0, 0]);
    put(7, t, [0, 1, 0]);
  }
  return v;
}

describe("renderer in headless Chromium", { skip }, () => {
  const session = rendererPageSession();
  let page: Page;
  before(() => { page = session.page(); });

  const canvasPixels = async (selector: string) => decodeScreenshot(await page.locator(selector).first().screenshot());
  const frameOf = async (id: string) => Number(await page.locator(`#cell-${id} .nf-player`).getAttribute("data-frame"));

  test("frames: the frame's pixels appear at the expected places (nearest-neighbour upscaled)", async () => {
    await renderBundle(page, "f1", await framesBundle(tensor([6, 8, 8, 3], fixtureVideo(6)), { fps: 30, title: "fixture" }));
    const shot = await canvasPixels("#cell-f1 canvas");
    const s = shot.w / 8;
    assert.ok(Number.isInteger(s) && s >= 2, `integer upscale, got ${shot.w}px for 8px`);
    const at = (y: number, x: number) => pixel(shot, Math.floor((x + 0.5) * s), Math.floor((y + 0.5) * s));
    assert.deepEqual(at(0, 7), [255, 0, 0]);
    assert.deepEqual(at(7, 0), [0, 255, 0]);
    assert.deepEqual(at(3, 3), [0, 0, 102]);
    // crisp: the pixel right next to a block edge is not blended
    assert.deepEqual(pixel(shot, 7 * s + 1, 1), [255, 0, 0]);
    assert.deepEqual(pixel(shot, 7 * s - 1, 1), [0, 0, 102]);
  });

  test("frames: the player advances on play, steps with the keyboard, and shows the frame it says", async () => {
    assert.equal(await frameOf("f1"), 0);
    await page.locator("#cell-f1 button[aria-label^='Play']").click();
    await page.waitForFunction(() => Number(document.querySelector("#cell-f1 .nf-player")!.getAttribute("data-frame")) > 0, null, { timeout: 10000 });
    await page.locator("#cell-f1 button[aria-label^='Pause']").click();
    const t = await frameOf("f1");
    const shot = await canvasPixels("#cell-f1 canvas");
    const s = shot.w / 8;
    assert.deepEqual(pixel(shot, Math.floor((7 - t + 0.5) * s), Math.floor((t + 0.5) * s)), [255, 0, 0], `red pixel of frame ${t}`);
    await page.locator("#cell-f1 .nf-player").focus();
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await frameOf("f1"), 2);
    const shot2 = await canvasPixels("#cell-f1 canvas");
    assert.deepEqual(pixel(shot2, Math.floor(5.5 * s), Math.floor(2.5 * s)), [255, 0, 0]);
  });

  test("frames: the fallback's frames decode and match the rich view's pixels", async () => {
    const b = await framesBundle(tensor([6, 8, 8, 3], fixtureVideo(6)));
    const fb = decodePng(/href="data:image\/png;base64,([^"]+)"/.exec(svgOfImageHtml(b["text/html"]))![1]);
    const k = contactScale(8, 8);
    await renderBundle(page, "f2", b);
    for (const [j, t] of contactIndices(6).entries()) {
      await page.locator("#cell-f2 .nf-player").focus();
      await page.keyboard.press("Home");
      for (let i = 0; i < t; i++) await page.keyboard.press("ArrowRight");
      const rich = await page.evaluate(() => Array.from(document.querySelector("#cell-f2 canvas")
        .getContext("2d")!.getImageData(0, 0, 8, 8).data));
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const fi = ((y * k) * fb.w + j * (8 * k + CONTACT_GAP) + x * k) * 3;
          assert.deepEqual(Array.from(fb.data.subarray(fi, fi + 3)), rich.slice((y * 8 + x) * 4, (y * 8 + x) * 4 + 3), `frame ${t} (${y},${x})`);
        }
      }
    }
  });

  test("showVideos: synced grid — one clock for all players, titles as text", async () => {
    const v = fixtureVideo(4);
    await renderBundle(page, "g1", await videosBundle([{ title: "truth", frames: tensor([4, 8, 8, 3], v) },
      { title: "model", frames: tensor([4, 8, 8, 3], v) }], { fps: 4 }));
    assert.equal(await page.locator("#cell-g1 canvas").count(), 2);
    assert.deepEqual(await page.locator("#cell-g1 .nf-caption").allTextContents(), ["truth", "model"]);
    await page.locator("#cell-g1 .nf-player").focus();
    await page.keyboard.press("End");
    const [a, b] = [await canvasPixels("#cell-g1 canvas >> nth=0"), await canvasPixels("#cell-g1 canvas >> nth=1")];
    const s = a.w / 8;
    assert.deepEqual(pixel(a, Math.floor(4.5 * s), Math.floor(3.5 * s)), [255, 0, 0]);
    assert.deepEqual(pixel(b, Math.floor(4.5 * s), Math.floor(3.5 * s)), [255, 0, 0]);
  });

  test("heatmap: the brightest cell is where the fixture puts it (small multiples and hover)", async () => {
    const L = 2, H = 3, Q = 6, K = 8, v = new Float32Array(L * H * Q * K);
    for (let i = 0; i < v.length; i++) v[i] = 0.05 + 0.3 * ((i * 7919) % 13) / 13;
    v[((1 * H + 2) * Q + 4) * K + 5] = 0.97;
    await renderBundle(page, "h1", await heatmapBundle(tensor([L, H, Q, K], v), { title: "attention" }));
    const shot = await canvasPixels("#cell-h1 canvas[data-layer='1'][data-head='2']");
    const top = Array.from(colormapLut("viridis").subarray(255 * 3));
    // centroid of the pixels in the top-of-scale colour, mapped back to (query, key) through the 2 px border
    let n = 0, cy = 0, cx = 0;
    for (let y = 0; y < shot.h; y++) {
      for (let x = 0; x < shot.w; x++) {
        const p = pixel(shot, x, y);
        if (Math.abs(p[0] - top[0]) + Math.abs(p[1] - top[1]) + Math.abs(p[2] - top[2]) <= 12) { n++; cy += y; cx += x; }
      }
    }
    assert.ok(n > 0, "top-of-scale colour present");
    const { width: w, height: h } = (await page.locator("#cell-h1 canvas[data-layer='1'][data-head='2']").boundingBox())!;
    assert.deepEqual([Math.floor(((cy / n) - 2) / ((h - 4) / Q)), Math.floor(((cx / n) - 2) / ((w - 4) / K))], [4, 5]);
    const other = await canvasPixels("#cell-h1 canvas[data-layer='0'][data-head='0']");
    for (let y = 2; y < other.h - 2; y++) for (let x = 2; x < other.w - 2; x++) assert.notDeepEqual(pixel(other, x, y), top);
    // select the map and hover the cell in the plotly view
    await page.locator("#cell-h1 canvas[data-layer='1'][data-head='2']").click();
    await page.waitForFunction(() => document.querySelector("#cell-h1 .nf-heatmap")?.getAttribute("data-plotted") === "true", null, { timeout: 30000 });
    assert.match(await page.locator("#cell-h1 .nf-status").textContent() ?? "", /max 0\.97 at query 4, key 5/);
    await page.locator("#cell-h1 .nf-plot").scrollIntoViewIfNeeded();
    const pos = await page.evaluate(() => {
      const gd = document.querySelector("#cell-h1 .nf-plot");
      const r = gd.getBoundingClientRect(), fl = gd._fullLayout;
      return { x: r.left + fl._size.l + fl.xaxis.l2p(5), y: r.top + fl._size.t + fl.yaxis.l2p(4) };
    });
    await page.mouse.move(pos.x, pos.y);
    await page.waitForSelector("#cell-h1 .hoverlayer .hovertext", { timeout: 5000 });
    const hover = await page.locator("#cell-h1 .hoverlayer .hovertext").textContent();
    assert.match(hover ?? "", /layer 1.*head 2.*query 4.*key 5.*value 0\.97/);
  });

  test("heatmap: one map that is not attention (a similarity matrix) speaks of its axes, not of a layer, head or query", async () => {
    await renderBundle(page, "h3", await heatmapBundle([[1, 0.2, 0.1], [0.2, 0.9, 0.3], [0.1, 0.3, 0.8]],
      { title: "cosine similarity", labels: ["north", "south", "key"], xTitle: "word", yTitle: "word", valueTitle: "cosine similarity" }));
    await page.waitForFunction(() => document.querySelector("#cell-h3 .nf-heatmap")?.getAttribute("data-plotted") === "true", null, { timeout: 30000 });
    assert.equal(await page.locator("#cell-h3 .nf-status").textContent(), "max 1 at word 0 (north), word 0 (north)");
    assert.equal(await page.locator("#cell-h3 .gtitle").count(), 0, "no 'layer 0 · head 0' title over the map");
    assert.equal((await page.locator("#cell-h3 .nf-controls").textContent())?.includes("query"), false);
    await page.locator("#cell-h3 input.nf-num").fill("1");
    await page.locator("#cell-h3 input.nf-num").dispatchEvent("change");
    assert.equal(await page.locator("#cell-h3 .nf-status").textContent(), "word 1 (south) is highest at word 1 (south): 0.9");
  });

  test("heatmap: big maps paint from pooled thumbnails first; the peak survives pooling; values decode after", async () => {
    const N = 200, v = new Float32Array(2 * N * N);
    for (let i = 0; i < v.length; i++) v[i] = 0.01 * ((i * 31) % 17);
    v[N * N + 150 * N + 40] = 5;
    const b = await heatmapBundle(tensor([2, N, N], v));
    assert.ok((b["application/vnd.nextframe.heatmap+json"] as { thumbs?: unknown }).thumbs, "payload carries thumbnails");
    await renderBundle(page, "h2", b);
    const sel = "#cell-h2 canvas[data-head='1']";
    const shot = await canvasPixels(sel);
    const top = Array.from(colormapLut("viridis").subarray(255 * 3));
    let n = 0, cy = 0, cx = 0;
    for (let y = 0; y < shot.h; y++) {
      for (let x = 0; x < shot.w; x++) {
        const p = pixel(shot, x, y);
        if (Math.abs(p[0] - top[0]) + Math.abs(p[1] - top[1]) + Math.abs(p[2] - top[2]) <= 12) { n++; cy += y; cx += x; }
      }
    }
    assert.ok(n > 0, "the single peak survives max-pooling");
    const { width: w, height: h } = (await page.locator(sel).boundingBox())!;
    assert.ok(Math.abs(((cy / n) - 2) / (h - 4) - 150.5 / N) < 0.03 && Math.abs(((cx / n) - 2) / (w - 4) - 40.5 / N) < 0.03,
      `peak at (${(cy / n).toFixed(1)}, ${(cx / n).toFixed(1)}) of ${w}×${h}`);
    await page.locator(sel).click();
    await page.waitForFunction(() => /max 5 at query 150, key 40/.test(document.querySelector("#cell-h2 .nf-status")?.textContent ?? ""), null, { timeout: 20000 });
  });

  test("theme: changing VS Code's theme variables changes the colours", async () => {
    const bg = async () => { const s = await canvasPixels("#cell-f1 .nf-player"); return pixel(s, 2, 2); };
    await page.evaluate(() => document.documentElement.style.setProperty("--vscode-editor-background", "rgb(10, 20, 30)"));
    assert.deepEqual(await bg(), [10, 20, 30]);
    await page.evaluate(() => document.documentElement.style.setProperty("--vscode-editor-background", "rgb(250, 240, 200)"));
    assert.deepEqual(await bg(), [250, 240, 200]);
    // plotly views follow too (font colour from --vscode-editor-foreground)
    await page.evaluate(() => document.documentElement.style.setProperty("--vscode-editor-foreground", "rgb(200, 0, 100)"));
    await page.waitForFunction(() => [...document.querySelectorAll("#cell-h1 .nf-plot text")].some((t) => getComputedStyle(t).fill === "rgb(200, 0, 100)"), null, { timeout: 5000 });
    await page.evaluate(() => { document.documentElement.style.removeProperty("--vscode-editor-background"); document.documentElement.style.removeProperty("--vscode-editor-foreground"); });
  });

  test("security: injected <script> / onerror= in captions, titles and tokens do not execute under the CSP", async () => {
    const evil = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
    await renderBundle(page, "x1", await videosBundle([{ title: evil, frames: tensor([1, 8, 8, 3], fixtureVideo(1)) }], { title: evil }));
    await renderBundle(page, "x2", await tokensBundle([evil, "ok"], [1, 2], { title: evil }));
    await renderBundle(page, "x3", await tableBundle([{ [evil]: evil }], { title: evil }));
    await renderBundle(page, "x4", await heatmapBundle([[0, 1], [1, 0]], { labels: [evil, "b"], title: evil }));
    assert.equal(await page.locator("#cell-x1 .nf-caption").textContent(), evil);
    assert.equal(await page.locator("#cell-x1 .nf-title").textContent(), evil);
    assert.equal(await page.locator("#cell-x2 .nf-token").first().textContent(), evil);
    assert.equal(await page.locator("#out img, #out script").count(), 0, "no element was created from user strings");
    // and if some bug ever did insert markup, the page's nonce CSP still blocks it
    await page.evaluate((html) => { const d = document.createElement("div"); d.innerHTML = html; document.body.appendChild(d); }, evil);
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.ok((await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).some((v) => v.startsWith("script-src")));
  });

  test("tokens: strip coloured by value; keyboard moves through tokens", async () => {
    await renderBundle(page, "t1", await tokensBundle(["The", " cat", " sat"], [0, 1, 0.5], { valueLabel: "loss" }));
    const spans = page.locator("#cell-t1 .nf-token");
    assert.equal(await spans.count(), 3);
    const lut = colormapLut("viridis");
    assert.equal(await spans.nth(1).evaluate((e) => getComputedStyle(e).backgroundColor), `rgb(${lut[765]}, ${lut[766]}, ${lut[767]})`);
    await page.locator("#cell-t1 .nf-tokens").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.match(await page.locator("#cell-t1 .nf-status").textContent() ?? "", /#1 " cat" {2}loss = 1/);
  });

  test("chart: re-rendering the same output updates the plot in place", async () => {
    const chart = new LineChart({ title: "loss", series: ["train"] });
    for (let i = 0; i < 5; i++) chart.push("train", i, 1 / (i + 1));
    await renderBundle(page, "c1", await chart[mimeBundleSymbol]() as MimeBundle);
    const plot1 = await page.locator("#cell-c1 .nf-plot").elementHandle();
    for (let i = 5; i < 12; i++) chart.push("train", i, 1 / (i + 1));
    chart.push("val", 11, 0.2);
    await renderBundle(page, "c1", await chart[mimeBundleSymbol]() as MimeBundle);
    const same = await page.evaluate((p) => p!.isConnected && document.querySelectorAll("#cell-c1 .nf-plot").length === 1 &&
      document.querySelector("#cell-c1 .nf-plot") === p, plot1);
    assert.ok(same, "the same plot element was updated");
    const lens = await page.evaluate(() => (document.querySelector("#cell-c1 .nf-plot") as unknown as { data: { x: number[] }[] }).data.map((d) => d.x.length));
    assert.deepEqual(lens, [12, 1]);
  });

  test("table: sorts by a column from the keyboard", async () => {
    await renderBundle(page, "tb", await tableBundle([{ model: "B", loss: 0.3 }, { model: "A", loss: 0.1 }, { model: "C", loss: 0.2 }]));
    await page.locator("#cell-tb th button", { hasText: "loss" }).focus();
    await page.keyboard.press("Enter");
    assert.deepEqual(await page.locator("#cell-tb tbody tr td:first-child").allTextContents(), ["A", "C", "B"]);
    // a column is shown at one precision; the full value is on hover
    await renderBundle(page, "tp", await tableBundle([{ model: "B", follow: 0.5714285714 }, { model: "A", follow: 0.0666667 }, { model: "C", follow: 0.2 }]));
    assert.deepEqual(await page.locator("#cell-tp tbody tr td:nth-child(2)").allTextContents(), ["0.571", "0.067", "0.200"]);
    assert.equal(await page.locator("#cell-tp tbody tr td:nth-child(2)").first().getAttribute("title"), "0.5714285714");
    // a numeric column is aligned right, its text cells ("≥ 0.9") and header too; a column of names left
    await renderBundle(page, "ta", await tableBundle([{ model: "world model", follow: 0.333 }, { model: "target", follow: "≥ 0.9" }]));
    const align = (sel: string) => page.locator(sel).evaluateAll((els) => els.map((e) => getComputedStyle(e).textAlign));
    assert.deepEqual(await align("#cell-ta tbody tr td:nth-child(2)"), ["right", "right"]);
    assert.deepEqual(await align("#cell-ta thead th:nth-child(2)"), ["right"]);
    assert.deepEqual(await align("#cell-ta tbody tr td:first-child"), ["left", "left"]);
  });

  test("scorecard: rows and verdict badges visible, badge colours from the theme (light and dark)", async () => {
    await renderBundle(page, "sc", scorecardBundle([
      { claim: "learns the world's rules", measured: "loss 0.12", baseline: "bigram: 2.5", verdict: "shown", note: "one seed" },
      { claim: "remembers hidden objects", measured: "re-emergence 0.3", baseline: "copy-last: 0.2", verdict: "partly" },
      { claim: "simulates physics", measured: "AUC 0.48", baseline: "chance 0.5", verdict: "not at this scale" },
      { claim: "notices a wall broken", measured: "AUC 0.25", baseline: "chance 0.5", verdict: "contradicted" },
    ], { title: "Chapter 8 scorecard" }));
    const rows = page.locator("#cell-sc tbody tr");
    assert.equal(await rows.count(), 4);
    assert.equal(await page.locator("#cell-sc .nf-title").textContent(), "Chapter 8 scorecard");
    assert.deepEqual(await page.locator("#cell-sc thead th").allTextContents(), ["claim", "measured", "baseline", "verdict"]);
    assert.deepEqual(await rows.first().locator("td").allTextContents(), ["learns the world's rulesone seed", "loss 0.12", "bigram: 2.5", "✓ shown"]);
    const badges = page.locator("#cell-sc .nf-verdict");
    assert.deepEqual(await badges.allTextContents(), ["✓ shown", "◐ partly", "○ not at this scale", "✗ contradicted"]);
    for (let i = 0; i < 4; i++) assert.ok(await badges.nth(i).isVisible(), `badge ${i + 1} visible`);
    const colours = () => badges.evaluateAll((bs) => bs.map((b) => getComputedStyle(b).color));
    const light = await colours();
    assert.equal(new Set(light).size, 4, `four distinct badge colours: ${light}`);
    // a dark theme sets VS Code's variables to other colours; the badges follow
    const dark = { "--vscode-testing-iconPassed": "rgb(115, 201, 145)", "--vscode-editorWarning-foreground": "rgb(204, 167, 0)",
      "--vscode-descriptionForeground": "rgb(160, 160, 160)", "--vscode-errorForeground": "rgb(241, 76, 76)" };
    await page.evaluate((vars) => { for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v); }, dark);
    try {
      assert.deepEqual(await colours(), Object.values(dark));
    } finally {
      await page.evaluate((vars) => { for (const k of Object.keys(vars)) document.documentElement.style.removeProperty(k); }, dark);
    }
    const box = (await page.locator("#cell-sc table").boundingBox())!;
    assert.ok(box.width > 300 && box.height > 4 * 16, `a readable table, ${box.width}×${box.height}`);
  });

  test("patches: grid over the image; clicking a patch shows the attention from it", async () => {
    const img = new Float32Array(8 * 8 * 3).fill(0.5);
    const att = new Float32Array(16 * 16);
    for (let q = 0; q < 16; q++) att[q * 16 + 15 - q] = 1;
    await renderBundle(page, "p1", await patchesBundle(tensor([8, 8, 3], img), { patch: 2, attention: tensor([16, 16], att) }));
    const canvas = page.locator("#cell-p1 canvas");
    const box = (await canvas.boundingBox())!;
    await canvas.click({ position: { x: box.width * (1.5 / 4), y: box.height * (2.5 / 4) } }); // patch row 2, col 1 = 9
    assert.equal(await page.locator("#cell-p1 .nf-patches").getAttribute("data-query"), "9");
    const shot = await canvasPixels("#cell-p1 canvas");
    const centre = (r: number, c: number) => pixel(shot, Math.floor(shot.w * (c + 0.5) / 4), Math.floor(shot.h * (r + 0.5) / 4));
    const hot = centre(1, 2), cold = centre(0, 0); // patch 6 = 15 − 9 gets the attention
    assert.ok(hot[1] > cold[1] + 80, `attended patch is yellow-ish ${hot} vs ${cold}`);
  });

  test("bad input: a clear message instead of a blank cell", async () => {
    const nan = new Float32Array(2 * 4 * 4 * 3); nan[3] = NaN;
    await renderBundle(page, "e1", await framesBundle(tensor([2, 4, 4, 3], nan)));
    assert.match(await page.locator("#cell-e1 .nf-error").textContent() ?? "", /NaN\/Infinity value in the frames/);
    assert.deepEqual((page as Page & { nfErrors: string[] }).nfErrors, []);
  });
});
