/**
 * Shared pieces of every display helper: the error bundle shown instead of a blank cell when the input is
 * bad, and a wrapper that turns DisplayInputError into that bundle.
 */
import type { MimeBundle } from "./display";
import { DisplayInputError } from "./ndarray";
import { PAYLOAD_VERSION, type ErrorPayload, type NextframeMime } from "./payloads";

/** A bundle that renders as a clear message (rich view and text/plain say the same). */
export function errorBundle(mime: NextframeMime, message: string): MimeBundle {
  const payload: ErrorPayload = { version: PAYLOAD_VERSION, error: message };
  return { [mime]: payload, "text/plain": message };
}

/** Run a bundle builder; bad input becomes an error bundle, anything else is a real bug and propagates. */
export async function guarded(mime: NextframeMime, build: () => Promise<MimeBundle> | MimeBundle): Promise<MimeBundle> {
  try {
    return await build();
  } catch (e) {
    if (e instanceof DisplayInputError) return errorBundle(mime, e.message);
    throw e;
  }
}

/** Display-side limits; big inputs are downsampled with a note rather than freezing the editor. */
export const LIMITS = {
  /** longest frame side kept at full resolution */
  frameSide: 512,
  /** bytes of uint8 frame data per output (64×256×256×3 = 12.6 MB fits) */
  frameBytes: 32 * 1024 * 1024,
  /** frames per video */
  frames: 4096,
  /** largest Q or K of one heatmap map */
  heatmapSide: 1024,
  /** total heatmap values per output (12×6×256×256 = 4.7 M fits) */
  heatmapValues: 8 * 1024 * 1024,
  /** heatmaps up to this many values keep 16-bit precision for hover values */
  heatmap16: 1024 * 1024,
  tokens: 20000,
  tableRows: 5000,
  chartPoints: 20000,
} as const;

/** "64×64" style */
export const dims = (...d: number[]) => d.join("×");
