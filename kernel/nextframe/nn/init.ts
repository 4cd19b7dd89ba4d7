/**
 * Parameter initialisers (torch.nn.init), in place and seeded: each takes an optional Generator, else the
 * global one (manualSeed).
 */
import { globalGenerator, type Generator } from "../engine/generator.js";
import type { Parameter } from "./module.js";
import { NextframeError } from "../engine/errors.js";

function floats(p: Parameter, op: string): Float32Array | Float64Array {
  const v = p._value;
  if (!(v instanceof Float32Array || v instanceof Float64Array)) throw new NextframeError(`${op}: expected a float parameter, got ${p.dtype}`);
  p._version++; // written in place: frozen compiled graphs that baked p rebuild (engine/compile.ts)
  return v;
}
/** fan_in, fan_out as torch computes them (dims 0/1 times the receptive field). */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const rf = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * rf, shape[0]! * rf];
}
/** Fills p in place with U(low, high). */
export function uniform_(p: Parameter, low = 0, high = 1, gen: Generator = globalGenerator()): Parameter {
  gen.fillUniform(floats(p, "uniform_"), low, high);
  return p;
}
/** Fills p in place with N(mean, std²). */
export function normal_(p: Parameter, std = 1, mean = 0, gen: Generator = globalGenerator()): Parameter {
  gen.fillNormal(floats(p, "normal_"), mean, std);
  return p;
}
/** Fills p in place with `value`. */
export function constant_(p: Parameter, value: number): Parameter {
  floats(p, "constant_").fill(value);
  return p;
}
/** Fills p in place with zeros. */
export const zeros_ = (p: Parameter) => constant_(p, 0);
/** Glorot & Bengio 2010: U(-a, a), a = gain · √(6 / (fan_in + fan_out)). */
export function xavierUniform_(p: Parameter, gain = 1, gen: Generator = globalGenerator()): Parameter {
  const [fi, fo] = fans(p.shape);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(p, -a, a, gen);
}
/** He et al. 2015 uniform with torch's default a = √5 for Linear/Conv: bound = 1/√fan_in. */
export function kaimingUniform_(p: Parameter, a = Math.sqrt(5), gen: Generator = globalGenerator()): Parameter {
  const [fi] = fans(p.shape);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fi);
  return uniform_(p, -bound, bound, gen);
}
/** Truncated normal in [a, b] (resampling), as used by ViT/DiT position embeddings. */
export function truncNormal_(p: Parameter, std = 1, mean = 0, a = -2, b = 2, gen: Generator = globalGenerator()): Parameter {
  const v = floats(p, "truncNormal_");
  for (let i = 0; i < v.length; i++) {
    let x: number;
    do { x = mean + std * gen.normal(); } while (x < a || x > b);
    v[i] = x;
  }
  return p;
}
