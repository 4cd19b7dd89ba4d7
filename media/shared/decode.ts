/** Decoding the payloads' base64 PNG data in the browser (fast-png: exact bytes, no colour management). */
import { decode } from "fast-png";
import type { ImageStack } from "../../kernel/shared/payloads";

export function b64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function decodePngData(b64: string): { width: number; height: number; channels: number; depth: number; data: Uint8Array | Uint16Array } {
  const d = decode(b64ToBytes(b64));
  return { width: d.width, height: d.height, channels: d.channels, depth: d.depth, data: d.data as Uint8Array | Uint16Array };
}

/** Validate the shape fields of an ImageStack coming over the wire (a renderer trusts nothing). */
export function checkStack(s: unknown, what: string): ImageStack {
  const o = s as ImageStack;
  const okInt = (n: unknown, max: number) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= max;
  if (typeof o !== "object" || o === null || !okInt(o.count, 100000) || !okInt(o.h, 16384) || !okInt(o.w, 16384) ||
    (o.channels !== 1 && o.channels !== 3) || typeof o.png !== "string" || (o.cols !== undefined && !okInt(o.cols, o.count))) {
    throw new Error(`${what}: malformed image stack`);
  }
  return o;
}

/** Where image i of a stack sits on its sheet. */
export function sheetRect(s: ImageStack, i: number): { x: number; y: number; w: number; h: number } {
  const cols = s.cols ?? 1;
  return { x: (i % cols) * s.w, y: Math.floor(i / cols) * s.h, w: s.w, h: s.h };
}

/**
 * Decode a PNG sheet natively (off the main thread). No colour-space conversion: our PNGs carry no colour
 * chunks, and the values are data.
 */
export async function decodeSheet(b64: string): Promise<ImageBitmap> {
  const blob = new Blob([b64ToBytes(b64) as BlobPart], { type: "image/png" });
  return createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
}

/** An ImageStack ready to draw: the decoded sheet and the rectangle of each image. */
export interface Frames {
  sheet: ImageBitmap;
  stack: ImageStack;
  count: number;
  w: number;
  h: number;
  draw(ctx: CanvasRenderingContext2D, i: number): void;
}

export async function loadFrames(stack: unknown, what = "frames"): Promise<Frames> {
  const s = checkStack(stack, what);
  const sheet = await decodeSheet(s.png);
  const cols = s.cols ?? 1;
  if (sheet.width !== cols * s.w || sheet.height < Math.ceil(s.count / cols) * s.h) {
    throw new Error(`${what}: PNG sheet is ${sheet.width}×${sheet.height}, expected ${cols * s.w}×${Math.ceil(s.count / cols) * s.h}`);
  }
  return {
    sheet, stack: s, count: s.count, w: s.w, h: s.h,
    draw(ctx, i) {
      const r = sheetRect(s, Math.max(0, Math.min(s.count - 1, i)));
      ctx.drawImage(sheet, r.x, r.y, r.w, r.h, 0, 0, r.w, r.h);
    },
  };
}

/** Pixels of a natively decoded sheet (R channel of a grayscale PNG = its 8-bit values). */
export function sheetPixels(sheet: ImageBitmap): Uint8ClampedArray {
  const c = document.createElement("canvas");
  c.width = sheet.width;
  c.height = sheet.height;
  const ctx = c.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(sheet, 0, 0);
  return ctx.getImageData(0, 0, sheet.width, sheet.height).data;
}
