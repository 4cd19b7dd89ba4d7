/**
 * fit: a small training loop that reports live progress (steps/s, loss curve) to a callback, which a notebook
 * can render as a chart updating in place. In a notebook cell that is interrupted, the loop stops between steps
 * (or when the running step's onnxruntime call returns) and never resumes; the weights stay those of the last
 * completed step.
 */
import { NonFiniteLossError } from "../engine/errors.js";
import { halt, onHalt, shouldHalt } from "../engine/interrupt.js";

/** What fit() reports: step, loss (and all losses so far), steps per second, elapsed and remaining time. */
export interface FitProgress {
  step: number; steps: number; loss: number; losses: number[];
  stepsPerSec: number; elapsedS: number; etaS: number; done: boolean;
}
/** Options of fit(): the number of steps, the step function returning its loss, and a progress callback with its interval. */
export interface FitOptions {
  steps: number;
  /** Runs step i (0-based) and returns its loss. */
  step: (i: number) => Promise<number>;
  onProgress?: (p: FitProgress) => void | Promise<void>;
  /** Minimum milliseconds between progress callbacks (the last step always reports). Default 250. */
  progressEveryMs?: number;
}

/** Runs `steps` training steps, reporting loss and speed through onProgress; stops with NonFiniteLossError naming the step when the loss becomes NaN or Inf. */
export async function fit(o: FitOptions): Promise<{ losses: number[]; seconds: number; stepsPerSec: number }> {
  const losses: number[] = [];
  const t0 = performance.now();
  let lastReport = -Infinity;
  for (let i = 0; i < o.steps; i++) {
    // an interrupted cell's loop stops here for good (interrupt.ts: the promise never settles)
    const kept = i === 0 ? "the weights are those from before fit" : `the weights are those after step ${i - 1}`;
    if (shouldHalt()) return halt(`fit: interrupted before step ${i} of ${o.steps}; ${kept}`);
    const loss = await onHalt(null, () => o.step(i), () => `fit: interrupted during step ${i} of ${o.steps}; ${kept}`);
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(`fit: loss is ${loss} at step ${i}`, i, loss);
    losses.push(loss);
    const now = performance.now();
    const done = i === o.steps - 1;
    if (o.onProgress && (done || now - lastReport >= (o.progressEveryMs ?? 250))) {
      lastReport = now;
      const elapsedS = (now - t0) / 1000;
      const stepsPerSec = (i + 1) / elapsedS;
      await o.onProgress({ step: i + 1, steps: o.steps, loss, losses, stepsPerSec, elapsedS, etaS: (o.steps - i - 1) / stepsPerSec, done });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { losses, seconds, stepsPerSec: o.steps / seconds };
}
