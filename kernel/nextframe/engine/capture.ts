/**
 * Capturing intermediate tensors (e.g. attention probabilities) without a second code path:
 * a model calls `capture("blocks.0.attn", probs)` inside forward; `withCapture(() => model.forward(x))`
 * returns the output plus every captured tensor. Outside withCapture, capture is a no-op.
 * Inside `compile`, captured tensors become extra graph outputs when the traced function returns them.
 */
import type { Tensor } from "./tensor.js";

const stack: Map<string, Tensor>[] = [];

/** Records `t` under `name` when a withCapture is active; returns `t` unchanged. */
export function capture(name: string, t: Tensor): Tensor {
  const top = stack[stack.length - 1];
  if (top) top.set(name, t);
  return t;
}

/** Runs fn and returns its output with the tensors captured during the call, in capture order. */
export function withCapture<T>(fn: () => T): { output: T; captured: Map<string, Tensor> } {
  const m = new Map<string, Tensor>();
  stack.push(m);
  try {
    return { output: fn(), captured: m };
  } finally {
    stack.pop();
  }
}
