import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, matmul, randn, tensor, F, type Tensor } from "./index.js";
import { Linear } from "../nn/index.js";
import { normal_ } from "../nn/init.js";
import { Generator } from "./generator.js";
import { onnx } from "onnx-proto";
import { collect, usesFloat64 } from "./evaluate.js";
import { emitModel } from "./onnx.js";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `at ${i}: ${a[i]} vs ${b[i]}`);
};

/** Plain JS reference: x (n, k) · W (m, k)ᵀ + b. */
function linearRef(x: Float32Array, w: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  const y = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = b[j]!;
    for (let q = 0; q < k; q++) s += x[i * k + q]! * w[j * k + q]!;
    y[i * m + j] = s;
  }
  return y;
}

test("products with a bias add (emitted as one Gemm with C) match a reference, float32 and float64", async () => {
  for (const dtype of ["float32", "float64"] as const) {
    const [n, k, m] = [5, 7, 3];
    const xs = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i));
    const ws = Float32Array.from({ length: m * k }, (_, i) => Math.cos(i));
    const bs = Float32Array.of(0.5, -1, 2);
    const x = tensor(xs, { shape: [n, k], dtype }), w = tensor(ws, { shape: [m, k], dtype }), b = tensor(bs, { dtype });
    const ref = linearRef(xs, ws, bs, n, k, m);
    const f = compile((a) => F.linear(a, w, b));
    close(Array.from((await (await f(x)).data()) as Float64Array), ref);
    // bias first, row bias (n, 1), and a full (n, m) addend (the product of another GEMM)
    const rowBias = tensor(Float32Array.from({ length: n }, (_, i) => i), { shape: [n, 1], dtype });
    const g = compile((a) => [b.add(matmul(a, w.transpose(0, 1))), matmul(a, w.transpose(0, 1)).add(rowBias),
      matmul(a, w.transpose(0, 1)).add(matmul(a, w.transpose(0, 1)))]);
    const [y1, y2, y3] = (await g(x)) as unknown as ReturnType<typeof tensor>[];
    close(Array.from((await y1!.data()) as Float64Array), ref);
    close(Array.from((await y2!.data()) as Float64Array), Array.from(ref, (v, i) => v - bs[i % m]! + Math.floor(i / m)));
    close(Array.from((await y3!.data()) as Float64Array), Array.from(ref, (v, i) => 2 * (v - bs[i % m]!)));
  }
});

test("compile({ freeze }) bakes parameters in, and rebuilds when they are replaced or re-initialised", async () => {
  const lin = new Linear(4, 3);
  const x = tensor(Float32Array.from({ length: 8 }, (_, i) => i / 8), { shape: [2, 4] });
  const live = compile((a) => lin.forward(a));
  const frozen = compile((a) => lin.forward(a), { freeze: true });
  const same = async () => close((await (await frozen(x)).data()) as Float32Array, (await (await live(x)).data()) as Float32Array);
  await same();
  await same();
  assert.equal(frozen.traces, 1);
  // replaced data (as optimizers, loadStateDict and EMA do)
  lin.weight._value = Float32Array.from({ length: 12 }, (_, i) => i - 6);
  await same();
  // in-place re-initialisation through nn.init
  normal_(lin.bias!, 1, 3, new Generator(1));
  await same();
  assert.equal(frozen.traces, 1);
  // the output really changed with the parameters (the check above is not vacuous)
  const before = Array.from((await (await frozen(x)).data()) as Float32Array);
  normal_(lin.weight, 1, 0, new Generator(2));
  assert.notDeepEqual(Array.from((await (await frozen(x)).data()) as Float32Array), before);
});

test("a linear layer is emitted as a single Gemm carrying its bias; a shared product is not absorbed", async () => {
  const { emitModel } = await import("./onnx.js");
  const { collect } = await import("./evaluate.js");

  const x = tensor(new Float32Array(6), { shape: [2, 3] }), w = tensor(new Float32Array(12), { shape: [4, 3] }), b = tensor(new Float32Array(4));
  const opTypes = (outs: ReturnType<typeof tensor>[]) => {
    const { leaves, nodes } = collect(outs);
    const m = onnx.ModelProto.decode(emitModel({ inputs: leaves, nodes, outputs: outs }));
    return m.graph!.node!.map((n) => `${n.opType}/${n.input!.length}`);
  };
  assert.deepEqual(opTypes([F.linear(x, w, b)]), ["Gemm/3"]);
  const p = matmul(x, w.transpose(0, 1));
  assert.deepEqual(opTypes([p.add(b), p.mul(2)]).sort(), ["Add/2", "Gemm/2", "Mul/2"]);
});

test("slices that tile an axis become one Split node (gaps as unused outputs, at most 15 outputs); overlapping slices stay slices; values as eager", async () => {
  const { emitModel } = await import("./onnx.js");
  const { collect } = await import("./evaluate.js");
  const x = tensor(Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3), { shape: [2, 12] });
  const opTypes = (outs: ReturnType<typeof tensor>[]) => {
    const { leaves, nodes } = collect(outs);
    return onnx.ModelProto.decode(emitModel({ inputs: leaves, nodes, outputs: outs })).graph!.node!.map((n) => `${n.opType}/${n.output!.length}`);
  };
  const chunks = (a: ReturnType<typeof tensor>) => a.chunk(3, 1);                       // [0,4) [4,8) [8,12)
  const gappy = (a: ReturnType<typeof tensor>) => [a.slice(1, 1, 3), a.slice(1, 6, 9)]; // [1,3) [6,9): sizes 1,2,3,3,3
  const overlapping = (a: ReturnType<typeof tensor>) => [a.slice(1, 0, 6), a.slice(1, 4, 8)];
  assert.deepEqual(opTypes(chunks(x)), ["Split/3"]);
  assert.deepEqual(opTypes(gappy(x)), ["Split/5"]);
  assert.deepEqual(opTypes(overlapping(x)), ["Slice/1", "Slice/1"]);
  // more parts than a WebGPU shader can bind (16 buffers): slices, not one Split
  const many = (a: ReturnType<typeof tensor>) => a.reshape([24]).chunk(24, 0);
  assert.deepEqual(new Set(opTypes(many(x)).filter((o) => o !== "Reshape/1")), new Set(["Slice/1"]));
  assert.deepEqual(opTypes(many(x).slice(0, 12)).filter((o) => o !== "Reshape/1"), ["Split/13"]); // 12 parts and the rest
  for (const f of [chunks, gappy, overlapping, many]) {
    const eager = await Promise.all(f(x).map(async (t) => Array.from((await t.data()) as Float32Array, (v) => v * 2)));
    const compiled = await compile((a) => f(a).map((t) => t.mul(2)))(x);
    for (const [i, t] of (compiled as ReturnType<typeof tensor>[]).entries()) assert.deepEqual(Array.from(await t.data(), Number), eager[i]);
  }
});

test("a compiled function and a train step follow setDevice: a new session for the new device or thread count", async () => {
  const { setDevice, getDevice } = await import("./session.js");
  const { makeTrainStep, AdamW } = await import("../optim/index.js");
  const before = getDevice();
  const lin = new Linear(4, 2);
  const x = tensor(Float32Array.from({ length: 8 }, (_, i) => i / 8), { shape: [2, 4] });
  const f = compile((a) => lin.forward(a), { freeze: true });
  const step = makeTrainStep(lin, (a) => lin.forward(a).square().mean(), new AdamW(lin.parameters(), { lr: 1e-3 }));
  try {
    await setDevice("cpu", { threads: 1 });
    const one = Array.from((await (await f(x)).data()) as Float32Array);
    await step(x);
    await setDevice("cpu", { threads: 2 });
    const two = Array.from((await (await f(x)).data()) as Float32Array);
    close(two, Array.from((await (await compile((a) => lin.forward(a))(x)).data()) as Float32Array)); // the stepped weights
    assert.notDeepEqual(two, one);
    await step(x);
    assert.equal(f.traces, 2, "the session made for 1 thread must not serve the 2-thread setting");
    assert.equal(step.traces, 2);
  } finally {
    await setDevice(before.device, { threads: before.threads });
  }
});

test("a float64 input that is only cast to float32 keeps a graph at full optimisation; float64 arithmetic does not", async () => {
  const x = tensor([-1, 0.5, 2], { dtype: "float32" }), lr = tensor([0.5], { shape: [], dtype: "float64" });
  const scaled = (x: Tensor, lr: Tensor) => x.mul(x.sigmoid()).mul(lr.cast("float32")); // x·σ(x): a fusion pattern
  assert.equal(usesFloat64(collect([scaled(x, lr)]).nodes), false);
  assert.equal(usesFloat64(collect([x.cast("float64").mul(2)]).nodes), true);
  assert.equal(usesFloat64(collect([lr.lt(1)]).nodes), true);
  const got = Array.from(await (await compile(scaled)(x, lr)).data(), Number);
  close(got, [-1, 0.5, 2].map((v) => (0.5 * v) / (1 + Math.exp(-v))));
});

test("autocast float16 runs matrix products (Gemm, MatMul, Conv) in half precision and the rest in float32", async () => {
  const x = randn([4, 3, 8, 8], { seed: 1 }), w = randn([16, 3, 3, 3], { seed: 2 }).mul(0.3), a = randn([4, 32, 32], { seed: 3 });
  const lin = new Linear(16 * 8 * 8, 32);
  const fn = (xx: Tensor, aa: Tensor) => {
    const h = F.conv2d(xx, w, undefined, { padding: 1 }).reshape([4, 16 * 8 * 8]);     // Conv
    const y = lin.forward(h);                                                         // Gemm with bias
    return F.softmax(matmul(aa, y.reshape([4, 32, 1]).mul(aa)).mul(0.05), -1);          // batched MatMul, then softmax
  };
  const full = (await (await compile(fn)(x, a)).data()) as Float32Array;
  // frozen: the weights are initializers, cast to float16 once (on onnxruntime's CPU provider, which has no
  // half kernels, that rounding is all that happens; a GPU provider runs the products in half precision)
  const half = (await (await compile(fn, { autocast: "float16", freeze: true })(x, a)).data()) as Float32Array;
  let err = 0, scale = 0;
  for (let i = 0; i < full.length; i++) { err = Math.max(err, Math.abs(half[i]! - full[i]!)); scale = Math.max(scale, Math.abs(full[i]!)); }
  // rounded weights: a visible difference (not the float32 graph again), of half precision's size
  assert.ok(err > 1e-6 * scale && err < 2e-2 * scale, `half vs float32: max error ${err} at scale ${scale}`);
  // the emitted graph: each product reads Casts to float16 and is cast back up before the float32 softmax
  const out = fn(x, a);
  const { leaves, nodes } = collect([out]);
  const model = onnx.ModelProto.decode(emitModel({ inputs: [], initializers: leaves, nodes, outputs: [out], autocast: "float16" }));
  const byOutput = new Map(model.graph!.node!.map((n) => [n.output![0]!, n]));
  const isCastTo = (name: string, to: number) => { const n = byOutput.get(name); return n?.opType === "Cast" && Number(n.attribute![0]!.i) === to; };
  const products = model.graph!.node!.filter((n) => ["MatMul", "Gemm", "Conv"].includes(n.opType!));
  assert.deepEqual(products.map((n) => n.opType).sort(), ["Conv", "Gemm", "MatMul"]);
  for (const p of products) for (const i of p.input!) assert.ok(isCastTo(i, 10), `${p.opType} input ${i} is not cast to float16`);
  for (const p of products) {
    const readers = model.graph!.node!.filter((n) => n.input!.includes(p.output![0]!));
    assert.ok(readers.length === 1 && isCastTo(readers[0]!.output![0]!, 1), `${p.opType}'s half result is not cast back to float32`);
  }
  const soft = model.graph!.node!.find((n) => n.opType === "Softmax")!;
  assert.ok(!isCastTo(soft.input![0]!, 10), "softmax reads float16");
  assert.throws(() => compile(fn, { autocast: "bfloat16" as "float16" }), /autocast.*"float16".*"bfloat16"/);
});

test("scaled sums a·x ± b·y over large tensors (a constant) are one Gemm and match a JS reference; other sums stay as they are", async () => {
  const n = 1 << 16;
  const xs = Float32Array.from({ length: n }, (_, i) => Math.sin(i)), ys = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i));
  const x = tensor(xs, { shape: [n / 64, 64] }), y = tensor(ys, { shape: [n / 64, 64] });
  const s = tensor([0.25], { shape: [] }), u = tensor([-1.5], { shape: [1] });
  type Case = [string, (x: Tensor, y: Tensor, s: Tensor, u: Tensor) => Tensor, (a: number, b: number) => number, boolean];
  const cases: Case[] = [
    ["0.9x + s·y", (x, y, s) => x.mul(0.9).add(y.mul(s)), (a, b) => 0.9 * a + 0.25 * b, true],
    ["s·y + 0.9x", (x, y, s) => y.mul(s).add(x.mul(0.9)), (a, b) => 0.25 * b + 0.9 * a, true],
    ["s·x − 0.5y", (x, y, s) => x.mul(s).sub(y.mul(0.5)), (a, b) => 0.25 * a - 0.5 * b, true],
    ["u·x − 0.5y (u of shape [1])", (x, y, _s, u) => x.mul(u).sub(y.mul(0.5)), (a, b) => -1.5 * a - 0.5 * b, true],
    ["x·2 − 3·y", (x, y) => x.mul(2).sub(y.mul(3)), (a, b) => 2 * a - 3 * b, true],
    ["s·x − u·y (no constant)", (x, y, s, u) => x.mul(s).sub(y.mul(u)), (a, b) => 0.25 * a + 1.5 * b, false],
    ["x − u·y (one factor)", (x, y, _s, u) => x.sub(y.mul(u)), (a, b) => a + 1.5 * b, false],
  ];
  for (const [name, fn, ref, fused] of cases) {
    const f = compile(fn);
    const got = (await (await f(x, y, s, u)).data()) as Float32Array;
    close(got, Array.from(xs, (a, i) => ref(a, ys[i]!)), 1e-6);
    const ph = [x, y, s, u];
    const out = fn(...(ph as [Tensor, Tensor, Tensor, Tensor]));
    const { nodes } = collect([out]);
    const m = onnx.ModelProto.decode(emitModel({ inputs: ph, nodes, outputs: [out] }));
    const ops = m.graph!.node!.map((nd) => nd.opType);
    if (fused) {
      assert.equal(ops.filter((o) => o === "Gemm").length, 1, `${name}: ${ops.join(",")}`);
      assert.equal(ops.filter((o) => o === "Add" || o === "Sub").length, 0, `${name}: ${ops.join(",")}`);
      assert.ok(ops.filter((o) => o === "Mul").length <= 1, `${name}: ${ops.join(",")}`);   // the diagonal times a computed factor
    } else {
      assert.equal(ops.filter((o) => o === "Gemm").length, 0, `${name}: ${ops.join(",")}`);
    }
  }
  // a small tensor, or a product that is also used elsewhere: left as Mul / Add
  const small = compile((x: Tensor, s: Tensor) => x.mul(s).add(x.mul(2)));
  close((await (await small(tensor([1, 2, 3]), s)).data()) as Float32Array, [2.25, 4.5, 6.75]);
  const shared = compile((x: Tensor, y: Tensor, s: Tensor) => { const p = y.mul(s); return [x.mul(0.5).add(p), p]; });
  const [a, p] = (await shared(x, y, s)) as unknown as Tensor[];
  close((await a!.data()) as Float32Array, Array.from(xs, (v, i) => 0.5 * v + 0.25 * ys[i]!), 1e-6);
  close((await p!.data()) as Float32Array, Array.from(ys, (v) => 0.25 * v), 1e-6);
});
