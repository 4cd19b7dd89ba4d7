import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkStateDict, f16ToF32, f32ToBf16, f32ToF16, loadSafetensors, parseSafetensors, saveSafetensors,
  serializeSafetensors, SafetensorsError,
} from "./safetensors";

const nums = (a: ArrayLike<number> | BigInt64Array): number[] => Array.from(a as ArrayLike<number>);

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "nf-st-"));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** A file assembled by hand: u64 LE header length, header bytes, data bytes. */
function assemble(header: string, data: number[]): Uint8Array {
  const h = Buffer.from(header, "utf8");
  const out = new Uint8Array(8 + h.length + data.length);
  let n = h.length;
  for (let i = 0; i < 8; i++) { out[i] = n & 0xff; n = Math.floor(n / 256); }
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test("round trip through disk keeps names, shapes, dtypes, values and metadata", () => {
  withDir((dir) => {
    const path = join(dir, "model.safetensors");
    const w = new Float32Array([1.5, -2.25, 3e-8, 1e30, 0, -0]);
    const steps = new BigInt64Array([0n, 123456789012345n, -5n]);
    const idx = new Int32Array([7, -8]);
    const mask = new Uint8Array([1, 0, 1]);
    const big = new Float64Array([Math.PI]);
    saveSafetensors(path, {
      "blocks.0.attn.qkv.weight": { shape: [2, 3], data: w },
      step: { shape: [3], data: steps },
      idx: { shape: [2], data: idx },
      mask: { dtype: "BOOL", shape: [3], data: mask },
      pi: { shape: [], data: big },
      empty: { shape: [0, 4], data: new Float32Array(0) },
    }, { format: "pt", seed: "42" });
    assert.deepEqual(readdirSync(dir), ["model.safetensors"], "temp file must be renamed away");
    const f = loadSafetensors(path);
    assert.deepEqual(f.metadata, { format: "pt", seed: "42" });
    const t = f.tensors.get("blocks.0.attn.qkv.weight")!;
    assert.equal(t.dtype, "F32");
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(Array.from(t.data as Float32Array), Array.from(w));
    assert.ok(Object.is((t.data as Float32Array)[5], -0));
    assert.deepEqual(Array.from(f.tensors.get("step")!.data as BigInt64Array), [0n, 123456789012345n, -5n]);
    assert.equal(f.tensors.get("step")!.dtype, "I64");
    assert.deepEqual(nums(f.tensors.get("idx")!.data), [7, -8]);
    assert.equal(f.tensors.get("mask")!.dtype, "BOOL");
    assert.deepEqual(nums(f.tensors.get("mask")!.data), [1, 0, 1]);
    assert.deepEqual(f.tensors.get("pi")!.shape, []);
    assert.equal((f.tensors.get("pi")!.data as Float64Array)[0], Math.PI);
    assert.deepEqual(f.tensors.get("empty")!.shape, [0, 4]);
    // The header length is a multiple of 8 so data is aligned, as the reference writer does.
    const bytes = readFileSync(path);
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    // Overwriting is atomic too and replaces the content.
    saveSafetensors(path, { a: { shape: [1], data: new Float32Array([9]) } });
    assert.deepEqual([...loadSafetensors(path).tensors.keys()], ["a"]);
  });
});

test("reads a fixture written byte by byte from the spec, with F16 and BF16 tensors", () => {
  // half: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 (max) = 0x7BFF, smallest subnormal 2^-24 = 0x0001, -inf = 0xFC00
  const f16 = [0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x01, 0x00, 0x00, 0xfc];
  // bfloat16: 1.0 = 0x3F80, -2.0 = 0xC000, 3.140625 = 0x4049, 1e-38-ish subnormal-free 2^-126 = 0x0080
  const bf16 = [0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40, 0x80, 0x00];
  // I64 -1 and 258
  const i64 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0, 0, 0, 0, 0, 0];
  // F32 0.25 = 0x3E800000
  const f32 = [0x00, 0x00, 0x80, 0x3e];
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},' +
    '"b":{"dtype":"BF16","shape":[4],"data_offsets":[12,20]},' +
    '"i":{"dtype":"I64","shape":[2],"data_offsets":[20,36]},' +
    '"f":{"dtype":"F32","shape":[1,1],"data_offsets":[36,40]}}';
  const file = assemble(header, [...f16, ...bf16, ...i64, ...f32]);
  const { tensors, metadata } = parseSafetensors(file);
  assert.deepEqual(metadata, { format: "pt" });
  const h = tensors.get("h")!;
  assert.equal(h.dtype, "F16");
  assert.deepEqual(h.shape, [2, 3]);
  assert.deepEqual(nums(h.data), [1, -2, 0.5, 65504, 2 ** -24, -Infinity]);
  const b = tensors.get("b")!;
  assert.equal(b.dtype, "BF16");
  assert.deepEqual(nums(b.data), [1, -2, 3.140625, 2 ** -126]);
  assert.deepEqual(Array.from(tensors.get("i")!.data as BigInt64Array), [-1n, 258n]);
  assert.deepEqual(nums(tensors.get("f")!.data), [0.25]);
  // The same file parses whether or not its buffer starts aligned.
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  assert.deepEqual(Array.from(parseSafetensors(shifted.subarray(1)).tensors.get("i")!.data as BigInt64Array), [-1n, 258n]);
});

test("half-precision helpers agree with the bit patterns", () => {
  for (const x of [0, 1, -2, 0.5, 65504, 2 ** -24, 1000.5, -0.125]) assert.equal(f16ToF32(f32ToF16(x)), x); // exactly representable
  assert.equal(f32ToF16(1), 0x3c00);
  assert.equal(f32ToF16(-2), 0xc000);
  assert.equal(f32ToF16(1e6), 0x7c00); // overflow → inf
  assert.equal(f32ToBf16(1), 0x3f80);
  assert.equal(f32ToBf16(3.140625), 0x4049);
  assert.ok(Math.abs(f16ToF32(f32ToF16(1 / 3)) - 1 / 3) < 1e-3);
});

function throwsWith(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${e}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

test("corruption: every structural error is reported precisely", () => {
  const good = serializeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) }, b: { shape: [1], data: new Float32Array([3]) } });
  throwsWith(() => parseSafetensors(new Uint8Array(5)), /5 bytes, shorter than the 8-byte header/);
  throwsWith(() => parseSafetensors(good.subarray(0, 20)), /header length \d+ exceeds the file size \(20 bytes/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 0xffffffffffffn, true);
  throwsWith(() => parseSafetensors(huge), /header length 281474976710655 exceeds the file size/);
  throwsWith(() => parseSafetensors(assemble('{"a": {"dtype": "F32",', [])), /not valid JSON/);
  throwsWith(() => parseSafetensors(assemble("[1,2]", [])), /must be a JSON object, got an array/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0])), /tensor "a": unknown dtype "Q4"/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0])), /tensor "a": shape must be/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', [0, 0, 0, 0])), /tensor "a": data_offsets must be \[begin, end\]/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [0, 0, 0, 0])), /tensor "a": data_offsets \[0, 8\] out of range; the data buffer has 4 bytes/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,0]}}', [0, 0, 0, 0])), /begin > end/);
  throwsWith(() => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', [0, 0, 0, 0, 0, 0, 0, 0])), /span 8 bytes but shape \[3\] × F32 \(4 bytes\) needs 12/);
  throwsWith(
    () => parseSafetensors(assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [0, 0, 0, 0, 0, 0, 0, 0])),
    /"a" \[0, 8\] and "b" \[4, 8\] have overlapping data_offsets/,
  );
  throwsWith(() => parseSafetensors(assemble('{"__metadata__":{"k":1}}', [])), /__metadata__\["k"\] must be a string/);
  // A truncated real file: the data is cut short.
  throwsWith(() => parseSafetensors(good.subarray(0, good.length - 2), "ckpt.safetensors"), /ckpt.safetensors: tensor "b": data_offsets \[8, 12\] out of range/);
  withDir((dir) => {
    const p = join(dir, "bad.safetensors");
    writeFileSync(p, Buffer.from([1, 2, 3]));
    throwsWith(() => loadSafetensors(p), /bad.safetensors: file is 3 bytes/);
    throwsWith(() => loadSafetensors(join(dir, "nope.safetensors")), /cannot read/);
  });
});

test("serialize rejects bad arguments", () => {
  throwsWith(() => serializeSafetensors({ a: { shape: [3], data: new Float32Array(2) } }), /tensor "a": shape \[3\] has 3 elements but data has 2/);
  throwsWith(() => serializeSafetensors({ a: { dtype: "I64", shape: [2], data: new Float32Array(2) } }), /dtype I64 needs a BigInt64Array, got Float32Array/);
  throwsWith(() => serializeSafetensors({ a: { shape: [1.5], data: new Float32Array(2) } }), /shape must be non-negative integers/);
  throwsWith(() => serializeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }), /reserved/);
});

test("checkStateDict reports all missing, unexpected and misshaped keys in one error", () => {
  const f = parseSafetensors(serializeSafetensors({
    "wte.weight": { shape: [10, 4], data: new Float32Array(40) },
    "ln_f.weight": { shape: [5], data: new Float32Array(5) },
    "extra.bias": { shape: [2], data: new Float32Array(2) },
    "steps": { shape: [1], data: new Int32Array(1) },
  }));
  checkStateDict({ "wte.weight": { shape: [10, 4], dtype: "F32" }, "ln_f.weight": { shape: [5] }, "extra.bias": { shape: [2] }, steps: { shape: [1] } }, f);
  assert.throws(
    () => checkStateDict({
      "wte.weight": { shape: [10, 4], dtype: "F32" },
      "ln_f.weight": { shape: [4] },
      "h.0.attn.c_attn.weight": { shape: [4, 12] },
      "lm_head.weight": { shape: [10, 4] },
      steps: { shape: [1], dtype: "I64" },
    }, f),
    (e: unknown) => {
      const m = (e as Error).message;
      assert.match(m, /2 missing, 1 unexpected, 2 mismatched/);
      assert.match(m, /missing keys: h\.0\.attn\.c_attn\.weight, lm_head\.weight/);
      assert.match(m, /unexpected keys: extra\.bias/);
      assert.match(m, /ln_f\.weight: expected shape \[4\], file has \[5\]/);
      assert.match(m, /steps: expected dtype I64, file has I32/);
      return true;
    },
  );
});

test("a save killed with SIGKILL mid-write leaves a temp file; the next save to that path removes it, keeps live writers' files", async () => {
  const { spawn } = await import("node:child_process");
  const { existsSync } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "nf-st-kill-"));
  const path = join(dir, "model.safetensors");
  const temps = (name = "model.safetensors") => readdirSync(dir).filter((f) => f.startsWith(`.${name}.`) && f.endsWith(".tmp"));
  const exited = (c: ReturnType<typeof spawn>) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  try {
    saveSafetensors(path, { w: { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) } });
    // a child saves a 64 MB tensor to the same path over and over; it is killed while a temp file exists
    const mod = new URL("./safetensors.ts", import.meta.url).href;
    const code = `import(${JSON.stringify(mod)}).then((m) => { const { saveSafetensors } = m.default ?? m; const data = new Float32Array(16 << 20).fill(0.5);
      for (;;) saveSafetensors(${JSON.stringify(path)}, { w: { dtype: "F32", shape: [data.length], data } }); })`;
    let killedPid = 0;
    for (let attempt = 0; attempt < 5 && temps().length === 0; attempt++) {
      const child = spawn(process.execPath, ["--import", "tsx", "-e", code], { stdio: ["ignore", "ignore", "inherit"] });
      const deadline = Date.now() + 60_000;
      while (temps().length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      child.kill("SIGKILL");
      await exited(child); // reaped: its pid no longer names a process
      killedPid = child.pid!;
    }
    const left = temps();
    assert.equal(left.length, 1, `expected the killed save's temp file, found ${JSON.stringify(left)}`);
    assert.match(left[0]!, new RegExp(`^\\.model\\.safetensors\\.${killedPid}\\.[0-9a-z]+\\.tmp$`));
    // the file under its own name is intact (the first save's or one of the child's complete ones)
    const before = loadSafetensors(path).tensors.get("w")!;
    assert.ok(before.shape[0] === 2 ? nums(before.data).join() === "1,2" : before.shape[0] === 16 << 20 && before.data[(16 << 20) - 1] === 0.5);
    // temp files of a live writer and of another file in the folder are not this save's to remove
    const liveTemp = `.model.safetensors.${live.pid}.abc.tmp`;
    writeFileSync(join(dir, liveTemp), "partial");
    const otherTemp = `.other.safetensors.${killedPid}.abc.tmp`;
    writeFileSync(join(dir, otherTemp), "partial");
    saveSafetensors(path, { w: { dtype: "F32", shape: [3], data: Float32Array.from([4, 5, 6]) } });
    assert.deepEqual(temps(), [liveTemp]);
    assert.ok(existsSync(join(dir, otherTemp)));
    const back = loadSafetensors(path).tensors.get("w")!;
    assert.deepEqual([back.shape, nums(back.data)], [[3], [4, 5, 6]]);
  } finally {
    live.kill("SIGKILL");
    await exited(live);
    rmSync(dir, { recursive: true, force: true });
  }
});
