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

/**
 * A train step's gradient norm was NaN or Inf while its loss was finite (e.g. sqrt's gradient at 0 times 0):
 * the update was skipped, so the weights and optimizer moments are those of the step before. A subclass of
 * NonFiniteLossError, so code that skips bad batches on that error skips these too; `loss` is NaN where no loss
 * was computed (AdamW.step on gradients given by hand).
 */
export class NonFiniteGradientError extends NonFiniteLossError {
  constructor(message: string, step: number, loss: number, readonly gradNorm: number) {
    super(message, step, loss);
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
