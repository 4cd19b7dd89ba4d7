/**
 * `import * as tslab from "tslab"` in cells: tslab's display API (tslab src/public.ts) on nextframe's display
 * sink, so notebooks written for tslab show their outputs here too. Types come from tslab's own
 * dist/public.d.ts (tslab's converter resolves "tslab" to itself).
 */
import { display, type DisplayHandle, type MimeBundle } from "../nextframe/display/display";

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

/** The module object a cell gets for require("tslab"). */
export function tslabModule(): Record<string, unknown> {
  return {
    display: makeDisplay((bundle) => { display.bundle(bundle); }),
    /** A Display that shows once and then overwrites its own output, like tslab's newDisplay(). */
    newDisplay: () => {
      let h: DisplayHandle | null = null;
      return makeDisplay((bundle) => {
        if (h) h.update({ [Symbol.for("nextframe.mimeBundle")]: () => bundle });
        else h = display.bundle(bundle);
      });
    },
    versions: { tslab: "nextframe-compat", typescript: "5", node: process.version },
  };
}
