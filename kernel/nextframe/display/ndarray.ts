/**
 * Input normalization for the display helpers: every helper accepts plain typed arrays (with a shape),
 * nested JS arrays, `{data, shape}` objects, and engine Tensors. A Tensor is recognised by duck type —
 * `shape`, `dtype` and `await t.data()` — so display/ does not depend on engine internals (only on the library's
 * error base class, engine/errors.ts, which imports nothing).
 */
import { NextframeError } from "../engine/errors";

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Anything with a static shape and an async `data()` (the engine's Tensor, or a lookalike). */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly dtype: string;
  data(): Promise<ArrayLike<number> | ArrayLike<bigint>> | ArrayLike<number> | ArrayLike<bigint>;
}

export type NestedArray = number | readonly NestedArray[] | TypedArray | TensorLike;

export type ArrayInput = NestedArray | { data: ArrayLike<number>; shape: readonly number[] };

/** A dense row-major array after normalization. `isUint8` says the values are already 0–255 bytes. */
export interface NdArray {
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array;
  isUint8: boolean;
}

/** Raised for bad user input; the helpers turn it into an error bundle that says what was expected. */
export class DisplayInputError extends NextframeError {}

export function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === "object" && x !== null && Array.isArray((x as TensorLike).shape) &&
    typeof (x as TensorLike).dtype === "string" && typeof (x as TensorLike).data === "function";
}

function isTypedArray(x: unknown): x is TypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function fromFlat(data: ArrayLike<number> | ArrayLike<bigint>, shape: readonly number[], what: string): NdArray {
  const n = product(shape);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new DisplayInputError(`${what}: shape [${shape.join(", ")}] must hold non-negative integers`);
  }
  if (data.length !== n) {
    throw new DisplayInputError(`${what}: shape [${shape.join(", ")}] needs ${n} values, got ${data.length}`);
  }
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) {
    return { shape: [...shape], data: new Uint8Array(data.buffer, data.byteOffset, data.length), isUint8: true };
  }
  if (data instanceof Float32Array || data instanceof Float64Array) return { shape: [...shape], data, isUint8: false };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  return { shape: [...shape], data: out, isUint8: false };
}

/**
 * Normalize any accepted input to an NdArray. `shape` is required for a flat typed array (otherwise it is
 * taken as 1-D). Nested arrays may hold Tensors or typed arrays at any level (e.g. a list of per-layer
 * attention tensors); every element of one level must have the same shape.
 */
export async function toNdArray(x: unknown, what: string, shape?: readonly number[]): Promise<NdArray> {
  if (isTensorLike(x)) {
    const data = await x.data();
    return fromFlat(data as ArrayLike<number>, x.shape, what);
  }
  if (isTypedArray(x)) return fromFlat(x as ArrayLike<number>, shape ?? [x.length], what);
  if (typeof x === "object" && x !== null && !Array.isArray(x) && "data" in x && "shape" in x) {
    const o = x as { data: ArrayLike<number>; shape: readonly number[] };
    return fromFlat(o.data, o.shape, what);
  }
  if (typeof x === "number") return { shape: [], data: Float64Array.of(x), isUint8: false };
  if (!Array.isArray(x)) {
    const got = x === null ? "null" : typeof x === "object" ? (x.constructor?.name ?? "object") : typeof x;
    throw new DisplayInputError(
      `${what}: expected a Tensor, a typed array with a shape, or nested number arrays, got ${got}`);
  }
  if (x.length === 0) throw new DisplayInputError(`${what}: got an empty array`);
  if (x.every((v) => typeof v === "number")) {
    return { shape: shape ? [...shape] : [x.length], data: Float64Array.from(x as number[]), isUint8: false };
  }
  const parts: NdArray[] = [];
  for (let i = 0; i < x.length; i++) parts.push(await toNdArray(x[i], `${what}[${i}]`));
  const s0 = parts[0].shape;
  for (let i = 1; i < parts.length; i++) {
    const s = parts[i].shape;
    if (s.length !== s0.length || s.some((d, j) => d !== s0[j])) {
      throw new DisplayInputError(
        `${what}: ragged input — element 0 has shape [${s0.join(", ")}] but element ${i} has [${s.join(", ")}]`);
    }
  }
  const m = product(s0);
  const allU8 = parts.every((p) => p.isUint8);
  const data = allU8 ? new Uint8Array(m * parts.length) : new Float64Array(m * parts.length);
  parts.forEach((p, i) => data.set(p.data, i * m));
  const out: NdArray = { shape: [parts.length, ...s0], data, isUint8: allU8 };
  if (shape) {
    if (product(shape) !== out.data.length) {
      throw new DisplayInputError(`${what}: shape [${shape.join(", ")}] needs ${product(shape)} values, got ${out.data.length}`);
    }
    out.shape = [...shape];
  }
  return out;
}

/** Min, max and NaN/Inf count over the data in one pass. */
export function scan(data: ArrayLike<number>): { min: number; max: number; nonFinite: number; firstNonFinite: number } {
  let min = Infinity, max = -Infinity, nonFinite = 0, firstNonFinite = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      if (nonFinite++ === 0) firstNonFinite = i;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, nonFinite, firstNonFinite };
}

/** Unravel a flat index into a multi-index, for error messages ("first NaN at [0, 3, 4, 1]"). */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}
