/**
 * `import * as tslab from "tslab"` in cells: tslab's display API (tslab src/public.ts) on nextframe's display
 * sink, so notebooks written for tslab show their outputs here too. Types come from tslab's own
 * dist/public.d.ts (tslab's converter resolves "tslab" to itself).
 */
import { kernelSinkSymbol, type KernelSink, type MimeBundle } from "../shared/libraryContract";

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

function makeDisplay(show: (bundle: MimeBundle) => void) {
  const raw = (contentType: string, b: string | Uint8Array) =>
    show({ [contentType]: typeof b === "string" ? b : b64(b), "text/plain": `[${contentType}]` });
  return {
    javascript: (s: string) => raw("application/javascript", s),
    html: (s: string) => raw("text/html", s),
    markdown: (s: string) => show({ "text/markdown": s, "text/plain": s }),
    latex: (s: string) => show({ "text/latex": s, "text/plain": s }),
    svg: (s: string) => raw("image/svg+xml", s),
    png: (b: Uint8Array) => raw("image/png", b),
    jpeg: (b: Uint8Array) => raw("image/jpeg", b),
    gif: (b: Uint8Array) => raw("image/gif", b),
    pdf: (b: Uint8Array) => raw("application/pdf", b),
    text: (s: string) => show({ "text/plain": s }),
    raw,
  };
}

let counter = 0;

/** Show `bundle` through the kernel's sink (a new output, or with `displayId` an update of that one). */
function show(bundle: MimeBundle, displayId?: string): string {
  const sink = (globalThis as { [kernelSinkSymbol]?: KernelSink })[kernelSinkSymbol];
  const id = displayId ?? `tslab-${process.pid}-${++counter}`;
  if (sink) sink.display(bundle, id, displayId !== undefined);
  else process.stdout.write(`${String(bundle["text/plain"] ?? "")}\n`);
  return id;
}

/** The module object a cell gets for require("tslab"). */
export function tslabModule(): Record<string, unknown> {
  return {
    display: makeDisplay((bundle) => { show(bundle); }),
    /** A Display that shows once and then overwrites its own output, like tslab's newDisplay(). */
    newDisplay: () => {
      let id: string | undefined;
      return makeDisplay((bundle) => { id = show(bundle, id); });
    },
    versions: { tslab: "nextframe-compat", typescript: "5", node: process.version },
  };
}
