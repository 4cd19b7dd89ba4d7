/**
 * Attention heatmaps: `showHeatmap(attn, {layers, heads, queryIndex, labels})` shows L layers × H heads of
 * Q×K maps (query rows, key columns) as small multiples plus one enlarged map with hover
 * (layer/head/query/key/value), a colour-scale legend and layer/head/query selectors.
 *
 * Accepted shapes: Q×K, H×Q×K, L×H×Q×K, L×1×H×Q×K (a list of per-layer [B=1, H, Q, K] tensors).
 * Values are quantized to 16 bits (8 for big inputs) between the global min and max, stored as one
 * grayscale PNG sheet (maps on a grid, `cols` per row). Maps over 1024 per side, or more than 8 M values in all, are block-averaged with a note.
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded, LIMITS, dims, svgImageHtml } from "./bundle";
import { colormapLut, plotlyColorscale, type ColorscaleName } from "../../shared/colormap";
import { escapeXml, fmtTick, niceTicks, SVG_FONT, svgId, textWidth } from "./svg";
import { DisplayInputError, scan, toNdArray, unravel } from "./ndarray";
import { encodePng, pngBase64, sheetCols, tile, toBase64, upscaleNearest, type Image8 } from "./png";
import { MIME, PAYLOAD_VERSION, type HeatmapPayload } from "../../shared/payloads";

/** Options of showHeatmap: title, which layers/heads/query to show, axis labels and titles, colour scale and range. */
export interface HeatmapOptions {
  title?: string;
  /** which layers to show (indices into dim L); default all */
  layers?: number[];
  /** which heads to show (indices into dim H); default all */
  heads?: number[];
  /** query row selected at first (highlighted, and shown as a strip) */
  queryIndex?: number;
  /** token labels for both axes (when Q = K), e.g. the decoded tokens */
  labels?: string[];
  xLabels?: string[];
  yLabels?: string[];
  xTitle?: string;
  yTitle?: string;
  colorscale?: ColorscaleName;
  /** title of the colour bar: what a cell's value is (default "value"), e.g. "attention weight" */
  valueTitle?: string;
  /** value range of the colour scale; default [min, max] of the data */
  range?: [number, number];
}

/** Heatmap values after normalization: float L×H×Q×K (selected layers/heads, maybe downsampled). */
export interface PreparedHeatmap {
  layers: number[];
  heads: number[];
  q: number;
  k: number;
  values: Float32Array;
  min: number;
  max: number;
  notes: string[];
}

function checkIndices(idx: number[] | undefined, n: number, name: string): number[] {
  if (idx === undefined) return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(idx) || idx.length === 0) throw new DisplayInputError(`showHeatmap: ${name} must be a non-empty array of indices`);
  for (const i of idx) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new DisplayInputError(`showHeatmap: ${name} index ${i} out of range [0, ${n})`);
  }
  return idx;
}

export async function prepareHeatmap(input: unknown, opts: HeatmapOptions = {}): Promise<PreparedHeatmap> {
  const nd = await toNdArray(input, "showHeatmap");
  let s = nd.shape;
  if (s.length === 5 && s[1] === 1) s = [s[0], s[2], s[3], s[4]];
  if (s.length < 2 || s.length > 4) {
    throw new DisplayInputError(`showHeatmap: expected Q×K, H×Q×K or L×H×Q×K (or L×1×H×Q×K), got shape [${nd.shape.join(", ")}]`);
  }
  const [L, H, Q, K] = [...Array(4 - s.length).fill(1), ...s] as number[];
  if (Q === 0 || K === 0) throw new DisplayInputError(`showHeatmap: empty maps, shape [${nd.shape.join(", ")}]`);
  const layers = checkIndices(opts.layers, L, "layers");
  const heads = checkIndices(opts.heads, H, "heads");
  const st = scan(nd.data);
  if (st.nonFinite > 0) {
    throw new DisplayInputError(`showHeatmap: ${st.nonFinite} NaN/Infinity value${st.nonFinite > 1 ? "s" : ""} ` +
      `(first at index [${unravel(st.firstNonFinite, nd.shape).join(", ")}] of shape [${nd.shape.join(", ")}])`);
  }
  const maps = layers.length * heads.length;
  let f = Math.max(1, Math.ceil(Math.max(Q, K) / LIMITS.heatmapSide));
  while (maps * Math.ceil(Q / f) * Math.ceil(K / f) > LIMITS.heatmapValues) f++;
  const q = Math.ceil(Q / f), k = Math.ceil(K / f);
  const notes: string[] = [];
  if (f > 1) notes.push(`each ${dims(Q, K)} map block-averaged ${f}× to ${dims(q, k)} to stay drawable`);
  const values = new Float32Array(maps * q * k);
  let m = 0;
  for (const l of layers) {
    for (const h of heads) {
      const base = (l * H + h) * Q * K, ob = m * q * k;
      if (f === 1) {
        for (let i = 0; i < Q * K; i++) values[ob + i] = nd.data[base + i];
      } else {
        for (let y = 0; y < q; y++) {
          for (let x = 0; x < k; x++) {
            let acc = 0, n = 0;
            for (let dy = 0; dy < f && y * f + dy < Q; dy++) {
              for (let dx = 0; dx < f && x * f + dx < K; dx++) { acc += nd.data[base + (y * f + dy) * K + x * f + dx]; n++; }
            }
            values[ob + y * k + x] = acc / n;
          }
        }
      }
      m++;
    }
  }
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) { const v = values[i]; if (v < min) min = v; if (v > max) max = v; }
  return { layers, heads, q, k, values, min, max, notes };
}

/** Quantize to `depth` bits between vmin and vmax (the payload's encoding). */
export function quantize(values: Float32Array, vmin: number, vmax: number, depth: 8 | 16): Uint8Array | Uint16Array {
  const top = depth === 16 ? 65535 : 255;
  const out = depth === 16 ? new Uint16Array(values.length) : new Uint8Array(values.length);
  const span = vmax - vmin;
  for (let i = 0; i < values.length; i++) {
    const t = span > 0 ? (values[i] - vmin) / span : 0.5;
    out[i] = t <= 0 ? 0 : t >= 1 ? top : Math.round(t * top);
  }
  return out;
}

function labelsFor(n: number, given: string[] | undefined, name: string, downsampled: boolean): string[] | undefined {
  if (given === undefined || downsampled) return undefined;
  if (!Array.isArray(given) || given.length !== n) {
    throw new DisplayInputError(`showHeatmap: ${name} has ${Array.isArray(given) ? given.length : typeof given} labels, expected ${n}`);
  }
  return given.map(String);
}

export function heatmapBundle(attn: unknown, opts: HeatmapOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.heatmap, async () => {
    const p = await prepareHeatmap(attn, opts);
    const { q, k } = p;
    const st = { min: p.min, max: p.max };
    const [vmin, vmax] = opts.range ?? [st.min, st.max];
    const maps = p.layers.length * p.heads.length;
    const depth: 8 | 16 = p.values.length <= LIMITS.heatmap16 ? 16 : 8;
    const quant = quantize(p.values, vmin, vmax, depth);
    // maps laid out on a grid sheet, `cols` maps per row (same layout as ImageStack), so tall stacks stay decodable
    const cols = sheetCols(maps, q, k), rows = Math.ceil(maps / cols), W = cols * k;
    const sheet = depth === 16 ? new Uint16Array(rows * q * W) : new Uint8Array(rows * q * W);
    for (let m = 0; m < maps; m++) {
      const ox = (m % cols) * k, oy = Math.floor(m / cols) * q;
      for (let y = 0; y < q; y++) sheet.set(quant.subarray((m * q + y) * k, (m * q + y + 1) * k), (oy + y) * W + ox);
    }
    const png = depth === 16
      ? toBase64(encodePng({ w: W, h: rows * q, channels: 1, data: sheet as Uint16Array, depth: 16 }))
      : pngBase64({ w: W, h: rows * q, channels: 1, data: sheet as Uint8Array });
    const ds = p.notes.length > 0;
    const thumbs = thumbSheet(p, vmin, vmax);
    const xLabels = labelsFor(k, opts.xLabels ?? opts.labels, "xLabels", ds);
    const yLabels = labelsFor(q, opts.yLabels ?? opts.labels, "yLabels", ds);
    if (opts.queryIndex !== undefined && !(Number.isInteger(opts.queryIndex) && opts.queryIndex >= 0 && opts.queryIndex < q)) {
      throw new DisplayInputError(`showHeatmap: queryIndex ${opts.queryIndex} out of range [0, ${q})`);
    }
    const payload: HeatmapPayload = {
      version: PAYLOAD_VERSION, layers: p.layers, heads: p.heads, q, k, depth, vmin, vmax, cols, png,
      colorscale: opts.colorscale ?? "viridis",
      ...(opts.title !== undefined ? { title: String(opts.title) } : {}),
      ...(opts.queryIndex !== undefined ? { queryIndex: opts.queryIndex } : {}),
      ...(xLabels ? { xLabels } : {}), ...(yLabels ? { yLabels } : {}),
      ...(opts.xTitle !== undefined ? { xTitle: String(opts.xTitle) } : {}),
      ...(opts.yTitle !== undefined ? { yTitle: String(opts.yTitle) } : {}),
      ...(opts.valueTitle !== undefined ? { valueTitle: String(opts.valueTitle) } : {}),
      ...(thumbs ? { thumbs } : {}),
      ...(ds ? { notes: p.notes } : {}),
    };
    // fallback: small multiples (rows = layers, columns = heads) in the same colour scale; big maps are
    // max-pooled like the renderer's thumbnails, so the brightest cell survives. One map is drawn large, with
    // whole-pixel cells (a floor of 12 px when tokens label it) so a person can read it.
    const lut = colormapLut(payload.colorscale);
    const side = Math.max(q, k), single = maps === 1;
    const labelled = !!(xLabels || yLabels);
    const down = single ? (side > 512 ? Math.ceil(side / 512) : 1) : (side > 128 ? Math.ceil(side / 128) : 1);
    const up = single
      ? (side > 512 ? 1 : Math.max(labelled && side <= 96 ? 12 : 1, Math.min(32, Math.floor(480 / side))))
      : (side < 64 ? Math.floor(64 / side) : 1);
    const tq = Math.ceil(q / down), tk = Math.ceil(k / down);
    const span = vmax - vmin, inv = span > 0 ? 255 / span : 0;
    const grid: Image8[][] = [];
    for (let li = 0; li < p.layers.length; li++) {
      grid.push([]);
      for (let hi = 0; hi < p.heads.length; hi++) {
        const o = (li * p.heads.length + hi) * q * k, rgb = new Uint8Array(tq * tk * 3);
        for (let ty = 0; ty < tq; ty++) {
          for (let tx = 0; tx < tk; tx++) {
            let best = -Infinity;
            for (let y = ty * down; y < Math.min(q, ty * down + down); y++) {
              for (let x = tx * down, r = o + y * k; x < Math.min(k, tx * down + down); x++) if (p.values[r + x] > best) best = p.values[r + x];
            }
            const t = span > 0 ? (best - vmin) * inv : 128;
            const lv = (t <= 0 ? 0 : t >= 255 ? 255 : Math.round(t)) * 3, i = (ty * tk + tx) * 3;
            rgb[i] = lut[lv]; rgb[i + 1] = lut[lv + 1]; rgb[i + 2] = lut[lv + 2];
          }
        }
        const img: Image8 = { w: tk, h: tq, channels: 3, data: rgb };
        grid[li].push(up > 1 ? upscaleNearest(img, up) : img);
      }
    }
    const tiled = tile(grid, GAP, [255, 255, 255]);
    const svg = heatmapSvg(payload, tiled.image, { cell: up / down, tileW: tk * up, tileH: tq * up, single });
    const am = argmax(p.values);
    const mi = Math.floor(am / (q * k)), qi = Math.floor((am % (q * k)) / k), ki = am % k;
    const rowName = payload.yTitle ?? "query", colName = payload.xTitle ?? "key";
    const cellName = (name: string, i: number, labels?: string[]) => `${name} ${i}${labels ? ` (${labels[i]})` : ""}`;
    const text = `${opts.title ? opts.title + " — " : ""}heatmap: ` +
      (single ? "" : `${p.layers.length} layer${p.layers.length > 1 ? "s" : ""} × ${p.heads.length} head${p.heads.length > 1 ? "s" : ""} of `) +
      `${dims(q, k)} (${rowName} × ${colName}), values [${fmt(st.min)}, ${fmt(st.max)}]; max at ` +
      (single ? "" : `layer ${p.layers[Math.floor(mi / p.heads.length)]} head ${p.heads[mi % p.heads.length]} `) +
      `${cellName(rowName, qi, yLabels)}, ${cellName(colName, ki, xLabels)}` + (ds ? ` (${p.notes.join("; ")})` : "");
    return { [MIME.heatmap]: payload, "text/html": svgImageHtml(svg, text), "text/plain": text };
  });
}

/** Pixels between the small multiples of the fallback. */
export const HEATMAP_GAP = 6;
const GAP = HEATMAP_GAP;

/**
 * The fallback picture as SVG: title and notes, the maps (an embedded PNG, cells already upscaled by whole pixels),
 * token labels on both axes when there is one map (every k-th one when they would collide; x labels vertical when
 * they are wider than a cell), axis titles, "layer · head" captions for small multiples, and a colour bar with
 * ticks and its title.
 */
function heatmapSvg(p: HeatmapPayload, img: Image8, o: { cell: number; tileW: number; tileH: number; single: boolean }): string {
  const pad = 12, font = 10, line = 12, parts: string[] = [];
  const xl = o.single ? p.xLabels : undefined, yl = o.single ? p.yLabels : undefined;
  let top = pad;
  if (p.title) { parts.push(`<text x="${pad}" y="${top + 15}" font-size="15" font-weight="bold">${escapeXml(p.title)}</text>`); top += 24; }
  for (const n of p.notes ?? []) { parts.push(`<text x="${pad}" y="${top + 12}" font-size="11" font-style="italic" fill="#555">note: ${escapeXml(n)}</text>`); top += 16; }
  top += 4;
  const L = p.layers.length, H = p.heads.length;
  const yw = yl ? Math.max(...yl.map((t) => textWidth(t, font))) : L > 1 ? textWidth(`layer ${Math.max(...p.layers)}`, font) : 0;
  const xw = xl ? Math.max(...xl.map((t) => textWidth(t, font))) : 0;
  const rotate = !!xl && xw + 4 > o.cell;
  const xStep = xl ? Math.ceil((rotate ? line : xw + 6) / o.cell) : 1, yStep = yl ? Math.ceil(line / o.cell) : 1;
  const left = pad + 20 + yw + 8;
  if (!o.single && H > 1) top += 16; // head captions above the columns
  if (o.single) top += 4;
  const mapX = left, mapY = top;
  parts.push(`<image x="${mapX}" y="${mapY}" width="${img.w}" height="${img.h}" preserveAspectRatio="none" style="image-rendering:pixelated" ` +
    `href="data:image/png;base64,${pngBase64(img)}"/>`);
  if (!o.single) {
    if (H > 1) p.heads.forEach((h, j) => parts.push(`<text x="${mapX + j * (o.tileW + GAP) + o.tileW / 2}" y="${mapY - 5}" text-anchor="middle" font-size="${font}">head ${h}</text>`));
    if (L > 1) p.layers.forEach((l, i) => parts.push(`<text x="${mapX - 6}" y="${mapY + i * (o.tileH + GAP) + o.tileH / 2}" dy="0.35em" text-anchor="end" font-size="${font}">layer ${l}</text>`));
  }
  const r1 = (v: number) => Math.round(v * 10) / 10;
  if (yl) {
    const ys = yl.map((t, i) => i % yStep === 0
      ? `<text x="${mapX - 5}" y="${r1(mapY + (i + 0.5) * o.cell)}" dy="0.35em" text-anchor="end">${escapeXml(t)}</text>` : "").join("");
    parts.push(`<g class="labels y" font-size="${font}">${ys}</g>`);
  }
  let bottom = mapY + img.h + 4;
  if (xl) {
    const xs = xl.map((t, i) => {
      if (i % xStep !== 0) return "";
      const x = r1(mapX + (i + 0.5) * o.cell);
      return rotate
        ? `<text x="${x}" y="${bottom}" dy="0.35em" text-anchor="end" transform="rotate(-90 ${x} ${bottom})">${escapeXml(t)}</text>`
        : `<text x="${x}" y="${bottom + 11}" text-anchor="middle">${escapeXml(t)}</text>`;
    }).join("");
    parts.push(`<g class="labels x" font-size="${font}">${xs}</g>`);
    bottom += rotate ? xw + 6 : 16;
  }
  const xTitle = p.xTitle ?? "key", yTitle = p.yTitle ?? "query";
  if (o.single) {
    parts.push(`<text class="axis-title x" x="${mapX + img.w / 2}" y="${bottom + 14}" text-anchor="middle" font-size="12">${escapeXml(xTitle)}</text>`);
    const cy = mapY + img.h / 2;
    parts.push(`<text class="axis-title y" x="${pad + 12}" y="${cy}" transform="rotate(-90 ${pad + 12} ${cy})" text-anchor="middle" font-size="12">${escapeXml(yTitle)}</text>`);
    bottom += 22;
  } else {
    parts.push(`<text x="${mapX}" y="${bottom + 14}" font-size="11" fill="#555">each map: ${escapeXml(yTitle)} (rows) × ${escapeXml(xTitle)} (columns)</text>`);
    bottom += 22;
  }
  // colour bar: the scale's stops as a gradient, nice ticks, its title along it
  const barX = mapX + img.w + 24, barH = Math.max(120, Math.min(img.h, 600)), barY = mapY;
  const stops = plotlyColorscale((p.colorscale ?? "viridis") as ColorscaleName)
    .map(([t, c]) => `<stop offset="${t}" stop-color="${c}"/>`).join("");
  const grad = svgId("cbar", `${p.colorscale}|${p.png}|${p.title}`);
  parts.push(`<defs><linearGradient id="${grad}" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>`,
    `<rect class="colorbar" x="${barX}" y="${barY}" width="14" height="${barH}" fill="url(#${grad})"/>`);
  const span = p.vmax - p.vmin;
  const cticks = span > 0 ? niceTicks(p.vmin, p.vmax, 5) : [p.vmin];
  let tw = 0;
  for (const t of cticks) {
    const y = r1(barY + barH - (span > 0 ? (t - p.vmin) / span : 0.5) * barH), label = fmtTick(t);
    tw = Math.max(tw, textWidth(label, font));
    parts.push(`<line x1="${barX + 14}" x2="${barX + 18}" y1="${y}" y2="${y}" stroke="#444"/>`,
      `<text x="${barX + 21}" y="${y}" dy="0.35em" font-size="${font}">${label}</text>`);
  }
  const tx = barX + 21 + tw + 14, ty = barY + barH / 2;
  parts.push(`<text class="colorbar-title" x="${tx}" y="${ty}" transform="rotate(90 ${tx} ${ty})" text-anchor="middle" font-size="12">${escapeXml(p.valueTitle ?? "value")}</text>`);
  const width = Math.ceil(Math.max(tx + 12 + pad, p.title ? 2 * pad + textWidth(p.title, 15, true) : 0)), height = Math.ceil(Math.max(bottom, barY + barH) + pad);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ` +
    `font-family="${SVG_FONT}" fill="#222"><title>${escapeXml(p.title ?? "heatmap")}</title><rect width="100%" height="100%" fill="#fff"/>${parts.join("")}</svg>`;
}

/** Thumbnail side the renderer's small multiples use at most (CSS px). */
export const THUMB_SIDE = 96;

/** Max-pooled 8-bit thumbnails of every map (see HeatmapPayload.thumbs), or undefined when maps are small. */
export function thumbSheet(p: PreparedHeatmap, vmin: number, vmax: number): HeatmapPayload["thumbs"] {
  const { q, k } = p, maps = p.layers.length * p.heads.length;
  if (Math.max(q, k) <= THUMB_SIDE) return undefined;
  const f = Math.ceil(Math.max(q, k) / THUMB_SIDE), tq = Math.ceil(q / f), tk = Math.ceil(k / f);
  const cols = sheetCols(maps, tq, tk), W = cols * tk, sheet = new Uint8Array(Math.ceil(maps / cols) * tq * W);
  const span = vmax - vmin, inv = span > 0 ? 255 / span : 0;
  for (let m = 0; m < maps; m++) {
    const o = m * q * k, ox = (m % cols) * tk, oy = Math.floor(m / cols) * tq;
    for (let ty = 0; ty < tq; ty++) {
      for (let tx = 0; tx < tk; tx++) {
        let best = -Infinity;
        for (let y = ty * f; y < Math.min(q, ty * f + f); y++) {
          for (let x = tx * f, r = o + y * k; x < Math.min(k, tx * f + f); x++) if (p.values[r + x] > best) best = p.values[r + x];
        }
        const t = span > 0 ? (best - vmin) * inv : 128;
        sheet[(oy + ty) * W + ox + tx] = t <= 0 ? 0 : t >= 255 ? 255 : Math.round(t);
      }
    }
  }
  return { f, q: tq, k: tk, cols, png: pngBase64({ w: W, h: sheet.length / W, channels: 1, data: sheet }) };
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : String(+x.toPrecision(4)));

/** Show attention maps (layers × heads of query × key). */
export async function showHeatmap(attn: unknown, opts: HeatmapOptions = {}): Promise<DisplayHandle> {
  return display.bundle(await heatmapBundle(attn, opts));
}
