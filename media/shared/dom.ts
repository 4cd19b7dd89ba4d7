/**
 * Small DOM helpers for the renderer and the World Viewer. User strings (titles, tokens, captions, labels)
 * only ever reach the DOM through textContent or setAttribute — never innerHTML — so a caption like
 * `<img src=x onerror=alert(1)>` shows as text.
 */

export interface ElOptions {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, o: ElOptions = {}, ...children: (Node | null | undefined)[]):
  HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (o.class) e.className = o.class;
  if (o.text !== undefined) e.textContent = o.text;
  if (o.title !== undefined) e.title = o.title;
  for (const [k, v] of Object.entries(o.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

export function button(label: string, title: string, onClick: () => void, cls = "nf-btn"): HTMLButtonElement {
  const b = el("button", { class: cls, text: label, title, attrs: { type: "button", "aria-label": title } });
  b.addEventListener("click", onClick);
  return b;
}

/** A <select> of labelled values. */
export function select<T extends string | number>(label: string, options: { value: T; label: string }[], value: T,
  onChange: (v: T) => void): HTMLLabelElement {
  const s = el("select", { class: "nf-select", attrs: { "aria-label": label } });
  options.forEach((o, i) => {
    const opt = el("option", { text: o.label, attrs: { value: String(i) } });
    if (o.value === value) opt.selected = true;
    s.appendChild(opt);
  });
  s.addEventListener("change", () => onChange(options[Number(s.value)].value));
  return el("label", { class: "nf-field" }, el("span", { text: label + " " }), s);
}

/** Title line + notes ("downsampled …") above a view. */
export function header(title: string | undefined, notes: string[] | undefined): HTMLElement | null {
  if (!title && !notes?.length) return null;
  const h = el("div", { class: "nf-header" });
  if (title) h.appendChild(el("div", { class: "nf-title", text: title }));
  for (const n of notes ?? []) h.appendChild(el("div", { class: "nf-note", text: "note: " + n }));
  return h;
}

/** A theme colour (CSS variable) resolved to a concrete colour string, for canvas/plotly drawing. */
export function themeColor(ref: Element, cssVar: string, fallback: string): string {
  const v = getComputedStyle(ref).getPropertyValue(cssVar).trim();
  return v || fallback;
}

/** Call `fn` when VS Code changes the theme (body class / root style variables change). */
export function onThemeChange(fn: () => void, signal?: AbortSignal): void {
  const mo = new MutationObserver(() => fn());
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ["style", "class"] });
  if (document.body) mo.observe(document.body, { attributes: true, attributeFilter: ["style", "class"] });
  signal?.addEventListener("abort", () => mo.disconnect());
}

/** Largest integer upscale of (w, h) that fits `maxW` (at least 1; downscale by CSS when even 1× is too wide). */
export function integerScale(w: number, maxW: number, cap = 8): number {
  return Math.max(1, Math.min(cap, Math.floor(maxW / w)));
}
