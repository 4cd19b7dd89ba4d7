import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, gather, indexSelect, NextframeError, tensor, type Tensor } from "./index.js";
import { RuntimeGraphError } from "./origin.js";

const x = tensor([[1, 2], [3, 4], [5, 6], [7, 8]]);
/** The line of this file where the failing op was called, as the error's message and first stack frame show it. */
const line = () => Number(new Error().stack!.split("\n")[2]!.match(/origin\.test\.ts:(\d+)/)![1]);

test("an out-of-range indexSelect fails in onnxruntime with the op, the index, the dimension, the call's line and onnxruntime's text", async () => {
  const idx = tensor([1, 9], { dtype: "int64" });
  const y = indexSelect(x, 0, idx); const at = line();
  await assert.rejects(y.data(), (e: Error) => {
    assert.ok(e instanceof RuntimeGraphError && e instanceof NextframeError, String(e));
    assert.match(e.message, new RegExp(`^indexSelect \\(.*origin\\.test\\.ts:${at}\\): index 9 \\(element 1 of the index tensor\\) is out of range for dimension 0 of size 4 — onnxruntime: .*Gather node.*idx=9 must be within the inclusive range \\[-4,3\\]`));
    // the traceback starts at the call, as for shape errors (a notebook maps it to the cell's line)
    assert.match(e.stack!.split("\n")[1]!, new RegExp(`origin\\.test\\.ts:${at}:`));
    return true;
  });
  // the same index through gather (GatherElements, whose message has no index) and a method call
  const g = gather(x, 1, tensor([[0], [5], [1], [0]], { dtype: "int64" })); const at2 = line();
  await assert.rejects(g.data(), new RegExp(`^RuntimeGraphError: gather \\(.*:${at2}\\): index 5 \\(element 1 of the index tensor\\) is out of range for dimension 1 of size 2 — onnxruntime: .*GatherElements`));
  // in range, the same graph runs
  assert.deepEqual(await indexSelect(x, 0, tensor([1, 3], { dtype: "int64" })).toArray(), [[3, 4], [7, 8]]);
});

test("inside a compiled function the error names the op and the line in the function, where the index comes from the arguments", async () => {
  const f = compile((i: Tensor) => {
    const rows = indexSelect(x, 0, i); at = line();
    return rows.sum();
  });
  let at = 0;
  assert.equal(await (await f(tensor([0, 3], { dtype: "int64" }))).item(), 18);
  await assert.rejects(f(tensor([1, -7], { dtype: "int64" })), (e: Error) => {
    assert.ok(e instanceof RuntimeGraphError);
    assert.match(e.message, new RegExp(`^indexSelect \\(.*origin\\.test\\.ts:${at}\\): index -7 is out of range for dimension 0 of size 4 — onnxruntime: .*idx=-7`));
    return true;
  });
  assert.equal(await (await f(tensor([3, 3], { dtype: "int64" }))).item(), 30);
});
