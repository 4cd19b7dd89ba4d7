/**
 * Dtypes, shapes and the numpy broadcasting rule, with errors that name the op, both shapes and the rule.
 */
import { DTypeError, ShapeError } from "./errors.js";

/**
 * Element types. `uint8` is the dtype of image bytes (frames are Uint8Array): arithmetic on it stays uint8 and
 * wraps modulo 256 like torch's uint8 (cast to "int32" or "float32" first for wider results), and it is never an
 * index dtype (gather/embedding want int32/int64, as ONNX does). `bool` holds 0/1 in a Uint8Array too, so it is
 * only inferred from JS booleans; pass `{ dtype: "bool" }` to read a Uint8Array as a mask.
 */
export type DType = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";
/** A tensor's shape: one size per dimension. */
export type Shape = readonly number[];
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, float64: 11, int32: 6, int64: 7, uint8: 2, bool: 9 };

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64";
}
/** The index dtypes (int32, int64): what gather, embedding and class targets accept. */
export function isInt(d: DType): boolean {
  return d === "int32" || d === "int64";
}
/** Any integer dtype, uint8 included (exact arithmetic that wraps instead of rounding). */
export function isInteger(d: DType): boolean {
  return isInt(d) || d === "uint8";
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Allocates a zeroed typed array of the dtype's storage type. */
export function allocArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "float64": return new Float64Array(n);
    case "int32": return new Int32Array(n);
    case "int64": return new BigInt64Array(n);
    case "uint8": return new Uint8Array(n);
    case "bool": return new Uint8Array(n);
  }
}

/** Copies plain numbers (or bigints) into a typed array of the dtype; bool stores any non-zero value as 1. */
export function toTypedArray(dtype: DType, values: ArrayLike<number | bigint | boolean>): TypedArray {
  const out = allocArray(dtype, values.length);
  if (dtype === "int64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      o[i] = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    }
  } else if (dtype === "bool") {
    const o = out as Uint8Array;
    for (let i = 0; i < values.length; i++) o[i] = Number(values[i]) ? 1 : 0;
  } else {
    const o = out as Float32Array;
    for (let i = 0; i < values.length; i++) o[i] = Number(values[i]);
  }
  return out;
}

/** Normalizes a possibly negative dim for a tensor of the given rank; throws naming the op otherwise. */
export function normDim(op: string, dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  const d = dim < 0 ? dim + r : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= r) {
    throw new ShapeError(`${op}: dim ${dim} is out of range for a tensor of rank ${rank} (expected ${-rank}..${rank - 1})`);
  }
  return d;
}

/** numpy broadcasting: align from the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together ` +
          `(numpy rule: align shapes from the right; each pair of dims must be equal or one of them 1; ` +
          `dim ${i - n} is ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function sameDType(op: string, a: DType, b: DType): DType {
  if (a !== b) {
    throw new DTypeError(`${op}: dtype mismatch ${a} vs ${b} (both operands must have the same dtype; convert one with .cast("${a}"))`);
  }
  return a;
}

export function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
