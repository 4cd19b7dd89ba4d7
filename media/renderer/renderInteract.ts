/**
 * application/vnd.nextframe.interact+json: sliders and choice lists above the output of fn(values). Moving a
 * control posts `{ type: "interact", target, values }` through VS Code's renderer messaging; the extension
 * forwards it to the kernel, which re-runs fn and updates this output in place. A re-render of the same output
 * keeps the controls as the user left them (a slider being dragged is not rebuilt) and replaces only the output.
 * HTML from fn is rebuilt from an allow-list of elements and attributes, never assigned as innerHTML.
 */
import type { InteractControl, InteractMessage, InteractPayload, InteractValues } from "../../kernel/shared/payloads";
import { el, select } from "../shared/dom";

export interface InteractContext {
  /** VS Code's renderer messaging; undefined where the renderer cannot message the extension */
  post?: (m: InteractMessage) => void;
  /** Draw a nextframe view (frames, chart, …) into `host`; false when `mime` is not one. */
  renderView(mime: string, payload: unknown, host: HTMLElement, signal: AbortSignal): false | Promise<unknown>;
}

interface State { target: string; values: InteractValues; inner?: AbortController; status: HTMLElement; output: HTMLElement }
const states = new WeakMap<HTMLElement, State>();

const ALLOWED_TAGS = new Set(["p", "div", "span", "b", "i", "em", "strong", "code", "pre", "br", "ul", "ol", "li", "h1", "h2",
  "h3", "h4", "table", "thead", "tbody", "tr", "td", "th", "img", "sub", "sup", "small"]);
const ALLOWED_ATTRS = new Set(["alt", "width", "height", "colspan", "rowspan", "title"]);

/** `html` rebuilt from allowed elements and attributes (images only from data: URIs); the rest becomes its text. */
function safeHtml(html: string): DocumentFragment {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const out = document.createDocumentFragment();
  const copy = (n: Node, into: Node) => {
    if (n.nodeType === Node.TEXT_NODE) {
      into.appendChild(document.createTextNode(n.textContent ?? ""));
      return;
    }
    if (n.nodeType !== Node.ELEMENT_NODE) return;
    const e = n as Element;
    const tag = e.tagName.toLowerCase();
    if (tag === "script" || tag === "style") return;
    if (!ALLOWED_TAGS.has(tag)) {
      e.childNodes.forEach((c) => copy(c, into));
      return;
    }
    const attrs: Record<string, string> = {};
    for (const a of Array.from(e.attributes)) if (ALLOWED_ATTRS.has(a.name)) attrs[a.name] = a.value;
    const src = e.getAttribute("src");
    if (tag === "img") {
      if (!src || !/^data:image\/(png|svg\+xml|jpeg|gif);base64,/.test(src)) return;
      attrs.src = src;
    }
    const c = el(tag as keyof HTMLElementTagNameMap, { attrs });
    e.childNodes.forEach((k) => copy(k, c));
    into.appendChild(c);
  };
  doc.body.childNodes.forEach((c) => copy(c, out));
  return out;
}

function base64Utf8(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

async function renderOutput(p: InteractPayload, host: HTMLElement, signal: AbortSignal, ctx: InteractContext): Promise<void> {
  if (p.fnError !== undefined) {
    host.appendChild(el("div", { class: "nf-error", text: String(p.output.data), attrs: { role: "alert" } }));
    return;
  }
  const { mime, data } = p.output;
  const view = ctx.renderView(mime, data, host, signal);
  if (view !== false) {
    await view;
    return;
  }
  const image = (src: string) => host.appendChild(el("img", { class: "nf-interact-image", attrs: { src, alt: "" } }));
  if (mime === "image/png") image(`data:image/png;base64,${String(data)}`);
  else if (mime === "image/svg+xml") image(`data:image/svg+xml;base64,${base64Utf8(String(data))}`);
  else if (mime === "text/html") host.appendChild(safeHtml(String(data)));
  else host.appendChild(el("pre", { class: "nf-interact-text", text: String(data) }));
}

function control(c: InteractControl, value: string | number, disabled: boolean, onChange: (v: string | number) => void): HTMLElement {
  if (c.kind === "choice") {
    const field = select(c.label, c.options.map((o) => ({ value: o, label: String(o) })), value, onChange);
    field.querySelector("select")!.disabled = disabled;
    field.dataset.name = c.name;
    return field;
  }
  const input = el("input", {
    class: "nf-slider",
    attrs: { type: "range", min: String(c.min), max: String(c.max), step: String(c.step), value: String(value), "aria-label": c.label },
  });
  input.value = String(value);
  input.disabled = disabled;
  const readout = el("span", { class: "nf-slider-value", text: String(value) });
  input.addEventListener("input", () => {
    readout.textContent = input.value;
    onChange(Number(input.value));
  });
  const field = el("label", { class: "nf-field" }, el("span", { text: c.label + " " }), input, readout);
  field.dataset.name = c.name;
  return field;
}

export async function renderInteract(p: InteractPayload, root: HTMLElement, signal: AbortSignal, ctx: InteractContext): Promise<void> {
  let s = states.get(root);
  if (!s || s.target !== p.target || !root.contains(s.output)) {
    const post = ctx.post;
    const values: InteractValues = { ...p.values };
    const status = el("span", { class: "nf-note nf-interact-status" });
    const controls = el("div", { class: "nf-interact-controls" });
    for (const c of p.controls) {
      controls.appendChild(control(c, values[c.name] ?? c.value, !post, (v) => {
        values[c.name] = v;
        status.textContent = "running…";
        root.querySelector(".nf-interact")?.setAttribute("data-pending", "true");
        post?.({ type: "interact", target: p.target, values: { ...values } });
      }));
    }
    if (!post) status.textContent = "the controls need VS Code with the nextframe kernel; this output shows the defaults";
    controls.appendChild(status);
    const output = el("div", { class: "nf-interact-output" });
    root.replaceChildren(el("div", { class: "nf-interact", attrs: { "data-target": p.target } }, controls, output));
    s = { target: p.target, values, status, output };
    states.set(root, s);
  }
  // the controls stay as they are (the user may be dragging); only the output is replaced
  s.inner?.abort();
  const inner = new AbortController();
  signal.addEventListener("abort", () => inner.abort());
  s.inner = inner;
  const host = el("div");
  s.output.replaceChildren(host);
  const same = p.controls.every((c) => s!.values[c.name] === p.values[c.name]);
  if (same && ctx.post) {
    s.status.textContent = "";
    root.querySelector(".nf-interact")?.removeAttribute("data-pending");
  }
  await renderOutput(p, host, inner.signal, ctx);
}
