/**
 * Reverse-mode autodiff on the graph IR. `vjpRules` has one vector-Jacobian product per primitive (graph.ts),
 * typed `{ [K in OpType]: VjpRule<K> }` so a primitive without a rule fails to compile. Rules build ordinary
 * lazy ops, so the backward pass is emitted as ONNX nodes into the same graph as the forward pass.
 *
 * Notation in the math comments: y = op(x...), ḡ = ∂L/∂y (the incoming cotangent), x̄ = ∂L/∂x.
 */
import type { OpAttrs, OpType } from "./graph.js";
import { node, Tensor } from "./tensor.js";
import * as ops from "./ops.js";
import { convTranspose2d, conv2d } from "./functional.js";
import { fmtShape, isFloat, type Shape } from "./dtype.js";
import { DTypeError, NextframeError, ShapeError } from "./errors.js";
import { compile } from "./compile.js";

export interface VjpContext<K extends OpType> {
  inputs: readonly Tensor[];
  attrs: OpAttrs[K];
  /** The forward output y. */
  out: Tensor;
}
/** Returns one cotangent per input (null: no gradient flows to that input). */
export type VjpRule<K extends OpType> = (g: Tensor, c: VjpContext<K>) => (Tensor | null)[];

const { add, sub, mul, div, neg, exp, log, cos, sin, where, cast, reshape, expand, sum } = ops;

/** Sums ḡ over the dims that broadcasting added or stretched, so x̄ has x's shape. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, true), shape);
}

const zerosOf = (t: Tensor) => ops.constantOfShape(t.shape, 0, t.dtype);
/** The value of a graph constant (constantOfShape, any shape), else null. */
const constValue = (t: Tensor): number | null => (t.op === "constantOfShape" && t._value === null ? (t.attrs as OpAttrs["constantOfShape"]).value : null);
const noGrad = (c: { inputs: readonly Tensor[] }) => c.inputs.map(() => null);

/** ḡ reshaped so it broadcasts back over the reduced axes (keepdims layout). */
function keepDims(g: Tensor, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return keepdims ? g : reshape(g, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

/** ∂L/∂W of a conv2d: correlate x with ḡ (batch as channels), stride and dilation swapped. */
function convWeightGrad(x: Tensor, g: Tensor, wShape: Shape, a: { stride: [number, number]; padding: [number, number]; dilation: [number, number] }): Tensor {
  const xt = ops.permute(x, [1, 0, 2, 3]); // (C, N, H, W)
  const gt = ops.permute(g, [1, 0, 2, 3]); // (O, N, OH, OW)
  const r = conv2d(xt, gt, null, { stride: a.dilation, padding: a.padding, dilation: a.stride }); // (C, O, kh', kw')
  const cut = ops.slice(ops.slice(r, 2, 0, wShape[2]!), 3, 0, wShape[3]!);
  return ops.permute(cut, [1, 0, 2, 3]); // (O, C, kh, kw)
}

export const vjpRules: { [K in OpType]: VjpRule<K> } = {
  // d(-x) = -dx
  neg: (g) => [neg(g)],
  // d eˣ = eˣ dx = y dx
  exp: (g, { out }) => [mul(g, out)],
  // d log x = dx / x
  log: (g, { inputs: [x] }) => [div(g, x!)],
  // d √x = dx / (2 √x) = dx / (2y)
  sqrt: (g, { out }) => [div(g, mul(out, 2))],
  // d|x| = sign(x) dx
  abs: (g, { inputs: [x] }) => [mul(g, ops.sign(x!))],
  // d tanh x = (1 - y²) dx
  tanh: (g, { out }) => [mul(g, sub(1, mul(out, out)))],
  // d σ(x) = y (1 - y) dx
  sigmoid: (g, { out }) => [mul(g, mul(out, sub(1, out)))],
  // d relu(x) = [x > 0] dx
  relu: (g, { inputs: [x] }) => [where(ops.gt(x!, 0), g, 0)],
  // d sin x = cos x dx
  sin: (g, { inputs: [x] }) => [mul(g, cos(x!))],
  // d cos x = -sin x dx
  cos: (g, { inputs: [x] }) => [neg(mul(g, sin(x!)))],
  // d erf x = 2/√π e^(-x²) dx
  erf: (g, { inputs: [x] }) => [mul(g, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))],
  // GELU, from x alone (the forward chain stays fusable into one kernel):
  //   "none": d[x Φ(x)] = Φ(x) + x φ(x) = 0.5 (1 + erf(x/√2)) + x e^(−x²/2) / √(2π)
  //   "tanh": 0.5 x (1 + tanh u) = x σ(v), v = 2u = x (a + b x²), a = 2√(2/π), b = 0.044715 a;
  //           d[x σ(v)] = σ + x σ (1 − σ) v' = σ (1 + x w (1 − σ)), w = v' = a + 3b x²
  //           (writing v = a x + b x³ as a Gemm-fused scaled sum was measured slower: 20.1 vs 18.3 ms per GELU in DiT-S/2)
  gelu: (g, { inputs: [x], attrs: { approximate } }) => {
    const x2 = mul(x!, x!);
    if (approximate === "tanh") {
      const a = 2 * Math.sqrt(2 / Math.PI), b = 0.044715 * a;
      const s = ops.sigmoid(mul(add(mul(x2, b), a), x!));
      const w = add(mul(x2, 3 * b), a);
      return [mul(g, mul(s, add(mul(mul(x!, w), sub(1, s)), 1)))];
    }
    const cdf = mul(add(ops.erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(x2, -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(g, add(cdf, mul(x!, pdf)))];
  },
  // sign is piecewise constant: zero derivative almost everywhere
  sign: noGrad,
  // d(a + b) = da + db (summed over broadcast dims)
  add: (g, { inputs: [a, b] }) => [unbroadcast(g, a!.shape), unbroadcast(g, b!.shape)],
  // d(a - b) = da - db
  sub: (g, { inputs: [a, b] }) => [unbroadcast(g, a!.shape), unbroadcast(neg(g), b!.shape)],
  // d(a b) = b da + a db
  mul: (g, { inputs: [a, b] }) => [unbroadcast(mul(g, b!), a!.shape), unbroadcast(mul(g, a!), b!.shape)],
  // d(a / b) = da / b - (a / b²) db = da / b - y/b db
  div: (g, { inputs: [a, b], out }) => [unbroadcast(div(g, b!), a!.shape), unbroadcast(neg(div(mul(g, out), b!)), b!.shape)],
  // d(aᵇ) = b aᵇ⁻¹ da + aᵇ log a db   (log a taken as 0 where a <= 0, where the b-derivative is undefined)
  pow: (g, { inputs: [a, b], out }) => [
    unbroadcast(mul(g, mul(b!, ops.pow(a!, sub(b!, 1)))), a!.shape),
    unbroadcast(mul(g, mul(out, where(ops.gt(a!, 0), log(where(ops.gt(a!, 0), a!, 1)), 0))), b!.shape),
  ],
  // d max(a, b) = [a > b] da + [a < b] db, ties split evenly (like torch)
  maximum: (g, { inputs: [a, b] }) => {
    const [one, half, zero] = [1, 0.5, 0].map((v) => ops.scalar(v, g.dtype)) as [Tensor, Tensor, Tensor];
    const wa = where(ops.gt(a!, b!), one, where(ops.eq(a!, b!), half, zero));
    return [unbroadcast(mul(g, wa), a!.shape), unbroadcast(mul(g, sub(1, wa)), b!.shape)];
  },
  // d min(a, b) = [a < b] da + [a > b] db, ties split evenly
  minimum: (g, { inputs: [a, b] }) => {
    const [one, half, zero] = [1, 0.5, 0].map((v) => ops.scalar(v, g.dtype)) as [Tensor, Tensor, Tensor];
    const wa = where(ops.lt(a!, b!), one, where(ops.eq(a!, b!), half, zero));
    return [unbroadcast(mul(g, wa), a!.shape), unbroadcast(mul(g, sub(1, wa)), b!.shape)];
  },
  // comparisons and logic produce bool: no gradient
  equal: noGrad, less: noGrad, lessEqual: noGrad, greater: noGrad, greaterEqual: noGrad, and: noGrad, or: noGrad, not: noGrad,
  // y = c ? a : b  →  ā = c ? ḡ : 0, b̄ = c ? 0 : ḡ
  where: (g, { inputs: [c, a, b] }) => [null, unbroadcast(where(c!, g, 0), a!.shape), unbroadcast(where(c!, 0, g), b!.shape)],
  // a cast between float types passes ḡ through (cast back); casts to/from int or bool have no gradient
  cast: (g, { inputs: [x] }) => [isFloat(x!.dtype) && isFloat(g.dtype) ? cast(g, x!.dtype) : null],
  // stop_gradient: no gradient by definition
  stopGradient: noGrad,
  // constants and random noise have no inputs
  constantOfShape: () => [],
  randomUniform: () => [],
  randomNormal: () => [],
  // Y = A B  →  Ā = Ḡ Bᵀ, B̄ = Aᵀ Ḡ (summed over broadcast batch dims). When one side is a plain matrix
  // shared by the whole batch, its gradient is one GEMM over the flattened batch (no batched product + sum).
  matmul: (g, { inputs: [a, b] }) => {
    const [A, B] = [a!, b!];
    const gradB = B.rank === 2 && A.rank > 2
      ? ops.matmul(ops.transpose(reshape(A, [-1, A.shape[A.rank - 1]!]), 0, 1), reshape(g, [-1, g.shape[g.rank - 1]!]))
      : unbroadcast(ops.matmul(ops.transpose(A, -2, -1), g), B.shape);
    return [unbroadcast(ops.matmul(g, ops.transpose(B, -2, -1)), A.shape), gradB];
  },
  // reshape is linear: x̄ = reshape(ḡ, x.shape)
  reshape: (g, { inputs: [x] }) => [reshape(g, x!.shape)],
  // y = permute(x, p)  →  x̄ = permute(ḡ, p⁻¹)
  transpose: (g, { attrs }) => {
    // (A B)ᵀ = Bᵀ Aᵀ over the last two axes (batch axes broadcast the same either way): a weight gradient, or
    // attention's k̄ = (q̄-side product)ᵀ, stays one product whose operand transposes onnxruntime folds into the
    // GEMM (FusedMatMul's transA/transB) instead of a product plus a Transpose of its result — slow for small
    // trailing axes such as (f, head dim) = (8, 24): 1.9 ms per (4096, 24, 8) swap in the world model's step.
    const r = attrs.perm.length;
    const swapsLastTwo = r >= 2 && attrs.perm.every((p, i) => (i < r - 2 ? p === i : p === 2 * r - 3 - i));
    if (swapsLastTwo && g.op === "matmul" && g._value === null && g.inputs.every((t) => t.rank >= 2)) {
      return [ops.matmul(ops.transpose(g.inputs[1]!, -2, -1), ops.transpose(g.inputs[0]!, -2, -1))];
    }
    const inv = new Array<number>(attrs.perm.length);
    attrs.perm.forEach((p, i) => { inv[p] = i; });
    return [ops.permute(g, inv)];
  },
  // expand copies: x̄ = sum of ḡ over the expanded dims
  expand: (g, { inputs: [x] }) => [unbroadcast(g, x!.shape)],
  // slice selects: x̄ = ḡ scattered back into zeros (pad for step 1; interleave zeros for step > 1)
  slice: (g, { inputs: [x], attrs: { axis, start, end, step } }) => {
    const n = x!.shape[axis]!;
    let spread = g;
    if (step > 1) {
      // (.., m, ..) → (.., m, step, ..) with zeros after each element → (.., m*step, ..) → keep (end - start)
      const m = g.shape[axis]!;
      const withStep = ops.unsqueeze(g, axis + 1);
      const pads = withStep.shape.map((_, i) => [0, i === axis + 1 ? step - 1 : 0] as [number, number]);
      const merged = reshape(ops.pad(withStep, pads), g.shape.map((d, i) => (i === axis ? m * step : d)));
      spread = ops.slice(merged, axis, 0, end - start);
      if (spread.shape[axis]! < end - start) {
        spread = ops.pad(spread, spread.shape.map((_, i) => [0, i === axis ? end - start - spread.shape[axis]! : 0] as [number, number]));
      }
    }
    return [ops.pad(spread, x!.shape.map((_, i) => (i === axis ? [start, n - end] : [0, 0]) as [number, number]))];
  },
  // zero padding: x̄ = the un-padded window of ḡ
  pad: (g, { inputs: [x], attrs: { pads } }) => {
    let r = g;
    const rank = x!.rank;
    for (let i = 0; i < rank; i++) r = ops.slice(r, i, pads[i]!, pads[i]! + x!.shape[i]!);
    return [r];
  },
  // concat: each input gets its slice of ḡ
  concat: (g, { inputs, attrs: { axis } }) => {
    let off = 0;
    return inputs.map((t) => { const s = ops.slice(g, axis, off, off + t.shape[axis]!); off += t.shape[axis]!; return s; });
  },
  // y = Σ_axes x  →  x̄ = broadcast(ḡ)
  reduceSum: (g, { inputs: [x], attrs: { axes, keepdims } }) => [expand(keepDims(g, x!, axes, keepdims), [...x!.shape])],
  // y = max_axes x  →  x̄ = ḡ [x = y] / #argmax (ties share the gradient)
  reduceMax: (g, { inputs: [x], attrs: { axes, keepdims }, out }) => {
    const mask = cast(ops.eq(x!, keepDims(out, x!, axes, keepdims)), x!.dtype);
    return [div(mul(keepDims(g, x!, axes, keepdims), mask), sum(mask, axes, true))];
  },
  // y = min_axes x: as max
  reduceMin: (g, { inputs: [x], attrs: { axes, keepdims }, out }) => {
    const mask = cast(ops.eq(x!, keepDims(out, x!, axes, keepdims)), x!.dtype);
    return [div(mul(keepDims(g, x!, axes, keepdims), mask), sum(mask, axes, true))];
  },
  argMax: noGrad,
  argMin: noGrad,
  // y_i = Σ_{j<=i} x_j  →  x̄_j = Σ_{i>=j} ḡ_i (reverse cumsum; exclusive stays exclusive)
  cumsum: (g, { attrs: { axis, reverse, exclusive } }) => [ops.cumsum(g, axis, { reverse: !reverse, exclusive })],
  // values = x[topk indices]  →  x̄ = scatter-add of ḡ at the indices
  topkValues: (g, { inputs: [x], attrs }) => {
    const idx = node("topkIndices", [x!], { ...attrs }, g.shape, "int64");
    return [node("scatterAdd", [zerosOf(x!), idx, g], { axis: attrs.axis }, x!.shape, x!.dtype)];
  },
  topkIndices: noGrad,
  // y = softmax(x)  →  x̄ = y (ḡ - Σ ḡ y)
  softmax: (g, { attrs: { axis }, out }) => [mul(out, sub(g, sum(mul(g, out), axis, true)))],
  // y = log softmax(x)  →  x̄ = ḡ - eʸ Σ ḡ
  logSoftmax: (g, { attrs: { axis }, out }) => [sub(g, mul(exp(out), sum(g, axis, true)))],
  // y = x̂ γ + β, x̂ = (x - μ) r, r = 1/√(σ² + ε) over axes [axis, rank):
  // x̄ = r (ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = ḡ γ;  γ̄ = Σ_batch ḡ x̂;  β̄ = Σ_batch ḡ
  // r (and μ) come from the forward LayerNormalization's own outputs (layerNormStat); without affine (γ = 1, β = 0,
  // DiT's norms) x̂ is y itself and ĝ is ḡ: no pass over x is repeated.
  layerNorm: (g, { inputs: [x, scale, shift], attrs: { axis, eps }, out }) => {
    const normAxes = Array.from({ length: x!.rank - axis }, (_, i) => axis + i);
    const batchAxes = Array.from({ length: axis }, (_, i) => i);
    const stat = (which: "mean" | "invStd") => node("layerNormStat", [x!, out], { axis, eps, which }, x!.shape.map((d, i) => (i < axis ? d : 1)), x!.dtype);
    const r = stat("invStd");
    const plain = constValue(scale!) === 1 && constValue(shift!) === 0;
    const xhat = plain ? out : mul(sub(x!, stat("mean")), r);
    const gh = constValue(scale!) === 1 ? g : mul(g, scale!);
    const dx = mul(r, sub(sub(gh, ops.mean(gh, normAxes, true)), mul(xhat, ops.mean(mul(gh, xhat), normAxes, true))));
    return [dx, sum(mul(g, xhat), batchAxes), sum(g, batchAxes)];
  },
  // μ = mean(x): x̄ = ḡ / n;  r = (σ² + ε)^(-1/2): x̄ = -ḡ r³ (x - μ) / n (σ² = mean((x - μ)²), whose μ-derivative is 0)
  layerNormStat: (g, { inputs: [x], attrs: { axis, which }, out }) => {
    const normAxes = Array.from({ length: x!.rank - axis }, (_, i) => axis + i);
    const n = normAxes.reduce((p, a) => p * x!.shape[a]!, 1);
    if (which === "mean") return [expand(div(g, n), [...x!.shape]), null];
    const xc = sub(x!, ops.mean(x!, normAxes, true));
    return [mul(xc, mul(g, div(mul(mul(out, out), out), -n))), null];
  },
  // y = x.index_select(axis, idx)  →  x̄ = index-add of ḡ at idx (axis moved to the front for ScatterND)
  gather: (g, { inputs: [x, idx], attrs: { axis } }) => {
    const r = idx!.rank;
    const n = idx!.size;
    // ḡ: x.shape[:axis] + idx.shape + x.shape[axis+1:] → idx dims first, flattened to n
    const perm = [...Array.from({ length: r }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i),
      ...Array.from({ length: g.rank - axis - r }, (_, i) => axis + r + i)];
    const rest = x!.shape.filter((_, i) => i !== axis);
    const upd = reshape(ops.permute(g, perm), [n, ...rest]);
    const dataShape = [x!.shape[axis]!, ...rest];
    const added = node("indexAdd", [ops.constantOfShape(dataShape, 0, x!.dtype), reshape(idx!, [n, 1]), upd], {}, dataShape, x!.dtype);
    const back = [...Array.from({ length: axis }, (_, i) => i + 1), 0, ...Array.from({ length: x!.rank - axis - 1 }, (_, i) => axis + 1 + i)];
    return [ops.permute(added, back), null];
  },
  // y = gather(x, axis, idx) (torch.gather)  →  x̄ = scatter-add of ḡ at idx
  gatherElements: (g, { inputs: [x, idx], attrs: { axis } }) => [node("scatterAdd", [zerosOf(x!), idx!, g], { axis }, x!.shape, x!.dtype), null],
  // y = data + scatter(upd at idx)  →  data̅ = ḡ, upd̅ = gather(ḡ, idx)
  scatterAdd: (g, { inputs: [, idx], attrs: { axis } }) => [g, null, ops.gather(g, axis, idx!)],
  // y = data with upd rows added at idx[:, 0]  →  data̅ = ḡ, upd̅ = ḡ[idx]
  indexAdd: (g, { inputs: [, idx] }) => [g, null, ops.indexSelect(g, 0, reshape(idx!, [idx!.shape[0]!]))],
  // Y = X ⋆ W + b  →  X̄ = Ḡ ⋆ᵀ W (transposed conv), W̄ = X ⋆ Ḡ (batch as channels), b̄ = Σ_{n,h,w} Ḡ
  conv2d: (g, { inputs: [x, w, b], attrs }) => {
    const [kh, kw] = [w!.shape[2]!, w!.shape[3]!];
    const outH = (g.shape[2]! - 1) * attrs.stride[0] - 2 * attrs.padding[0] + attrs.dilation[0] * (kh - 1) + 1;
    const outW = (g.shape[3]! - 1) * attrs.stride[1] - 2 * attrs.padding[1] + attrs.dilation[1] * (kw - 1) + 1;
    const dx = convTranspose2d(g, w!, null, {
      stride: attrs.stride, padding: attrs.padding, dilation: attrs.dilation,
      outputPadding: [x!.shape[2]! - outH, x!.shape[3]! - outW],
    });
    const dw = convWeightGrad(x!, g, w!.shape, attrs);
    return b ? [dx, dw, sum(g, [0, 2, 3])] : [dx, dw];
  },
  // Y = X ⋆ᵀ W (adjoint of conv)  →  X̄ = Ḡ ⋆ W, W̄ = Ḡ ⋆ X (roles of input and output swapped), b̄ = Σ Ḡ
  convTranspose2d: (g, { inputs: [x, w, b], attrs }) => {
    const dx = conv2d(g, w!, null, { stride: attrs.stride, padding: attrs.padding, dilation: attrs.dilation });
    const dw = convWeightGrad(g, x!, w!.shape, attrs);
    return b ? [dx, dw, sum(g, [0, 2, 3])] : [dx, dw];
  },
};

/** Nodes between y and the leaves, topologically ordered, not stopping at computed values. */
function topoFrom(y: Tensor, stop: Set<Tensor>): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([y]);
  const stack: [Tensor, number][] = [[y, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (t.op === null || stop.has(t)) { order.push(t); stack.pop(); continue; }
    if (i < t.inputs.length) {
      top[1]++;
      const c = t.inputs[i]!;
      if (!seen.has(c)) { seen.add(c); stack.push([c, 0]); }
    } else { order.push(t); stack.pop(); }
  }
  return order;
}

/** A cotangent contribution: a full tensor, or ḡ of a step-1 slice of the tensor (the window it came from). */
type Contribution = Tensor | { window: OpAttrs["slice"]; g: Tensor };

/**
 * Sums the contributions to x̄. Slice windows along one axis that do not overlap become one Concat of their
 * cotangents (zeros in the gaps); anything else is padded back to x's shape and added.
 */
function combine(x: Tensor, parts: Contribution[]): Tensor {
  const full = parts.filter((p): p is Tensor => p instanceof Tensor);
  // (an empty window contributes nothing)
  const windows = parts.filter((p): p is { window: OpAttrs["slice"]; g: Tensor } => !(p instanceof Tensor) && p.window.end > p.window.start);
  const byAxis = new Map<number, { window: OpAttrs["slice"]; g: Tensor }[]>();
  for (const w of windows) { const l = byAxis.get(w.window.axis); if (l) l.push(w); else byAxis.set(w.window.axis, [w]); }
  for (const [axis, ws] of byAxis) {
    ws.sort((a, b) => a.window.start - b.window.start);
    const n = x.shape[axis]!;
    const disjoint = ws.every((w, i) => i === 0 || ws[i - 1]!.window.end <= w.window.start);
    if (!disjoint) { for (const w of ws) full.push(padWindow(x, w.window, w.g)); continue; }
    const pieces: Tensor[] = [];
    let at = 0;
    const gap = (to: number) => { if (to > at) pieces.push(ops.constantOfShape(x.shape.map((d, i) => (i === axis ? to - at : d)), 0, ws[0]!.g.dtype)); };
    for (const w of ws) { gap(w.window.start); pieces.push(w.g); at = w.window.end; }
    gap(n);
    full.push(pieces.length === 1 ? pieces[0]! : ops.concat(pieces, axis));
  }
  return full.length ? full.reduce((a, b) => add(a, b)) : ops.constantOfShape(x.shape, 0, parts.map((p) => (p instanceof Tensor ? p : p.g))[0]!.dtype);
}

/** ḡ of x[start:end] along axis, scattered back into zeros of x's shape. */
function padWindow(x: Tensor, w: OpAttrs["slice"], g: Tensor): Tensor {
  return ops.pad(g, x.shape.map((_, i) => (i === w.axis ? [w.start, x.shape[i]! - w.end] : [0, 0]) as [number, number]));
}

/**
 * Symbolic gradients ∂y/∂x for each x in xs (lazy tensors, same shapes as xs). y must be a float scalar
 * unless a cotangent `seed` of y's shape is given. Usable inside compile.
 */
export function gradients(y: Tensor, xs: readonly Tensor[], seed?: Tensor): Tensor[] {
  if (!isFloat(y.dtype)) throw new DTypeError(`grad: the function must return a float tensor, got ${y.dtype}`);
  if (!seed && y.size !== 1) throw new ShapeError(`grad: the function must return a scalar (one element), got shape ${fmtShape(y.shape)}; reduce it with .sum() or .mean()`);
  if (seed && (seed.rank !== y.rank || seed.shape.some((d, i) => d !== y.shape[i]))) throw new ShapeError(`grad: seed shape ${fmtShape(seed.shape)} differs from output shape ${fmtShape(y.shape)}`);
  const targets = new Set(xs);
  const order = topoFrom(y, targets);
  // relevant: lies on a path from some x to y
  const relevant = new Set<Tensor>();
  for (const t of order) if (targets.has(t) || (t.op !== null && t.inputs.some((i) => relevant.has(i)))) relevant.add(t);
  // cotangent contributions per tensor, summed when the tensor is reached (see combine)
  const ct = new Map<Tensor, Contribution[]>();
  const contribute = (t: Tensor, c: Contribution) => { const l = ct.get(t); if (l) l.push(c); else ct.set(t, [c]); };
  contribute(y, seed ?? ops.constantOfShape(y.shape, 1, y.dtype));
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k]!;
    if (t.op === null || targets.has(t) || !relevant.has(t)) continue;
    const parts = ct.get(t);
    if (!parts) continue;
    const g = combine(t, parts);
    if (t.op === "slice" && (t.attrs as OpAttrs["slice"]).step === 1) {
      // kept as a window: slices that tile an axis (q, k, v out of one qkv) get one Concat, not Pads and Adds
      if (relevant.has(t.inputs[0]!)) contribute(t.inputs[0]!, { window: t.attrs as OpAttrs["slice"], g });
      continue;
    }
    const rule = vjpRules[t.op] as VjpRule<OpType>;
    const grads = rule(g, { inputs: t.inputs, attrs: t.attrs, out: t });
    t.inputs.forEach((inp, i) => {
      const gi = grads[i];
      if (gi && relevant.has(inp)) contribute(inp, gi);
    });
  }
  return xs.map((x) => {
    const parts = ct.get(x);
    const g = parts && combine(x, parts);
    if (!g) return ops.constantOfShape(x.shape, 0, isFloat(x.dtype) ? x.dtype : y.dtype);
    return g.dtype === x.dtype || !isFloat(x.dtype) ? g : cast(g, x.dtype);
  });
}

/** Options of grad/valueAndGrad: differentiate with respect to argument positions (`argnums`) or concrete tensors (`params`). */
export interface GradOptions {
  /** Differentiate w.r.t. these argument positions (default [0]). Ignored when `params` is given. */
  argnums?: number | number[];
  /** Differentiate w.r.t. these concrete tensors (e.g. model.parameters()) instead of arguments. */
  params?: readonly Tensor[];
}

type GradFn = (...args: any[]) => Tensor;

/**
 * valueAndGrad(fn, opts)(...args) → [value, grads]: fn must return a scalar; forward and backward are compiled
 * into one graph per argument signature (one session.run per call).
 */
export function valueAndGrad(fn: GradFn, opts: GradOptions = {}): (...args: (Tensor | number)[]) => Promise<[Tensor, Tensor[]]> {
  const argnums = opts.argnums === undefined ? [0] : typeof opts.argnums === "number" ? [opts.argnums] : opts.argnums;
  const compiled = compile((...args: Tensor[]) => {
    const y = fn(...args);
    if (!(y instanceof Tensor)) throw new NextframeError(`grad: the function must return a Tensor, got ${typeof y}`);
    const wrt = opts.params ? [...opts.params] : argnums.map((i) => {
      if (i >= args.length) throw new NextframeError(`grad: argnums ${i} but the function got ${args.length} arguments`);
      return args[i]!;
    });
    return [y, gradients(y, wrt)];
  });
  return async (...args) => (await compiled(...args)) as [Tensor, Tensor[]];
}

/** grad(fn, opts)(...args) → gradients (see valueAndGrad). */
export function grad(fn: GradFn, opts: GradOptions = {}): (...args: (Tensor | number)[]) => Promise<Tensor[]> {
  const vg = valueAndGrad(fn, opts);
  return async (...args) => (await vg(...args))[1];
}
