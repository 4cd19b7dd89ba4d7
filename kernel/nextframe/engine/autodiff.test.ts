// Gradient checks: every differentiable primitive (and the composites built on them) against central finite
// differences in float64, relative error < 1e-6. Ops whose ORT CPU kernels are float32-only (Erf, Conv,
// ConvTranspose: emitted as float32 round trips, see onnx.ts) are checked in float32 with a looser bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { F, Tensor, compile, valueAndGrad, grad, randn, rand, tensor, gradients, vjpRules, where, concat, type DType } from "./index.js";
import { node } from "./tensor.js";
import { onnxLowerings } from "./onnx.js";
import { Generator } from "./generator.js";
import { exportOnnx } from "./compile.js";
import { onnx } from "onnx-proto";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const gen = new Generator(1234);
function rnd(shape: number[], dtype: DType = "float64", lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform());
  return tensor(v, { dtype, shape });
}
/** Values bounded away from 0 (for abs/relu/maximum kinks). */
function rndAway(shape: number[], dtype: DType = "float64"): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => (gen.uniform() < 0.5 ? -1 : 1) * (0.2 + gen.uniform()));
  return tensor(v, { dtype, shape });
}

async function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { tol?: number; h?: number } = {}): Promise<void> {
  const dtype = inputs[0]!.dtype;
  const tol = opts.tol ?? 1e-6;
  const h = opts.h ?? (dtype === "float64" ? 1e-6 : 1e-2);
  const diffIdx = inputs.map((x, i) => (x.dtype === "float64" || x.dtype === "float32" ? i : -1)).filter((i) => i >= 0);
  const out = f(...inputs);
  const r = rnd([...out.shape], out.dtype);
  const L = (...xs: Tensor[]) => f(...xs).mul(r).sum();
  const [, analytic] = await valueAndGrad(L, { argnums: diffIdx })(...inputs);
  const Lc = compile(L);
  for (const [k, i] of diffIdx.entries()) {
    const base = (await inputs[i]!.data()) as Float64Array;
    const a = Array.from(await analytic[k]!.data(), Number);
    const num: number[] = [];
    for (let j = 0; j < base.length; j++) {
      const eval1 = async (delta: number) => {
        const v = base.slice();
        v[j] = v[j]! + delta;
        const xs = inputs.map((x, m) => (m === i ? tensor(v, { dtype: x.dtype, shape: [...x.shape] }) : x));
        return (await Lc(...xs)).item();
      };
      num.push(((await eval1(h)) - (await eval1(-h))) / (2 * h));
    }
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const err = norm(a.map((x, j) => x - num[j]!)) / Math.max(norm(num), norm(a), 1e-12);
    assert.ok(err < tol, `input ${i}: relative error ${err.toExponential(2)} >= ${tol}\nanalytic ${a.slice(0, 6)}\nnumeric  ${num.slice(0, 6)}`);
  }
}

const cases: [string, () => Promise<void>][] = [
  ["neg", () => gradcheck((x) => x.neg(), [rnd([2, 3])])],
  ["exp", () => gradcheck((x) => x.exp(), [rnd([2, 3])])],
  ["log", () => gradcheck((x) => x.log(), [rnd([2, 3], "float64", 0.5, 2)])],
  ["sqrt", () => gradcheck((x) => x.sqrt(), [rnd([2, 3], "float64", 0.5, 2)])],
  ["rsqrt", () => gradcheck((x) => x.rsqrt(), [rnd([2, 3], "float64", 0.5, 2)])],
  ["abs", () => gradcheck((x) => x.abs(), [rndAway([2, 3])])],
  ["tanh", () => gradcheck((x) => x.tanh(), [rnd([2, 3])])],
  ["sigmoid", () => gradcheck((x) => x.sigmoid(), [rnd([2, 3])])],
  ["relu", () => gradcheck((x) => x.relu(), [rndAway([2, 3])])],
  ["sin", () => gradcheck((x) => x.sin(), [rnd([2, 3])])],
  ["cos", () => gradcheck((x) => x.cos(), [rnd([2, 3])])],
  ["silu", () => gradcheck((x) => x.silu(), [rnd([2, 3])])],
  ["gelu tanh", () => gradcheck((x) => x.gelu("tanh"), [rnd([2, 3])])],
  ["square", () => gradcheck((x) => x.square(), [rnd([2, 3])])],
  ["add broadcast", () => gradcheck((a, b) => a.add(b), [rnd([2, 3]), rnd([3])])],
  ["sub broadcast", () => gradcheck((a, b) => a.sub(b), [rnd([2, 1, 3]), rnd([4, 1])])],
  ["mul broadcast", () => gradcheck((a, b) => a.mul(b), [rnd([2, 3]), rnd([2, 1])])],
  ["div broadcast", () => gradcheck((a, b) => a.div(b), [rnd([2, 3]), rnd([3], "float64", 0.5, 2)])],
  ["pow", () => gradcheck((a, b) => a.pow(b), [rnd([2, 3], "float64", 0.5, 2), rnd([3])])],
  ["pow scalar", () => gradcheck((a) => a.pow(3), [rnd([2, 3])])],
  ["maximum", () => gradcheck((a, b) => a.maximum(b), [rnd([2, 3]), rnd([3])])],
  ["minimum", () => gradcheck((a, b) => a.minimum(b), [rnd([2, 3]), rnd([2, 1])])],
  ["where broadcast", () => gradcheck((a, b) => where(tensor([[true, false, true], [false, true, true]]), a, b), [rnd([2, 3]), rnd([3])])],
  ["matmul", () => gradcheck((a, b) => a.matmul(b), [rnd([2, 3, 4]), rnd([4, 5])])],
  ["matmul batch broadcast", () => gradcheck((a, b) => a.matmul(b), [rnd([3, 4]), rnd([2, 4, 5])])],
  ["matmul vector", () => gradcheck((a, b) => a.matmul(b), [rnd([4]), rnd([2, 4, 3])])],
  // k̄ arrives at the transpose as a product and leaves as (A B)ᵀ = Bᵀ Aᵀ
  ["attention scores q kᵀ (batched)", () => gradcheck((q, k) => q.matmul(k.transpose(-2, -1)).square(), [rnd([2, 3, 4, 5]), rnd([2, 3, 6, 5])])],
  ["attention scores q kᵀ (batch broadcast)", () => gradcheck((q, k) => q.matmul(k.transpose(-2, -1)).square(), [rnd([2, 1, 3, 5]), rnd([4, 6, 5])])],
  ["reshape/permute", () => gradcheck((x) => x.reshape([3, 2, 2]).permute([2, 0, 1]), [rnd([2, 6])])],
  ["expand", () => gradcheck((x) => x.expand([2, 3, 4]), [rnd([3, 1])])],
  ["slice", () => gradcheck((x) => x.slice(1, 1, 4), [rnd([2, 5])])],
  ["slices that tile an axis (q, k, v of one qkv)", () => gradcheck((x) => { const [q, k, v] = [0, 1, 2].map((i) => x.slice(1, 2 * i, 2 * i + 2)); return q!.mul(k!).add(v!.exp()); }, [rnd([2, 6])])],
  ["slices with a gap, an overlap and a full use", () => gradcheck((x) => x.slice(1, 0, 2).add(x.slice(1, 3, 5)).mul(x.slice(1, 1, 3)).sum(1).add(x.sum(1)).add(x.slice(0, 1, 2).sum()), [rnd([2, 6])])],
  ["slice step", () => gradcheck((x) => x.slice(1, 1, 6, 2).slice(0, 0, 3, 2), [rnd([3, 7])])],
  ["concat", () => gradcheck((a, b) => concat([a, b, a], 1), [rnd([2, 3]), rnd([2, 2])])],
  ["sum multi-axis", () => gradcheck((x) => x.sum([0, 2]), [rnd([2, 3, 4])])],
  ["sum keepdim", () => gradcheck((x) => x.sum([-1, 1], true), [rnd([2, 3, 4])])],
  ["mean multi-axis", () => gradcheck((x) => x.mean([0, 1]), [rnd([2, 3, 4])])],
  ["max multi-axis", () => gradcheck((x) => x.max([0, 2]), [rnd([2, 3, 4])])],
  ["min keepdim", () => gradcheck((x) => x.min(1, true), [rnd([2, 3, 4])])],
  ["var", () => gradcheck((x) => x.var([1, 2]), [rnd([2, 3, 4])])],
  ["cumsum", () => gradcheck((x) => x.cumsum(1), [rnd([2, 4])])],
  ["topk", () => gradcheck((x) => x.topk(2, 1).values, [rnd([3, 5])])],
  ["softmax", () => gradcheck((x) => x.softmax(1), [rnd([2, 4, 3])])],
  ["logSoftmax", () => gradcheck((x) => x.logSoftmax(-1), [rnd([2, 5])])],
  ["layerNorm affine", () => gradcheck((x, w, b) => F.layerNorm(x, [3, 4], w, b), [rnd([2, 3, 4]), rnd([3, 4]), rnd([3, 4])])],
  ["layerNorm plain", () => gradcheck((x) => F.layerNorm(x, 5), [rnd([3, 5])])],
  // the statistics the layerNorm backward reads from the forward node (LayerNormalization's Mean and InvStdDev outputs)
  ["layerNormStat mean and invStd", () => gradcheck((x) => {
    const ln = F.layerNorm(x, [3, 4]);
    const stat = (which: "mean" | "invStd") => node("layerNormStat", [x, ln], { axis: 1, eps: 1e-5, which }, [2, 1, 1], x.dtype);
    return stat("mean").mul(stat("invStd")).add(stat("invStd").square()).add(ln.sum([1, 2], true));
  }, [rnd([2, 3, 4])])],
  // second order: the layerNorm backward (built from layerNormStat) differentiated again
  ["layerNorm backward, differentiated (plain and affine)", () => gradcheck((x, w) => {
    const [gx] = gradients(F.layerNorm(x, 4).mul(w).sum(), [x]);
    const [gy] = gradients(F.layerNorm(x, 4, w, w.mul(0.5)).square().sum(), [x]);
    return gx!.add(gy!);
  }, [rnd([3, 4]), rnd([4])])],
  ["gather (torch.gather)", () => gradcheck((x) => x.gather(1, tensor([[0, 2, 2], [1, 1, 0]], { dtype: "int64" })), [rnd([2, 3])])],
  ["indexSelect axis 1, 2-D index", () => gradcheck((x) => x.indexSelect(1, tensor([[0, 2], [2, 3]], { dtype: "int64" })), [rnd([2, 4, 3])])],
  ["embedding", () => gradcheck((t) => F.embedding(tensor([[1, 0], [1, 3]], { dtype: "int32" }), t), [rnd([4, 3])])],
  ["scatterAdd", () => gradcheck((d, u) => node("scatterAdd", [d, tensor([[1, 0], [2, 2]], { dtype: "int64" }), u], { axis: 1 }, d.shape, d.dtype), [rnd([2, 3]), rnd([2, 2])])],
  ["indexAdd", () => gradcheck((d, u) => node("indexAdd", [d, tensor([[2], [0], [2]], { dtype: "int64" }), u], {}, d.shape, d.dtype), [rnd([3, 2]), rnd([3, 2])])],
  ["cast float64→float32→float64", () => gradcheck((x) => x.cast("float32").cast("float64").mul(x), [rnd([2, 2])], { tol: 1e-4, h: 1e-2 })],
  ["crossEntropy", () => gradcheck((x) => F.crossEntropy(x, tensor([2, 0, 1], { dtype: "int64" })), [rnd([3, 4])])],
  ["mseLoss", () => gradcheck((a, b) => F.mseLoss(a, b), [rnd([2, 3]), rnd([2, 3])])],
  ["attention causal", () => gradcheck((q, k, v) => F.scaledDotProductAttention(q, k, v, { causal: true }), [rnd([1, 2, 3, 4]), rnd([1, 2, 3, 4]), rnd([1, 2, 3, 4])])],
  ["linear", () => gradcheck((x, w, b) => F.linear(x, w, b), [rnd([2, 3]), rnd([4, 3]), rnd([4])])],
  // float32-only ORT kernels: looser bound (float32 finite differences)
  ["erf (float32)", () => gradcheck((x) => x.erf(), [rnd([2, 3], "float32")], { tol: 2e-2 })],
  ["gelu exact (float32)", () => gradcheck((x) => x.gelu(), [rnd([2, 3], "float32")], { tol: 2e-2 })],
  ["conv2d stride/pad (float32)", () => gradcheck((x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [rnd([2, 2, 5, 5], "float32"), rnd([3, 2, 3, 3], "float32"), rnd([3], "float32")], { tol: 2e-2 })],
  ["convTranspose2d (float32)", () => gradcheck((x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }), [rnd([1, 2, 3, 3], "float32"), rnd([2, 3, 3, 3], "float32"), rnd([3], "float32")], { tol: 2e-2 })],
];
for (const [name, run] of cases) test(`vjp ${name} matches finite differences`, run);

test("vjpRules and the ONNX lowerings cover the same primitives", () => {
  assert.deepEqual(Object.keys(vjpRules).sort(), Object.keys(onnxLowerings).sort());
  assert.ok(Object.keys(vjpRules).length >= 55);
});

test("grad w.r.t. params; gradients usable inside compile", async () => {
  const w = randn([3], { seed: 5, dtype: "float64" });
  const x = rand([3], { seed: 6, dtype: "float64" });
  const [g] = await grad(() => w.mul(x).sum(), { params: [w] })();
  assert.deepEqual(Array.from(await g!.data(), Number), Array.from(await x.data(), Number));
  const f = compile((x: Tensor) => gradients(x.square().sum(), [x])[0]!);
  assert.deepEqual(await (await f(tensor([1, 2]))).toArray(), [2, 4]);
});

test("grad rejects non-scalar outputs with a clear message", async () => {
  await assert.rejects(valueAndGrad((x: Tensor) => x.mul(2))(tensor([1, 2])), /grad: the function must return a scalar \(one element\), got shape \[2\]/);
});

test("GELU's backward reads x only, so the forward chain stays one fusable Gelu/FastGelu pattern in a train graph", async () => {
  for (const approximate of ["tanh", "none"] as const) {
    const path = join(mkdtempSync(join(tmpdir(), "nf-gelu-")), "g.onnx");
    const x = rnd([4, 6], "float32");
    await exportOnnx((x: Tensor) => { const loss = x.gelu(approximate).square().sum(); return loss.add(gradients(loss, [x])[0]!.sum()); }, [x], path);
    const nodes = onnx.ModelProto.decode(readFileSync(path)).graph!.node!;
    const core = nodes.find((n) => n.opType === (approximate === "tanh" ? "Tanh" : "Erf"))!;
    // the chain's last Add (1 + tanh / 1 + erf) and the Tanh/Erf itself each feed exactly one node
    const consumers = (name: string) => nodes.filter((n) => n.input!.includes(name)).length;
    assert.equal(consumers(core.output![0]!), 1, `${approximate}: ${nodes.map((n) => n.opType).join(" ")}`);
    const plus = nodes.find((n) => n.input!.includes(core.output![0]!))!;
    assert.equal(consumers(plus.output![0]!), 1, `${approximate}: ${nodes.map((n) => n.opType).join(" ")}`);
  }
});

test("the gradient through a transposed operand of a product is one product, not a product plus a Transpose of its result", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "nf-qkt-")), "g.onnx");
  const q = rnd([2, 3, 8, 4], "float32"), k = rnd([2, 3, 8, 4], "float32");
  await exportOnnx((q: Tensor, k: Tensor) => gradients(q.matmul(k.transpose(-2, -1)).square().sum(), [k])[0]!, [q, k], path);
  const nodes = onnx.ModelProto.decode(readFileSync(path)).graph!.node!;
  const made = new Map(nodes.flatMap((n) => n.output!.map((o) => [o, n.opType] as const)));
  const transposedProducts = nodes.filter((n) => n.opType === "Transpose" && made.get(n.input![0]!) === "MatMul");
  assert.equal(transposedProducts.length, 0, nodes.map((n) => n.opType).join(" "));
});

test("slices that tile an axis get one Concat in the backward graph, not a Pad and an Add each", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "nf-slices-")), "g.onnx");
  const x = rnd([4, 6], "float32");
  await exportOnnx((x: Tensor) => gradients(x.slice(1, 0, 2).mul(x.slice(1, 2, 4)).add(x.slice(1, 4, 6).exp()).sum(), [x])[0]!, [x], path);
  const ops = onnx.ModelProto.decode(readFileSync(path)).graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "Concat").length, 1, ops.join(" "));
  assert.equal(ops.filter((o) => o === "Pad").length, 0, ops.join(" "));
});

test("float32 layerNorm backward reads the forward node's Mean / InvStdDev outputs and matches the float64 gradient", async () => {
  for (const affine of [false, true]) {
    const x64 = rnd([4, 6, 8]), w64 = rnd([8]), r64 = rnd([4, 6, 8]);
    const loss = (x: Tensor, w: Tensor, r: Tensor) => (affine ? F.layerNorm(x, 8, w, w.mul(0.3)) : F.layerNorm(x, 8)).mul(r).mul(w).sum();
    const [, [g64]] = await valueAndGrad(loss)(x64, w64, r64);
    const f32 = [x64, w64, r64].map((t) => t.cast("float32"));
    const [, [g32]] = await valueAndGrad(loss)(...f32);
    const a = Array.from(await g64!.data(), Number), b = Array.from(await g32!.data(), Number);
    const scale = Math.max(...a.map(Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5 * scale, `affine ${affine} at ${i}: ${v} vs ${b[i]}`));
    // one LayerNormalization with all three outputs, and nothing recomputing the mean over x
    const path = join(mkdtempSync(join(tmpdir(), "nf-ln-")), "g.onnx");
    await exportOnnx((x: Tensor, w: Tensor, r: Tensor) => gradients(loss(x, w, r), [x])[0]!, f32, path);
    const nodes = onnx.ModelProto.decode(readFileSync(path)).graph!.node!;
    const lns = nodes.filter((n) => n.opType === "LayerNormalization");
    assert.equal(lns.length, 1);
    assert.equal(lns[0]!.output!.length, 3);
    assert.ok(!nodes.some((n) => n.opType === "ReduceMean" || n.opType === "Sqrt"), nodes.map((n) => n.opType).join(" "));
  }
});

test("GELU (tanh) backward on a large float32 tensor matches float64", async () => {
  const x64 = rnd([64, 1024], "float64", -4, 4), r64 = rnd([64, 1024]);
  const loss = (x: Tensor, r: Tensor) => x.gelu("tanh").mul(r).sum();
  const [, [g64]] = await valueAndGrad(loss)(x64, r64);
  const f32 = [x64, r64].map((t) => t.cast("float32"));
  const [, [g32]] = await valueAndGrad(loss)(...f32);
  const a = Array.from(await g64!.data(), Number), b = Array.from(await g32!.data(), Number);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 2e-6 * (1 + Math.abs(v)), `at ${i}: ${v} vs ${b[i]}`));
});
