/**
 * application/vnd.nextframe.patches+json → the image with its patch grid and an attention overlay. With
 * patch-to-patch attention, clicking a patch (or moving with the arrow keys) shows the attention from it.
 */
import type { PatchesPayload } from "../../kernel/shared/payloads";
import { colormapLut } from "../../kernel/shared/colormap";
import { b64ToBytes, loadFrames } from "../shared/decode";
import { el, header, integerScale, themeColor, onThemeChange } from "../shared/dom";

export async function renderPatches(p: PatchesPayload, container: HTMLElement, signal: AbortSignal): Promise<HTMLElement> {
  const frames = await loadFrames(p.image, "patches.image");
  const img = { width: frames.w, height: frames.h };
  const [ph, pw] = p.patch, [gh, gw] = p.grid;
  if (!(gh * ph === img.height && gw * pw === img.width)) throw new Error("patches: grid × patch does not match the image size");
  const att = p.attention ? b64ToBytes(p.attention.levels) : undefined;
  const n = gh * gw;
  if (p.attention && att!.length !== p.attention.queries * n) throw new Error("patches: attention size does not match the grid");
  const lut = colormapLut("viridis");
  let query = p.attention?.queryIndex ?? 0;

  const root = el("div", { class: "nf-patches" });
  const h = header(p.title, p.notes);
  if (h) root.appendChild(h);
  const avail = container.clientWidth > 0 ? container.clientWidth : 640;
  const s = integerScale(img.width, Math.min(avail - 12, 512), 32);
  const canvas = el("canvas", { class: "nf-canvas", attrs: { width: String(img.width * s), height: String(img.height * s),
    tabindex: "0", role: "img", "aria-label": `image ${img.height}×${img.width} in ${gh}×${gw} patches of ${ph}×${pw}` +
    (p.attention && p.attention.queries > 1 ? "; arrow keys choose the query patch" : "") } });
  const status = el("div", { class: "nf-status", attrs: { "aria-live": "polite" } });
  const stage = el("div", { class: "nf-stage" }, canvas);
  root.append(stage, status);
  container.appendChild(root);

  const ctx = canvas.getContext("2d")!;
  const base = document.createElement("canvas");
  base.width = img.width; base.height = img.height;
  frames.draw(base.getContext("2d")!, 0);
  const val = (q: number, i: number) => p.attention!.vmin + (att![q * n + i] / 255) * (p.attention!.vmax - p.attention!.vmin);

  const draw = () => {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(base, 0, 0, canvas.width, canvas.height);
    if (p.attention) {
      const row = p.attention.queries === 1 ? 0 : query;
      ctx.globalAlpha = 0.55;
      for (let i = 0; i < n; i++) {
        const lv = att![row * n + i] * 3;
        ctx.fillStyle = `rgb(${lut[lv]},${lut[lv + 1]},${lut[lv + 2]})`;
        ctx.fillRect((i % gw) * pw * s, Math.floor(i / gw) * ph * s, pw * s, ph * s);
      }
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = themeColor(root, "--vscode-editorWidget-border", "rgba(200,200,200,0.8)");
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = 0; x <= gw; x++) { ctx.moveTo(x * pw * s + 0.5, 0); ctx.lineTo(x * pw * s + 0.5, canvas.height); }
    for (let y = 0; y <= gh; y++) { ctx.moveTo(0, y * ph * s + 0.5); ctx.lineTo(canvas.width, y * ph * s + 0.5); }
    ctx.stroke();
    if (p.attention && p.attention.queries > 1) {
      ctx.strokeStyle = themeColor(root, "--vscode-focusBorder", "#f00");
      ctx.lineWidth = 2;
      ctx.strokeRect((query % gw) * pw * s + 1, Math.floor(query / gw) * ph * s + 1, pw * s - 2, ph * s - 2);
      status.textContent = `query patch ${query} (row ${Math.floor(query / gw)}, col ${query % gw})`;
    }
    root.dataset.query = String(query);
  };
  const patchAt = (e: MouseEvent) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * gw), y = Math.floor(((e.clientY - r.top) / r.height) * gh);
    return Math.max(0, Math.min(gh - 1, y)) * gw + Math.max(0, Math.min(gw - 1, x));
  };
  canvas.addEventListener("mousemove", (e) => {
    const i = patchAt(e);
    status.textContent = `patch ${i} (row ${Math.floor(i / gw)}, col ${i % gw})` +
      (p.attention ? `: attention ${+val(p.attention.queries === 1 ? 0 : query, i).toPrecision(4)}` + (p.attention.queries > 1 ? ` from patch ${query}` : "") : "");
  });
  canvas.addEventListener("click", (e) => {
    if (p.attention && p.attention.queries > 1) { query = patchAt(e); draw(); }
  });
  canvas.addEventListener("keydown", (e) => {
    if (!p.attention || p.attention.queries === 1) return;
    const r = Math.floor(query / gw), c = query % gw;
    const moves: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    query = Math.max(0, Math.min(gh - 1, r + m[0])) * gw + Math.max(0, Math.min(gw - 1, c + m[1]));
    draw();
  });
  draw();
  onThemeChange(draw, signal);
  signal.addEventListener("abort", () => root.remove());
  return root;
}
