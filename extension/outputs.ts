/**
 * Kernel outputs → VS Code notebook output data, without importing `vscode` (so it is unit-tested).
 *
 * - stream → VS Code's stdout/stderr MIME types (VS Code joins consecutive items of one output);
 * - display/result → one item per MIME type, richest first (VS Code shows the first one it can render);
 *   image/png arrives base64 and becomes bytes; JSON MIME types become JSON text; metadata follows the ipynb
 *   serializer's conventions (outputType, transient.display_id) so saved notebooks stay valid nbformat;
 * - error → VS Code's error MIME type ({name, message, stack});
 * - clear (Jupyter's clear_output) is not an output: ClearTracker says when the controller replaces the cell's
 *   outputs.
 */
import type { CellOutput, MimeBundle } from "../kernel/shared/protocol";

export const STDOUT_MIME = "application/vnd.code.notebook.stdout";
export const STDERR_MIME = "application/vnd.code.notebook.stderr";
export const ERROR_MIME = "application/vnd.code.notebook.error";

export interface OutputItemData { mime: string; data: Uint8Array }
export interface OutputData { items: OutputItemData[]; metadata: Record<string, unknown> }

const utf8 = new TextEncoder();

/** Lower comes first. nextframe's own types first, then the browser-native fallbacks, text last. */
function rank(mime: string): number {
  if (mime.startsWith("application/vnd.nextframe.")) return 0;
  if (mime.startsWith("application/vnd.")) return 1;
  const order = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "application/json", "text/latex"];
  const i = order.indexOf(mime);
  if (i >= 0) return 2 + i;
  if (mime === "text/plain") return 100;
  return 50;
}

function isJsonMime(mime: string): boolean {
  return mime === "application/json" || mime.endsWith("+json");
}

/** One output item per MIME type of `bundle`, richest first. */
export function bundleToItems(bundle: MimeBundle): OutputItemData[] {
  return Object.keys(bundle)
    .sort((a, b) => rank(a) - rank(b))
    .map((mime) => {
      const v = bundle[mime];
      if (mime.startsWith("image/") && mime !== "image/svg+xml" && typeof v === "string") {
        return { mime, data: new Uint8Array(Buffer.from(v, "base64")) };
      }
      if (isJsonMime(mime)) return { mime, data: utf8.encode(typeof v === "string" ? v : JSON.stringify(v)) };
      if (v instanceof Uint8Array) return { mime, data: v };
      return { mime, data: utf8.encode(typeof v === "string" ? v : JSON.stringify(v)) };
    });
}

/** Kernel outputs that become a VS Code output (a `clear` is an instruction about the others, not one itself). */
export type ShownOutput = Exclude<CellOutput, { kind: "clear" }>;

/** The VS Code output for one kernel output. */
export function toOutputData(o: ShownOutput, executionCount?: number): OutputData {
  switch (o.kind) {
    case "stream":
      return {
        items: [{ mime: o.name === "stdout" ? STDOUT_MIME : STDERR_MIME, data: utf8.encode(o.text) }],
        metadata: { outputType: "stream" },
      };
    case "display":
      return { items: bundleToItems(o.bundle), metadata: { outputType: "display_data", transient: { display_id: o.displayId } } };
    case "result":
      return { items: bundleToItems(o.bundle), metadata: { outputType: "execute_result", executionCount } };
    case "error":
      return {
        items: [{
          mime: ERROR_MIME,
          data: utf8.encode(JSON.stringify({ name: o.ename, message: o.evalue, stack: o.traceback.join("\n") })),
        }],
        metadata: { outputType: "error" },
      };
  }
}

/** The display id an output carries (set by toOutputData for display outputs), if any. */
export function displayIdOf(metadata: Record<string, unknown> | undefined): string | undefined {
  const t = metadata?.transient as { display_id?: unknown } | undefined;
  return typeof t?.display_id === "string" ? t.display_id : undefined;
}

/**
 * Batches stream text between flushes so that a cell printing thousands of lines becomes a few output
 * appends. Adjacent text of the same stream joins; a change of stream, or any other output, ends a batch.
 */
export class StreamBatcher {
  private pending: { name: "stdout" | "stderr"; text: string }[] = [];

  push(name: "stdout" | "stderr", text: string): void {
    const last = this.pending[this.pending.length - 1];
    if (last && last.name === name) last.text += text;
    else this.pending.push({ name, text });
  }

  get empty(): boolean {
    return this.pending.length === 0;
  }

  /** Everything batched so far, in order, as stream outputs. */
  take(): Extract<CellOutput, { kind: "stream" }>[] {
    const out = this.pending.map((p) => ({ kind: "stream" as const, name: p.name, text: p.text }));
    this.pending = [];
    return out;
  }
}

/**
 * When to clear a cell's outputs after `clearOutput({ wait })`: at once, or (with `wait`) just before the next
 * output arrives, so that a loop that clears and redraws replaces its picture without an empty flash between.
 */
export class ClearTracker {
  private waiting = false;

  /** A clear arrived; returns whether to clear now. */
  clear(wait: boolean): boolean {
    this.waiting = wait;
    return !wait;
  }

  /** An output is about to be shown; returns whether a waiting clear must happen first. */
  beforeOutput(): boolean {
    const w = this.waiting;
    this.waiting = false;
    return w;
  }
}
