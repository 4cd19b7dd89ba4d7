/**
 * application/vnd.nextframe.tokens+json → a strip of tokens coloured by value. Hover or focus shows the
 * value; the strip is one tab stop and ←/→ move through tokens (a 2,000-token strip stays one tab stop).
 */
import type { TokensPayload } from "../../kernel/shared/payloads";
import { colormapLut, level, type ColorscaleName } from "../../kernel/shared/colormap";
import { el, header } from "../shared/dom";

/** Make whitespace tokens visible without changing the text they stand for. */
function visible(t: string): string {
  return t.replace(/\n/g, "↵\n").replace(/\t/g, "→");
}

export function renderTokens(p: TokensPayload, container: HTMLElement, signal: AbortSignal): HTMLElement {
  if (!Array.isArray(p.tokens) || !Array.isArray(p.values) || p.tokens.length !== p.values.length) throw new Error("tokens: malformed payload");
  const scale = (["viridis", "magma", "gray"].includes(p.colorscale ?? "") ? p.colorscale : "viridis") as ColorscaleName;
  const lut = colormapLut(scale);
  const root = el("div", { class: "nf-tokens-view" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);
  const strip = el("div", { class: "nf-tokens", attrs: { tabindex: "0", role: "listbox",
    "aria-label": `${p.tokens.length} tokens coloured by ${p.valueLabel ?? "value"}; arrow keys move` } });
  const status = el("div", { class: "nf-status", attrs: { "aria-live": "polite" } });
  const label = p.valueLabel ?? "value";
  const spans: HTMLSpanElement[] = [];
  const describe = (i: number) => {
    const v = p.values[i];
    status.textContent = `#${i} ${JSON.stringify(String(p.tokens[i]))}  ${label} = ${v === null ? "NaN" : +Number(v).toPrecision(5)}`;
  };
  p.tokens.forEach((t, i) => {
    const v = p.values[i];
    const s = el("span", { class: "nf-token", text: visible(String(t)), attrs: { role: "option", "data-index": String(i) } });
    if (v !== null && Number.isFinite(v)) {
      const lv = level(Number(v), p.vmin, p.vmax);
      const [r, g, b] = [lut[lv * 3], lut[lv * 3 + 1], lut[lv * 3 + 2]];
      s.style.backgroundColor = `rgb(${r},${g},${b})`;
      s.style.color = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000" : "#fff";
    }
    s.title = `${label}: ${v === null ? "NaN" : +Number(v).toPrecision(5)}`;
    s.addEventListener("mouseenter", () => describe(i));
    spans.push(s);
    strip.appendChild(s);
  });
  let sel = -1;
  strip.addEventListener("keydown", (e) => {
    const n = spans.length;
    if (e.key === "ArrowRight") sel = Math.min(n - 1, sel + 1);
    else if (e.key === "ArrowLeft") sel = Math.max(0, sel - 1);
    else if (e.key === "Home") sel = 0;
    else if (e.key === "End") sel = n - 1;
    else return;
    e.preventDefault();
    spans.forEach((s, i) => s.setAttribute("data-selected", i === sel ? "true" : "false"));
    spans[sel].scrollIntoView({ block: "nearest" });
    describe(sel);
  });
  root.append(strip, status);
  container.appendChild(root);
  signal.addEventListener("abort", () => root.remove());
  return root;
}
