// safetensors: the checkpoint format of Hugging Face (https://github.com/huggingface/safetensors).
//
// Layout of a file, all little-endian:
//   bytes 0..8          u64  N = length of the JSON header in bytes
//   bytes 8..8+N        JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//                             "__metadata__": {"key": "string value"}}   (metadata optional, string → string)
//   bytes 8+N..         raw tensor data; data_offsets are relative to the start of this byte buffer
// The header may be padded with trailing spaces (the reference writer pads it to a multiple of 8 so the
// data buffer is aligned); we do the same.
//
// Reading: F32 F16 BF16 F64 I64 I32 U8 BOOL. F16 and BF16 are widened to Float32Array on load (JS has no
// 16-bit float array in Node 20); `dtype` still reports what the file holds.
// Writing: F32 F64 I64 I32 U8 BOOL, atomically (temp file in the same directory, fsync, rename).

import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { NextframeError } from "../engine/errors.js";

/** Element types a safetensors file may hold that this module can read. */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "U8" | "BOOL";
/** Element types this module writes. */
export type SafetensorsWriteDtype = "F32" | "F64" | "I64" | "I32" | "U8" | "BOOL";

/** The typed arrays a safetensors tensor is read into, by dtype. */
export type SafetensorsData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** One tensor of a safetensors file: dtype, shape and data. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

/** A tensor to write; dtype defaults from the array type (Float32Array → F32, BigInt64Array → I64, ...). */
export interface SafetensorsInput {
  dtype?: SafetensorsWriteDtype;
  shape: readonly number[];
  data: SafetensorsData;
}

/** A parsed safetensors file: its tensors by name and its string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Raised for every malformed file or bad argument; the message says what is wrong and where. */
export class SafetensorsError extends NextframeError {}

/** Bytes per element of each dtype. */
const DTYPE_SIZE: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1,
};

// The reference implementation refuses headers above 100 MB (a corrupt length would otherwise allocate GBs).
const MAX_HEADER_BYTES = 100_000_000;

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ───────────────────────────── half-precision conversions ─────────────────────────────

/** IEEE 754 binary16 bits → number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (and ±0)
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE 754 binary16 bits (round to nearest even). Used by tests to build fixtures. */
export function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let frac = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (frac ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    frac |= 0x800000;
    const shift = 14 - e;
    let half = frac >>> shift;
    const rem = frac & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (frac >>> 13);
  const rem = frac & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** number → bfloat16 bits (round to nearest even). */
export function f32ToBf16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

// ───────────────────────────── parse ─────────────────────────────

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array, numel: number): SafetensorsData {
  // Copy into a fresh, aligned buffer: the file's data is rarely aligned for 8-byte types.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "U8":
    case "BOOL":
      return bytes.slice();
    case "F16": {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      return out;
    }
    case "BF16": {
      const out = new Float32Array(numel);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case "F32": {
      if (littleEndianHost) return new Float32Array(bytes.slice().buffer);
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case "F64": {
      if (littleEndianHost) return new Float64Array(bytes.slice().buffer);
      const out = new Float64Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case "I32": {
      if (littleEndianHost) return new Int32Array(bytes.slice().buffer);
      const out = new Int32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case "I64": {
      if (littleEndianHost) return new BigInt64Array(bytes.slice().buffer);
      const out = new BigInt64Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getBigInt64(8 * i, true);
      return out;
    }
  }
}

/**
 * Parse the bytes of a safetensors file. Every structural problem (short file, header length beyond the
 * file, bad JSON, unknown dtype, offsets out of range / overlapping / not matching shape × dtype size)
 * raises a SafetensorsError naming the tensor and the numbers involved.
 */
export function parseSafetensors(bytes: Uint8Array, source = "safetensors"): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(
      `${source}: file is ${bytes.byteLength} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  const available = bytes.byteLength - 8;
  if (n64 > BigInt(available)) {
    throw new SafetensorsError(
      `${source}: header length ${n64} exceeds the file size (${bytes.byteLength} bytes, so at most ${available} header bytes); the file is truncated or not a safetensors file`,
    );
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`${source}: header length ${n} is above the 100 MB limit of the format`);
  }
  const headerText = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(8, 8 + n));
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new SafetensorsError(`${source}: header is not valid JSON (${(e as Error).message}); first bytes: ${JSON.stringify(headerText.slice(0, 60))}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new SafetensorsError(`${source}: header must be a JSON object, got ${Array.isArray(header) ? "an array" : typeof header}`);
  }
  const dataStart = 8 + n;
  const dataBytes = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new SafetensorsError(`${source}: __metadata__ must be an object of string values`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(`${source}: __metadata__["${k}"] must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    if (raw === null || typeof raw !== "object") throw new SafetensorsError(`${source}: tensor "${name}": header entry must be an object`);
    const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE)) {
      throw new SafetensorsError(
        `${source}: tensor "${name}": unknown dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_SIZE).join(", ")}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new SafetensorsError(`${source}: tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isNonNegInt)) {
      throw new SafetensorsError(`${source}: tensor "${name}": data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(data_offsets)}`);
    }
    const [begin, end] = data_offsets as number[];
    if (begin > end) throw new SafetensorsError(`${source}: tensor "${name}": data_offsets [${begin}, ${end}] has begin > end`);
    if (end > dataBytes) {
      throw new SafetensorsError(
        `${source}: tensor "${name}": data_offsets [${begin}, ${end}] out of range; the data buffer has ${dataBytes} bytes (file truncated?)`,
      );
    }
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * DTYPE_SIZE[dtype as SafetensorsDtype];
    if (end - begin !== want) {
      throw new SafetensorsError(
        `${source}: tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${(shape as number[]).join(", ")}] × ${dtype} (${DTYPE_SIZE[dtype as SafetensorsDtype]} bytes) needs ${want}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: (shape as number[]).slice(), begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1], c = sorted[i];
    if (c.begin < p.end) {
      throw new SafetensorsError(
        `${source}: tensors "${p.name}" [${p.begin}, ${p.end}] and "${c.name}" [${c.begin}, ${c.end}] have overlapping data_offsets`,
      );
    }
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const numel = e.shape.reduce((a, b) => a * b, 1);
    const data = decode(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), numel);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Read and parse a safetensors file from disk. */
export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`loadSafetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

// ───────────────────────────── serialize ─────────────────────────────

function defaultDtype(data: SafetensorsData): SafetensorsWriteDtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Uint8Array) return "U8";
  throw new SafetensorsError(`serializeSafetensors: unsupported data array type ${(data as object)?.constructor?.name}`);
}

const ARRAY_FOR: Record<SafetensorsWriteDtype, string> = {
  F32: "Float32Array", F64: "Float64Array", I64: "BigInt64Array", I32: "Int32Array", U8: "Uint8Array", BOOL: "Uint8Array",
};

function encode(data: SafetensorsData): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndianHost || data instanceof Uint8Array) return raw;
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  const n = data.length;
  if (data instanceof Float32Array) for (let i = 0; i < n; i++) dv.setFloat32(4 * i, data[i], true);
  else if (data instanceof Float64Array) for (let i = 0; i < n; i++) dv.setFloat64(8 * i, data[i], true);
  else if (data instanceof Int32Array) for (let i = 0; i < n; i++) dv.setInt32(4 * i, data[i], true);
  else if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, data[i], true);
  return out;
}

type TensorCollection = Map<string, SafetensorsInput> | Record<string, SafetensorsInput>;

/** Serialize tensors (+ optional string metadata) into the bytes of a safetensors file. */
export function serializeSafetensors(tensors: TensorCollection, metadata?: Record<string, string>): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new SafetensorsError(`serializeSafetensors: metadata["${k}"] must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    if (name === "__metadata__") throw new SafetensorsError(`serializeSafetensors: "__metadata__" is reserved and cannot be a tensor name`);
    if (!t || !t.shape || !t.data) throw new SafetensorsError(`serializeSafetensors: tensor "${name}" needs {shape, data}`);
    if (!t.shape.every((d) => isNonNegInt(d))) {
      throw new SafetensorsError(`serializeSafetensors: tensor "${name}": shape must be non-negative integers, got [${t.shape.join(", ")}]`);
    }
    const dtype = t.dtype ?? defaultDtype(t.data);
    if (!(dtype in ARRAY_FOR)) {
      throw new SafetensorsError(`serializeSafetensors: tensor "${name}": cannot write dtype ${dtype}; writable: ${Object.keys(ARRAY_FOR).join(", ")}`);
    }
    if (t.data.constructor.name !== ARRAY_FOR[dtype]) {
      throw new SafetensorsError(`serializeSafetensors: tensor "${name}": dtype ${dtype} needs a ${ARRAY_FOR[dtype]}, got ${t.data.constructor.name}`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) {
      throw new SafetensorsError(`serializeSafetensors: tensor "${name}": shape [${t.shape.join(", ")}] has ${numel} elements but data has ${t.data.length}`);
    }
    const bytes = encode(t.data);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.byteLength % 8)) % 8; // align the data buffer to 8 bytes, as the reference writer does
  if (pad) {
    json += " ".repeat(pad);
    jsonBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + jsonBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  out.set(jsonBytes, 8);
  let p = 8 + jsonBytes.byteLength;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

/**
 * Write a safetensors file atomically: the bytes go to a temp file in the same directory, are fsync'd,
 * then renamed over `path` — a crash mid-write never leaves a half-written checkpoint under `path`, and the
 * temp files a killed save left behind are removed by the next save to the same path (io/atomic.ts).
 */
export function saveSafetensors(path: string, tensors: TensorCollection, metadata?: Record<string, string>): void {
  const bytes = serializeSafetensors(tensors, metadata);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw new SafetensorsError(`saveSafetensors: cannot write ${path}: ${(e as Error).message}`);
  }
}

// ───────────────────────────── state dict check ─────────────────────────────

/** A tensor a state dict must hold: its dtype and shape, for checkStateDict. */
export interface ExpectedTensor {
  shape: readonly number[];
  dtype?: SafetensorsDtype;
}

/**
 * Compare a loaded file against the expected names, shapes and dtypes of a model's state dict and throw
 * ONE SafetensorsError listing every missing, unexpected and mismatched key (not just the first).
 */
export function checkStateDict(
  expected: Record<string, ExpectedTensor> | Map<string, ExpectedTensor>,
  loaded: SafetensorsFile | Map<string, { shape: readonly number[]; dtype?: string }>,
): void {
  const exp = expected instanceof Map ? expected : new Map(Object.entries(expected));
  const got: Map<string, { shape: readonly number[]; dtype?: string }> = loaded instanceof Map ? loaded : loaded.tensors;
  const missing: string[] = [];
  const unexpected: string[] = [];
  const mismatched: string[] = [];
  for (const [name, e] of exp) {
    const g = got.get(name);
    if (!g) { missing.push(name); continue; }
    const shapeOk = g.shape.length === e.shape.length && g.shape.every((d, i) => d === e.shape[i]);
    if (!shapeOk) mismatched.push(`${name}: expected shape [${e.shape.join(", ")}], file has [${g.shape.join(", ")}]`);
    if (e.dtype && g.dtype && e.dtype !== g.dtype) mismatched.push(`${name}: expected dtype ${e.dtype}, file has ${g.dtype}`);
  }
  for (const name of got.keys()) if (!exp.has(name)) unexpected.push(name);
  if (missing.length + unexpected.length + mismatched.length === 0) return;
  const lines = [`checkStateDict: checkpoint does not match the model (${missing.length} missing, ${unexpected.length} unexpected, ${mismatched.length} mismatched)`];
  if (missing.length) lines.push(`  missing keys: ${missing.join(", ")}`);
  if (unexpected.length) lines.push(`  unexpected keys: ${unexpected.join(", ")}`);
  for (const m of mismatched) lines.push(`  ${m}`);
  throw new SafetensorsError(lines.join("\n"));
}
