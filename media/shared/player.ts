/**
 * The frame player: one or more videos side by side on a single clock (synced), with play/pause, step,
 * scrub, speed and loop; nearest-neighbour upscaling (image-rendering: pixelated) so 32×32 frames stay
 * crisp. Keyboard: Space/K play-pause, ←/→ step, Home/End first/last frame.
 *
 * Light by design: each video is one natively decoded sheet; a frame is one drawImage of a sub-rectangle,
 * done only when the frame index changes, the loop runs
 * only while playing, and a player scrolled out of view stops drawing (IntersectionObserver).
 */
import type { Frames } from "./decode";
import { button, el, integerScale, select } from "./dom";

export interface PlayerVideo {
  title?: string;
  frames: Frames;
}

export interface PlayerOptions {
  fps: number;
  loop: boolean;
  /** CSS pixels available (defaults to the container's width) */
  width?: number;
  autoplay?: boolean;
  /**
   * One row per video: its title as the row label at the left, the synced player, then a strip of its frames
   * (every frame when they fit, else evenly spaced ones) numbered as the counter numbers them; the frame on screen is
   * outlined in the strips, and clicking a strip frame goes to it.
   */
  rows?: boolean;
}

/** Evenly spaced indices of n of t frames, first and last included (the kernel's contact sheet uses the same rule). */
export function stripIndices(t: number, n: number): number[] {
  const k = Math.min(t, n);
  if (k <= 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (t - 1)) / (k - 1)));
}

const SPEEDS = [0.25, 0.5, 1, 2, 4];

export class FramePlayer {
  readonly root: HTMLElement;
  readonly length: number;
  t = 0;
  playing = false;
  speed = 1;
  loop: boolean;
  /** frames drawn since creation (benchmarks read it) */
  drawn = 0;
  private readonly _canvases: HTMLCanvasElement[] = [];
  private readonly _ctxs: CanvasRenderingContext2D[] = [];
  private _raf = 0;
  private _last = 0;
  private _acc = 0;
  private _visible = true;
  private readonly _playBtn: HTMLButtonElement;
  private readonly _scrub: HTMLInputElement;
  private readonly _counter: HTMLElement;
  private readonly _disposers: (() => void)[] = [];
  private readonly _grid: HTMLElement;
  /** rows mode: per video, its strip's container and cells (canvas + frame index) */
  private readonly _strips: { el: HTMLElement; cells: { i: number; box: HTMLElement }[] }[] = [];
  private readonly _labels: HTMLElement[] = [];

  constructor(container: HTMLElement, readonly videos: PlayerVideo[], readonly opts: PlayerOptions) {
    this.length = Math.max(...videos.map((v) => v.frames.count));
    this.loop = opts.loop;
    const grid = el("div", { class: opts.rows ? "nf-grid nf-rows" : "nf-grid" });
    this._grid = grid;
    for (const v of videos) {
      const f0 = v.frames;
      const c = el("canvas", { class: "nf-canvas", attrs: { width: String(f0.w), height: String(f0.h), role: "img",
        "aria-label": (v.title ? v.title + ": " : "") + `video ${f0.w}×${f0.h}, ${f0.count} frames` } });
      this._canvases.push(c);
      this._ctxs.push(c.getContext("2d")!);
      if (opts.rows) {
        const label = el("div", { class: "nf-row-label", text: v.title ?? "", title: v.title ?? "" });
        this._labels.push(label);
        const strip = el("div", { class: "nf-strip", attrs: { role: "group", "aria-label": `${v.title ? v.title + ": " : ""}frames` } });
        this._strips.push({ el: strip, cells: [] });
        grid.append(label, c, strip);
        continue;
      }
      const cell = el("div", { class: "nf-cell" });
      if (v.title !== undefined) cell.appendChild(el("div", { class: "nf-caption", text: v.title, title: v.title }));
      cell.appendChild(c);
      grid.appendChild(cell);
    }
    this._playBtn = button("▶", "Play (Space)", () => this.toggle());
    this._playBtn.setAttribute("aria-pressed", "false");
    this._scrub = el("input", { class: "nf-scrub", attrs: { type: "range", min: "0", max: String(this.length - 1), value: "0",
      step: "1", "aria-label": "Frame" } });
    this._scrub.addEventListener("input", () => { this.pause(); this.seek(Number(this._scrub.value)); });
    this._counter = el("span", { class: "nf-counter", attrs: { "aria-live": "off" } });
    const loopBox = el("input", { attrs: { type: "checkbox", "aria-label": "Loop" } });
    loopBox.checked = this.loop;
    loopBox.addEventListener("change", () => { this.loop = loopBox.checked; });
    const controls = el("div", { class: "nf-controls" },
      this._playBtn,
      button("◀|", "Previous frame (←)", () => { this.pause(); this.seek(this.t - 1); }),
      button("|▶", "Next frame (→)", () => { this.pause(); this.seek(this.t + 1); }),
      this._scrub, this._counter,
      select("speed", SPEEDS.map((s) => ({ value: s, label: `${s}×` })), 1, (s) => { this.speed = s; }),
      el("label", { class: "nf-field" }, loopBox, el("span", { text: "loop" })),
      el("span", { class: "nf-note", text: `${opts.fps} fps` }));
    this.root = el("div", { class: "nf-player", attrs: { tabindex: "0", role: "group",
      "aria-label": "Frame player: Space plays or pauses, arrow keys step" } }, grid, controls);
    this.root.addEventListener("keydown", (e) => this._key(e));
    container.appendChild(this.root);
    this.layout(opts.width ?? container.clientWidth);
    if (typeof ResizeObserver !== "undefined" && opts.width === undefined) {
      const ro = new ResizeObserver(() => this.layout(container.clientWidth));
      ro.observe(container);
      this._disposers.push(() => ro.disconnect());
    }
    if (typeof IntersectionObserver !== "undefined") {
      const io = new IntersectionObserver((es) => { this._visible = es.some((e) => e.isIntersecting); if (this._visible) this.draw(); });
      io.observe(this.root);
      this._disposers.push(() => io.disconnect());
    }
    this.draw();
    if (opts.autoplay) this.play();
  }

  /** Size canvases to the available width with an integer nearest-neighbour factor. */
  layout(available: number): void {
    const avail = available > 0 ? available : 640;
    if (this.opts.rows) { this._layoutRows(avail); return; }
    const per = Math.max(64, Math.floor((avail - 6 * (this.videos.length - 1)) / this.videos.length) - 8);
    this._canvases.forEach((c) => {
      const s = integerScale(c.width, Math.min(per, 512));
      const w = c.width * s <= per ? c.width * s : per;
      c.style.width = `${w}px`;
      c.style.height = `${Math.round((w * c.height) / c.width)}px`;
    });
  }

  /**
   * Rows: label column as wide as the widest label (at most 200 px), the player 4× a 32 px frame (at most 160 px),
   * then as many strip frames as fit at 2×, all of them when possible.
   */
  private _layoutRows(avail: number): void {
    const natural = this._labels.map((l) => {
      l.style.width = "max-content";
      const w = Math.ceil(l.getBoundingClientRect().width);
      l.style.width = "";
      return w;
    });
    const labelW = Math.min(200, Math.max(0, ...natural) + 2);
    this._grid.style.gridTemplateColumns = `${labelW}px max-content 1fr`;
    const fw = Math.max(...this.videos.map((v) => v.frames.w)), T = Math.max(...this.videos.map((v) => v.frames.count));
    const ps = integerScale(fw, 112), pw = fw * ps;
    this._canvases.forEach((c) => { c.style.width = `${c.width * ps}px`; c.style.height = `${c.height * ps}px`; });
    const room = avail - labelW - pw - 2 * 8 - 24;
    // strip frames about 64 px; smaller (not under 40 px) when that lets every frame show
    let ss = integerScale(fw, 64);
    while (ss > 1 && T * (fw * ss + 6) > room && fw * (ss - 1) >= 40) ss--;
    const fit = Math.max(0, Math.floor(room / (fw * ss + 6)));
    this.videos.forEach((v, r) => {
      const strip = this._strips[r];
      const idx = fit >= 2 ? stripIndices(v.frames.count, fit) : [];
      if (strip.cells.map((c) => c.i).join() === idx.join()) return;
      strip.el.replaceChildren();
      strip.cells = idx.map((i) => {
        const c = el("canvas", { class: "nf-canvas", attrs: { width: String(v.frames.w), height: String(v.frames.h), "aria-hidden": "true" } });
        c.style.width = `${v.frames.w * ss}px`;
        c.style.height = `${v.frames.h * ss}px`;
        v.frames.draw(c.getContext("2d")!, i);
        const box = el("div", { class: "nf-strip-cell", title: `frame ${i + 1}: click to show it`, attrs: { "data-index": String(i) } },
          el("span", { class: "nf-strip-index", text: String(i + 1) }), c);
        box.addEventListener("click", () => { this.pause(); this.seek(i); });
        strip.el.appendChild(box);
        return { i, box };
      });
    });
    this._markStrips();
  }

  private _markStrips(): void {
    for (const s of this._strips) for (const c of s.cells) c.box.dataset.current = c.i === this.t ? "true" : "false";
  }

  draw(): void {
    this.videos.forEach((v, i) => v.frames.draw(this._ctxs[i], Math.min(this.t, v.frames.count - 1)));
    if (this._strips.length) this._markStrips();
    this.drawn++;
    this._scrub.value = String(this.t);
    this._counter.textContent = `${this.t + 1} / ${this.length}`;
    this.root.dataset.frame = String(this.t);
  }

  seek(t: number): void {
    const n = this.length;
    const nt = this.loop ? ((t % n) + n) % n : Math.max(0, Math.min(n - 1, t));
    if (nt === this.t) return;
    this.t = nt;
    if (this._visible) this.draw();
  }

  play(): void {
    if (this.playing || this.length < 2) return;
    if (!this.loop && this.t === this.length - 1) this.seek(0);
    this.playing = true;
    this._playBtn.textContent = "⏸";
    this._playBtn.title = "Pause (Space)";
    this._playBtn.setAttribute("aria-label", "Pause (Space)");
    this._playBtn.setAttribute("aria-pressed", "true");
    this.root.dataset.playing = "true";
    this._last = performance.now();
    this._acc = 0;
    this._raf = requestAnimationFrame(this._tick);
  }

  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this._raf);
    this._playBtn.textContent = "▶";
    this._playBtn.title = "Play (Space)";
    this._playBtn.setAttribute("aria-label", "Play (Space)");
    this._playBtn.setAttribute("aria-pressed", "false");
    this.root.dataset.playing = "false";
  }

  toggle(): void {
    if (this.playing) this.pause(); else this.play();
  }

  private _tick = (now: number): void => {
    if (!this.playing) return;
    this._acc += ((now - this._last) * this.opts.fps * this.speed) / 1000;
    this._last = now;
    if (this._acc >= 1) {
      const steps = Math.floor(this._acc);
      this._acc -= steps;
      if (!this.loop && this.t + steps >= this.length - 1) {
        this.seek(this.length - 1);
        this.pause();
        return;
      }
      this.seek(this.t + steps);
    }
    this._raf = requestAnimationFrame(this._tick);
  };

  private _key(e: KeyboardEvent): void {
    if (e.target instanceof HTMLButtonElement || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const k = e.key;
    if (k === " " || k === "k") this.toggle();
    else if (k === "ArrowLeft") { this.pause(); this.seek(this.t - 1); }
    else if (k === "ArrowRight") { this.pause(); this.seek(this.t + 1); }
    else if (k === "Home") { this.pause(); this.seek(0); }
    else if (k === "End") { this.pause(); this.seek(this.length - 1); }
    else return;
    e.preventDefault();
  }

  dispose(): void {
    this.pause();
    this._disposers.forEach((d) => d());
    this.root.remove();
  }
}
