/**
 * Validation of World Viewer messages crossing the webview boundary, and where the panel goes (pure: no vscode
 * import, so it is unit tested). The webview may only send the commands in PANEL_COMMANDS; anything else,
 * anything oversized, or an unknown action is dropped with a reason. A later control (a parameter slider, say)
 * adds one entry to PANEL_COMMANDS and one case to toKernelMessage.
 */
import { WORLD_ACTIONS, type PanelOutbound, type WorldAction, type WorldViewerToKernel, type WorldViewerToPanel } from "../../kernel/shared/payloads";

/** Webview → extension messages are tiny; anything bigger is not ours. */
export const MAX_PANEL_MESSAGE_BYTES = 1024;
/** Kernel → webview messages carry PNG frames; cap them so a runaway cell cannot flood the panel. */
export const MAX_KERNEL_MESSAGE_BYTES = 32 * 1024 * 1024;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

type Rest = Record<string, unknown>;
/** Each command the webview may send: its fields checked, the message rebuilt from known fields only. */
const PANEL_COMMANDS: Record<PanelOutbound["command"], (m: Rest) => Parsed<PanelOutbound>> = {
  ready: () => ({ ok: true, value: { command: "ready" } }),
  reset: () => ({ ok: true, value: { command: "reset" } }),
  stop: () => ({ ok: true, value: { command: "stop" } }),
  action: (m) => {
    const a = m.action;
    if (typeof a === "string" && (WORLD_ACTIONS as readonly string[]).includes(a)) return { ok: true, value: { command: "action", action: a as WorldAction } };
    return { ok: false, reason: `unknown action ${JSON.stringify(a)}` };
  },
};

export function parsePanelMessage(m: unknown): Parsed<PanelOutbound> {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { ok: false, reason: `expected an object, got ${m === null ? "null" : typeof m}` };
  let size: number;
  try { size = JSON.stringify(m).length; } catch { return { ok: false, reason: "message is not JSON" }; }
  if (size > MAX_PANEL_MESSAGE_BYTES) return { ok: false, reason: `message is ${size} bytes, limit ${MAX_PANEL_MESSAGE_BYTES}` };
  const { command } = m as { command?: unknown };
  const parse = typeof command === "string" && Object.hasOwn(PANEL_COMMANDS, command) ? PANEL_COMMANDS[command as PanelOutbound["command"]] : undefined;
  return parse ? parse(m as Rest) : { ok: false, reason: `unknown command ${JSON.stringify(command)}` };
}

/** What the extension sends to the kernel's comm target for a panel message ("ready" asks for the session: "sync"). */
export function toKernelMessage(m: PanelOutbound): WorldViewerToKernel {
  switch (m.command) {
    case "action": return { type: "action", action: m.action };
    case "reset": return { type: "reset" };
    case "stop": return { type: "stop" };
    case "ready": return { type: "sync" };
  }
}

/** Check a kernel comm message before it reaches the webview. */
export function parseKernelMessage(m: unknown): Parsed<WorldViewerToPanel> {
  if (typeof m !== "object" || m === null) return { ok: false, reason: "expected an object" };
  const t = (m as { type?: unknown }).type;
  if (t !== "frame" && t !== "show" && t !== "error" && t !== "state") return { ok: false, reason: `unknown type ${JSON.stringify(t)}` };
  let size: number;
  try { size = JSON.stringify(m).length; } catch { return { ok: false, reason: "message is not JSON" }; }
  if (size > MAX_KERNEL_MESSAGE_BYTES) return { ok: false, reason: `message is ${size} bytes, limit ${MAX_KERNEL_MESSAGE_BYTES}` };
  if (t === "frame" && (typeof (m as { frame?: unknown }).frame !== "object" || !Number.isInteger((m as { step?: unknown }).step))) {
    return { ok: false, reason: "frame message needs frame and step" };
  }
  if (t === "state") {
    const s = m as { status?: unknown; steps?: unknown };
    if ((s.status !== "live" && s.status !== "stopped") || !Number.isInteger(s.steps)) return { ok: false, reason: "state message needs status (live/stopped) and steps" };
  }
  return { ok: true, value: m as WorldViewerToPanel };
}

// ---- where the panel goes ------------------------------------------------------------------------------

/**
 * Why the panel is being asked to show: the user ran the command, a play session started, a session ended (not
 * worth opening a closed panel for), or any other kernel message (a frame, an error, a picture for the stage).
 */
export type ShowReason = "command" | "session" | "ended" | "message";

/** What to do with the panel: nothing, reveal it in its own column, or create it in `column`. */
export type Placement =
  | { kind: "none" }
  | { kind: "reveal"; preserveFocus: boolean }
  | { kind: "create"; column: number; preserveFocus: boolean };

/** VS Code's ViewColumn.Beside and ViewColumn.One (numbers, to keep this file free of the vscode module). */
export const BESIDE = -2;
export const COLUMN_ONE = 1;

/**
 * Where the World Viewer goes. An open panel is never moved: frames, errors and key replies leave it alone (a
 * key press must not reveal it; VS Code moving a webview to another group also opens it there as a preview tab),
 * a new session brings it to the front of its own group without taking focus, and the command focuses it there.
 * A new panel opens beside the notebook that plays (the column to its right), or in the column it was last in
 * when that is not the notebook's; without a notebook editor, beside the active editor, or in column one.
 */
export function placeViewer(o: {
  exists: boolean; visible: boolean; reason: ShowReason;
  notebookColumn?: number; rememberedColumn?: number; hasActiveEditor?: boolean;
}): Placement {
  const preserveFocus = o.reason !== "command";
  if (o.exists) {
    if (o.reason === "command") return { kind: "reveal", preserveFocus: false };
    if (o.reason === "session" && !o.visible) return { kind: "reveal", preserveFocus: true };
    return { kind: "none" };
  }
  if (o.reason === "ended") return { kind: "none" };
  const remembered = o.rememberedColumn !== undefined && o.rememberedColumn > 0 && o.rememberedColumn !== o.notebookColumn ? o.rememberedColumn : undefined;
  if (o.notebookColumn !== undefined && o.notebookColumn > 0) return { kind: "create", column: remembered ?? Math.min(9, o.notebookColumn + 1), preserveFocus };
  if (remembered !== undefined) return { kind: "create", column: remembered, preserveFocus };
  return { kind: "create", column: o.hasActiveEditor ? BESIDE : COLUMN_ONE, preserveFocus };
}
