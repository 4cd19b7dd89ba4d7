/**
 * Play mode of the World Viewer, kernel side. `playWorld(world)` registers the comm handler for target
 * "worldViewer" and opens (or updates) the viewer with the world's first frame; each key the user presses in
 * the panel arrives as {type: "action", action}, is passed to `world.step(action)`, and the returned frame
 * (plus optional ground truth, shown side by side) goes back to the panel.
 *
 *   extension panel ──{type:"action"}──▶ comm "worldViewer" ──▶ world.step(action) ──▶ {type:"frame"} ──▶ panel
 *
 * The session stays live after the cell that started it has finished (the kernel answers comm messages between
 * cells and while a cell awaits), until the viewer's Stop button ({type: "stop"}), `session.stop()`, or a newer
 * playWorld stops it; each change is sent to the panel as {type: "state"}. Steps run one at a time in arrival
 * order, so a world (or a model) never sees two steps at once.
 */
import { onComm, sendComm, type MimeBundle } from "./display";
import { prepareVideo, type FramesOptions } from "./frames";
import { DisplayInputError } from "./ndarray";
import { imageStack } from "./png";
import {
  NEXTFRAME_MIMES, WORLD_ACTIONS, WORLD_VIEWER_TARGET,
  type ImageStack, type NextframeMime, type WorldAction, type WorldViewerToKernel, type WorldViewerToPanel,
} from "../../shared/payloads";
import { NextframeError } from "../engine/errors";

/** What a world's step may return: a frame, or a frame with the ground-truth simulator's frame beside it. */
export type WorldStepResult = unknown | { frame: unknown; truth?: unknown };

/** Anything playable: a learned world model wrapped with reset/step, or the ground-truth simulator itself. */
export interface PlayableWorld {
  reset(): WorldStepResult | Promise<WorldStepResult>;
  step(action: WorldAction): WorldStepResult | Promise<WorldStepResult>;
}

/** Options of playWorld: a title and the frames' layout and value range (as for showFrames). */
export interface PlayWorldOptions {
  title?: string;
  /** frame value layout/range hints, as for showFrames */
  layout?: FramesOptions["layout"];
  range?: FramesOptions["range"];
}

/** A live play session in the World Viewer: its step count, whether it is live, handle() a key from code, stop(). */
export interface WorldSession {
  /** number of steps taken since the last reset */
  readonly steps: number;
  /** true until the session is stopped (Stop button in the viewer, stop(), or a newer playWorld) */
  readonly live: boolean;
  /**
   * Process one message as if it came from the panel, and show the result in the viewer (scripts and tests
   * drive the loop with this). Rejects once the session is stopped.
   */
  handle(message: unknown): Promise<WorldViewerToPanel>;
  /** Stop answering the panel; the viewer shows "stopped". Calling it again does nothing. */
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
export function parseWorldMessage(m: unknown): WorldViewerToKernel {
  if (typeof m !== "object" || m === null) throw new DisplayInputError(`worldViewer: expected a message object, got ${typeof m}`);
  const t = (m as { type?: unknown }).type;
  if (t === "reset" || t === "stop" || t === "sync") return { type: t };
  if (t === "action") {
    const a = (m as { action?: unknown }).action;
    if (typeof a === "string" && (WORLD_ACTIONS as readonly string[]).includes(a)) return { type: "action", action: a as WorldAction };
    throw new DisplayInputError(`worldViewer: unknown action ${JSON.stringify(a)}; expected one of ${WORLD_ACTIONS.join(", ")}`);
  }
  throw new DisplayInputError(`worldViewer: unknown message type ${JSON.stringify(t)}; expected "action", "reset", "stop" or "sync"`);
}

/** The live session of this kernel, if any: a newer playWorld stops it (one viewer, one session). */
let liveSession: { stop(message?: string): void; drained(): Promise<unknown> } | undefined;

/** Start play mode: register the comm handler and open the World Viewer on the world's first frame. */
export async function playWorld(world: PlayableWorld, opts: PlayWorldOptions = {}): Promise<WorldSession> {
  if (typeof world?.reset !== "function" || typeof world?.step !== "function") {
    throw new TypeError("playWorld: world must have reset() and step(action) methods");
  }
  const title = opts.title !== undefined ? String(opts.title) : undefined;
  let steps = 0;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();
  let last: WorldViewerToPanel | undefined;

  const frameMessage = async (r: WorldStepResult, action?: WorldAction): Promise<WorldViewerToPanel> => {
    const pair = isFramePair(r) ? r : { frame: r };
    const frame = await toStack(pair.frame, opts, "playWorld frame");
    const truth = pair.truth === undefined ? undefined : await toStack(pair.truth, opts, "playWorld truth");
    last = { type: "frame", frame, step: steps, ...(truth ? { truth } : {}), ...(action ? { action } : {}),
      ...(title !== undefined ? { title } : {}) };
    return last;
  };
  const stateMessage = (message?: string): WorldViewerToPanel => ({ type: "state", status: stopped ? "stopped" : "live", steps,
    ...(title !== undefined ? { title } : {}), ...(message !== undefined ? { message } : {}) });

  const step = async (msg: WorldViewerToKernel): Promise<WorldViewerToPanel> => {
    try {
      if (msg.type === "reset") {
        steps = 0;
        return await frameMessage(await world.reset());
      }
      if (msg.type === "action") {
        const r = await world.step(msg.action);
        steps++;
        return await frameMessage(r, msg.action);
      }
      return last ?? stateMessage();
    } catch (e) {
      return { type: "error", message: e instanceof Error ? e.message : String(e) };
    }
  };
  /** One message, after those before it. undefined: nothing to send back (stopped, or stop handled). */
  const enqueue = (m: unknown): Promise<WorldViewerToPanel | undefined> => {
    const next = queue.then(async () => {
      let msg: WorldViewerToKernel;
      try { msg = parseWorldMessage(m); } catch (e) { return { type: "error", message: (e as Error).message } as WorldViewerToPanel; }
      if (msg.type === "stop") { stop("by the Stop button"); return undefined; }
      if (msg.type === "sync") sendComm(WORLD_VIEWER_TARGET, stateMessage());
      if (stopped) return undefined;
      const reply = await step(msg);
      return stopped ? undefined : reply; // a step that finishes after stop() is not shown
    });
    queue = next.catch(() => undefined);
    return next;
  };

  function stop(message = "by session.stop()"): void {
    if (stopped) return;
    stopped = true;
    off();
    if (liveSession === session) liveSession = undefined;
    sendComm(WORLD_VIEWER_TARGET, stateMessage(message));
  }

  // Stop the previous session first and let its last step finish: both may drive the same simulator.
  const previous = liveSession;
  previous?.stop("a newer playWorld session replaced it");
  await previous?.drained();
  // The first frame comes straight from reset(), so a world that cannot start fails the cell with its own error.
  const first = await frameMessage(await world.reset());
  const session = { stop, drained: () => queue };
  liveSession = session;
  const off = onComm(WORLD_VIEWER_TARGET, (m) => enqueue(m));
  sendComm(WORLD_VIEWER_TARGET, stateMessage());
  sendComm(WORLD_VIEWER_TARGET, first);
  return {
    get steps() { return steps; },
    get live() { return !stopped; },
    async handle(m: unknown) {
      if (stopped) throw new NextframeError("playWorld: this session is stopped; call playWorld again to play");
      const reply = await enqueue(m);
      if (reply === undefined) return stateMessage();
      sendComm(WORLD_VIEWER_TARGET, reply);
      return reply;
    },
    stop() { stop(); },
  };
}

/** Show a frames/heatmap/… bundle (from framesBundle, heatmapBundle, …) on the World Viewer's stage. */
export function showInWorldViewer(bundle: MimeBundle): void {
  const mime = Object.keys(bundle).find((k) => (NEXTFRAME_MIMES as readonly string[]).includes(k)) as NextframeMime | undefined;
  if (!mime) throw new TypeError(`showInWorldViewer: bundle has no nextframe MIME type (got ${Object.keys(bundle).join(", ")})`);
  const msg: WorldViewerToPanel = { type: "show", mime, payload: bundle[mime] };
  sendComm(WORLD_VIEWER_TARGET, msg);
}
