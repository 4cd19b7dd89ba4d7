import { test } from "node:test";
import assert from "node:assert/strict";
import { InterruptedError, isCellInterrupted, lastInterruption, throwIfInterrupted } from "./interrupt.js";
import { compile, tensor, type Tensor } from "./index.js";

import { cellInterruptedSymbol as CONTRACT } from "../../shared/libraryContract";
import { cells, installCellContract, runCell, sleep, until as untilEvery } from "../../../test/simulatedCells";

installCellContract();
const until = (cond: () => boolean, what: string) => untilEvery(cond, what, 30_000, 5);

test("without an interrupted cell nothing stops; throwIfInterrupted names where it stopped", async () => {
  assert.equal(isCellInterrupted(), false);
  throwIfInterrupted("outside any cell");
  const { promise } = runCell(async () => {
    throwIfInterrupted("before");
    cells.getStore()!.interrupted = true;
    throwIfInterrupted("decode: interrupted before frame 3");
  });
  await assert.rejects(promise, (e: Error) => e instanceof InterruptedError && e.name === "Interrupted" && e.message === "decode: interrupted before frame 3");
  // a contract that throws is not an interrupt
  const saved = (globalThis as Record<symbol, unknown>)[CONTRACT];
  (globalThis as Record<symbol, unknown>)[CONTRACT] = () => { throw new Error("broken"); };
  try { assert.equal(isCellInterrupted(), false); } finally { (globalThis as Record<symbol, unknown>)[CONTRACT] = saved; }
});

test("an interrupted cell's awaits of onnxruntime (data(), compiled functions) never resume; the next cell runs the same graphs", async () => {
  const f = compile((x: Tensor) => x.mul(2).add(1));
  const x = tensor([1, 2, 3]);
  let counter = 0, over = false;
  const a = runCell(async () => {
    while (!over) { // (a library that does not stop would otherwise loop on after the test)
      await f(x);
      await x.add(1).data();
      counter++;
    }
  });
  await until(() => counter >= 5, "five iterations");
  a.cell.interrupted = true;
  const at = counter;
  await sleep(300);
  over = true;
  assert.equal(counter, at, "the interrupted loop went on");
  assert.equal(a.settled(), false, "an interrupted cell's promise never settles (its catch/finally would run the cell's code)");
  assert.match(lastInterruption()!.message, /^(data|compiled function): interrupted while onnxruntime ran; the cell's code does not resume$/);
  const values = async (t: Tensor) => Array.from(await t.data() as Float32Array);
  const b = runCell(async () => [await values(await f(x)), await values(x.add(1))]);
  assert.deepEqual(await b.promise, [[3, 5, 7], [2, 3, 4]]);
  assert.equal(f.traces, 1);
});

test("a session whose creation was started by a cell interrupted meanwhile is made again for the next cell (the kernel drops that cell's setImmediate callbacks, which onnxruntime-node uses)", async () => {
  const orig = globalThis.setImmediate;
  globalThis.setImmediate = ((cb: (...a: unknown[]) => void, ...args: unknown[]) => {
    const cell = cells.getStore();
    return orig((...a: unknown[]) => { if (!cell?.interrupted) cb(...a); }, ...args);
  }) as typeof setImmediate;
  try {
    const x = tensor([1, 2, 3]);
    const g = compile((t: Tensor) => t.mul(5).sub(2));
    const a = runCell(() => Promise.all([x.mul(7).add(0.5).data(), g(x)]));
    a.cell.interrupted = true;
    const b = runCell(async () => [Array.from(await x.mul(7).add(0.5).data() as Float32Array), Array.from(await (await g(x)).data() as Float32Array)]);
    assert.deepEqual(await b.promise, [[7.5, 14.5, 21.5], [3, 8, 13]]);
    await sleep(50);
    assert.equal(a.settled(), false);
  } finally {
    globalThis.setImmediate = orig;
  }
});
