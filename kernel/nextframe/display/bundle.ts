/**
 * Shared pieces of every display helper: the error bundle shown instead of a blank cell when the input is
 * bad, and a wrapper that turns DisplayInputError into that bundle.
 */
import type { MimeBundle } from "./display";
import { escapeHtml } from "./html";
import { DisplayInputError } from "./ndarray";
import { NextframeError } from "../engine/errors";
import { PAYLOAD_VERSION, type ErrorPayload, type NextframeMime } from "../../shared/payloads";

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

/**
 * The fallback of a picture drawn as SVG: text/html holding one <img> whose source is the SVG as a base64 data URI,
 * with the text summary as its alt text. Not a raw image/svg+xml output: nbconvert's HTML export runs raw SVG through
 * an HTML sanitizer that drops its elements (nbconvert 6.5 exported an empty box), GitHub's notebook view is reported
 * to show none, and JupyterLab renders raw SVG only for trusted outputs (its SVG renderer is marked unsafe), while its
 * HTML sanitizer keeps an <img>'s src. Inside an <img> the SVG is its own document: embedded PNGs and ids stay intact.
 */
export function svgImageHtml(svg: string, alt: string): string {
  const w = /^<svg[^>]* width="(\d+)"/.exec(svg)?.[1], h = /^<svg[^>]* height="(\d+)"/.exec(svg)?.[1];
  return `<img src="data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}"` +
    `${w ? ` width="${w}"` : ""}${h ? ` height="${h}"` : ""} style="max-width:100%;height:auto" alt="${escapeHtml(alt)}">`;
}

/** The SVG inside a fallback made by svgImageHtml (tests, tools). */
export function svgOfImageHtml(html: unknown): string {
  const m = /src="data:image\/svg\+xml;base64,([^"]+)"/.exec(String(html));
  if (!m) throw new NextframeError("svgOfImageHtml: not an SVG image fallback");
  return Buffer.from(m[1], "base64").toString("utf8");
}
