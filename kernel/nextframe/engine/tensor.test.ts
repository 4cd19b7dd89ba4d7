import { test } from "node:test";
import assert from "node:assert/strict";
import {
  tensor, zeros, ones, arange, eye, randn, rand, randint, manualSeed, concat, stack, where, compile, F,
  ShapeError, DTypeError, sessionStats, capture, withCapture, exportOnnx, Tensor, constantOfShape, full,
} from "./index.js";
import { currentDevice, ort } from "./session.js";
import { toMimeBundle } from "../display/display";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const close = (a: number[], b: number[], tol = 1e-5) =>
  assert.ok(a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!))), `${a} vs ${b}`);
const flat = async (t: Tensor) => Array.from(await t.data(), Number);

test("elementwise ops broadcast like numpy", async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([10, 20, 30]);
  assert.deepEqual(await a.add(b).toArray(), [[11, 22, 33], [14, 25, 36]]);
  assert.deepEqual(await a.mul(2).sub(1).toArray(), [[1, 3, 5], [7, 9, 11]]);
  assert.deepEqual(await a.gt(2).toArray(), [[false, false, true], [true, true, true]]);
  close(await flat(a.exp().log()), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(a.add(b.reshape([1, 3])).shape, [2, 3]);
});

test("shape mismatch names the op, both shapes and the rule, user frame first", () => {
  const a = zeros([2, 3]);
  let err: Error | undefined;
  try { a.add(zeros([4, 3])); } catch (e) { err = e as Error; }
  assert.ok(err instanceof ShapeError);
  assert.match(err!.message, /add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast/);
  assert.match(err!.message, /each pair of dims must be equal or one of them 1/);
  const firstFrame = err!.stack!.split("\n")[1]!;
  assert.match(firstFrame, /tensor\.test\.ts/);
  assert.throws(() => zeros([2, 3]).matmul(zeros([4, 5])), /matmul: shapes \[2, 3\] and \[4, 5\] do not align/);
  assert.throws(() => zeros([2, 3]).reshape([4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/);
});

test("dtype mismatch names the op and both dtypes", () => {
  assert.throws(() => zeros([2]).add(zeros([2], "float64")), (e: Error) => e instanceof DTypeError && /add: dtype mismatch float32 vs float64/.test(e.message));
  assert.throws(() => F.embedding(zeros([2]), zeros([4, 3])), /embedding: indices must be int32\/int64, got float32/);
});

test("matmul, reductions, layout", async () => {
  const a = arange(6).cast("float32").reshape([2, 3]);
  assert.deepEqual(await a.matmul(a.T).toArray(), [[5, 14], [14, 50]]);
  assert.deepEqual(await a.sum().item(), 15);
  assert.deepEqual(await a.sum(0).toArray(), [3, 5, 7]);
  assert.deepEqual(await a.mean(1, true).toArray(), [[1], [4]]);
  assert.deepEqual(await a.max(1).toArray(), [2, 5]);
  assert.deepEqual(await a.argmax(1).toArray(), [2, 2]);
  assert.deepEqual(await a.permute([1, 0]).toArray(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(await a.slice(1, 0, 3, 2).toArray(), [[0, 2], [3, 5]]);
  assert.deepEqual(await concat([a, a], 0).shape, [4, 3]);
  assert.deepEqual(await stack([a, a], 1).shape, [2, 2, 3]);
  assert.deepEqual(await a.cumsum(1).toArray(), [[0, 1, 3], [3, 7, 12]]);
  const { values, indices } = tensor([3, 1, 4, 1, 5]).topk(2);
  assert.deepEqual([await values.toArray(), await indices.toArray()], [[5, 4], [4, 2]]);
  assert.deepEqual(await a.gather(1, tensor([[2], [0]], { dtype: "int64" })).toArray(), [[2], [3]]);
  assert.deepEqual(await where(a.gt(2), a, 0).toArray(), [[0, 0, 0], [3, 4, 5]]);
  close(await flat(a.var(1)), [1, 1]);
  assert.deepEqual(await eye(2).toArray(), [[1, 0], [0, 1]]);
  assert.deepEqual(await a.expand([2, 2, 3]).sum(0).toArray(), [[0, 2, 4], [6, 8, 10]]);
});

test("float64 and int64 tensors compute in their dtype", async () => {
  const x = tensor([1e-10, 1], { dtype: "float64" });
  const y = await x.add(1).sub(1).data();
  assert.ok(y instanceof Float64Array);
  assert.ok(Math.abs(y[0]! - 1e-10) < 1e-16); // float32 would give 0
  const i = arange(4);
  assert.equal(i.dtype, "int64");
  assert.deepEqual(await i.mul(3).toArray(), [0, 3, 6, 9]);
});

test("a Uint8Array is uint8 bytes (frames), not bool; bool stays available explicitly", async () => {
  const x = tensor(Uint8Array.of(0, 128, 255));
  assert.equal(x.dtype, "uint8");
  assert.deepEqual(await x.toArray(), [0, 128, 255]);
  // arithmetic stays uint8 and wraps modulo 256, like torch's uint8; widen first for the full result
  const doubled = x.mul(2);
  assert.equal(doubled.dtype, "uint8");
  assert.deepEqual(await doubled.toArray(), [0, 0, 254]);
  assert.deepEqual(await x.cast("int32").mul(2).toArray(), [0, 256, 510]);
  const half = x.mul(0.5);
  assert.equal(half.dtype, "float32");
  assert.deepEqual(await half.toArray(), [0, 64, 127.5]);
  // sums do not wrap: int64, like torch
  const total = x.sum();
  assert.equal(total.dtype, "int64");
  assert.equal(await total.item(), 383);
  assert.deepEqual(await x.gt(100).toArray(), [false, true, true]);
  assert.deepEqual(await x.max().item(), 255);
  // the dtype survives a compiled graph (uint8 inputs and outputs) and is displayed as such
  const f = compile((t: Tensor) => t.add(1));
  const y = await f(x);
  assert.equal(y.dtype, "uint8");
  assert.ok((await y.data()) instanceof Uint8Array);
  assert.deepEqual(await y.toArray(), [1, 129, 0]);
  assert.match((await toMimeBundle(x))["text/plain"] as string, /dtype=uint8[\s\S]*min=0 max=255/);
  // a Uint8Array read as a mask: any non-zero byte is true
  const m = tensor(Uint8Array.of(0, 2, 1), { dtype: "bool" });
  assert.equal(m.dtype, "bool");
  assert.deepEqual(await m.toArray(), [false, true, true]);
  assert.deepEqual(Array.from(await m.data() as Uint8Array), [0, 1, 1]);
  // ops with no unsigned meaning, and index positions, say what to do instead
  assert.throws(() => x.neg(), (e: Error) => e instanceof DTypeError && /neg: not defined for uint8 .*cast to "int32"/.test(e.message));
  assert.throws(() => x.pow(2), /pow: not defined for uint8 tensors/);
  assert.throws(() => F.embedding(x, zeros([256, 2])), /embedding: indices must be int32\/int64, got uint8/);
});

test("constantOfShape is a lazy graph constant, full a concrete tensor, and there is no `fill` to confuse them", async () => {
  const c = constantOfShape([2, 2], 3);
  assert.equal(c.isConcrete, false);
  assert.deepEqual(await c.toArray(), [[3, 3], [3, 3]]);
  const f = full([2, 2], 3);
  assert.equal(f.isConcrete, true);
  assert.deepEqual(await f.toArray(), [[3, 3], [3, 3]]);
  const api = await import("../index");
  assert.equal("fill" in api, false);
  assert.equal(typeof api.constantOfShape, "function");
});

test("seeded RNG is deterministic and well distributed", async () => {
  manualSeed(42);
  const a = await randn([1000]).data();
  manualSeed(42);
  const b = await randn([1000]).data();
  assert.deepEqual(a, b);
  const u = await rand([10000]).data();
  const mean = Array.from(u, Number).reduce((s, v) => s + v, 0) / u.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
  const r = await randint(0, 3, [100], { seed: 1 }).toArray() as number[];
  assert.ok(r.every((v) => v >= 0 && v < 3));
  assert.deepEqual(await randn([5], { seed: 7 }).data(), await randn([5], { seed: 7 }).data());
});

test("eager ops reuse sessions (cache keyed by structure)", async () => {
  const x = randn([4, 4]);
  await x.add(1).mul(2).data();
  const before = sessionStats().created;
  for (let i = 0; i < 5; i++) await randn([4, 4]).add(1).mul(2).data();
  assert.equal(sessionStats().created, before);
});

test("compile traces once per signature and agrees with eager", async () => {
  const w = randn([3, 4], { seed: 1 });
  const f = compile((x: Tensor) => F.gelu(x.matmul(w)).softmax(-1));
  const x = randn([2, 3], { seed: 2 });
  const eager = await flat(F.gelu(x.matmul(w)).softmax(-1));
  close(await flat(await f(x)), eager);
  await f(randn([2, 3]));
  assert.equal(f.traces, 1);
  await f(randn([5, 3]));
  assert.equal(f.traces, 2);
  // captured tensors are fed with their current value
  w._value = (await w.mul(0).data()).slice();
  close(await flat(await f(x)), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
});

test("capture exposes intermediates as extra outputs", async () => {
  const q = randn([1, 2, 3, 4]);
  const f = compile((x: Tensor) => withCapture(() => F.scaledDotProductAttention(x, x, x, { captureAs: "attn", causal: true })));
  const { output, captured } = await f(q);
  assert.deepEqual(output.shape, [1, 2, 3, 4]);
  const p = await (captured.get("attn") as Tensor).toArray() as number[][][][];
  close(p[0]![0]![0]!, [1, 0, 0]);
  assert.equal(capture("nothing", q), q);
});

test("exportOnnx writes a file a fresh session runs with the same result", async () => {
  const w = randn([3, 2], { seed: 3 });
  const fn = (x: Tensor) => F.layerNorm(x.matmul(w).tanh(), 2);
  const x = randn([4, 3], { seed: 4 });
  const path = join(mkdtempSync(join(tmpdir(), "nf-")), "f.onnx");
  const names = await exportOnnx(fn, [x], path);
  const sess = await ort.InferenceSession.create(path);
  const out = await sess.run({ [names.inputs[0]!]: new ort.Tensor("float32", await x.data() as Float32Array, [4, 3]) });
  close(Array.from(out[names.outputs[0]!]!.data as Float32Array), await flat(fn(x)));
});

test("conv2d matches a direct computation", async () => {
  const x = arange(16).cast("float32").reshape([1, 1, 4, 4]);
  const w = ones([1, 1, 2, 2]);
  const y = F.conv2d(x, w, null, { stride: 2 });
  assert.deepEqual(await y.toArray(), [[[[10, 18], [42, 50]]]]);
});

test("tensor display bundle has text and html with stats", async () => {
  const b = await toMimeBundle(tensor([[1, 2], [3, 4]])) as Record<string, string>;
  assert.ok(b["text/plain"]!.includes(`shape=[2, 2], dtype=float32, device=${currentDevice()}`), b["text/plain"]); // cpu, or NEXTFRAME_DEVICE
  assert.match(b["text/plain"]!, /min=1\.0000 max=4\.0000 mean=2\.5000/);
  assert.match(b["text/html"]!, /<pre/);
});

test("randn/rand/randint inside compile draw fresh in-graph noise each call", async () => {
  const f = compile((x: Tensor) => [x.add(randn([2000])), rand([2000]), randint(3, 7, [2000])]);
  const [a, u, k] = await f(zeros([2000]));
  const [b] = await f(zeros([2000]));
  const av = Array.from(await a!.data(), Number), bv = Array.from(await b!.data(), Number);
  assert.notDeepEqual(av, bv);
  const mean = av.reduce((s, v) => s + v, 0) / av.length;
  const sd = Math.sqrt(av.reduce((s, v) => s + (v - mean) ** 2, 0) / av.length);
  assert.ok(Math.abs(mean) < 0.1 && Math.abs(sd - 1) < 0.1, `mean ${mean} sd ${sd}`);
  assert.ok(Array.from(await u!.data(), Number).every((v) => v >= 0 && v < 1));
  const ks = Array.from(await k!.data(), Number);
  assert.ok(ks.every((v) => v >= 3 && v < 7) && new Set(ks).size === 4);
});
