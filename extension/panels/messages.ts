/**
 * Validation of World Viewer messages crossing the webview boundary (pure: no vscode import, so it is unit
 * tested). The webview may only send {command: "ready" | "action" | "reset"}; anything else, anything
 * oversized, or an unknown action is dropped with a reason.
 */
import { WORLD_ACTIONS, type PanelOutbound, type WorldAction, type WorldViewerToKernel, type WorldViewerToPanel } from "../../kernel/nextframe/display/payloads";

/** Webview → extension messages are tiny; anything bigger is not ours. */
export const MAX_PANEL_MESSAGE_BYTES = 1024;
/** Kernel → webview messages carry PNG frames; cap them so a runaway cell cannot flood the panel. */
export const MAX_KERNEL_MESSAGE_BYTES = 32 * 1024 * 1024;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parsePanelMessage(m: unknown): Parsed<PanelOutbound> {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { ok: false, reason: `expected an object, got ${m === null ? "null" : typeof m}` };
  let size: number;
  try { size = JSON.stringify(m).length; } catch { return { ok: false, reason: "message is not JSON" }; }
  if (size > MAX_PANEL_MESSAGE_BYTES) return { ok: false, reason: `message is ${size} bytes, limit ${MAX_PANEL_MESSAGE_BYTES}` };
  const { command } = m as { command?: unknown };
  if (command === "ready" || command === "reset") return { ok: true, value: { command } };
  if (command === "action") {
    const a = (m as { action?: unknown }).action;
    if (typeof a === "string" && (WORLD_ACTIONS as readonly string[]).includes(a)) return { ok: true, value: { command, action: a as WorldAction } };
    return { ok: false, reason: `unknown action ${JSON.stringify(a)}` };
  }
  return { ok: false, reason: `unknown command ${JSON.stringify(command)}` };
}

/** What the extension sends to the kernel's comm target for a panel message (ready → nothing). */
export function toKernelMessage(m: PanelOutbound): WorldViewerToKernel | undefined {
  if (m.command === "action") return { type: "action", action: m.action };
  if (m.command === "reset") return { type: "reset" };
  return undefined;
}

/** Check a kernel comm message before it reaches the webview. */
export function parseKernelMessage(m: unknown): Parsed<WorldViewerToPanel> {
  if (typeof m !== "object" || m === null) return { ok: false, reason: "expected an object" };
  const t = (m as { type?: unknown }).type;
  if (t !== "frame" && t !== "show" && t !== "error") return { ok: false, reason: `unknown type ${JSON.stringify(t)}` };
  let size: number;
  try { size = JSON.stringify(m).length; } catch { return { ok: false, reason: "message is not JSON" }; }
  if (size > MAX_KERNEL_MESSAGE_BYTES) return { ok: false, reason: `message is ${size} bytes, limit ${MAX_KERNEL_MESSAGE_BYTES}` };
  if (t === "frame" && (typeof (m as { frame?: unknown }).frame !== "object" || !Number.isInteger((m as { step?: unknown }).step))) {
    return { ok: false, reason: "frame message needs frame and step" };
  }
  return { ok: true, value: m as WorldViewerToPanel };
}
