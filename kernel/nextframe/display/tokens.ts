/**
 * Token strips: `showTokens(tokens, values, {title})` colours each token by a value — per-token loss,
 * attention from a chosen token, a probe's score. Fallback: text/html with inline colours (every token
 * escaped), so the strip also shows on GitHub and in JupyterLab.
 */
import { display, type DisplayHandle, type MimeBundle } from "./display";
import { guarded, LIMITS } from "./bundle";
import { colormapLut, level, type ColorscaleName } from "../../shared/colormap";
import { escapeHtml } from "./html";
import { DisplayInputError, toNdArray } from "./ndarray";
import { MIME, PAYLOAD_VERSION, type TokensPayload } from "../../shared/payloads";

/** Options of showTokens: title, the label of the per-token values, colour scale and range. */
export interface TokensOptions {
  title?: string;
  /** what the value means, shown on hover ("loss", "attention from 'cat'") */
  valueLabel?: string;
  colorscale?: ColorscaleName;
  range?: [number, number];
}

export function tokensBundle(tokens: unknown, values: unknown, opts: TokensOptions = {}): Promise<MimeBundle> {
  return guarded(MIME.tokens, async () => {
    if (!Array.isArray(tokens)) throw new DisplayInputError(`showTokens: tokens must be an array of strings, got ${typeof tokens}`);
    const toks = tokens.map((t) => String(t));
    const nd = await toNdArray(values, "showTokens values");
    if (nd.data.length !== toks.length) {
      throw new DisplayInputError(`showTokens: ${toks.length} tokens but ${nd.data.length} values (shape [${nd.shape.join(", ")}])`);
    }
    const notes: string[] = [];
    let n = toks.length;
    if (n > LIMITS.tokens) { notes.push(`showing the first ${LIMITS.tokens} of ${n} tokens`); n = LIMITS.tokens; }
    const vals: (number | null)[] = [];
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = Number(nd.data[i]);
      if (Number.isFinite(v)) { vals.push(v); lo = Math.min(lo, v); hi = Math.max(hi, v); } else vals.push(null);
    }
    if (vals.some((v) => v === null)) notes.push(`${vals.filter((v) => v === null).length} NaN/Infinity values shown uncoloured`);
    const [vmin, vmax] = opts.range ?? (Number.isFinite(lo) ? [lo, hi] : [0, 1]);
    const colorscale = opts.colorscale ?? "viridis";
    const payload: TokensPayload = {
      version: PAYLOAD_VERSION, tokens: toks.slice(0, n), values: vals, vmin, vmax, colorscale,
      ...(opts.title !== undefined ? { title: String(opts.title) } : {}),
      ...(opts.valueLabel !== undefined ? { valueLabel: String(opts.valueLabel) } : {}),
      ...(notes.length ? { notes } : {}),
    };
    const lut = colormapLut(colorscale);
    const spans = payload.tokens.map((t, i) => {
      const v = vals[i];
      if (v === null) return `<span style="padding:1px 2px;margin-right:2px">${escapeHtml(t)}</span>`;
      const lv = level(v, vmin, vmax);
      const fg = lv > 150 ? "#000" : "#fff";
      return `<span title="${escapeHtml(String(v))}" style="background:rgb(${lut[lv * 3]},${lut[lv * 3 + 1]},${lut[lv * 3 + 2]});` +
        `color:${fg};padding:1px 2px;margin-right:2px;white-space:pre">${escapeHtml(t)}</span>`;
    }).join("");
    const html = `<div>${opts.title ? `<div><b>${escapeHtml(String(opts.title))}</b></div>` : ""}` +
      `<div style="font-family:monospace;line-height:1.8">${spans}</div></div>`;
    const text = `${opts.title ? opts.title + ": " : ""}` +
      payload.tokens.slice(0, 200).map((t, i) => `${JSON.stringify(t)}=${vals[i] === null ? "NaN" : +vals[i]!.toPrecision(3)}`).join(" ") +
      (n > 200 ? ` … (${n} tokens)` : "");
    return { [MIME.tokens]: payload, "text/html": html, "text/plain": text };
  });
}

/** Show tokens coloured by a value (one value per token). */
export async function showTokens(tokens: unknown[], values: unknown, opts: TokensOptions = {}): Promise<DisplayHandle> {
  return display.bundle(await tokensBundle(tokens, values, opts));
}
