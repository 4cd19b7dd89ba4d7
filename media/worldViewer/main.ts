/**
 * World Viewer webview. A stage for frames and heatmaps sent from the kernel, and play mode: arrows/WASD and
 * Space send {command: "action"} to the extension, which forwards it to the kernel's comm target
 * "worldViewer"; the world model's next frame comes back as {command: "frame"} (with the ground-truth
 * simulator's frame beside it when the world provides one). The frame rate of arriving frames is shown.
 *
 * The kernel says whether a session is live ({command: "state"}); only a live session gets keys, and the Stop
 * button sends {command: "stop"}. The panel says how to play: which keys, and that it needs the keyboard focus.
 */
import {
  MIME, WORLD_ACTIONS, type FramesPayload, type HeatmapPayload, type ImageStack, type PanelInbound, type PanelOutbound,
  type WorldAction,
} from "../../kernel/shared/payloads";
import { loadFrames } from "../shared/decode";
import { button, el, integerScale } from "../shared/dom";
import { adoptStyles } from "../shared/styles";
import { adoptViewerStyles } from "./styles";
import { renderFrames } from "../renderer/renderFrames";
import { renderHeatmap } from "../renderer/renderHeatmap";

interface VsCodeApi {
  postMessage(m: PanelOutbound): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
adoptStyles(document);
adoptViewerStyles(document);

const KEYS: Record<string, WorldAction> = {
  ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right",
  w: "up", s: "down", a: "left", d: "right", W: "up", S: "down", A: "left", D: "right", " ": "space",
};

const app = document.getElementById("app") ?? document.body.appendChild(el("div"));
const root = el("div", { class: "nf-root nf-world", attrs: { "data-state": "waiting", "data-focus": "no" } });
const title = el("div", { class: "nf-title", text: "World Viewer" });

// ---- session state: waiting (no session yet), live (keys go to the kernel), stopping, stopped -------------------
type ViewerState = "waiting" | "live" | "stopping" | "stopped";
let state: ViewerState = "waiting";
const stateText = el("span", { class: "nf-state-text", attrs: { role: "status" } });
const stopButton = button("■ Stop", "stop the play session (the kernel stops answering keys)", () => stopSession(), "nf-btn nf-stop");
const stateBar = el("div", { class: "nf-state" }, stateText, stopButton);
const stepCounter = el("div", { class: "nf-step", attrs: { "aria-live": "off" }, text: "step –" });
const help = el("div", { class: "nf-help" });

const stats = el("div", { class: "nf-status", attrs: { "aria-live": "off" } });
const modelCanvas = el("canvas", { class: "nf-canvas", attrs: { width: "1", height: "1", role: "img", "aria-label": "model frame" } });
const truthCanvas = el("canvas", { class: "nf-canvas", attrs: { width: "1", height: "1", role: "img", "aria-label": "ground truth frame" } });
const truthCell = el("div", { class: "nf-cell" }, el("div", { class: "nf-caption", text: "ground truth" }), truthCanvas);
truthCell.style.display = "none";
const play = el("div", { class: "nf-stage nf-play", attrs: { tabindex: "0", role: "application",
  "aria-label": "Play mode: arrow keys or WASD move, Space jumps or eats, R resets" } },
  el("div", { class: "nf-grid" }, el("div", { class: "nf-cell" }, el("div", { class: "nf-caption", text: "model" }), modelCanvas), truthCell));
const errorLine = el("div", { class: "nf-error", attrs: { role: "alert" } });
errorLine.style.display = "none";
const send = (m: PanelOutbound) => vscode.postMessage(m);
const act = (a: WorldAction) => {
  if (state !== "live") return notLive();
  lastSent = performance.now();
  send({ command: "action", action: a });
};
const reset = () => (state === "live" ? send({ command: "reset" }) : notLive());
const moveButtons = [
  button("↑", "up (↑ / W)", () => act("up")), button("←", "left (← / A)", () => act("left")),
  button("↓", "down (↓ / S)", () => act("down")), button("→", "right (→ / D)", () => act("right")),
  button("space", "jump or eat (Space)", () => act("space")), button("reset", "reset the world (R)", reset),
];
const controls = el("div", { class: "nf-controls" }, ...moveButtons);
const showArea = el("div", { class: "nf-show" });
root.append(title, stateBar, help, play, stepCounter, controls, stats, errorLine, showArea);
app.appendChild(root);
play.addEventListener("click", () => play.focus());

const STATE_TEXT: Record<ViewerState, string> = {
  waiting: "waiting for a play session: run a cell that calls playWorld(world)",
  live: "● live — arrow keys move, space eats",
  stopping: "stopping…",
  stopped: "■ stopped",
};
let stateMessage = "";
function setState(s: ViewerState, message?: string) {
  state = s;
  stateMessage = message ?? "";
  root.dataset.state = s;
  stateText.textContent = s === "stopped"
    ? `${STATE_TEXT.stopped}${stateMessage ? ` ${stateMessage}` : ""} — run the play cell again to play`
    : STATE_TEXT[s];
  stopButton.disabled = s !== "live";
  for (const b of moveButtons) b.disabled = s !== "live";
  updateHelp();
}

/** What a learner needs to know to play, given where the keyboard focus is. */
function updateHelp() {
  const focused = document.hasFocus();
  root.dataset.focus = focused ? "yes" : "no";
  const keys = "← ↑ → ↓ or W A S D move · Space jumps / eats · R resets the world";
  if (state !== "live") help.textContent = `Keys: ${keys}.`;
  else if (focused) help.textContent = `Keys go to the world: ${keys}. Stop ends the session.`;
  else help.textContent = `Click the picture (or Tab to it) so that the viewer has the keyboard, then: ${keys}.`;
}
let hintTimer: ReturnType<typeof setTimeout> | undefined;
/** A key or button while no session is live: say so instead of sending nothing silently. */
function notLive() {
  help.textContent = state === "stopping" ? "stopping the session…" : state === "stopped"
    ? "This session is stopped: run the play cell again to play." : "No play session yet: run a cell that calls playWorld(world).";
  clearTimeout(hintTimer);
  hintTimer = setTimeout(updateHelp, 4000);
}
function stopSession() {
  if (state !== "live") return;
  setState("stopping");
  send({ command: "stop" });
}
window.addEventListener("focus", updateHelp);
window.addEventListener("blur", updateHelp);
document.addEventListener("focusin", updateHelp);
setState("waiting");

// ---- frame rate: frames received over the last second ------------------------------------------------
const arrivals: number[] = [];
let lastSent = 0;
let latency = 0;

async function paint(canvas: HTMLCanvasElement, s: ImageStack) {
  const f = await loadFrames(s, "worldViewer frame");
  const img = { width: f.w, height: f.h };
  if (canvas.width !== img.width || canvas.height !== img.height) {
    canvas.width = img.width; canvas.height = img.height;
  }
  f.draw(canvas.getContext("2d")!, 0);
  f.sheet.close();
  const avail = Math.max(128, Math.floor((app.clientWidth || 640) / (truthCell.style.display === "none" ? 1 : 2)) - 24);
  const k = integerScale(img.width, Math.min(avail, 640), 16);
  canvas.style.width = `${img.width * k}px`;
  canvas.style.height = `${img.height * k}px`;
}

async function onFrame(m: Extract<PanelInbound, { command: "frame" }>) {
  errorLine.style.display = "none";
  if (m.truth) truthCell.style.display = ""; else truthCell.style.display = "none";
  await Promise.all([paint(modelCanvas, m.frame), m.truth ? paint(truthCanvas, m.truth) : undefined]);
  const now = performance.now();
  // frame rate and latency count the frames that answer a key (not the first frame, a reset or a re-sent one)
  if (m.action) {
    arrivals.push(now);
    if (lastSent) latency = now - lastSent;
  }
  while (arrivals.length && arrivals[0] < now - 1000) arrivals.shift();
  if (m.title) title.textContent = m.title;
  stats.textContent = m.action ? `step ${m.step} · ${m.action} · ${arrivals.length} fps · ${latency.toFixed(0)} ms per step` : `step ${m.step}`;
  stepCounter.textContent = `step ${m.step}`;
  root.dataset.step = String(m.step);
  root.dataset.fps = String(arrivals.length);
}

let showAbort: AbortController | undefined;
async function onShow(m: Extract<PanelInbound, { command: "show" }>) {
  showAbort?.abort();
  showAbort = new AbortController();
  showArea.replaceChildren();
  const host = el("div", { class: "nf-root" });
  showArea.appendChild(host);
  if (m.mime === MIME.frames) await renderFrames(m.payload as FramesPayload, host, showAbort.signal);
  else if (m.mime === MIME.heatmap) await renderHeatmap(m.payload as HeatmapPayload, host, showAbort.signal);
  else throw new Error(`the World Viewer stage shows frames and heatmaps, not ${m.mime}`);
}

/** Validate what arrives (only the extension posts here, but a webview trusts nothing). Frames paint in order. */
let painting: Promise<void> = Promise.resolve();
function onMessage(data: unknown) {
  painting = painting.then(() => handle(data));
}
async function handle(data: unknown) {
  if (typeof data !== "object" || data === null) return;
  const m = data as PanelInbound;
  try {
    if (m.command === "frame" && typeof m.frame === "object" && Number.isInteger(m.step)) await onFrame(m);
    else if (m.command === "show" && typeof m.mime === "string") await onShow(m);
    else if (m.command === "state" && (m.state === "live" || m.state === "stopped")) {
      if (m.title) title.textContent = m.title;
      if (m.state === "live") errorLine.style.display = "none";
      setState(m.state, m.message);
    }
    else if (m.command === "error" && typeof m.message === "string") {
      errorLine.textContent = m.message;
      errorLine.style.display = "";
    }
  } catch (e) {
    errorLine.textContent = e instanceof Error ? e.message : String(e);
    errorLine.style.display = "";
  }
}

window.addEventListener("message", (e: MessageEvent) => onMessage(e.data));
const keyTarget = (e: KeyboardEvent) => !(e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement ||
  e.target instanceof HTMLTextAreaElement || (e.target instanceof HTMLElement && e.target.closest(".nf-show")));
window.addEventListener("keydown", (e) => {
  if (!keyTarget(e) || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.target instanceof HTMLButtonElement && (e.key === " " || e.key === "Enter")) return; // let buttons click
  const a = KEYS[e.key];
  if (a && (WORLD_ACTIONS as readonly string[]).includes(a)) { act(a); e.preventDefault(); }
  else if (e.key === "r" || e.key === "R") { reset(); e.preventDefault(); }
});
send({ command: "ready" });
