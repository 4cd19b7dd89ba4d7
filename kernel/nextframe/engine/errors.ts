/**
 * Engine errors. Messages name the op, what was expected and what came; the stack shows the user's call site
 * first (engine frames are moved to the end) so a notebook traceback points at the cell, not at ops.ts.
 */

/** Base class of all errors the engine throws on bad input. */
export class NextframeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    Error.captureStackTrace(this, new.target);
    Error.stackTraceLimit = limit;
    this.stack = userFirstStack(this.stack ?? "", this.name, message);
  }
}
/** Shapes do not fit the op (broadcasting, matmul, reshape, ...). */
export class ShapeError extends NextframeError {}
/** Dtypes do not fit the op. */
export class DTypeError extends NextframeError {}
/** A loss became NaN or Inf during training. */
export class NonFiniteLossError extends NextframeError {
  constructor(message: string, readonly step: number, readonly loss: number) {
    super(message);
  }
}

/** An invariant of the engine itself was broken: a bug in nextframe, not in the user's code. */
export function internal(message: string): never {
  throw new Error(`internal: ${message}`);
}

const LIBRARY_FRAME = /[\\/]kernel[\\/]nextframe[\\/](engine|nn|optim)[\\/]|node:internal|node_modules[\\/]/;

/** Reorders stack frames so that frames outside the engine (the user's code) come first. */
export function userFirstStack(stack: string, name: string, message: string): string {
  const lines = stack.split("\n");
  const frames = lines.filter((l) => /^\s+at /.test(l));
  const isLib = (f: string) => LIBRARY_FRAME.test(f) && !/\.test\.ts/.test(f);
  const user = frames.filter((f) => !isLib(f));
  const lib = frames.filter(isLib);
  return [`${name}: ${message}`, ...user, ...lib].join("\n");
}
