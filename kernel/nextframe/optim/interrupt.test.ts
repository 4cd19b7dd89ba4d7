import { test } from "node:test";
import assert from "node:assert/strict";
import { AdamW, fit, makeTrainStep } from "./index.js";
import { Module, Linear } from "../nn/index.js";
import { F, Tensor, lastInterruption, manualSeed, randn } from "../engine/index.js";

import { cells, installCellContract, runCell, sleep, until as untilEvery } from "../../../test/simulatedCells";

installCellContract();
const until = (cond: () => boolean, what: string) => untilEvery(cond, what, 60_000, 2);

class MLP extends Module {
  fc1 = new Linear(8, 64);
  fc2 = new Linear(64, 8);
  forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).tanh()); }
}

function setup() {
  manualSeed(11);
  const model = new MLP();
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const step = makeTrainStep(model, (x, y) => F.mseLoss(model.forward(x), y), opt);
  const x = randn([64, 8]), y = randn([64, 8]);
  const state = () => [...model.parameters().map((p) => p._value!), ...opt.m, ...opt.v]
    .map((a) => Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  return { model, opt, step, x, y, state };
}

test("an interrupted cell's fit loop stops for good, keeps the weights of its last completed step, and the next cell's step() works", async () => {
  const { opt, step, x, y, state } = setup();
  let completed = 0, over = false;
  let after: Buffer[] = [];
  const a = runCell(() => fit({
    steps: 1_000_000,
    step: async () => {
      if (over) throw new Error("the test is over"); // (a library that does not stop would otherwise train on)
      const loss = await step(x, y);
      completed++;
      after = state().map((b) => Buffer.from(b)); // the weights and moments after this completed step
      return loss;
    },
  }));
  await until(() => completed >= 5, "five steps");
  a.cell.interrupted = true;
  const at = completed;
  await sleep(300);
  over = true;
  assert.equal(completed, at, "the interrupted fit went on training");
  assert.equal(a.settled(), false, "the interrupted cell's fit must never settle (its code would resume)");
  assert.equal(opt.stepCount, at);
  assert.deepEqual(state(), after, "weights and moments must be those after the last completed step");
  assert.match(lastInterruption()!.message, new RegExp(`^fit: interrupted (before|during) step ${at} of 1000000; the weights are those after step ${at - 1}$`));
  // the next cell trains on from there
  const b = runCell(() => step(x, y));
  assert.ok(Number.isFinite(await b.promise));
  assert.equal(opt.stepCount, at + 1);
});

test("a step() from the next cell waits for the interrupted cell's step still running in onnxruntime, instead of failing", async () => {
  const { opt, step, x, y } = setup();
  let next: ReturnType<typeof runCell<number>> | null = null;
  let completed = 0, over = false;
  const a = runCell(async () => {
    for (let i = 0; !over; i++) {
      const running = step(x, y);
      if (i === 3) {
        // interrupted while this step's run is in flight; the next cell starts a step at once
        cells.getStore()!.interrupted = true;
        next = runCell(() => step(x, y));
      }
      await running;
      completed++;
    }
  });
  await until(() => next !== null, "the interrupt");
  const loss = await next!.promise;
  assert.ok(Number.isFinite(loss));
  await sleep(200);
  over = true;
  assert.equal(completed, 3, "the interrupted step must not resume its cell");
  assert.equal(a.settled(), false);
  // the interrupted step was not applied: 3 steps, then the next cell's
  assert.equal(opt.stepCount, 4);
  assert.match(lastInterruption()!.message, /^trainStep: interrupted during step 3; the update was not applied and the weights are those after step 2$/);
  // and within one cell, overlapping steps are still an error
  const c = runCell(async () => {
    const first = step(x, y);
    await assert.rejects(step(x, y), /the previous step is still running/);
    return first;
  });
  await c.promise;
});

/**
 * The kernel stops an interrupted cell's timers: setImmediate callbacks scheduled from it never run. onnxruntime-node
 * schedules its runs and session creations with setImmediate, so work started in the cell never finishes unless the
 * kernel lets the library start it outside the cell (`nextframe.outsideCellScope`). Both kernels are simulated.
 */
function kernelTimers(outside: boolean): () => void {
  const orig = globalThis.setImmediate;
  globalThis.setImmediate = ((cb: (...a: unknown[]) => void, ...args: unknown[]) => {
    const cell = cells.getStore();
    return orig((...a: unknown[]) => { if (!cell?.interrupted) cb(...a); }, ...args);
  }) as typeof setImmediate;
  const key = Symbol.for("nextframe.outsideCellScope");
  if (outside) (globalThis as Record<symbol, unknown>)[key] = <T>(f: () => T): T => cells.exit(f);
  return () => { globalThis.setImmediate = orig; delete (globalThis as Record<symbol, unknown>)[key]; };
}

for (const outside of [false, true]) test(`with the kernel's timer guard${outside ? " and outsideCellScope" : " (no outsideCellScope)"}, steps interrupted in flight or while their graph is built do not block the next cell`, async () => {
  const restore = kernelTimers(outside);
  try {
    const { opt, step, x, y, state } = setup();
    // interrupted while the first step builds its graph and session: the next cell's step must not wait forever
    const first = runCell(() => step(x, y));
    first.cell.interrupted = true;
    const b = runCell(() => step(x, y));
    assert.ok(Number.isFinite(await b.promise));
    assert.equal(opt.stepCount, 1);
    // interrupted with a step in flight (from a timer, as the kernel's interrupt comes), after 3 completed steps
    let completed = 0, over = false;
    let after: Buffer[] = [];
    const a = runCell(async () => {
      while (!over) {
        await step(x, y);
        completed++;
        after = state().map((s) => Buffer.from(s));
        if (completed === 3) setTimeout(() => { a.cell.interrupted = true; }, 0);
      }
    });
    await until(() => a.cell.interrupted, "the interrupt");
    const at = completed;
    await sleep(100);
    assert.equal(completed, at, "the interrupted loop went on");
    assert.deepEqual(state(), after, "the interrupted step changed the weights");
    const c = runCell(() => step(x, y));
    assert.ok(Number.isFinite(await c.promise));
    assert.equal(opt.stepCount, 1 + at + 1);
    over = true;
    assert.equal(a.settled() || first.settled(), false);
  } finally {
    restore();
  }
});
