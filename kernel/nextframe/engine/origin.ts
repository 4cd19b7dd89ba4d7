/**
 * Runtime errors that onnxruntime raises inside a graph, told in the library's terms.
 *
 * Most bad input is caught when an op is called (shape and dtype errors name the op and point at the call). What
 * only the data can show, an index out of range, fails later inside onnxruntime's run, whose message names an ONNX
 * node ("Gather node. Name:'Gather_0' ... idx=9 must be within the inclusive range [-4,3]"). The ops that can fail
 * this way note their origin when called (the library op, what it needs of the data, and the caller's stack);
 * emitModel records which ONNX node names each such graph node became, and a failed run is rethrown as a
 * RuntimeGraphError that names the op and what was wrong, keeps onnxruntime's text, and carries the stack of the
 * op's call, so a notebook traceback points at the cell line that called it.
 */
import { NextframeError, userFirstStack } from "./errors.js";
import type { Tensor } from "./tensor.js";

/** What an op that may fail at run time needs to explain the failure. */
export interface Origin {
  /** The library op as the user called it, e.g. "indexSelect". */
  op: string;
  /** The dimension it indexes and its size. */
  index?: { dim: number; size: number };
  /** The stack at the call (formatted lazily by V8). */
  readonly site: { stack?: string };
}

const origins = new WeakMap<Tensor, Origin>();

/** Notes where graph node `t` came from (call it from the op that made it); returns `t`. */
export function noteOrigin(t: Tensor, op: string, index?: { dim: number; size: number }): Tensor {
  const site: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  Error.captureStackTrace(site, noteOrigin);
  Error.stackTraceLimit = limit;
  origins.set(t, { op, index, site });
  return t;
}

/** The origin noted for `t`, if its op noted one. */
export function originOf(t: Tensor): Origin | undefined { return origins.get(t); }

/** The graph nodes among `nodes` whose runtime errors can be explained. */
export function trackedNodes(nodes: readonly Tensor[]): Set<Tensor> {
  return new Set(nodes.filter((t) => origins.has(t)));
}

/** onnxruntime failed while running a graph node that a library op made; the message names the op. */
export class RuntimeGraphError extends NextframeError {
  constructor(message: string, readonly op: string, readonly onnxruntimeMessage: string) {
    super(message);
  }
}

const ORT_NODE = /running (\w+) node\. Name:'([^']*)'/;

/**
 * Rethrows onnxruntime's error `e` from a graph run as a RuntimeGraphError when its failing node came from a noted
 * op (`names`: ONNX node name → graph node); anything else is returned unchanged.
 */
export function explainRuntimeError(e: unknown, names: ReadonlyMap<string, Tensor> | undefined): unknown {
  if (!(e instanceof Error) || e instanceof NextframeError || !names || names.size === 0) return e;
  const ortMessage = e.message.trim();
  const m = ORT_NODE.exec(ortMessage);
  if (!m) return e;
  let t = names.get(m[2]!);
  // onnxruntime may rename a node when it fuses it; a graph with a single noted node is still unambiguous
  if (!t && names.size === 1) t = names.values().next().value;
  const origin = t && origins.get(t);
  if (!t || !origin) return e;
  const what = origin.index ? indexProblem(t, origin.index, ortMessage) : "failed while the graph ran";
  const where = callSite(origin);
  const message = `${origin.op}${where ? ` (${where})` : ""}: ${what} — onnxruntime: ${ortMessage}`;
  const err = new RuntimeGraphError(message, origin.op, ortMessage);
  // the traceback starts at the op's call (the user's line), then where the graph ran
  const runFrames = (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l));
  err.stack = userFirstStack([...(origin.site.stack ?? "").split("\n"), ...runFrames].join("\n"), err.name, message);
  return err;
}

/** "index 9 is out of range for dimension 0 of size 4", from the index data if known, else onnxruntime's text. */
function indexProblem(t: Tensor, { dim, size }: { dim: number; size: number }, ortMessage: string): string {
  const range = `for dimension ${dim} of size ${size}`;
  const index = t.inputs[1];
  const data = index?._value;
  if (data) {
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]);
      if (v < -size || v >= size) return `index ${v} (element ${i} of the index tensor) is out of range ${range}`;
    }
  }
  const idx = /idx=(-?\d+)/.exec(ortMessage)?.[1];
  return idx !== undefined ? `index ${idx} is out of range ${range}` : `an index is out of range ${range}`;
}

/**
 * The op's call site as "file:line" for a file on disk. Notebook cells run under a generated file name whose line
 * numbers are not the cell's: the traceback (the kernel maps its frames to cell lines) shows that one.
 */
function callSite(origin: Origin): string | null {
  const frames = userFirstStack(origin.site.stack ?? "", "", "").split("\n").slice(1);
  const first = frames[0];
  if (!first || (/[\\/]kernel[\\/]nextframe[\\/]/.test(first) && !/\.test\.ts/.test(first))) return null;
  const m = /\(?((?:[A-Za-z]:)?[\\/][^():]+):(\d+):\d+\)?$/.exec(first);
  return m ? `${m[1]}:${m[2]}` : null;
}
