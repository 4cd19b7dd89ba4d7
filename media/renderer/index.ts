/**
 * The nextframe notebook renderer (contributes.notebookRenderer "nextframe-renderer"). Boilerplate only:
 * pick the render function for the output's MIME type, show bad payloads as a message instead of a blank
 * cell, and clean up on dispose. The DOM code lives in one render*.ts per MIME type.
 */
import type { ActivationFunction, OutputItem } from "vscode-notebook-renderer";
import { MIME, type ErrorPayload, type InteractMessage, type InteractPayload } from "../../kernel/shared/payloads";
import { el } from "../shared/dom";
import { adoptStyles } from "../shared/styles";
import { renderChart } from "./renderChart";
import { renderFrames } from "./renderFrames";
import { renderHeatmap } from "./renderHeatmap";
import { renderInteract, type InteractContext } from "./renderInteract";
import { renderPatches } from "./renderPatches";
import { renderScorecard } from "./renderScorecard";
import { renderTable } from "./renderTable";
import { renderTokens } from "./renderTokens";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Render = (payload: any, root: HTMLElement, signal: AbortSignal) => unknown;

const renderers: Record<string, Render> = {
  [MIME.frames]: renderFrames,
  [MIME.heatmap]: renderHeatmap,
  [MIME.tokens]: renderTokens,
  [MIME.chart]: renderChart,
  [MIME.table]: renderTable,
  [MIME.patches]: renderPatches,
  [MIME.scorecard]: renderScorecard,
};

/** Largest payload the renderer will parse (a notebook output should never be near this). */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

function showError(element: HTMLElement, message: string): void {
  element.replaceChildren(el("div", { class: "nf-root" }, el("div", { class: "nf-error", text: message, attrs: { role: "alert" } })));
}

/** Views that re-render the same output id in place (a live chart keeps its plot, interact keeps its controls). */
const KEPT = new Set<string>([MIME.chart, MIME.interact]);

export const activate: ActivationFunction = (context) => {
  adoptStyles(document);
  const interactContext: InteractContext = {
    post: context.postMessage ? (m: InteractMessage) => context.postMessage!(m) : undefined,
    renderView(mime, payload, host, signal) {
      const render = mime === MIME.interact ? undefined : renderers[mime];
      if (!render) return false;
      if (typeof payload !== "object" || payload === null) return Promise.resolve(showError(host, "nextframe: output is not an object"));
      if (typeof (payload as ErrorPayload).error === "string") return Promise.resolve(showError(host, (payload as ErrorPayload).error));
      const root = el("div", { class: "nf-root" });
      host.replaceChildren(root);
      return Promise.resolve(render(payload, root, signal));
    },
  };
  renderers[MIME.interact] = (payload: InteractPayload, root, signal) => renderInteract(payload, root, signal, interactContext);
  const controllers = new Map<string, AbortController>();
  return {
    async renderOutputItem(item: OutputItem, element: HTMLElement, signal?: AbortSignal) {
      // a live chart re-renders the same output id in place, keeping its plot; everything else starts over
      const prev = controllers.get(item.id);
      const keep = KEPT.has(item.mime) && prev !== undefined && !prev.signal.aborted;
      if (!keep) prev?.abort();
      const ac = keep ? prev! : new AbortController();
      controllers.set(item.id, ac);
      if (!keep) signal?.addEventListener("abort", () => ac.abort());
      const render = renderers[item.mime];
      if (!render) return showError(element, `nextframe renderer: unknown MIME type ${item.mime}`);
      let payload: unknown;
      try {
        if (item.data().byteLength > MAX_PAYLOAD_BYTES) throw new Error(`output is ${item.data().byteLength} bytes, over the ${MAX_PAYLOAD_BYTES} limit`);
        payload = item.json();
      } catch (e) {
        return showError(element, `nextframe: could not read this output (${e instanceof Error ? e.message : String(e)})`);
      }
      if (typeof payload !== "object" || payload === null) return showError(element, "nextframe: output is not an object");
      if (typeof (payload as ErrorPayload).error === "string") return showError(element, (payload as ErrorPayload).error);
      const root = el("div", { class: "nf-root" });
      // charts and interact update in place: keep the element's chart or controls across re-renders of the same output
      if (!KEPT.has(item.mime)) element.replaceChildren(root);
      else if (!element.querySelector(":scope > .nf-root")) element.replaceChildren(root);
      const host = (element.querySelector(":scope > .nf-root") as HTMLElement) ?? root;
      try {
        await render(payload, host, ac.signal);
      } catch (e) {
        showError(element, `nextframe: could not render this output: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    disposeOutputItem(id?: string) {
      if (id === undefined) {
        controllers.forEach((c) => c.abort());
        controllers.clear();
      } else {
        controllers.get(id)?.abort();
        controllers.delete(id);
      }
    },
  };
};
