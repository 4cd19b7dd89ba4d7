/**
 * The messages between the VS Code extension host and the kernel child process.
 *
 * Transport: Node's built-in IPC channel (`stdio: [..., "ipc"]`, JSON serialization), so framing is Node's.
 * The kernel's real stdout/stderr pipes carry only what bypasses `process.stdout.write` (native libraries,
 * child processes); the extension sends those to the kernel log. Everything a cell prints travels here, in
 * order, tagged with the `execId` of the request it belongs to.
 */

import type { MimeBundle } from "./libraryContract";

export type { MimeBundle };

// ##### extension → kernel ###################################################################################

export type ToKernel =
  /** Run `code`. `label` names the cell in stack frames of later cells (e.g. "[3]"). */
  | { type: "execute"; execId: number; code: string; label?: string }
  | { type: "complete"; reqId: number; code: string; offset: number }
  | { type: "inspect"; reqId: number; code: string; offset: number }
  /** A comm message from the editor (e.g. the World Viewer panel) to the handler registered with onComm. */
  | { type: "comm"; target: string; data: unknown }
  /** Async interrupt of cell `execId` if it still runs (a late message must not hit the next cell). */
  | { type: "interrupt"; execId: number }
  | { type: "shutdown" };

// ##### kernel → extension ###################################################################################

/** One cell output. `display` with `update` replaces the earlier output with the same displayId. */
export type CellOutput =
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | { kind: "display"; bundle: MimeBundle; displayId: string; update: boolean }
  | { kind: "result"; bundle: MimeBundle }
  | { kind: "error"; ename: string; evalue: string; traceback: string[] }
  /**
   * Clear this cell's outputs (Jupyter's clear_output). With `wait`, the clearing happens when the next output
   * arrives, so a loop that redraws does not flicker.
   */
  | { kind: "clear"; wait: boolean };

export interface CompletionEntry {
  name: string;
  /** TypeScript's ScriptElementKind ("method", "property", "const", ...). */
  kind: string;
}

export type FromKernel =
  /** The kernel finished starting (converter warm) and takes requests. */
  | { type: "ready"; pid: number; startMs: number; node: string }
  /** `execId` is the running cell, or the last cell when output arrives while idle (timers, rejections). */
  | { type: "output"; execId: number; output: CellOutput }
  | { type: "done"; execId: number; ok: boolean; durationMs: number }
  | { type: "completion"; reqId: number; start: number; end: number; entries: CompletionEntry[] }
  | { type: "hover"; reqId: number; text: string | null; start: number; length: number }
  | { type: "comm"; target: string; data: unknown }
  /** A kernel log line (startup, resolution of `nextframe`, internal errors). */
  | { type: "log"; text: string };

const toKernelTypes = new Set(["execute", "complete", "inspect", "comm", "interrupt", "shutdown"]);
const fromKernelTypes = new Set(["ready", "output", "done", "completion", "hover", "comm", "log"]);

/** Whether `m` is a message the kernel understands (IPC input is untyped). */
export function isToKernel(m: unknown): m is ToKernel {
  return typeof m === "object" && m !== null && toKernelTypes.has((m as { type?: string }).type ?? "");
}

/** Whether `m` is a message from the kernel. */
export function isFromKernel(m: unknown): m is FromKernel {
  return typeof m === "object" && m !== null && fromKernelTypes.has((m as { type?: string }).type ?? "");
}
