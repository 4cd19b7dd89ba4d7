// What a reader without the nextframe renderer sees: a notebook holding the bundles of a chart, a heatmap and a frame
// grid, exported by jupyter nbconvert to HTML (the pipeline GitHub's notebook view and "Download as HTML" rest on) and
// opened in headless Chromium. Every view must show as a picture with its words in it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { LineChart } from "../../kernel/nextframe/display/chart";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { videosBundle } from "../../kernel/nextframe/display/frames";
import { mimeBundleSymbol, type MimeBundle } from "../../kernel/nextframe/display/display";
import { chromiumMissing, launch } from "./harness";
import { fixtureAttention, fixtureTokens, horizonChart, rolloutFixture } from "./fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const nbconvertMissing = (): string | false => {
  const r = spawnSync("jupyter", ["nbconvert", "--version"], { encoding: "utf8" });
  return r.status === 0 ? false : "jupyter nbconvert is not installed (apt-get install -y jupyter-nbconvert; .ci/run installs it)";
};
const skip = chromiumMissing() || nbconvertMissing();

describe("fallbacks through jupyter nbconvert --to html", { skip }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => { browser = await launch(); dir = mkdtempSync(join(tmpdir(), "nf-nbconvert-")); });
  after(async () => { await browser?.close(); rmSync(dir, { recursive: true, force: true }); });

  test("a chart, a 48×48 heatmap and a frame grid each show as a picture with its title, labels and legend", async () => {
    const bundles: MimeBundle[] = [
      await horizonChart(LineChart)[mimeBundleSymbol]() as MimeBundle,
      await heatmapBundle(fixtureAttention(48), { labels: fixtureTokens(48), title: "attention of block 1" }),
      await videosBundle(rolloutFixture(), { rows: true, title: "counterfactual rollouts" }),
    ];
    const nb = {
      nbformat: 4, nbformat_minor: 5, metadata: {},
      cells: bundles.map((data, i) => ({ cell_type: "code", id: `c${i}`, execution_count: i + 1, metadata: {}, source: [],
        outputs: [{ output_type: "display_data", metadata: {}, data }] })),
    };
    writeFileSync(join(dir, "views.ipynb"), JSON.stringify(nb));
    const r = spawnSync("jupyter", ["nbconvert", "--to", "html", "--output-dir", dir, join(dir, "views.ipynb")], { encoding: "utf8", timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto(`file://${join(dir, "views.html")}`);
    await page.waitForLoadState("load");
    const shown = await page.evaluate(() => [...document.querySelectorAll(".jp-OutputArea-output")].map((o: {
      querySelector(q: string): { naturalWidth: number; complete: boolean; src: string } | null; textContent: string }) => {
      const img = o.querySelector("img");
      return { img: !!img, width: img?.naturalWidth ?? 0, src: img?.src.slice(0, 40) ?? "", text: o.textContent.trim().slice(0, 80) };
    }));
    assert.equal(shown.length, 3, JSON.stringify(shown));
    for (const s of shown) assert.ok(s.img && s.width > 300, `a picture, not ${JSON.stringify(s)}`);
    // the words are in the pictures: read them back from each <img>'s SVG
    const svgs = await page.evaluate(() => [...document.querySelectorAll(".jp-OutputArea-output img")].map((i: { src: string }) => i.src));
    const text = svgs.map((src) => {
      const m = /^data:image\/svg\+xml;base64,(.+)$/.exec(src);
      assert.ok(m, `an SVG picture: ${src.slice(0, 40)}`);
      return [...Buffer.from(m[1], "base64").toString("utf8").matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]);
    });
    assert.ok(text[0].includes("PSNR vs horizon (held-out clips)") && text[0].includes("horizon (frames)") && text[0].includes("PSNR (dB)"));
    assert.ok(text[0].includes("learned baseline: local linear rule (no actions)"), "legend");
    assert.ok(text[1].includes("attention of block 1") && text[1].includes("agent") && text[1].includes("value"), "title, token labels, colour bar");
    assert.ok(["model: left", "truth: left", "model: right", "truth: right"].every((l) => text[2].includes(l)), "row labels");
    await page.close();
  });
});
