/**
 * Play mode of the World Viewer, kernel side. `playWorld(world)` registers the comm handler for target
 * "worldViewer" and opens (or updates) the viewer with the world's first frame; each key the user presses in
 * the panel arrives as {type: "action", action}, is passed to `world.step(action)`, and the returned frame
 * (plus optional ground truth, shown side by side) goes back to the panel.
 *
 *   extension panel ──{type:"action"}──▶ comm "worldViewer" ──▶ world.step(action) ──▶ {type:"frame"} ──▶ panel
 *
 * Steps run one at a time in arrival order, so a world (or a model) never sees two steps at once.
 */
import { onComm, sendComm, type MimeBundle } from "./display";
import { prepareVideo, type FramesOptions } from "./frames";
import { DisplayInputError } from "./ndarray";
import { imageStack } from "./png";
import {
  NEXTFRAME_MIMES, WORLD_ACTIONS, WORLD_VIEWER_TARGET,
  type ImageStack, type NextframeMime, type WorldAction, type WorldViewerToPanel,
} from "./payloads";

/** What a world's step may return: a frame, or a frame with the ground-truth simulator's frame beside it. */
export type WorldStepResult = unknown | { frame: unknown; truth?: unknown };

/** Anything playable: a learned world model wrapped with reset/step, or the ground-truth simulator itself. */
export interface PlayableWorld {
  reset(): WorldStepResult | Promise<WorldStepResult>;
  step(action: WorldAction): WorldStepResult | Promise<WorldStepResult>;
}

export interface PlayWorldOptions {
  title?: string;
  /** frame value layout/range hints, as for showFrames */
  layout?: FramesOptions["layout"];
  range?: FramesOptions["range"];
}

export interface WorldSession {
  /** number of steps taken since the last reset */
  readonly steps: number;
  /** process one message as if it came from the panel (scripts and tests drive the loop with this) */
  handle(message: unknown): Promise<WorldViewerToPanel>;
  /** stop answering the panel */
  stop(): void;
}

function isFramePair(x: unknown): x is { frame: unknown; truth?: unknown } {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "frame" in x && !ArrayBuffer.isView(x);
}

async function toStack(x: unknown, opts: PlayWorldOptions, what: string): Promise<ImageStack> {
  const v = await prepareVideo(x, { layout: opts.layout, range: opts.range }, what);
  if (v.t !== 1) throw new DisplayInputError(`${what}: expected one frame (H×W×C, C×H×W or H×W), got ${v.t} frames`);
  return imageStack(v.data, 1, v.h, v.w, v.c);
}

/** Validate a panel message (the extension validates too; the kernel trusts nobody). */
export function parseWorldMessage(m: unknown): { type: "action"; action: WorldAction } | { type: "reset" } {
  if (typeof m !== "object" || m === null) throw new DisplayInputError(`worldViewer: expected a message object, got ${typeof m}`);
  const t = (m as { type?: unknown }).type;
  if (t === "reset") return { type: "reset" };
  if (t === "action") {
    const a = (m as { action?: unknown }).action;
    if (typeof a === "string" && (WORLD_ACTIONS as readonly string[]).includes(a)) return { type: "action", action: a as WorldAction };
    throw new DisplayInputError(`worldViewer: unknown action ${JSON.stringify(a)}; expected one of ${WORLD_ACTIONS.join(", ")}`);
  }
  throw new DisplayInputError(`worldViewer: unknown message type ${JSON.stringify(t)}; expected "action" or "reset"`);
}

/** Start play mode: register the comm handler and open the World Viewer on the world's first frame. */
export async function playWorld(world: PlayableWorld, opts: PlayWorldOptions = {}): Promise<WorldSession> {
  if (typeof world?.reset !== "function" || typeof world?.step !== "function") {
    throw new TypeError("playWorld: world must have reset() and step(action) methods");
  }
  let steps = 0;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();

  const frameMessage = async (r: WorldStepResult, action?: WorldAction): Promise<WorldViewerToPanel> => {
    const pair = isFramePair(r) ? r : { frame: r };
    const frame = await toStack(pair.frame, opts, "playWorld frame");
    const truth = pair.truth === undefined ? undefined : await toStack(pair.truth, opts, "playWorld truth");
    return { type: "frame", frame, step: steps, ...(truth ? { truth } : {}), ...(action ? { action } : {}),
      ...(opts.title !== undefined ? { title: String(opts.title) } : {}) };
  };

  const process = async (m: unknown): Promise<WorldViewerToPanel> => {
    try {
      const msg = parseWorldMessage(m);
      if (msg.type === "reset") {
        steps = 0;
        return await frameMessage(await world.reset());
      }
      const r = await world.step(msg.action);
      steps++;
      return await frameMessage(r, msg.action);
    } catch (e) {
      return { type: "error", message: e instanceof Error ? e.message : String(e) };
    }
  };

  const handle = (m: unknown): Promise<WorldViewerToPanel> => {
    const next = queue.then(() => process(m));
    queue = next.catch(() => undefined);
    return next;
  };

  const off = onComm(WORLD_VIEWER_TARGET, (m) => (stopped ? undefined : handle(m)));
  const first = await handle({ type: "reset" });
  sendComm(WORLD_VIEWER_TARGET, first);
  return {
    get steps() { return steps; },
    handle,
    stop() { stopped = true; off(); },
  };
}

/** Show a frames/heatmap/… bundle (from framesBundle, heatmapBundle, …) on the World Viewer's stage. */
export function showInWorldViewer(bundle: MimeBundle): void {
  const mime = Object.keys(bundle).find((k) => (NEXTFRAME_MIMES as readonly string[]).includes(k)) as NextframeMime | undefined;
  if (!mime) throw new TypeError(`showInWorldViewer: bundle has no nextframe MIME type (got ${Object.keys(bundle).join(", ")})`);
  const msg: WorldViewerToPanel = { type: "show", mime, payload: bundle[mime] };
  sendComm(WORLD_VIEWER_TARGET, msg);
}
