/**
 * Patches: `showPatches(image, {patch, attention?})` draws an image cut into ph×pw patches (ViT's "16×16
 * words") with the patch grid, and optionally attention over the patches as a colour overlay — either one
 * value per patch, or an N×N matrix (N = patches) from which the viewer shows the row of the selected query
 * patch (click a patch, or arrow keys). Fallback: the upscaled image with grid and overlay baked in.
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded } from "./bundle";
import { colormapLut, level } from "../../shared/colormap";
import { prepareVideo, type FrameLayout } from "./frames";
import { DisplayInputError, scan, toNdArray } from "./ndarray";
import { imageStack, pngBase64, toBase64, toRgb, upscaleNearest, type Image8 } from "./png";
import { MIME, PAYLOAD_VERSION, type PatchesPayload } from "../../shared/payloads";

/** Options of showPatches: the patch size, an attention map to overlay for one query, title, layout and range. */
export interface PatchesOptions {
  /** patch size: p for p×p, or [ph, pw] */
  patch: number | [number, number];
  /** one value per patch (gh·gw or gh×gw), or N×N attention between patches */
  attention?: unknown;
  /** query patch whose attention row is shown first (N×N attention); default 0 */
  queryIndex?: number;
  title?: string;
  layout?: "HWC" | "CHW" | "HW";
  range?: [number, number];
}

export interface PreparedPatches {
  image: Image8;
  ph: number;
  pw: number;
  gh: number;
  gw: number;
  attention?: { queries: number; levels: Uint8Array; vmin: number; vmax: number; queryIndex: number };
  notes: string[];
}

export async function preparePatches(image: unknown, opts: PatchesOptions): Promise<PreparedPatches> {
  const nd = await toNdArray(image, "showPatches");
  let layout: FrameLayout | undefined = opts.layout;
  if (!layout) {
    const s = nd.shape;
    if (s.length === 2) layout = "HW";
    else if (s.length === 3) layout = (s[2] === 3 || s[2] === 4 || s[2] === 1) ? "HWC" : (s[0] === 1 || s[0] === 3) ? "CHW" : undefined;
    if (!layout) throw new DisplayInputError(`showPatches: expected an image H×W×C, C×H×W or H×W, got shape [${s.join(", ")}]`);
  }
  const v = await prepareVideo(nd, { layout, range: opts.range }, "showPatches");
  const img: Image8 = { w: v.w, h: v.h, channels: v.c, data: v.data };
  const [ph, pw] = typeof opts.patch === "number" ? [opts.patch, opts.patch] : (opts.patch ?? []);
  if (!(Number.isInteger(ph) && Number.isInteger(pw) && ph > 0 && pw > 0)) {
    throw new DisplayInputError(`showPatches: patch must be a positive integer or [ph, pw], got ${JSON.stringify(opts.patch)}`);
  }
  if (v.notes.some((n) => n.startsWith("downsampled"))) throw new DisplayInputError(`showPatches: image too large (${v.notes[0]}); pass a smaller image`);
  if (v.h % ph !== 0 || v.w % pw !== 0) {
    throw new DisplayInputError(`showPatches: image ${v.h}×${v.w} is not divisible by patch ${ph}×${pw}`);
  }
  const gh = v.h / ph, gw = v.w / pw, n = gh * gw;
  const out: PreparedPatches = { image: img, ph, pw, gh, gw, notes: v.notes };
  if (opts.attention !== undefined) {
    const a = await toNdArray(opts.attention, "showPatches attention");
    let queries: number;
    if (a.data.length === n) queries = 1;
    else if (a.data.length === n * n) queries = n;
    else {
      throw new DisplayInputError(`showPatches: attention has shape [${a.shape.join(", ")}] (${a.data.length} values); expected ${n} ` +
        `(one per patch, grid ${gh}×${gw}) or ${n}×${n} (patch to patch)`);
    }
    const st = scan(a.data);
    if (st.nonFinite) throw new DisplayInputError(`showPatches: attention has ${st.nonFinite} NaN/Infinity values`);
    const levels = new Uint8Array(a.data.length);
    for (let i = 0; i < levels.length; i++) levels[i] = level(a.data[i], st.min, st.max);
    const qi = opts.queryIndex ?? 0;
    if (!(Number.isInteger(qi) && qi >= 0 && qi < queries)) throw new DisplayInputError(`showPatches: queryIndex ${qi} out of range [0, ${queries})`);
    out.attention = { queries, levels, vmin: st.min, vmax: st.max, queryIndex: qi };
  }
  return out;
}

/** Draw the fallback: image upscaled to ≥ 256 px, attention overlay (alpha 0.55), grid lines, query outlined. */
export function renderPatchesImage(p: PreparedPatches): { image: Image8; scale: number } {
  const s = Math.max(1, Math.floor(256 / Math.max(p.image.w, p.image.h)));
  const img = toRgb(upscaleNearest(p.image, s));
  const d = img.data, W = img.w;
  if (p.attention) {
    const lut = colormapLut("viridis");
    const row = p.attention.queries === 1 ? 0 : p.attention.queryIndex;
    for (let y = 0; y < img.h; y++) {
      for (let x = 0; x < W; x++) {
        const cell = Math.floor(y / (p.ph * s)) * p.gw + Math.floor(x / (p.pw * s));
        const lv = p.attention.levels[row * p.gh * p.gw + cell] * 3, i = (y * W + x) * 3;
        for (let k = 0; k < 3; k++) d[i + k] = Math.round(d[i + k] * 0.45 + lut[lv + k] * 0.55);
      }
    }
  }
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < W; x++) {
      if (x % (p.pw * s) === 0 || y % (p.ph * s) === 0) d.set([200, 200, 200], (y * W + x) * 3);
    }
  }
  if (p.attention && p.attention.queries > 1) {
    const qy = Math.floor(p.attention.queryIndex / p.gw) * p.ph * s, qx = (p.attention.queryIndex % p.gw) * p.pw * s;
    for (let t = 0; t < p.pw * s; t++) { d.set([255, 0, 0], (qy * W + qx + t) * 3); d.set([255, 0, 0], ((qy + p.ph * s - 1) * W + qx + t) * 3); }
    for (let t = 0; t < p.ph * s; t++) { d.set([255, 0, 0], ((qy + t) * W + qx) * 3); d.set([255, 0, 0], ((qy + t) * W + qx + p.pw * s - 1) * 3); }
  }
  return { image: img, scale: s };
}

export function patchesBundle(image: unknown, opts: PatchesOptions): Promise<MimeBundle> {
  return guarded(MIME.patches, async () => {
    const p = await preparePatches(image, opts);
    const payload: PatchesPayload = {
      version: PAYLOAD_VERSION,
      image: imageStack(p.image.data, 1, p.image.h, p.image.w, p.image.channels as 1 | 3),
      patch: [p.ph, p.pw], grid: [p.gh, p.gw],
      ...(p.attention ? { attention: { queries: p.attention.queries, levels: toBase64(p.attention.levels),
        vmin: p.attention.vmin, vmax: p.attention.vmax, queryIndex: p.attention.queryIndex } } : {}),
      ...(opts.title !== undefined ? { title: String(opts.title) } : {}),
      ...(p.notes.length ? { notes: p.notes } : {}),
    };
    const text = `${opts.title ? opts.title + " — " : ""}image ${p.image.h}×${p.image.w} in ${p.gh}×${p.gw} patches of ${p.ph}×${p.pw}` +
      (p.attention ? ` with attention (${p.attention.queries === 1 ? "one value per patch" : `from query patch ${p.attention.queryIndex}`})` : "");
    return { [MIME.patches]: payload, "image/png": pngBase64(renderPatchesImage(p).image), "text/plain": text };
  });
}

/** Show an image with the grid of p×p patches a vision transformer reads as tokens drawn over it. */
export async function showPatches(image: unknown, opts: PatchesOptions): Promise<DisplayHandle> {
  return display.bundle(await patchesBundle(image, opts));
}
