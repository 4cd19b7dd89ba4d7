/**
 * Frames and videos: `showFrames(video)` plays one T×H×W×C (or T×C×H×W, T×H×W, H×W×C, H×W) tensor;
 * `showVideos([{title, frames}, …])` plays several side by side in sync (ground truth | prediction | baseline).
 *
 * Values may be 0–1, 0–255 (or uint8), or −1–1 (diffusion outputs, mapped with a note). The rich payload
 * stores each video as one lossless PNG sheet; the image/png fallback is a contact sheet (rows = videos,
 * columns = evenly spaced frames, nearest-neighbour upscaled so small frames stay crisp).
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded, LIMITS, dims } from "./bundle";
import { DisplayInputError, scan, toNdArray, unravel, type NdArray } from "./ndarray";
import { downsampleBox, imageStack, pngBase64, tile, upscaleNearest, type Image8 } from "./png";
import { MIME, PAYLOAD_VERSION, type FramesPayload, type Video } from "./payloads";

export type FrameLayout = "THWC" | "TCHW" | "THW" | "HWC" | "CHW" | "HW";

export interface FramesOptions {
  title?: string;
  /** playback speed, frames per second (default 8) */
  fps?: number;
  loop?: boolean;
  /** override the layout guess (rank 4: last dim 1/3/4 → THWC, else dim 1 → TCHW; rank 3: last dim 3/4 → HWC, else THW) */
  layout?: FrameLayout;
  /** value range to map to black…white; default: guessed from the data (0–1, −1–1 or 0–255) */
  range?: [number, number];
  /** how many frames the contact-sheet fallback shows (default 8) */
  contactFrames?: number;
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
export function contactIndices(t: number, n = 8): number[] {
  const k = Math.min(t, n);
  if (k <= 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (t - 1)) / (k - 1)));
}

/** Integer nearest-neighbour factor that makes a tile about 128 px (never shrinks). */
export function contactScale(h: number, w: number): number {
  return Math.max(1, Math.floor(128 / Math.max(h, w)));
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
    ...(notes.length ? { notes } : {}),
  };
  const rows = videos.map(({ video: v }) => {
    const sc = contactScale(v.h, v.w);
    return contactIndices(v.t, opts.contactFrames ?? 8).map((i) => upscaleNearest(frameImage(v, i), sc));
  });
  const sheet = tile(rows).image;
  const desc = videos.map(({ title, video: v }) =>
    `${title ? JSON.stringify(title) + ": " : ""}${v.t} frame${v.t > 1 ? "s" : ""} ${dims(v.h, v.w)} ${v.c === 1 ? "gray" : "RGB"}`);
  const text = `${opts.title ? opts.title + " — " : ""}${desc.join(" | ")} @ ${fps} fps` +
    (notes.length ? ` (${notes.join("; ")})` : "");
  return { [MIME.frames]: payload, "image/png": pngBase64(sheet), "text/plain": text };
}

/** Build the MIME bundle of one video (use showFrames to display it). */
export function framesBundle(video: unknown, opts: FramesOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.frames, async () => videosToBundle([{ title: undefined, video: await prepareVideo(video, opts) }], opts));
}

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

