// Pictures a person can read, measured in headless Chromium: the boxes of what the renderer and the SVG fallbacks
// draw (plot area, legend, tick labels, axis titles, heatmap cells and labels, row labels) and how they sit.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { LineChart } from "../../kernel/nextframe/display/chart";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { videosBundle } from "../../kernel/nextframe/display/frames";
import { mimeBundleSymbol, type MimeBundle } from "../../kernel/nextframe/display/display";
import { chromiumMissing, renderBundle, rendererPageSession } from "./harness";
import { fixtureAttention, fixtureTokens, horizonChart, HORIZON_SERIES, rolloutFixture, tensor } from "./fixtures";

// Browser globals used inside page.evaluate callbacks: those run in Chromium; the root tsconfig has no DOM lib.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, DOMParser: any;

const skip = chromiumMissing();
/** The SVG inside a text/html fallback `<img src="data:image/svg+xml;base64,…">`. */
const svgOfImageHtml = (html: unknown) => Buffer.from(/src="data:image\/svg\+xml;base64,([^"]+)"/.exec(String(html))?.[1] ?? "", "base64").toString("utf8");

interface Box { x: number; y: number; w: number; h: number; text?: string }
const intersects = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const area = (b: Box) => b.w * b.h;
/** Pairs of boxes in `as` × `bs` that overlap (by more than half a pixel each way, so touching is not overlap). */
function overlaps(as: Box[], bs: Box[], same = false): string[] {
  const shrink = (b: Box) => ({ x: b.x + 0.5, y: b.y + 0.5, w: Math.max(0, b.w - 1), h: Math.max(0, b.h - 1), text: b.text });
  const out: string[] = [];
  as.forEach((a, i) => bs.forEach((b, j) => {
    if (same && j <= i) return;
    if (intersects(shrink(a), shrink(b))) out.push(`"${a.text}" ∩ "${b.text}"`);
  }));
  return out;
}

/** Boxes (page coordinates) of the elements matching `selector` under `root`, with their text. */
async function boxes(page: Page, root: string, selector: string): Promise<Box[]> {
  return page.evaluate(([r, s]) => [...document.querySelector(r).querySelectorAll(s)]
    .map((e: { getBoundingClientRect(): { x: number; y: number; width: number; height: number }; textContent: string }) => {
      const b = e.getBoundingClientRect();
      return { x: b.x, y: b.y, w: b.width, h: b.height, text: e.textContent.trim() };
    }).filter((b: Box) => b.w > 0 && b.h > 0), [root, selector] as const);
}

/**
 * Show a bundle's fallback the way a notebook viewer does (its text/html, an <img> of the SVG) and, to measure what
 * it draws, the same SVG inline (parsed as XML, so a malformed document fails here).
 */
async function showSvg(page: Page, id: string, b: MimeBundle): Promise<{ loaded: boolean; width: number }> {
  assert.equal(b["image/png"], undefined, "no text-less PNG beside it");
  assert.match(String(b["text/html"]), /^<img src="data:image\/svg\+xml;base64,[^"]+" width="\d+" height="\d+" style="[^"]*" alt="[^"]*">$/,
    "the text/html fallback is one <img> of an SVG");
  const svg = svgOfImageHtml(b["text/html"]);
  return page.evaluate(([i, s, html]) => {
    const doc = new DOMParser().parseFromString(s, "image/svg+xml");
    if (doc.querySelector("parsererror")) throw new Error("fallback SVG is not well-formed XML");
    const d = document.createElement("div");
    d.id = i;
    d.appendChild(document.importNode(doc.documentElement, true));
    document.getElementById("out").appendChild(d);
    const holder = document.createElement("div");
    holder.innerHTML = html; // the bundle's own fallback markup: one <img>, no user text outside its alt
    d.appendChild(holder);
    const img = holder.querySelector("img");
    return new Promise((res) => {
      if (img.complete && img.naturalWidth > 0) res({ loaded: true, width: img.naturalWidth });
      img.onload = () => res({ loaded: true, width: img.naturalWidth });
      img.onerror = () => res({ loaded: false, width: 0 });
    });
  }, [id, svg, String(b["text/html"])] as const);
}

describe("pictures a person can read (headless Chromium)", { skip }, () => {
  const session = rendererPageSession({ width: 1000, height: 1000 });
  let page: Page;
  before(() => { page = session.page(); });

  const plotted = (id: string, cls: string) => page.waitForFunction(([i, c]) =>
    document.querySelector(`#cell-${i} .${c}`)?.dataset.plotted === "true", [id, cls] as const, { timeout: 30000 });

  for (const [width, share] of [[800, 0.6], [520, 0.45]]) {
    test(`chart, six long series at ${width} px: the plot area keeps ≥ ${share * 100} % of the chart; the legend touches no tick label, axis title or plot`, async () => {
      const id = `rc${width}`;
      await renderBundle(page, id, await horizonChart(LineChart)[mimeBundleSymbol]() as MimeBundle, width);
      await plotted(id, "nf-chart");
      const [chart] = await boxes(page, `#cell-${id}`, ".nf-chart");
      const [plot] = await boxes(page, `#cell-${id}`, ".nsewdrag");
      // the legend, wherever the chart draws it: its own entries, or plotly's legend inside the figure
      const legend = [...await boxes(page, `#cell-${id}`, ".nf-chart-legend > *"), ...await boxes(page, `#cell-${id}`, "g.legend .traces")];
      const ticks = await boxes(page, `#cell-${id}`, ".xtick text, .ytick text");
      const titles = await boxes(page, `#cell-${id}`, ".g-xtitle text, .g-ytitle text");
      assert.equal(legend.length, 6, "six legend entries");
      assert.deepEqual(legend.map((b) => b.text), HORIZON_SERIES);
      assert.deepEqual(titles.map((t) => t.text).sort(), ["PSNR (dB)", "horizon (frames)"]);
      assert.ok(ticks.length >= 6, `tick labels on both axes (${ticks.length})`);
      const ratio = area(plot) / area(chart);
      assert.ok(ratio >= share, `plot area ${plot.w.toFixed(0)}×${plot.h.toFixed(0)} is ${(100 * ratio).toFixed(0)} % of the chart's ${chart.w.toFixed(0)}×${chart.h.toFixed(0)}`);
      assert.ok(plot.h >= 220, `plot area ${plot.h.toFixed(0)} px high`);
      assert.deepEqual(overlaps(legend, [...ticks, ...titles, { ...plot, text: "plot area" }]), []);
      for (const b of legend) assert.ok(b.x >= chart.x - 0.5 && b.x + b.w <= chart.x + chart.w + 0.5 && b.y + b.h <= chart.y + chart.h + 0.5, `legend entry "${b.text}" inside the chart`);
    });
  }

  test("chart with short series names: the legend sits beside the plot", async () => {
    const c = new LineChart({ title: "loss", xLabel: "step", yLabel: "loss", display: false, series: [
      { name: "train", x: [0, 1, 2, 3], y: [3, 2, 1.5, 1.2] }, { name: "val", x: [0, 1, 2, 3], y: [3.1, 2.3, 1.9, 1.8] }] });
    await renderBundle(page, "rs", await c[mimeBundleSymbol]() as MimeBundle, 800);
    await plotted("rs", "nf-chart");
    const [plot] = await boxes(page, "#cell-rs", ".nsewdrag");
    const legend = await boxes(page, "#cell-rs", ".nf-chart-legend > *");
    assert.deepEqual(legend.map((b) => b.text), ["train", "val"]);
    for (const b of legend) assert.ok(b.x >= plot.x + plot.w, `"${b.text}" right of the plot`);
    assert.ok(plot.w >= 0.7 * 800, `plot ${plot.w.toFixed(0)} px wide`);
    // clicking an entry hides its series
    await page.locator("#cell-rs .nf-chart-legend button", { hasText: "val" }).click();
    const visible = await page.evaluate(() => document.querySelector("#cell-rs .nf-plot")._fullData.map((d: { visible: unknown }) => d.visible));
    assert.deepEqual(visible, [true, false]);
  });

  test("chart: when the cell narrows, the legend moves from beside the plot to below it", async () => {
    const c = new LineChart({ title: "PSNR", display: false, series: ["world model", "baseline: copy-last"].map((name, i) => ({ name, x: [1, 2, 3], y: [30 - i, 28 - i, 25 - i] })) });
    await renderBundle(page, "rw", await c[mimeBundleSymbol]() as MimeBundle, 800);
    await plotted("rw", "nf-chart");
    const beside = async () => {
      const [plot] = await boxes(page, "#cell-rw", ".nsewdrag");
      return (await boxes(page, "#cell-rw", ".nf-chart-legend > *")).every((b) => b.x >= plot.x + plot.w);
    };
    assert.ok(await beside(), "beside the plot at 800 px");
    await page.evaluate(() => { document.querySelector("#cell-rw").style.width = "400px"; });
    await page.waitForFunction(() => document.querySelector("#cell-rw .nf-chart-body").classList.contains("nf-legend-right") === false, null, { timeout: 10000 });
    // and the figure shrinks to the cell
    await page.waitForFunction(() => document.querySelector("#cell-rw .nsewdrag").getBoundingClientRect().width <= 400, null, { timeout: 10000 });
    const [plot] = await boxes(page, "#cell-rw", ".nsewdrag");
    const legend = await boxes(page, "#cell-rw", ".nf-chart-legend > *");
    for (const b of legend) assert.ok(b.y >= plot.y + plot.h, `"${b.text}" below the plot at 400 px: ${JSON.stringify([b, plot])}`);
    assert.ok(plot.w >= 300, `plot ${plot.w.toFixed(0)} px wide in a 400 px cell`);
    assert.ok(plot.h >= 220, `plot keeps its height after plotly's resize: ${plot.h.toFixed(0)} px`);
    assert.deepEqual(overlaps(legend, [...await boxes(page, "#cell-rw", ".xtick text, .ytick text, .g-xtitle text, .g-ytitle text"), { ...plot, text: "plot" }]), []);
  });

  test("chart fallback: an SVG with title, ticks on both axes, axis titles, and a legend clear of them all", async () => {
    const b = await horizonChart(LineChart)[mimeBundleSymbol]() as MimeBundle;
    const img = await showSvg(page, "fb-chart", b);
    assert.ok(img.loaded && img.width > 300, "the SVG loads as an image on its own");
    const texts = await page.evaluate(() => [...document.querySelectorAll("#fb-chart svg text")].map((t: { textContent: string }) => t.textContent));
    assert.ok(texts.includes("PSNR vs horizon (held-out clips)"), "title");
    const xt = await boxes(page, "#fb-chart", "svg .tick.x"), yt = await boxes(page, "#fb-chart", "svg .tick.y");
    const titles = await boxes(page, "#fb-chart", "svg .axis-title");
    const legend = await boxes(page, "#fb-chart", "svg .legend-item");
    const [plot] = await boxes(page, "#fb-chart", "svg .plot-area");
    assert.ok(xt.length >= 5 && yt.length >= 3, `ticks x ${xt.length}, y ${yt.length}`);
    assert.deepEqual(xt.slice(0, 3).map((t) => t.text), ["1", "2", "3"]);
    assert.deepEqual(titles.map((t) => t.text), ["horizon (frames)", "PSNR (dB)"]);
    assert.deepEqual(legend.map((l) => l.text), HORIZON_SERIES);
    assert.deepEqual(overlaps(legend, [...xt, ...yt, ...titles, { ...plot, text: "plot area" }]), []);
    assert.deepEqual(overlaps([...xt, ...yt], titles), []);
    const [svg] = await boxes(page, "#fb-chart", "svg");
    assert.ok(area(plot) >= 0.45 * area(svg), `plot area ${(100 * area(plot) / area(svg)).toFixed(0)} % of the picture`);
  });

  test("heatmap 48×48 with token labels: cells of at least 12 px, every label on its own line, a titled colour bar", async () => {
    await renderBundle(page, "hm", await heatmapBundle(fixtureAttention(48), { labels: fixtureTokens(48), title: "attention",
      xTitle: "key", yTitle: "query", valueTitle: "attention weight" }), 800);
    await plotted("hm", "nf-heatmap");
    const [plot] = await boxes(page, "#cell-hm", ".nsewdrag");
    assert.ok(plot.w / 48 >= 11.9 && plot.h / 48 >= 11.9, `cells ${(plot.w / 48).toFixed(1)}×${(plot.h / 48).toFixed(1)} px`);
    const xl = await boxes(page, "#cell-hm", ".xtick text"), yl = await boxes(page, "#cell-hm", ".ytick text");
    assert.ok(xl.length >= 24 && yl.length >= 24, `labels shown: x ${xl.length}, y ${yl.length}`);
    assert.deepEqual(yl.slice(0, 3).map((b) => b.text), fixtureTokens(48).slice(0, 3 * (48 / yl.length)).filter((_, i) => i % (48 / yl.length) === 0));
    assert.deepEqual(overlaps(xl, xl, true), [], "x labels overlap");
    assert.deepEqual(overlaps(yl, yl, true), [], "y labels overlap");
    assert.deepEqual(overlaps([...xl, ...yl], [{ ...plot, text: "cells" }]), []);
    assert.match((await boxes(page, "#cell-hm", ".cbtitle text")).map((b) => b.text).join(), /attention weight/);
  });

  test("heatmap fallback: the same 48×48 map as an SVG with readable labels, axis titles and a titled colour bar", async () => {
    const b = await heatmapBundle(fixtureAttention(48), { labels: fixtureTokens(48), title: "attention", valueTitle: "attention weight" });
    const img = await showSvg(page, "fb-heat", b);
    assert.ok(img.loaded, "the SVG loads as an image on its own");
    const [cells] = await boxes(page, "#fb-heat", "svg image");
    assert.ok(cells.w / 48 >= 12 && cells.h / 48 >= 12, `cells ${(cells.w / 48).toFixed(1)} px`);
    const xl = await boxes(page, "#fb-heat", "svg .labels.x text"), yl = await boxes(page, "#fb-heat", "svg .labels.y text");
    assert.ok(xl.length >= 24 && yl.length >= 24, `labels shown: x ${xl.length}, y ${yl.length}`);
    assert.deepEqual(overlaps(xl, xl, true), []);
    assert.deepEqual(overlaps(yl, yl, true), []);
    assert.deepEqual(overlaps([...xl, ...yl], [{ ...cells, text: "cells" }]), []);
    assert.deepEqual((await boxes(page, "#fb-heat", "svg .axis-title")).map((t) => t.text), ["key", "query"]);
    assert.deepEqual((await boxes(page, "#fb-heat", "svg .colorbar-title")).map((t) => t.text), ["attention weight"]);
    assert.equal((await boxes(page, "#fb-heat", "svg .colorbar")).length, 1);
  });

  test("frame grid as rows: each row labelled, its frames numbered in a strip; clicking a frame shows it", async () => {
    await renderBundle(page, "fr", await videosBundle(rolloutFixture(), { rows: true, fps: 4 }), 800);
    const labels = await boxes(page, "#cell-fr", ".nf-row-label");
    assert.deepEqual(labels.map((l) => l.text), ["model: left", "truth: left", "model: right", "truth: right"]);
    const players = await boxes(page, "#cell-fr", ".nf-rows > canvas");
    assert.equal(players.length, 4);
    labels.forEach((l, r) => {
      assert.ok(l.x + l.w <= players[r].x, `label "${l.text}" left of its player`);
      assert.ok(l.y >= players[r].y && l.y + l.h <= players[r].y + players[r].h, `label "${l.text}" on its row`);
    });
    assert.deepEqual(overlaps(labels, labels, true), []);
    const numbers = await page.evaluate(() => [...document.querySelectorAll("#cell-fr .nf-strip")]
      .map((s: { querySelectorAll(q: string): { textContent: string }[] }) => [...s.querySelectorAll(".nf-strip-index")].map((e) => e.textContent)));
    assert.deepEqual(numbers, Array(4).fill(["1", "2", "3", "4", "5", "6", "7", "8"]), "every frame of every row, numbered");
    await page.locator("#cell-fr .nf-strip >> nth=2").locator(".nf-strip-cell[data-index='5']").click();
    // a player scrolled out of view draws when it comes back into view: wait for that rather than race it
    await page.waitForFunction(() => document.querySelector("#cell-fr .nf-player").dataset.frame === "5", null, { timeout: 10000 });
    assert.equal(await page.locator("#cell-fr .nf-strip-cell[data-current='true']").count(), 4, "frame 6 outlined in every row");
  });

  test("frame grid fallback: an SVG with every row labelled and, for a long clip, evenly spaced numbered frames", async () => {
    const rows = rolloutFixture();
    const b = await videosBundle(rows, { rows: true, title: "rollouts" });
    assert.ok((await showSvg(page, "fb-fr", b)).loaded);
    assert.deepEqual((await boxes(page, "#fb-fr", "svg .row-label")).map((t) => t.text), rows.map((r) => r.title));
    assert.equal((await boxes(page, "#fb-fr", "svg .frame-numbers")).at(0)?.text, "12345678");
    const T = 40, long = new Float32Array(T * 8 * 8);
    const lb = await videosBundle([{ title: "long clip", frames: tensor([T, 8, 8], long) }, { title: "its twin", frames: tensor([T, 8, 8], long) }]);
    assert.ok((await showSvg(page, "fb-long", lb)).loaded);
    const nums = (await boxes(page, "#fb-long", "svg .frame-numbers text")).map((t) => Number(t.text));
    assert.equal(nums[0], 1);
    assert.equal(nums.at(-1), T, "the last frame is shown");
    assert.ok(nums.length >= 8 && nums.length <= 16, `${nums.length} frames shown`);
    const steps = nums.slice(1).map((n, i) => n - nums[i]);
    assert.ok(Math.max(...steps) - Math.min(...steps) <= 1, `evenly spaced: ${nums}`);
    assert.deepEqual((await boxes(page, "#fb-long", "svg .row-label")).map((t) => t.text), ["long clip", "its twin"]);
  });
});
