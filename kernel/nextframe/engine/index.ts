/**
 * nextframe engine — lazy tensors on onnxruntime-node, with autodiff and compile.
 *
 * ```ts
 * import { tensor, randn, compile, grad, F } from "nextframe";
 * const x = randn([8, 16]);                // concrete leaf (seeded JS RNG; manualSeed(n))
 * const y = x.matmul(w).add(b).relu();     // ops record graph nodes; shapes checked at the call
 * await y.data();                          // compiles the pending subgraph to ONNX, runs it (session cached)
 * const f = compile((x) => model.forward(x)); await f(x);   // traced once per signature, one session.run
 * const [loss, grads] = await valueAndGrad((x) => lossOf(x), { params: model.parameters() })(x);
 * ```
 *
 * - Tensor (tensor.ts): shape, dtype, device, data()/toArray()/item(), elementwise + broadcasting, matmul,
 *   layout (reshape/permute/slice/...), reductions, softmax/logSoftmax, cumsum, topk, gather/indexSelect, detach.
 * - Factories (ops.ts): tensor, zeros, ones, full, arange, eye, randn, rand, randint, concat/cat, stack, where.
 * - F (functional.ts): linear, layerNorm, gelu, silu, softmax, embedding, conv2d, convTranspose2d, dropout,
 *   crossEntropy, mseLoss, scaledDotProductAttention.
 * - Transforms: compile (compile.ts), gradients / grad / valueAndGrad (autodiff.ts), exportOnnx,
 *   capture / withCapture (capture.ts).
 * - Devices (session.ts): setDevice("auto" | "cpu" | "cuda" | "webgpu", {threads}), getDevice().
 * - Errors (errors.ts): ShapeError, DTypeError, NonFiniteLossError — messages name op, shapes and rule.
 *
 * Things worth knowing:
 * - Values are computed only on `await t.data() / toArray() / item()` (or by a compiled function). A computed
 *   tensor keeps its graph (so gradients can flow through it); in long eager loops use compile, or detach().
 * - Inside compile / valueAndGrad / makeTrainStep, tensors created from JS data (tensor(), zeros(), masks) are
 *   graph inputs fed on every call; randn/rand/randint emit in-graph random nodes (fresh noise per call).
 *   Reading values (`await t.data()`) inside a traced function is an error: return the tensor instead.
 * - Sessions are cached by graph structure (ops, attrs, shapes, dtypes), not by data: eager ops on new data
 *   reuse sessions. Scalar literals (x.mul(0.5)) are part of the structure.
 * - float64 works everywhere; ORT's CPU Erf/Conv/ConvTranspose kernels are float32-only, so those round-trip
 *   through float32 (onnx.ts), and float64 graphs run at ORT's "basic" optimisation level (session.ts).
 * - Parameters (nn) must be created from concrete data; makeTrainStep (optim) fuses forward, backward and
 *   AdamW into one session.run with pre-allocated ping-pong buffers.
 */
export * from "./dtype.js";
export * from "./errors.js";
export type { OpType, OpAttrs } from "./graph.js";
export { Tensor, type TensorLike, type NestedArray } from "./tensor.js";
export {
  add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, rsqrt, abs, sign, tanh, sigmoid, relu, sin, cos, erf,
  square, silu, gelu, clamp, eq, ne, lt, le, gt, ge, logicalNot, logicalAnd, logicalOr, cast, where, matmul, reshape,
  flatten, squeeze, unsqueeze, permute, transpose, expand, slice, narrow, chunk, concat, cat, stack, sum, mean, max, min,
  variance, argmax, argmin, softmax, logSoftmax, cumsum, topk, gather, indexSelect, detach, tensor, full, zeros, ones,
  arange, eye, randn, rand, randint, constantOfShape, scalar, type TensorOptions, type RandomOptions,
} from "./ops.js";
export { Generator, manualSeed, globalGenerator } from "./generator.js";
export { evaluate, isTracing } from "./evaluate.js";
export { InterruptedError, isCellInterrupted, throwIfInterrupted, lastInterruption } from "./interrupt.js";
export { compile, exportOnnx, type CompiledFunction } from "./compile.js";
export { capture, withCapture } from "./capture.js";
export { setDevice, getDevice, sessionStats, type Device, type DeviceRequest } from "./session.js";
export * as F from "./functional.js";
export { vjpRules, gradients, grad, valueAndGrad, unbroadcast, type VjpRule, type GradOptions } from "./autodiff.js";
