/**
 * Patch n' Pack (NaViT, Dehghani et al. 2023, https://arxiv.org/abs/2307.06304): images of different sizes and
 * aspect ratios are patchified and concatenated into one sequence; a block-diagonal attention mask keeps each
 * image attending only to itself, and each token keeps its own (row, col) position inside its image.
 * One set of weights then handles every resolution — only the token count changes.
 */
import { patchify2d, unpatchify2d } from "./patchify";
import { sincos2dFromPositions } from "./posEmbed";
import { NextframeError } from "../engine/errors";

/** One image to pack: its (C, H, W) pixels. */
export interface ImageItem { data: Float32Array; shape: readonly [number, number, number] } // (C, H, W)

/** Where one image's tokens lie in a packed sequence, and its patch grid. */
export interface PackSegment { start: number; length: number; grid: [number, number]; channels: number }

/** Images of different sizes packed into one token sequence: tokens, their image ids and each image's segment (for a block-diagonal mask). */
export interface Packed {
  tokens: Float32Array;     // (L, p·p·C) with L = total tokens + padding
  shape: [number, number];  // (L, D)
  patchSize: number;
  rows: Int32Array;         // (L) row of each token inside its image (−1 for padding)
  cols: Int32Array;         // (L) column inside its image (−1 for padding)
  imageIds: Int32Array;     // (L) index of the image each token came from (−1 for padding)
  segments: PackSegment[];
}

/** Packs images (each (C, H, W) with the same C) into one token sequence, padded to `length` if given. */
export function packImages(images: readonly ImageItem[], patchSize: number, opts: { length?: number } = {}): Packed {
  if (images.length === 0) throw new NextframeError("packImages: no images to pack");
  const C = images[0].shape[0];
  const D = patchSize * patchSize * C;
  const segments: PackSegment[] = [];
  let L = 0;
  const parts = images.map((img, k) => {
    if (img.shape[0] !== C) throw new NextframeError(`packImages: image ${k} has ${img.shape[0]} channels, image 0 has ${C}`);
    const [, H, W] = img.shape;
    if (H % patchSize !== 0 || W % patchSize !== 0) {
      throw new NextframeError(`packImages: image ${k} size ${H}×${W} is not divisible by the patch size ${patchSize}`);
    }
    const pt = patchify2d(img.data, [1, C, H, W], patchSize);
    segments.push({ start: L, length: pt.shape[1], grid: [pt.grid[0], pt.grid[1]], channels: C });
    L += pt.shape[1];
    return pt;
  });
  const total = opts.length ?? L;
  if (total < L) throw new NextframeError(`packImages: ${L} tokens do not fit in a sequence of length ${total}`);
  const tokens = new Float32Array(total * D);
  const rows = new Int32Array(total).fill(-1), cols = new Int32Array(total).fill(-1), imageIds = new Int32Array(total).fill(-1);
  parts.forEach((pt, k) => {
    const seg = segments[k];
    tokens.set(pt.data, seg.start * D);
    const [, w] = seg.grid;
    for (let m = 0; m < seg.length; m++) {
      rows[seg.start + m] = Math.floor(m / w);
      cols[seg.start + m] = m % w;
      imageIds[seg.start + m] = k;
    }
  });
  return { tokens, shape: [total, D], patchSize, rows, cols, imageIds, segments };
}

/**
 * Block-diagonal attention mask (L, L), 1 = may attend: token i sees token j iff they come from the same image.
 * A padding token sees only itself, so no softmax row is empty.
 */
export function packedAttentionMask(imageIds: Int32Array): Uint8Array {
  const L = imageIds.length;
  const mask = new Uint8Array(L * L);
  for (let i = 0; i < L; i++)
    for (let j = 0; j < L; j++)
      mask[i * L + j] = (imageIds[i] >= 0 && imageIds[i] === imageIds[j]) || i === j ? 1 : 0;
  return mask;
}

/** Additive form of the mask for attention scores: 0 where allowed, a large negative number (not −∞, so masked rows never produce NaN) where not. */
export function additiveMask(mask: Uint8Array, negative = -1e30): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 0 : negative;
  return out;
}

/** Per-token 2D sin-cos embeddings from each token's own position (zeros for padding), float32 (L, D). */
export function packedPosEmbed(packed: Packed, embedDim: number): Float32Array {
  const L = packed.rows.length;
  const r = Float64Array.from(packed.rows, (v) => Math.max(v, 0));
  const c = Float64Array.from(packed.cols, (v) => Math.max(v, 0));
  const e = sincos2dFromPositions(embedDim, r, c);
  const out = new Float32Array(L * embedDim);
  for (let m = 0; m < L; m++) if (packed.imageIds[m] >= 0) for (let d = 0; d < embedDim; d++) out[m * embedDim + d] = e[m * embedDim + d];
  return out;
}

/** Splits a packed per-token output (L, D') back into per-image token arrays (T_k, D'). */
export function unpackTokens(values: Float32Array, width: number, packed: Packed): Float32Array[] {
  if (values.length !== packed.rows.length * width) {
    throw new NextframeError(`unpackTokens: got ${values.length} values, expected L·D' = ${packed.rows.length}·${width}`);
  }
  return packed.segments.map((s) => values.slice(s.start * width, (s.start + s.length) * width));
}

/** Unpacks packed patch tokens (L, p·p·C) back into the images (C, H, W). */
export function unpackImages(values: Float32Array, packed: Packed, channels?: number): ImageItem[] {
  const p = packed.patchSize;
  return packed.segments.map((s) => {
    const C = channels ?? s.channels;
    const D = p * p * C;
    const part = values.slice(s.start * D, (s.start + s.length) * D);
    const img = unpatchify2d(part, [1, s.length, D], s.grid, p, C);
    return { data: img.data, shape: [C, img.shape[2], img.shape[3]] as const };
  });
}
