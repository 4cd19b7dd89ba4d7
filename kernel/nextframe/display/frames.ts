/**
 * Frames and videos: `showFrames(video)` plays one T×H×W×C (or T×C×H×W, T×H×W, H×W×C, H×W) tensor;
 * `showVideos([{title, frames}, …])` plays several side by side in sync (ground truth | prediction | baseline).
 *
 * Values may be 0–1, 0–255 (or uint8), or −1–1 (diffusion outputs, mapped with a note). The rich payload
 * stores each video as one lossless PNG sheet; the fallback is an SVG contact sheet shown as an <img> in text/html
 * (rows = videos labelled with their titles, columns = evenly spaced frames numbered, nearest-neighbour upscaled so
 * small frames stay crisp).
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded, LIMITS, dims, svgImageHtml } from "./bundle";
import { DisplayInputError, scan, toNdArray, unravel, type NdArray } from "./ndarray";
import { downsampleBox, imageStack, pngBase64, tile, upscaleNearest, type Image8 } from "./png";
import { escapeXml, SVG_FONT, textWidth } from "./svg";
import { MIME, PAYLOAD_VERSION, type FramesPayload, type Video } from "../../shared/payloads";

/** How showFrames reads its array: T frames, C channels, H×W pixels, in this axis order. */
export type FrameLayout = "THWC" | "TCHW" | "THW" | "HWC" | "CHW" | "HW";

/** Options of showFrames: title, frames per second, looping, layout, value range, contact frames and grid rows. */
export interface FramesOptions {
  title?: string;
  /** playback speed, frames per second (default 8) */
  fps?: number;
  loop?: boolean;
  /** override the layout guess (rank 4: last dim 1/3/4 → THWC, else dim 1 → TCHW; rank 3: last dim 3/4 → HWC, else THW) */
  layout?: FrameLayout;
  /** value range to map to black…white; default: guessed from the data (0–1, −1–1 or 0–255) */
  range?: [number, number];
  /** how many frames per video the fallback picture shows, evenly spaced with first and last (default 12) */
  contactFrames?: number;
  /**
   * showVideos: one row per video, its title as the row label, each row a synced player and a strip of its frames
   * (every frame when they fit, else evenly spaced ones with their numbers), e.g. truth / model / baseline over time.
   * Default false: the videos play side by side, titled above.
   */
  rows?: boolean;
}

/** A video after normalization: uint8, T×H×W×C with C ∈ {1, 3}. */
export interface PreparedVideo {
  t: number;
  h: number;
  w: number;
  c: 1 | 3;
  data: Uint8Array;
  notes: string[];
}

function resolveLayout(shape: number[], layout: FrameLayout | undefined, what: string): FrameLayout {
  const r = shape.length;
  const want: Record<FrameLayout, number> = { THWC: 4, TCHW: 4, THW: 3, HWC: 3, CHW: 3, HW: 2 };
  if (layout) {
    if (want[layout] !== r) throw new DisplayInputError(`${what}: layout ${layout} needs rank ${want[layout]}, got shape [${shape.join(", ")}]`);
    return layout;
  }
  const isC = (d: number) => d === 1 || d === 3 || d === 4;
  if (r === 4) {
    if (isC(shape[3])) return "THWC";
    if (isC(shape[1])) return "TCHW";
    throw new DisplayInputError(
      `${what}: rank-4 input [${shape.join(", ")}] has no channel dim of 1, 3 or 4 (expected T×H×W×C or T×C×H×W)`);
  }
  if (r === 3) return shape[2] === 3 || shape[2] === 4 ? "HWC" : "THW";
  if (r === 2) return "HW";
  if (r === 5) {
    throw new DisplayInputError(
      `${what}: got rank 5 [${shape.join(", ")}] — a batch of videos? pass one video (T×H×W×C or T×C×H×W) or use showVideos`);
  }
  throw new DisplayInputError(`${what}: expected a video T×H×W×C / T×C×H×W / T×H×W or an image H×W×C / H×W, got shape [${shape.join(", ")}]`);
}

/** Normalize a frames input to uint8 T×H×W×C, downsampling huge inputs with a note. */
export async function prepareVideo(input: unknown, opts: FramesOptions = {}, what = "showFrames"): Promise<PreparedVideo> {
  const nd: NdArray = await toNdArray(input, what);
  const layout = resolveLayout(nd.shape, opts.layout, what);
  let t: number, h: number, w: number, cIn: number;
  // strides (in elements) of t, y, x, c in the source
  let st: number, sy: number, sx: number, sc: number;
  const s = nd.shape;
  switch (layout) {
    case "THWC": [t, h, w, cIn] = s; sc = 1; sx = cIn; sy = w * cIn; st = h * w * cIn; break;
    case "TCHW": [t, cIn, h, w] = s; sx = 1; sy = w; sc = h * w; st = cIn * h * w; break;
    case "THW": [t, h, w] = s; cIn = 1; sx = 1; sy = w; sc = 0; st = h * w; break;
    case "HWC": [h, w, cIn] = s; t = 1; sc = 1; sx = cIn; sy = w * cIn; st = 0; break;
    case "CHW": [cIn, h, w] = s; t = 1; sx = 1; sy = w; sc = h * w; st = 0; break;
    case "HW": [h, w] = s; t = 1; cIn = 1; sx = 1; sy = w; sc = 0; st = 0; break;
  }
  if (t === 0 || h === 0 || w === 0) throw new DisplayInputError(`${what}: empty video, shape [${s.join(", ")}]`);
  if (cIn !== 1 && cIn !== 3 && cIn !== 4) {
    throw new DisplayInputError(`${what}: ${cIn} channels in shape [${s.join(", ")}] (layout ${layout}); expected 1 (gray), 3 (RGB) or 4 (RGBA)`);
  }
  const c: 1 | 3 = cIn === 1 ? 1 : 3;
  const notes: string[] = [];

  // value range → scale to bytes
  let lo = 0, hi = 255;
  if (!nd.isUint8) {
    const { min, max, nonFinite, firstNonFinite } = scan(nd.data);
    if (nonFinite > 0) {
      throw new DisplayInputError(`${what}: ${nonFinite} NaN/Infinity value${nonFinite > 1 ? "s" : ""} in the frames ` +
        `(first at index [${unravel(firstNonFinite, s).join(", ")}] of shape [${s.join(", ")}]) — the model or data produced invalid numbers`);
    }
    if (opts.range) [lo, hi] = opts.range;
    else if (min >= 0 && max <= 1) [lo, hi] = [0, 1];
    else if (min >= -1 && max <= 1) { [lo, hi] = [-1, 1]; notes.push("values in [−1, 1] shown as (x + 1) / 2"); }
    else if (min >= 0 && max <= 255) [lo, hi] = [0, 255];
    else {
      throw new DisplayInputError(`${what}: values span [${min.toPrecision(4)}, ${max.toPrecision(4)}]; expected 0–1, −1–1 or 0–255 ` +
        `(pass {range: [lo, hi]} to map another range to black…white)`);
    }
    if (!(hi > lo)) throw new DisplayInputError(`${what}: range [${lo}, ${hi}] is empty`);
  }

  // temporal stride for huge inputs (after the spatial factor below)
  const f = Math.max(1, Math.ceil(Math.max(h, w) / LIMITS.frameSide));
  const H = Math.floor(h / f) || 1, W = Math.floor(w / f) || 1;
  const tStride = Math.max(1, Math.ceil((t * H * W * c) / LIMITS.frameBytes), Math.ceil(t / LIMITS.frames));
  const T = Math.ceil(t / tStride);
  if (f > 1) notes.push(`downsampled ${f}× from ${dims(h, w)} to ${dims(H, W)} to keep the output small`);
  if (tStride > 1) notes.push(`showing every ${tStride}th frame (${T} of ${t}) to keep the output small`);

  const scale = nd.isUint8 ? 1 : 255 / (hi - lo);
  const src = nd.data;
  const frame = new Uint8Array(h * w * c);
  const out = new Uint8Array(T * H * W * c);
  for (let ti = 0; ti < T; ti++) {
    const base = ti * tStride * st;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const si = base + y * sy + x * sx, di = (y * w + x) * c;
        for (let k = 0; k < c; k++) {
          const v = nd.isUint8 ? src[si + k * sc] : Math.round((src[si + k * sc] - lo) * scale);
          frame[di + k] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
    }
    const img = f > 1 ? downsampleBox({ w, h, channels: c, data: frame }, f) : { data: frame };
    out.set(img.data.subarray(0, H * W * c), ti * H * W * c);
  }
  return { t: T, h: H, w: W, c, data: out, notes };
}

/** Evenly spaced frame indices for a contact sheet (always includes the first and last frame). */
export function contactIndices(t: number, n = 12): number[] {
  const k = Math.min(t, n);
  if (k <= 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (t - 1)) / (k - 1)));
}

/** Integer nearest-neighbour factor that makes a tile about `target` px (never shrinks). */
export function contactScale(h: number, w: number, target = 128): number {
  return Math.max(1, Math.floor(target / Math.max(h, w)));
}

/** Gap between the fallback's tiles, px. */
export const CONTACT_GAP = 4;

/** Shorten a label to about `px` wide at `size` px, with an ellipsis. */
function fitLabel(s: string, px: number, size: number): string {
  if (textWidth(s, size) <= px) return s;
  let t = s;
  while (t.length > 1 && textWidth(t + "…", size) > px) t = t.slice(0, -1);
  return t + "…";
}

/**
 * The fallback picture as SVG: the title, then one row per video with its title as the row label and evenly spaced
 * frames (an embedded PNG, upscaled by whole pixels), each column numbered with its frame (1-based, as the player
 * counts). Long clips show `contactFrames` frames from first to last, not the first few.
 */
export function contactSheetSvg(videos: { title?: string; video: PreparedVideo }[], opts: FramesOptions, notes: string[]): string {
  const n = Math.max(1, Math.floor(opts.contactFrames ?? 12));
  const indices = videos.map(({ video: v }) => contactIndices(v.t, n));
  const most = Math.max(...indices.map((i) => i.length));
  const scale = videos.map(({ video: v }) => contactScale(v.h, v.w, most > 8 ? 96 : 128));
  const rows = videos.map(({ video: v }, r) => indices[r].map((i) => upscaleNearest(frameImage(v, i), scale[r])));
  const { image: sheet, origins } = tile(rows, CONTACT_GAP, [255, 255, 255]);
  const pad = 12, font = 12, parts: string[] = [];
  let top = pad;
  if (opts.title) { parts.push(`<text x="${pad}" y="${top + 15}" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`); top += 24; }
  for (const note of notes) { parts.push(`<text x="${pad}" y="${top + 12}" font-size="11" font-style="italic" fill="#555">note: ${escapeXml(note)}</text>`); top += 16; }
  const labels = videos.map(({ title }) => (title === undefined ? "" : fitLabel(title, 220, font)));
  const labelW = Math.max(0, ...labels.map((l) => textWidth(l, font)));
  const left = pad + (labelW > 0 ? labelW + 10 : 0);
  const shared = indices.every((ix) => ix.join() === indices[0].join());
  const numbers = (r: number, y: number) => indices[r].map((i, j) =>
    `<text x="${left + origins[r][j][0] + rows[r][j].w / 2}" y="${y}" text-anchor="middle">${i + 1}</text>`).join("");
  top += 4;
  const rowTop: number[] = [];
  let y = top;
  if (shared) {
    parts.push(`<g class="frame-numbers" font-size="11" fill="#555">${numbers(0, y + 11)}</g>`);
    if (labelW > 0) parts.push(`<text x="${left - 10}" y="${y + 11}" text-anchor="end" font-size="11" fill="#555">frame</text>`);
    y += 16;
  }
  const sheetY = y;
  videos.forEach((_, r) => {
    const oy = sheetY + origins[r][0][1] + (!shared ? r * 16 : 0);
    rowTop.push(oy);
    if (!shared) parts.push(`<g class="frame-numbers" font-size="11" fill="#555">${numbers(r, oy - 4 + 16)}</g>`);
    if (labels[r]) parts.push(`<text class="row-label" x="${left - 10}" y="${oy + (!shared ? 16 : 0) + rows[r][0].h / 2}" dy="0.35em" text-anchor="end" font-size="${font}">${escapeXml(labels[r])}</text>`);
  });
  // without a shared header each row is drawn as its own image under its numbers
  if (shared) {
    parts.push(`<image x="${left}" y="${sheetY}" width="${sheet.w}" height="${sheet.h}" style="image-rendering:pixelated" href="data:image/png;base64,${pngBase64(sheet)}"/>`);
  } else {
    videos.forEach((_, r) => {
      const row = tile([rows[r]], CONTACT_GAP, [255, 255, 255]).image;
      parts.push(`<image x="${left}" y="${rowTop[r] + 16}" width="${row.w}" height="${row.h}" style="image-rendering:pixelated" href="data:image/png;base64,${pngBase64(row)}"/>`);
    });
  }
  const height = Math.ceil(sheetY + sheet.h + (!shared ? 16 * videos.length : 0) + pad);
  const width = Math.ceil(Math.max(left + sheet.w, opts.title ? pad + textWidth(opts.title, 15, true) : 0) + pad);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ` +
    `font-family="${SVG_FONT}" fill="#222"><title>${escapeXml(opts.title ?? "frames")}</title><rect width="100%" height="100%" fill="#fff"/>${parts.join("")}</svg>`;
}

export function frameImage(v: PreparedVideo, i: number): Image8 {
  const n = v.h * v.w * v.c;
  return { w: v.w, h: v.h, channels: v.c, data: v.data.subarray(i * n, (i + 1) * n) };
}

function videosToBundle(videos: { title?: string; video: PreparedVideo }[], opts: FramesOptions): MimeBundle {
  const fps = opts.fps ?? 8;
  if (!(fps > 0 && fps <= 240)) throw new DisplayInputError(`showFrames: fps must be in (0, 240], got ${fps}`);
  const notes = [...new Set(videos.flatMap(({ video }) => video.notes))];
  const payloadVideos: Video[] = videos.map(({ title, video: v }) => ({
    ...(title !== undefined ? { title } : {}),
    frames: imageStack(v.data, v.t, v.h, v.w, v.c),
  }));
  const payload: FramesPayload = {
    version: PAYLOAD_VERSION, fps, loop: opts.loop ?? true, videos: payloadVideos,
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    ...(opts.rows ? { rows: true } : {}),
    ...(notes.length ? { notes } : {}),
  };
  const desc = videos.map(({ title, video: v }) =>
    `${title ? JSON.stringify(title) + ": " : ""}${v.t} frame${v.t > 1 ? "s" : ""} ${dims(v.h, v.w)} ${v.c === 1 ? "gray" : "RGB"}`);
  const text = `${opts.title ? opts.title + " — " : ""}${desc.join(" | ")} @ ${fps} fps` +
    (notes.length ? ` (${notes.join("; ")})` : "");
  return { [MIME.frames]: payload, "text/html": svgImageHtml(contactSheetSvg(videos, opts, notes), text), "text/plain": text };
}

/** Build the MIME bundle of one video (use showFrames to display it). */
export function framesBundle(video: unknown, opts: FramesOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.frames, async () => videosToBundle([{ title: undefined, video: await prepareVideo(video, opts) }], opts));
}

/** One video of showVideos: its frames and the title of its row. */
export interface VideoEntry {
  title?: string;
  frames: unknown;
}

/** Build the MIME bundle of several videos played side by side in sync. */
export function videosBundle(videos: VideoEntry[], opts: FramesOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.frames, async () => {
    if (!Array.isArray(videos) || videos.length === 0) {
      throw new DisplayInputError(`showVideos: expected a non-empty array of {title, frames}, got ${Array.isArray(videos) ? "[]" : typeof videos}`);
    }
    if (videos.length > 16) throw new DisplayInputError(`showVideos: ${videos.length} videos; at most 16 play side by side`);
    const prepared = [];
    for (let i = 0; i < videos.length; i++) {
      const e = videos[i];
      if (typeof e !== "object" || e === null || !("frames" in e)) {
        throw new DisplayInputError(`showVideos: element ${i} must be {title, frames}`);
      }
      prepared.push({ title: e.title === undefined ? undefined : String(e.title),
        video: await prepareVideo(e.frames, opts, `showVideos[${i}]${e.title ? ` "${e.title}"` : ""}`) });
    }
    return videosToBundle(prepared, opts);
  });
}

/** Show a video (or a single image) in the frame player. */
export async function showFrames(video: unknown, opts: FramesOptions = {}): Promise<DisplayHandle> {
  return display.bundle(await framesBundle(video, opts));
}

/** Show several videos side by side with synced players, e.g. [{title: "truth", frames}, {title: "model", frames}]. */
export async function showVideos(videos: VideoEntry[], opts: FramesOptions = {}): Promise<DisplayHandle> {
  return display.bundle(await videosBundle(videos, opts));
}

