/**
 * application/vnd.nextframe.heatmap+json → small multiples (layers × heads, painted at once on canvases) and
 * one enlarged plotly heatmap of the selected layer/head, with hover (layer/head/query/key/value), a
 * colour-scale bar, layer/head/query selectors, and the selected query row outlined.
 *
 * The small multiples are the "first paint": they need no plotly. Plotly loads lazily afterwards.
 */
import type { HeatmapPayload } from "../../kernel/shared/payloads";
import { colormapLut, plotlyColorscale, type ColorscaleName } from "../../kernel/shared/colormap";
import { decodePngData, decodeSheet, sheetPixels } from "../shared/decode";
import { el, header, onThemeChange, select } from "../shared/dom";
import { loadPlotly, plotlyText, plotlyTheme, type PlotlyLike } from "../shared/plotly";

export interface HeatmapView {
  root: HTMLElement;
  /** resolves when the plotly view has drawn (or failed and fell back) */
  plotted: Promise<void>;
  select(layerIdx: number, headIdx: number): void;
  setQuery(q: number): void;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(+v.toPrecision(4)));

/** Value levels of the payload's grid sheet, read in place: level(m, y, x) of map m = l·H + h. */
interface Levels {
  at(m: number, y: number, x: number): number;
}

/** 8-bit sheets decode natively (fast, off-thread), 16-bit ones with fast-png (browsers drop to 8 bits). */
async function loadLevels(p: HeatmapPayload, maps: number): Promise<Levels & { src: Uint8Array | Uint16Array; W: number; cols: number }> {
  const Q = p.q, K = p.k, cols = Number.isInteger(p.cols) && p.cols > 0 ? p.cols : 1;
  const W = cols * K, rows = Math.ceil(maps / cols);
  let src: Uint8Array | Uint16Array, sw: number, sh: number;
  if (p.depth === 16) {
    const d = decodePngData(p.png);
    if (d.channels !== 1 || d.depth !== 16) throw new Error(`heatmap: expected a 16-bit gray PNG, got ${d.channels} ch ${d.depth} bit`);
    [src, sw, sh] = [d.data as Uint16Array, d.width, d.height];
  } else {
    const bmp = await decodeSheet(p.png);
    const rgba = sheetPixels(bmp), gray = new Uint8Array(rgba.length >> 2);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i << 2];
    [src, sw, sh] = [gray, bmp.width, bmp.height];
    bmp.close();
  }
  if (sw !== W || sh < rows * Q) throw new Error(`heatmap: PNG is ${sw}×${sh}, expected ${W}×${rows * Q}`);
  return {
    src, W, cols,
    at: (m, y, x) => src[((Math.floor(m / cols) * Q + y) * W) + (m % cols) * K + x],
  };
}

/** The kernel's pooled 8-bit thumbnails (HeatmapPayload.thumbs), decoded natively. */
async function loadThumbs(t: NonNullable<HeatmapPayload["thumbs"]>, maps: number): Promise<{ src: Uint8Array; W: number; cols: number; q: number; k: number }> {
  const cols = Number.isInteger(t.cols) && t.cols > 0 ? t.cols : 1;
  const bmp = await decodeSheet(t.png);
  if (bmp.width !== cols * t.k || bmp.height < Math.ceil(maps / cols) * t.q) throw new Error(`heatmap: thumbnail sheet is ${bmp.width}×${bmp.height}`);
  const rgba = sheetPixels(bmp), src = new Uint8Array(rgba.length >> 2), W = bmp.width;
  for (let i = 0; i < src.length; i++) src[i] = rgba[i << 2];
  bmp.close();
  return { src, W, cols, q: t.q, k: t.k };
}

/**
 * Max-pool one map (at `base` in a sheet of row width W) by f into a tw×th colour image. Two copies, one per
 * array type, so each loop stays monomorphic (4.7 M reads for a 12×6×256² grid).
 */
function maxPool8(src: Uint8Array, base: number, W: number, Q: number, K: number, f: number, tw: number, th: number,
  lut: Uint8Array, px: Uint8ClampedArray): void {
  for (let ty = 0; ty < th; ty++) {
    const y0 = ty * f, y1 = Math.min(Q, y0 + f);
    for (let tx = 0; tx < tw; tx++) {
      const x0 = tx * f, x1 = Math.min(K, x0 + f);
      let best = 0;
      for (let y = y0; y < y1; y++) {
        const r = base + y * W;
        for (let x = r + x0, e = r + x1; x < e; x++) if (src[x] > best) best = src[x];
      }
      const lv = best * 3, i = (ty * tw + tx) * 4;
      px[i] = lut[lv]; px[i + 1] = lut[lv + 1]; px[i + 2] = lut[lv + 2]; px[i + 3] = 255;
    }
  }
}

function maxPool16(src: Uint16Array, base: number, W: number, Q: number, K: number, f: number, tw: number, th: number,
  lut: Uint8Array, px: Uint8ClampedArray): void {
  for (let ty = 0; ty < th; ty++) {
    const y0 = ty * f, y1 = Math.min(Q, y0 + f);
    for (let tx = 0; tx < tw; tx++) {
      const x0 = tx * f, x1 = Math.min(K, x0 + f);
      let best = 0;
      for (let y = y0; y < y1; y++) {
        const r = base + y * W;
        for (let x = r + x0, e = r + x1; x < e; x++) if (src[x] > best) best = src[x];
      }
      const lv = (best >> 8) * 3, i = (ty * tw + tx) * 4;
      px[i] = lut[lv]; px[i + 1] = lut[lv + 1]; px[i + 2] = lut[lv + 2]; px[i + 3] = 255;
    }
  }
}

export async function renderHeatmap(p: HeatmapPayload, container: HTMLElement, signal: AbortSignal): Promise<HeatmapView> {
  const L = p.layers?.length ?? 0, H = p.heads?.length ?? 0, Q = p.q, K = p.k;
  if (!(L > 0 && H > 0 && Number.isInteger(Q) && Number.isInteger(K) && Q > 0 && K > 0)) throw new Error("heatmap: malformed payload dimensions");
  if (p.depth !== 8 && p.depth !== 16) throw new Error(`heatmap: depth ${p.depth}; expected 8 or 16`);
  // big maps: paint the small multiples from the kernel's pooled thumbnails; the full maps decode after paint
  const tp = p.thumbs;
  const thumbSrc = tp && Number.isInteger(tp.q) && Number.isInteger(tp.k) && tp.q > 0 && tp.k > 0
    ? await loadThumbs(tp, L * H) : undefined;
  let levels = thumbSrc ? undefined : await loadLevels(p, L * H);
  const top = p.depth === 16 ? 65535 : 255;
  const lvl = (m: number, i: number) => levels!.at(m, Math.floor(i / K), i % K);
  const value = (m: number, i: number) => p.vmin + (lvl(m, i) / top) * (p.vmax - p.vmin);
  const scale = (["viridis", "magma", "gray"].includes(p.colorscale ?? "") ? p.colorscale : "viridis") as ColorscaleName;
  const lut = colormapLut(scale);
  const xl = Array.isArray(p.xLabels) && p.xLabels.length === K ? p.xLabels.map(String) : undefined;
  const yl = Array.isArray(p.yLabels) && p.yLabels.length === Q ? p.yLabels.map(String) : undefined;

  // one map (a similarity matrix, a single head) has no layer/head to name; rows and columns go by the axis titles
  const multi = L * H > 1;
  const rowName = p.yTitle ?? "query", colName = p.xTitle ?? "key";
  const attention = !p.valueTitle || /attention/i.test(p.valueTitle);
  let li = 0, hi = 0, query = Number.isInteger(p.queryIndex) && p.queryIndex! < Q ? p.queryIndex! : -1;
  const root = el("div", { class: "nf-heatmap" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);

  // ---- selectors -------------------------------------------------------------------------------
  const layerSel = select("layer", p.layers.map((l, i) => ({ value: i, label: String(l) })), 0, (i) => view.select(i, hi));
  const headSel = select("head", p.heads.map((x, i) => ({ value: i, label: String(x) })), 0, (i) => view.select(li, i));
  const qInput = el("input", { class: "nf-num", attrs: { type: "number", min: "-1", max: String(Q - 1), step: "1",
    value: String(query), "aria-label": `${rowName} row to outline (−1: none)` } });
  qInput.addEventListener("change", () => view.setQuery(Math.max(-1, Math.min(Q - 1, Math.round(Number(qInput.value) || 0)))));
  const legend = el("canvas", { attrs: { width: "256", height: "1", "aria-hidden": "true" } });
  const lctx = legend.getContext("2d")!, lImg = lctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) lImg.data.set([lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2], 255], i * 4);
  lctx.putImageData(lImg, 0, 0);
  const controls = el("div", { class: "nf-controls" }, layerSel, headSel,
    el("label", { class: "nf-field" }, el("span", { text: p.yTitle ? "row " : "query " }), qInput),
    el("span", { class: "nf-legend" }, el("span", { text: fmt(p.vmin) }), legend, el("span", { text: fmt(p.vmax) })));
  if (L === 1) layerSel.style.display = "none";
  if (H === 1) headSel.style.display = "none";
  root.appendChild(controls);

  // ---- enlarged view (plotly) and status line ----------------------------------------------------
  const plotEl = el("div", { class: "nf-plot" });
  const status = el("div", { class: "nf-status", attrs: { "aria-live": "polite" } });
  root.append(el("div", { class: "nf-scroll" }, plotEl), status);

  // ---- small multiples ---------------------------------------------------------------------------
  const avail = container.clientWidth > 0 ? container.clientWidth : 640;
  const thumbPx = Math.max(24, Math.min(96, Math.floor((avail - 40) / H) - 6));
  const grid = el("div", { class: "nf-multiples", attrs: { role: "grid", "aria-label": "layers × heads" } });
  grid.style.gridTemplateColumns = `auto repeat(${H}, ${thumbPx + 4}px)`;
  grid.appendChild(el("span"));
  p.heads.forEach((x) => grid.appendChild(el("span", { class: "nf-axis", text: `head ${x}` })));
  const thumbs: HTMLCanvasElement[] = [];
  const aspect = Q / K;
  for (let l = 0; l < L; l++) {
    grid.appendChild(el("span", { class: "nf-axis", text: `layer ${p.layers[l]}` }));
    for (let hh = 0; hh < H; hh++) {
      const m = l * H + hh;
      // big maps are max-pooled to the thumbnail size: the brightest cell survives, and the drawing stays cheap
      const sq = thumbSrc ? thumbSrc.q : Q, sk = thumbSrc ? thumbSrc.k : K;
      const f = Math.max(1, Math.ceil(Math.max(sq, sk) / thumbPx)), tw = Math.ceil(sk / f), th = Math.ceil(sq / f);
      const c = el("canvas", { class: "nf-canvas nf-thumb", attrs: { width: String(tw), height: String(th), tabindex: "0", role: "button",
        "aria-pressed": m === 0 ? "true" : "false", "aria-label": `layer ${p.layers[l]} head ${p.heads[hh]}`,
        "data-layer": String(p.layers[l]), "data-head": String(p.heads[hh]) } });
      c.style.width = `${aspect <= 1 ? thumbPx : Math.round(thumbPx / aspect)}px`;
      c.style.height = `${aspect <= 1 ? Math.round(thumbPx * aspect) : thumbPx}px`;
      const img = new ImageData(tw, th);
      const s0 = thumbSrc ?? levels!;
      const base = Math.floor(m / s0.cols) * sq * s0.W + (m % s0.cols) * sk;
      if (s0.src instanceof Uint8Array) maxPool8(s0.src, base, s0.W, sq, sk, f, tw, th, lut, img.data);
      else maxPool16(s0.src, base, s0.W, sq, sk, f, tw, th, lut, img.data);
      c.getContext("2d")!.putImageData(img, 0, 0);
      c.addEventListener("click", () => view.select(l, hh));
      c.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { view.select(l, hh); e.preventDefault(); }
      });
      thumbs.push(c);
      grid.appendChild(c);
    }
  }
  root.appendChild(grid);
  container.appendChild(root);

  // ---- plotly ------------------------------------------------------------------------------------
  let plotly: PlotlyLike | undefined;
  const mapZ = (m: number): number[][] => {
    const z: number[][] = [];
    for (let y = 0; y < Q; y++) {
      const row = new Array<number>(K);
      for (let x = 0; x < K; x++) row[x] = value(m, y * K + x);
      z.push(row);
    }
    return z;
  };
  const hoverText = (xl || yl) && Q * K <= 65536
    ? Array.from({ length: Q }, (_, y) => Array.from({ length: K }, (_, x) =>
      plotlyText(`${yl ? yl[y] : y} → ${xl ? xl[x] : x}`)))
    : undefined;
  // the enlarged map is sized to its content: whole-pixel cells with a floor (12 px when tokens are labelled, so a
  // 48×48 map is 576 px and every label gets its own line; bigger maps label every k-th token), in a box that
  // scrolls rather than squeezes
  const labelled = !!(xl || yl);
  const side = Math.max(Q, K);
  const cell = Math.max(labelled && side <= 96 ? 12 : side <= 64 ? 8 : 1, Math.min(32, Math.floor(480 / side)));
  const measure = (() => {
    const ctx = document.createElement("canvas").getContext("2d");
    return (texts: string[], px: number) => {
      if (!ctx) return Math.max(0, ...texts.map((t) => t.length * px * 0.62));
      ctx.font = `${px}px ${plotlyTheme(root).font}`;
      return Math.max(0, ...texts.map((t) => ctx.measureText(t).width));
    };
  })();
  const TICK_FONT = 10, LINE = 12;
  const xw = xl ? measure(xl, TICK_FONT) : measure([String(K - 1)], TICK_FONT);
  const yw = yl ? measure(yl, TICK_FONT) : measure([String(Q - 1)], TICK_FONT);
  // x labels turn vertical when they would not fit side by side; then every k-th one, so lines never overlap
  const rotateX = !!xl && xw + 4 > cell;
  const xStep = xl ? Math.ceil((rotateX ? LINE : xw + 6) / cell) : 1, yStep = yl ? Math.ceil(LINE / cell) : 1;
  const ticks = (labels: string[] | undefined, step: number) => labels
    ? { tickmode: "array", tickvals: labels.map((_, i) => i).filter((i) => i % step === 0), ticktext: labels.filter((_, i) => i % step === 0).map(plotlyText) }
    : {};
  const margin = {
    l: Math.ceil(10 + yw + 8 + 22), r: 110, t: multi ? 28 : 10,
    b: Math.ceil(10 + (rotateX ? xw : LINE) + 8 + 22),
  };
  const figW = margin.l + K * cell + margin.r, figH = margin.t + Q * cell + margin.b;
  plotEl.style.width = `${figW}px`;
  plotEl.style.maxWidth = "none";
  const shapes = () => query < 0 ? [] : [{ type: "rect", xref: "x", yref: "y", x0: -0.5, x1: K - 0.5, y0: query - 0.5, y1: query + 0.5,
    line: { color: plotlyTheme(root).fg, width: 2 } }];
  const layout = () => {
    const t = plotlyTheme(root);
    return {
      margin, width: figW, height: figH,
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: t.fg, family: t.font, size: TICK_FONT },
      title: { text: multi ? plotlyText(`layer ${p.layers[li]} · head ${p.heads[hi]}`) : "", font: { size: 12 } },
      xaxis: { title: { text: plotlyText(p.xTitle ?? "key"), standoff: 8, font: { size: 12 } }, gridcolor: t.grid, showgrid: false,
        range: [-0.5, K - 0.5], tickangle: rotateX ? -90 : 0, automargin: true, ...ticks(xl, xStep) },
      yaxis: { title: { text: plotlyText(p.yTitle ?? "query"), standoff: 8, font: { size: 12 } }, gridcolor: t.grid, showgrid: false,
        range: [Q - 0.5, -0.5], automargin: true, ...ticks(yl, yStep) },
      shapes: shapes(),
    };
  };
  const trace = () => ({
    type: "heatmap", zsmooth: false, z: mapZ(li * H + hi), zmin: p.vmin, zmax: p.vmax, colorscale: plotlyColorscale(scale),
    colorbar: { thickness: 12, outlinewidth: 0, len: 1, lenmode: "fraction",
      title: { text: plotlyText(typeof p.valueTitle === "string" ? p.valueTitle : "value"), side: "right", font: { size: 12 } } },
    ...(hoverText ? { text: hoverText } : {}),
    hovertemplate: (multi ? `layer ${p.layers[li]}<br>head ${p.heads[hi]}<br>` : "") + `${plotlyText(rowName)} %{y}<br>${plotlyText(colName)} %{x}` +
      (hoverText ? "<br>%{text}" : "") + `<br>${plotlyText(typeof p.valueTitle === "string" ? p.valueTitle : "value")} %{z:.4g}<extra></extra>`,
  });
  const config = { displayModeBar: false, responsive: false, staticPlot: false };
  // plotly (a 4.6 MB module) loads after the small multiples have painted, not before
  const afterPaint = new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const levelsReady = levels ? Promise.resolve() : afterPaint.then(() => loadLevels(p, L * H)).then((lv) => {
    levels = lv;
    if (!signal.aborted) describe();
  });
  const plotted = levelsReady.then(loadPlotly).then(async (P) => {
    if (signal.aborted) return;
    plotly = P;
    await P.newPlot(plotEl, [trace()], layout(), config);
    (plotEl as unknown as { on(ev: string, f: (e: { points: { y: number }[] }) => void): void })
      .on("plotly_click", (e) => { if (e.points?.[0]) view.setQuery(Math.round(e.points[0].y)); });
    // one map: its thumbnail was only the first paint; the enlarged map now says everything
    if (L * H === 1) grid.style.display = "none";
    root.dataset.plotted = "true";
  }).catch((e: unknown) => {
    plotEl.appendChild(el("div", { class: "nf-note", text: `interactive view unavailable (${e instanceof Error ? e.message : String(e)}); small multiples below` }));
  });
  onThemeChange(() => { if (plotly) void plotly.relayout(plotEl, layout()); }, signal);
  signal.addEventListener("abort", () => { plotly?.purge(plotEl); root.remove(); });

  const describe = () => {
    root.dataset.layer = String(p.layers[li]);
    root.dataset.head = String(p.heads[hi]);
    root.dataset.query = String(query);
    const m = li * H + hi;
    if (!levels) {
      status.textContent = "decoding values…";
      return;
    }
    if (query < 0) {
      let best = 0;
      for (let i = 1, bv = lvl(m, 0); i < Q * K; i++) { const v = lvl(m, i); if (v > bv) { bv = v; best = i; } }
      const y = Math.floor(best / K), x = best % K;
      status.textContent = `${multi ? `layer ${p.layers[li]} head ${p.heads[hi]}: ` : ""}max ${fmt(value(m, best))} at ${rowName} ${y}${yl ? ` (${yl[y]})` : ""}, ${colName} ${x}${xl ? ` (${xl[x]})` : ""}`;
    } else {
      let best = 0;
      for (let x = 1, bv = levels.at(m, query, 0); x < K; x++) { const v = levels.at(m, query, x); if (v > bv) { bv = v; best = x; } }
      const at = `${colName} ${best}${xl ? ` (${xl[best]})` : ""}: ${fmt(value(m, query * K + best))}`;
      status.textContent = `${rowName} ${query}${yl ? ` (${yl[query]})` : ""} ${attention ? "attends most to" : "is highest at"} ${at}`;
    }
  };

  const view: HeatmapView = {
    root, plotted,
    select(l, hh) {
      li = Math.max(0, Math.min(L - 1, l)); hi = Math.max(0, Math.min(H - 1, hh));
      thumbs.forEach((t, i) => t.setAttribute("aria-pressed", i === li * H + hi ? "true" : "false"));
      (layerSel.querySelector("select") as HTMLSelectElement).value = String(li);
      (headSel.querySelector("select") as HTMLSelectElement).value = String(hi);
      describe();
      if (plotly) void plotly.react(plotEl, [trace()], layout(), config);
    },
    setQuery(q) {
      query = q;
      qInput.value = String(q);
      describe();
      if (plotly) void plotly.relayout(plotEl, { shapes: shapes() });
    },
  };
  describe();
  return view;
}
