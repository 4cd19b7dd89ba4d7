// Kernel-side display helpers: input normalization, payloads, PNG fallbacks matching the data, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { framesBundle, videosBundle, contactIndices, contactScale, CONTACT_GAP } from "./frames";
import { heatmapBundle, HEATMAP_GAP } from "./heatmap";
import { tokensBundle } from "./tokens";
import { tableBundle } from "./table";
import { lineChart, LineChart } from "./chart";
import { patchesBundle } from "./patches";
import { playWorld } from "./worldViewer";
import { decodePng, fromBase64, stackImage } from "./png";
import { colormapLut } from "../../shared/colormap";
import { decode } from "fast-png";
import { svgOfImageHtml } from "./bundle";
import { MIME, type FramesPayload, type HeatmapPayload, type PatchesPayload, type ErrorPayload } from "../../shared/payloads";
import { commHandlersSymbol, kernelSinkSymbol } from "../../shared/libraryContract";
import { isDisplayHandle, mimeBundleSymbol, type MimeBundle } from "./display";

/** T×H×W×3 video in 0–1 where frame t has a white pixel at (y=t, x=2t) on a dark red background. */
function movingDot(T: number, H: number, W: number): Float32Array {
  const v = new Float32Array(T * H * W * 3);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < H * W; i++) v[(t * H * W + i) * 3] = 0.2;
    v.fill(1, (t * H * W + t * W + 2 * t) * 3, (t * H * W + t * W + 2 * t) * 3 + 3);
  }
  return v;
}
const tensor = (shape: number[], data: Float32Array) => ({ shape, dtype: "float32", data: async () => data });
/** The PNG images embedded in the SVG of a text/html fallback, decoded. */
const svgImages = (html: unknown) => [...svgOfImageHtml(html).matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((m) => decodePng(m[1]));

test("frames: Tensor T×H×W×C in 0–1 → uint8 PNG sheet; contact sheet fallback matches the frames", async () => {
  const T = 6, H = 8, W = 16;
  const b = await framesBundle(tensor([T, H, W, 3], movingDot(T, H, W)), { fps: 4, title: "dot" });
  const p = b[MIME.frames] as FramesPayload;
  assert.equal(p.fps, 4);
  assert.equal(p.videos.length, 1);
  const s = p.videos[0].frames;
  assert.deepEqual([s.count, s.h, s.w, s.channels], [T, H, W, 3]);
  const sheet = decodePng(s.png);
  assert.equal(sheet.w * sheet.h, W * H * s.cols! * Math.ceil(T / s.cols!));
  for (let t = 0; t < T; t++) {
    const f = stackImage(s, sheet, t);
    const at = (y: number, x: number) => Array.from(f.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    assert.deepEqual(at(t, 2 * t), [255, 255, 255]);
    assert.deepEqual(at((t + 1) % H, 0), [51, 0, 0]);
  }
  // fallback: an SVG around frames contactIndices(T) side by side, upscaled by contactScale, CONTACT_GAP px apart
  assert.equal(b["image/png"], undefined);
  const [fb] = svgImages(b["text/html"]), k = contactScale(H, W), idx = contactIndices(T);
  assert.deepEqual(idx, [0, 1, 2, 3, 4, 5]);
  idx.forEach((t, j) => {
    const ox = j * (W * k + CONTACT_GAP), y = t * k + 1, x = ox + 2 * t * k + 1;
    assert.deepEqual(Array.from(fb.data.subarray((y * fb.w + x) * 3, (y * fb.w + x) * 3 + 3)), [255, 255, 255]);
  });
  assert.match(b["text/plain"] as string, /dot — 6 frames 8×16 RGB @ 4 fps/);
});

test("frames: T×C×H×W, nested arrays, 0–255 and −1–1 ranges, grayscale", async () => {
  const tchw = new Float32Array(2 * 3 * 5 * 5); // frame 1 channel 2 (blue) = 255 everywhere
  tchw.fill(255, (1 * 3 + 2) * 25, (1 * 3 + 3) * 25);
  const p = (await framesBundle({ data: tchw, shape: [2, 3, 5, 5] }))[MIME.frames] as FramesPayload;
  const st = p.videos[0].frames;
  const img = stackImage(st, decodePng(st.png), 1);
  assert.deepEqual(Array.from(img.data.subarray(0, 3)), [0, 0, 255]);
  const gray = await framesBundle([[[-1, 1], [0, 1]]]);
  const g = gray[MIME.frames] as FramesPayload;
  assert.equal(g.videos[0].frames.channels, 1);
  assert.deepEqual(Array.from(stackImage(g.videos[0].frames, decodePng(g.videos[0].frames.png), 0).data), [0, 255, 128, 255]);
  assert.ok(g.notes?.some((n) => n.includes("[−1, 1]")));
});

test("frames: bad input gives a clear message bundle, not a throw", async () => {
  const nan = new Float32Array(2 * 4 * 4 * 3); nan[5] = NaN;
  const e1 = (await framesBundle(tensor([2, 4, 4, 3], nan)))[MIME.frames] as ErrorPayload;
  assert.match(e1.error, /1 NaN\/Infinity value in the frames \(first at index \[0, 0, 1, 2\]/);
  const e2 = (await framesBundle(tensor([2, 5, 6, 6], new Float32Array(360))))[MIME.frames] as ErrorPayload;
  assert.match(e2.error, /no channel dim of 1, 3 or 4/);
  const e3 = (await framesBundle([[1000, 2], [3, 4]]))[MIME.frames] as ErrorPayload;
  assert.match(e3.error, /values span \[2\.000, 1000\]; expected 0–1, −1–1 or 0–255/);
  const e4 = (await framesBundle(tensor([1, 2, 4, 4, 3], new Float32Array(96))))[MIME.frames] as ErrorPayload;
  assert.match(e4.error, /rank 5.*showVideos/);
  const e5 = (await framesBundle([[[1, 2]], [[1]]]))[MIME.frames] as ErrorPayload;
  assert.match(e5.error, /ragged/);
});

test("frames: huge frames are downsampled with a note", async () => {
  const big = new Uint8Array(1 * 1100 * 1100).fill(7);
  const b = await framesBundle({ data: big, shape: [1100, 1100] });
  const p = b[MIME.frames] as FramesPayload;
  assert.deepEqual([p.videos[0].frames.h, p.videos[0].frames.w], [366, 366]);
  assert.match(p.notes![0], /downsampled 3× from 1100×1100/);
});

test("showVideos: several titled videos in one payload; fallback rows per video", async () => {
  const a = movingDot(4, 8, 8), z = new Float32Array(4 * 8 * 8 * 3);
  const b = await videosBundle([{ title: "truth", frames: tensor([4, 8, 8, 3], a) }, { title: "model", frames: tensor([4, 8, 8, 3], z) }]);
  const p = b[MIME.frames] as FramesPayload;
  assert.deepEqual(p.videos.map((v) => v.title), ["truth", "model"]);
  const [fb] = svgImages(b["text/html"]);
  assert.equal(fb.h, 2 * 8 * contactScale(8, 8) + CONTACT_GAP);
  assert.match(svgOfImageHtml(b["text/html"]), /class="row-label"[^>]*>truth<\/text>.*class="row-label"[^>]*>model<\/text>/);
  const bad = (await videosBundle([{ title: "x", frames: [1, 2, 3] }]))[MIME.frames] as ErrorPayload;
  assert.match(bad.error, /showVideos\[0\] "x"/);
});

test("heatmap: L×H×Q×K quantized 16-bit sheet; brightest cell and selection", async () => {
  const L = 2, H = 3, Q = 4, K = 5, v = new Float32Array(L * H * Q * K).fill(0.1);
  v[((1 * H + 2) * Q + 3) * K + 1] = 0.9;
  const b = await heatmapBundle(tensor([L, H, Q, K], v), { labels: undefined, queryIndex: 3, title: "attn" });
  const p = b[MIME.heatmap] as HeatmapPayload;
  assert.deepEqual([p.layers, p.heads, p.q, p.k, p.depth], [[0, 1], [0, 1, 2], 4, 5, 16]);
  assert.ok(Math.abs(p.vmin - 0.1) < 1e-6 && Math.abs(p.vmax - 0.9) < 1e-6);
  const d = decode(fromBase64(p.png));
  assert.equal(d.depth, 16);
  const data = d.data as Uint16Array, m = 1 * H + 2;
  assert.equal(data[(Math.floor(m / p.cols) * Q + 3) * d.width + (m % p.cols) * K + 1], 65535);
  assert.equal(data[0], 0);
  assert.equal(data.filter((x) => x === 65535).length, 1);
  assert.match(b["text/plain"] as string, /max at layer 1 head 2 query 3, key 1/);
  // SVG fallback: small multiples, 12× upscaled (5 keys → 60 px) HEATMAP_GAP px apart; the top colour only in tile (1, 2)
  const [fb] = svgImages(b["text/html"]), top = Array.from(colormapLut("viridis").subarray(765));
  const hits: number[][] = [];
  for (let y = 0; y < fb.h; y++) for (let x = 0; x < fb.w; x++) {
    const i = (y * fb.w + x) * 3;
    if (fb.data[i] === top[0] && fb.data[i + 1] === top[1] && fb.data[i + 2] === top[2]) hits.push([y, x]);
  }
  assert.equal(hits.length, 12 * 12);
  const G = HEATMAP_GAP;
  assert.deepEqual([Math.floor(hits[0][0] / (4 * 12 + G)), Math.floor(hits[0][1] / (5 * 12 + G))], [1, 2]);
  assert.deepEqual([(hits[0][0] % (4 * 12 + G)) / 12, (hits[0][1] % (5 * 12 + G)) / 12], [3, 1]);
  const sel = (await heatmapBundle(tensor([L, H, Q, K], v), { layers: [1], heads: [2] }))[MIME.heatmap] as HeatmapPayload;
  assert.deepEqual([sel.layers, sel.heads], [[1], [2]]);
  const err = (await heatmapBundle(tensor([L, H, Q, K], v), { heads: [3] }))[MIME.heatmap] as ErrorPayload;
  assert.match(err.error, /heads index 3 out of range \[0, 3\)/);
  const lab = (await heatmapBundle([[1, 2], [3, 4]], { labels: ["a", "b", "c"] }))[MIME.heatmap] as ErrorPayload;
  assert.match(lab.error, /xLabels has 3 labels, expected 2/);
  // one map that is not attention (a similarity matrix) is described by its axes, without a layer or head
  const one = await heatmapBundle([[1, 0.2], [0.2, 0.9]], { labels: ["north", "south"], xTitle: "word", yTitle: "word" });
  assert.match(String(one["text/plain"]), /heatmap: 2×2 \(word × word\), values \[0\.2, 1\]; max at word 0 \(north\), word 0 \(north\)$/);
});

test("heatmap: a 4k×4k map is block-averaged to something drawable, with a note", async () => {
  // the same code path as 16k×16k (1 GiB of floats), at a size a test can afford
  const m = 4096, v = new Float32Array(m * m); v[m * m - 1] = 1;
  const p = (await heatmapBundle({ data: v, shape: [m, m] }))[MIME.heatmap] as HeatmapPayload;
  assert.deepEqual([p.q, p.k], [1024, 1024]);
  assert.match(p.notes![0], /block-averaged 4×/);
});

test("tokens: values colour tokens; html fallback escapes user strings", async () => {
  const b = await tokensBundle(["<script>alert(1)</script>", "b"], [0.5, 2], { title: "<img onerror=x>" });
  const html = b["text/html"] as string;
  assert.ok(!html.includes("<script>") && !html.includes("<img"));
  assert.match(html, /&lt;script&gt;/);
  const e = (await tokensBundle(["a"], [1, 2]))[MIME.tokens] as ErrorPayload;
  assert.match(e.error, /1 tokens but 2 values/);
});

test("table: objects → union of columns; html escaped", async () => {
  const b = await tableBundle([{ model: "DiT-S/2", loss: 0.5 }, { model: "<b>", fid: 3 }]);
  const p = b[MIME.table] as { columns: string[]; rows: unknown[][] };
  assert.deepEqual(p.columns, ["model", "loss", "fid"]);
  assert.deepEqual(p.rows[1], ["<b>", null, 3]);
  assert.ok((b["text/html"] as string).includes("&lt;b&gt;"));
});

test("table fallbacks align numeric columns right (text cells in them too), names left", async () => {
  const b = await tableBundle([{ model: "world model", rate: 0.333 }, { model: "target", rate: "≥ 0.9" }, { model: "x", rate: 12.5 }]);
  const html = b["text/html"] as string;
  assert.match(html, /<th>model<\/th><th align="right">rate<\/th>/);
  assert.match(html, /<td>target<\/td><td align="right">≥ 0.9<\/td>/);
  assert.deepEqual((b["text/plain"] as string).split("\n"), [
    "model         rate",
    "world model    0.3",
    "target       ≥ 0.9",
    "x             12.5",
  ]);
});

test("lineChart: push updates the same output in place (throttled), flush forces it", async () => {
  const shown: { id: string; update: boolean; bundle: MimeBundle }[] = [];
  const g = globalThis as Record<symbol, unknown>;
  g[kernelSinkSymbol] = { display: (bundle: MimeBundle, id: string, update: boolean) => shown.push({ bundle, id, update }), comm() {} };
  try {
    const c = lineChart({ title: "loss", series: ["train"], throttleMs: 20 });
    assert.ok(isDisplayHandle(c), "a displayed chart is not shown again as a cell's last value");
    for (let i = 0; i < 10; i++) c.push("train", i, 1 / (i + 1));
    c.push("val", 9, 0.2);
    await new Promise((r) => setTimeout(r, 80));
    while (shown.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal(shown[0].update, false);
    const last = shown[shown.length - 1];
    assert.equal(last.update, true);
    assert.equal(last.id, shown[0].id);
    assert.ok(shown.length <= 3, `throttled: ${shown.length} emits`);
    const p = last.bundle[MIME.chart] as { series: { name: string; y: number[] }[] };
    assert.deepEqual(p.series.map((s) => [s.name, s.y.length]), [["train", 10], ["val", 1]]);
    // fallback: an SVG with the title, one line per series in its colour, and both names in the legend
    assert.equal(last.bundle["image/png"], undefined);
    const svg = svgOfImageHtml(last.bundle["text/html"]);
    assert.match(svg, /<title>loss<\/title>/);
    assert.match(svg, /<polyline class="series" points="[^"]+" fill="none" stroke="rgb\(31,119,180\)"/);
    assert.deepEqual([...svg.matchAll(/<g class="legend-item">.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]), ["train", "val"]);
  } finally {
    delete g[kernelSinkSymbol];
  }
});

test("chart fallback: a 20 000-point curve is thinned to a few points per pixel column, its extremes kept", async () => {
  const y = Array.from({ length: 20000 }, (_, i) => Math.exp(-i / 4000) + (i === 12345 ? 5 : 0));
  const c = new LineChart({ series: [{ name: "loss", x: y.map((_, i) => i), y }], display: false });
  const svg = svgOfImageHtml((await c[mimeBundleSymbol]())["text/html"]);
  const pts = /<polyline class="series" points="([^"]+)"/.exec(svg)![1].split(" ").map((p) => p.split(",").map(Number));
  assert.ok(pts.length <= 4 * 700, `${pts.length} points`);
  assert.ok(svg.length < 60000, `${svg.length} characters`);
  // the spike at step 12345 is the highest point (smallest pixel y), still drawn
  const top = Math.min(...pts.map((p) => p[1]));
  assert.ok(pts.some((p) => p[1] === top && Math.abs(p[0] - pts[0][0] - (12345 / 19999) * (pts[pts.length - 1][0] - pts[0][0])) < 1.5), "spike kept");
});

test("SVG fallbacks: ids are unique per picture, so pictures put inline in one page do not clip to each other", async () => {
  const a = new LineChart({ series: [{ name: "a", x: [0, 1], y: [0, 1] }], display: false });
  const b = new LineChart({ series: [{ name: "b", x: [0, 5], y: [3, 1] }], display: false });
  const h = await heatmapBundle([[0, 1], [1, 0]]);
  const svgs = [await a[mimeBundleSymbol](), await b[mimeBundleSymbol](), h].map((x) => svgOfImageHtml(x["text/html"]));
  const ids = svgs.map((s) => [...s.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
  svgs.forEach((s, i) => {
    assert.ok(ids[i].length > 0);
    for (const m of s.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids[i].includes(m[1]), `url(#${m[1]}) refers to an id of the same picture`);
  });
  assert.equal(new Set(ids.flat()).size, ids.flat().length, `ids ${ids.flat()}`);
  // re-running gives the same picture (notebook diffs stay quiet)
  assert.equal(svgOfImageHtml((await a[mimeBundleSymbol]())["text/html"]), svgs[0]);
});

test("patches: grid and per-patch attention; N×N attention; indivisible patch is an error", async () => {
  const img = new Float32Array(8 * 8 * 3).fill(0.5);
  const att = new Float32Array(16 * 16); att[5 * 16 + 10] = 1;
  const b = await patchesBundle(tensor([8, 8, 3], img), { patch: 2, attention: tensor([16, 16], att), queryIndex: 5 });
  const p = b[MIME.patches] as PatchesPayload;
  assert.deepEqual([p.grid, p.patch, p.attention!.queries, p.attention!.queryIndex], [[4, 4], [2, 2], 16, 5]);
  assert.equal(fromBase64(p.attention!.levels)[5 * 16 + 10], 255);
  const fb = decodePng(b["image/png"] as string);
  assert.equal(fb.w, 256);
  const e = (await patchesBundle(tensor([8, 8, 3], img), { patch: 3 }))[MIME.patches] as ErrorPayload;
  assert.match(e.error, /8×8 is not divisible by patch 3×3/);
});

test("playWorld: comm handler steps the world in order; the first frame opens the viewer", async () => {
  const sent: unknown[] = [];
  const g = globalThis as Record<symbol, unknown>;
  g[kernelSinkSymbol] = { display() {}, comm: (target: string, data: unknown) => sent.push([target, data]) };
  try {
    let x = 0;
    const frame = () => { const f = new Uint8Array(4 * 4); f[x] = 255; return { data: f, shape: [4, 4] }; };
    const s = await playWorld({ reset: () => { x = 0; return frame(); }, step: (a) => { x += a === "right" ? 1 : 0; return { frame: frame(), truth: frame() }; } });
    assert.equal((sent[0] as [string, { type: string }])[0], "worldViewer");
    const handler = (g[commHandlersSymbol] as Map<string, (d: unknown) => Promise<{ type: string; frame: { png: string }; truth?: unknown; step: number }>>).get("worldViewer")!;
    const [r1, r2] = await Promise.all([handler({ type: "action", action: "right" }), handler({ type: "action", action: "right" })]);
    assert.equal(r1.step, 1); assert.equal(r2.step, 2);
    assert.equal(decodePng(r2.frame.png).data[2], 255); // one frame: the sheet is the frame
    assert.ok(r2.truth);
    const bad = await handler({ type: "action", action: "rm -rf" });
    assert.equal(bad.type, "error");
    s.stop();
    assert.equal((g[commHandlersSymbol] as Map<string, unknown>).has("worldViewer"), false);
  } finally {
    delete g[kernelSinkSymbol];
  }
});
