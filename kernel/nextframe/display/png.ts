/**
 * PNG encoding (node:zlib; fast-png decodes) and the small raster operations the display helpers need for their fallbacks:
 * nearest-neighbour upscaling (so 32×32 frames stay crisp), box downsampling (huge inputs), tiling
 * (contact sheets, small multiples).
 */
import { deflateSync } from "node:zlib";
import { decode } from "fast-png";
import type { ImageStack } from "../../shared/payloads";
import { NextframeError } from "../engine/errors";

/** An 8-bit image, row-major, interleaved channels (1 gray, 3 RGB, 4 RGBA). */
export interface Image8 {
  w: number;
  h: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Encode an image as PNG bytes (8-bit gray/RGB/RGBA, or 16-bit gray for heatmap values).
 * Written here on node:zlib rather than with fast-png's encoder: fflate's JS deflate took 3.0 s for a
 * 64×256×256 RGB video on the 2-core machine, native zlib 0.3 s, with smaller output. fast-png still
 * decodes (tests, browser). Filter: Sub for RGB/RGBA frames (smooth images), None for gray value sheets.
 */
export function encodePng(img: Image8 | { w: number; h: number; channels: 1; data: Uint16Array; depth: 16 }): Uint8Array {
  const depth = "depth" in img ? 16 : 8;
  const bpp = img.channels * (depth / 8);
  const stride = img.w * bpp;
  const colorType = { 1: 0, 3: 2, 4: 6 }[img.channels];
  const raw = new Uint8Array((stride + 1) * img.h);
  const src = depth === 16
    ? (() => { // 16-bit samples are big-endian in PNG
      const b = new Uint8Array(img.data.length * 2), d = img.data as Uint16Array;
      for (let i = 0; i < d.length; i++) { b[2 * i] = d[i] >> 8; b[2 * i + 1] = d[i] & 255; }
      return b;
    })()
    : (img.data as Uint8Array);
  const sub = depth === 8 && img.channels > 1;
  for (let y = 0; y < img.h; y++) {
    const o = y * (stride + 1), r = y * stride;
    raw[o] = sub ? 1 : 0;
    if (!sub) raw.set(src.subarray(r, r + stride), o + 1);
    else {
      for (let x = 0; x < bpp; x++) raw[o + 1 + x] = src[r + x];
      for (let x = bpp; x < stride; x++) raw[o + 1 + x] = (src[r + x] - src[r + x - bpp]) & 255;
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, img.w);
  dv.setUint32(4, img.h);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const idat = deflateSync(raw, { level: 6 });
  const parts = [Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(idat.buffer, idat.byteOffset, idat.byteLength)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function fromBase64(s: string): Uint8Array {
  const b = Buffer.from(s, "base64");
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function pngBase64(img: Image8): string {
  return toBase64(encodePng(img));
}

/** Decode PNG bytes or base64 back to an Image8 (tests; fallbacks round-trip). */
export function decodePng(png: Uint8Array | string): Image8 {
  const d = decode(typeof png === "string" ? fromBase64(png) : png);
  if (d.depth !== 8) throw new NextframeError(`decodePng: expected an 8-bit PNG, got depth ${d.depth}`);
  return { w: d.width, h: d.height, channels: d.channels as 1 | 3 | 4, data: d.data as Uint8Array };
}

/** Frames per sheet row: keeps the sheet roughly square, so even long videos stay within browser image limits. */
export function sheetCols(count: number, h: number, w: number): number {
  return Math.max(1, Math.min(count, Math.ceil(Math.sqrt((count * h) / w))));
}

/**
 * count images of h×w×channels, contiguous in `data`, as one PNG sheet: image i sits at column i % cols,
 * row ⌊i / cols⌋ (see ImageStack).
 */
export function imageStack(data: Uint8Array, count: number, h: number, w: number, channels: 1 | 3): ImageStack {
  if (data.length !== count * h * w * channels) {
    throw new Error(`internal: imageStack got ${data.length} bytes for ${count}×${h}×${w}×${channels}`);
  }
  const cols = sheetCols(count, h, w), rows = Math.ceil(count / cols);
  const W = cols * w, row = w * channels;
  const sheet = new Uint8Array(rows * h * W * channels);
  for (let i = 0; i < count; i++) {
    const ox = (i % cols) * w, oy = Math.floor(i / cols) * h;
    for (let y = 0; y < h; y++) {
      const s = (i * h + y) * row;
      sheet.set(data.subarray(s, s + row), ((oy + y) * W + ox) * channels);
    }
  }
  return { count, h, w, channels, cols, png: pngBase64({ w: W, h: rows * h, channels, data: sheet }) };
}

/** Cut an ImageStack's decoded sheet back into image i (tests, World Viewer truth checks). */
export function stackImage(stack: ImageStack, sheet: Image8, i: number): Image8 {
  const c = sheet.channels, cols = stack.cols ?? 1;
  const ox = (i % cols) * stack.w, oy = Math.floor(i / cols) * stack.h;
  const out = new Uint8Array(stack.w * stack.h * c);
  for (let y = 0; y < stack.h; y++) {
    const s = ((oy + y) * sheet.w + ox) * c;
    out.set(sheet.data.subarray(s, s + stack.w * c), y * stack.w * c);
  }
  return { w: stack.w, h: stack.h, channels: c, data: out };
}

/** Nearest-neighbour upscale by integer factors. */
export function upscaleNearest(img: Image8, fx: number, fy = fx): Image8 {
  if (fx === 1 && fy === 1) return img;
  const { w, h, channels: c } = img;
  const W = w * fx, H = h * fy;
  const out = new Uint8Array(W * H * c);
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / fy);
    for (let x = 0; x < W; x++) {
      const si = (sy * w + Math.floor(x / fx)) * c, di = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[di + k] = img.data[si + k];
    }
  }
  return { w: W, h: H, channels: c, data: out };
}

/** Box-average downsample by an integer factor (edges that do not fill a box are dropped). */
export function downsampleBox(img: Image8, f: number): Image8 {
  if (f <= 1) return img;
  const { channels: c } = img;
  const W = Math.max(1, Math.floor(img.w / f)), H = Math.max(1, Math.floor(img.h / f));
  const out = new Uint8Array(W * H * c);
  const acc = new Float64Array(c);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      acc.fill(0);
      let n = 0;
      for (let dy = 0; dy < f && y * f + dy < img.h; dy++) {
        for (let dx = 0; dx < f && x * f + dx < img.w; dx++) {
          const si = ((y * f + dy) * img.w + x * f + dx) * c;
          for (let k = 0; k < c; k++) acc[k] += img.data[si + k];
          n++;
        }
      }
      for (let k = 0; k < c; k++) out[(y * W + x) * c + k] = Math.round(acc[k] / n);
    }
  }
  return { w: W, h: H, channels: c, data: out };
}

/** Convert to 3 channels (gray is replicated, alpha dropped). */
export function toRgb(img: Image8): Image8 {
  if (img.channels === 3) return img;
  const n = img.w * img.h, out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (img.channels === 1) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = img.data[i];
    else for (let k = 0; k < 3; k++) out[i * 3 + k] = img.data[i * 4 + k];
  }
  return { w: img.w, h: img.h, channels: 3, data: out };
}

/**
 * Tile a grid of images (rows × cols, any may be null) into one RGB image with `gap` pixels of `bg`
 * between tiles. Tiles in a column share the column's width, tiles in a row the row's height.
 * Returns the image and each tile's top-left corner (tests use them to find pixels).
 */
export function tile(grid: (Image8 | null)[][], gap = 2, bg: [number, number, number] = [128, 128, 128]):
  { image: Image8; origins: [number, number][][] } {
  const cols = Math.max(...grid.map((r) => r.length));
  const colW = Array.from({ length: cols }, (_, j) => Math.max(0, ...grid.map((r) => r[j]?.w ?? 0)));
  const rowH = grid.map((r) => Math.max(0, ...r.map((t) => t?.h ?? 0)));
  const W = colW.reduce((a, b) => a + b, 0) + gap * (cols - 1);
  const H = rowH.reduce((a, b) => a + b, 0) + gap * (grid.length - 1);
  const out = new Uint8Array(W * H * 3);
  out.set(bg, 0);
  for (let n = 3; n < out.length; n *= 2) out.copyWithin(n, 0, Math.min(n, out.length - n)); // fill by doubling
  const origins: [number, number][][] = [];
  let oy = 0;
  grid.forEach((row, r) => {
    let ox = 0;
    origins.push([]);
    row.forEach((t, j) => {
      origins[r].push([ox, oy]);
      if (t) {
        const rgb = toRgb(t);
        for (let y = 0; y < rgb.h; y++) out.set(rgb.data.subarray(y * rgb.w * 3, (y + 1) * rgb.w * 3), ((oy + y) * W + ox) * 3);
      }
      ox += colW[j] + gap;
    });
    oy += rowH[r] + gap;
  });
  return { image: { w: W, h: H, channels: 3, data: out }, origins };
}
