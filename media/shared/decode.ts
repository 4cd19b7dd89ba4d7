/** Decoding the payloads' base64 PNG data in the browser (fast-png: exact bytes, no colour management). */
import { decode } from "fast-png";
import type { ImageStack } from "../../kernel/nextframe/display/payloads";

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
    (o.channels !== 1 && o.channels !== 3) || typeof o.png !== "string") {
    throw new Error(`${what}: malformed image stack`);
  }
  return o;
}

/** Decode an ImageStack into one RGBA ImageData per image. */
export function decodeStack(stack: ImageStack, what = "frames"): ImageData[] {
  const s = checkStack(stack, what);
  const d = decodePngData(s.png);
  if (d.width !== s.w || d.height !== s.h * s.count || d.depth !== 8) {
    throw new Error(`${what}: PNG is ${d.width}×${d.height}@${d.depth}bit, expected ${s.w}×${s.h * s.count}@8bit`);
  }
  const c = d.channels, n = s.w * s.h, src = d.data as Uint8Array;
  const out: ImageData[] = [];
  for (let i = 0; i < s.count; i++) {
    const img = new ImageData(s.w, s.h);
    const px = img.data;
    for (let p = 0, si = i * n * c; p < n; p++, si += c) {
      const di = p * 4;
      if (c === 1) { px[di] = px[di + 1] = px[di + 2] = src[si]; }
      else { px[di] = src[si]; px[di + 1] = src[si + 1]; px[di + 2] = src[si + 2]; }
      px[di + 3] = 255;
    }
    out.push(img);
  }
  return out;
}
