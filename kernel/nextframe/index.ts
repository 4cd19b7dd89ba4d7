/**
 * nextframe — the public API, shaped like PyTorch's: tensor basics at the top level (`tensor`, `randn`, `compile`,
 * `grad`, `setDevice`, `manualSeed`, dtypes, errors, `F`), the display helpers every chapter calls at the top
 * level too (`display`, `showTable`, `lineChart`, `claim`, …), and namespaces for the rest:
 *
 *   nn         Module, Parameter, layers, nn.init            optim      AdamW, schedules, EMA, makeTrainStep, fit
 *   diffusion  createDiffusion, samplers, losses             models     models.gpt, models.dit, models.stdit,
 *   patches    patchify, position embeddings, packing                   models.autoencoder, models.worldModel, models.flops
 *   probe      inspecting ONNX files (attention maps)        metrics    image error, permanence, linear probes, captions
 *   worlds     text and video worlds, tokenizers             io         safetensors
 *   course     the course's checkpoints, recipes and chapter experiments
 *
 * kernel/nextframe/API.md lists every public name with one line each (generated from this file).
 */

// ── tensors, transforms, devices, randomness, errors ──
export { Tensor, type TensorLike, type NestedArray } from "./engine/tensor.js";
export {
  tensor, zeros, ones, full, arange, eye, randn, rand, randint, constantOfShape, cat, stack, where,
  add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, rsqrt, abs, sign, sin, cos, erf, square, clamp,
  eq, ne, lt, le, gt, ge, logicalNot, logicalAnd, logicalOr, cast, matmul, reshape, flatten, squeeze, unsqueeze, permute,
  transpose, expand, slice, narrow, chunk, sum, mean, max, min, variance, argmax, argmin, cumsum, topk, gather,
  indexSelect, detach, type TensorOptions, type RandomOptions,
} from "./engine/ops.js";
// activations and softmax (gelu, silu, relu, sigmoid, tanh, softmax, logSoftmax) are F's, as in PyTorch code: F.gelu(x)
export * as F from "./engine/functional.js";
export type { DType, Shape } from "./engine/dtype.js";
export { Generator, manualSeed, hashSeed } from "./engine/generator.js";
export { compile, exportOnnx, type CompiledFunction, type CompileOptions } from "./engine/compile.js";
export { gradients, grad, valueAndGrad, type GradOptions } from "./engine/autodiff.js";
export { capture, withCapture } from "./engine/capture.js";
export { setDevice, getDevice, sessionStats, type Device, type DeviceRequest } from "./engine/session.js";
export { InterruptedError, lastInterruption } from "./engine/interrupt.js";
export { NextframeError, ShapeError, DTypeError, NonFiniteLossError, NonFiniteGradientError } from "./engine/errors.js";
export { RuntimeGraphError } from "./engine/origin.js";

// ── display: rich cell outputs ──
export {
  display, clearOutput, onComm, sendComm, mimeBundleSymbol, type MimeBundle, type HasMimeBundle, type DisplayHandle,
  type DisplayFunction, type CommHandler,
} from "./display/display";
export { claim } from "./display/claims";
export { checkExercise, type ExerciseSpec } from "./display/exercise";
export { interact, type InteractHandle, type ControlSpec, type SliderSpec, type ChoiceSpec, type ControlValues } from "./display/interact";
export { scorecard, scorecardRow, type ScorecardOptions, type ScorecardRow, type ScorecardRowFromClaims, type Verdict } from "./display/scorecard";
export { showTable, type TableOptions } from "./display/table";
export { showFrames, showVideos, type FramesOptions, type FrameLayout, type VideoEntry } from "./display/frames";
export { showHeatmap, type HeatmapOptions } from "./display/heatmap";
export { showTokens, type TokensOptions } from "./display/tokens";
export { showPatches, type PatchesOptions } from "./display/patches";
export { lineChart, LineChart, type LineChartOptions } from "./display/chart";
export { playWorld, type PlayableWorld, type PlayWorldOptions, type WorldStepResult, type WorldSession } from "./display/worldViewer";
export { DisplayInputError } from "./display/ndarray";

// ── namespaces ──
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as diffusion from "./diffusion/index";
export * as models from "./models/index";
export * as patches from "./patches/index";
export * as probe from "./probe/index";
export * as metrics from "./metrics/index";
export * as worlds from "./worlds/index";
export * as io from "./io/index";
export * as course from "./course/index";
