import { test } from "node:test";
import assert from "node:assert/strict";
import { onnx } from "onnx-proto";
import { OnnxProbeError, listSoftmax, onnxDenoiser, openOnnx, probeAttention } from "./index";
import { createDiffusion } from "../diffusion/index";

const F = onnx.TensorProto.DataType.FLOAT, I64 = onnx.TensorProto.DataType.INT64;
type D = number | string;
const vi = (name: string, elemType: number, dims?: D[]) => onnx.ValueInfoProto.create({
  name, type: { tensorType: { elemType, shape: dims ? { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } : undefined } },
});
const node = (opType: string, input: string[], output: string[], name = "", attribute: onnx.IAttributeProto[] = []) =>
  onnx.NodeProto.create({ opType, input, output, name, attribute });
const floats = (name: string, dims: number[], data: number[]) => onnx.TensorProto.create({ name, dims, dataType: F, floatData: data });
const model = (graph: onnx.IGraphProto, opset = 17) => onnx.ModelProto.encode(onnx.ModelProto.create({
  irVersion: 8, opsetImport: [{ domain: "", version: opset }], producerName: "nextframe-test", graph,
})).finish();

/** Single-head self-attention over X (1, T, 2): P = softmax(X Wq (X Wk)ᵀ / sqrt(2)), Y = P X. */
function attentionModel(Wq: number[], Wk: number[], withValueInfo: boolean): Uint8Array {
  return model({
    name: "tiny_attention",
    input: [vi("X", F, [1, "seq", 2])],
    output: [vi("Y", F, [1, "seq", 2])],
    initializer: [floats("Wq", [2, 2], Wq), floats("Wk", [2, 2], Wk), floats("scale", [], [1 / Math.sqrt(2)])],
    valueInfo: withValueInfo ? [vi("P", F, [1, "seq", "seq"])] : [],
    node: [
      node("MatMul", ["X", "Wq"], ["Q"]), node("MatMul", ["X", "Wk"], ["K"]),
      node("Transpose", ["K"], ["Kt"], "", [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] }]),
      node("MatMul", ["Q", "Kt"], ["S"]), node("Mul", ["S", "scale"], ["Ss"]),
      node("Softmax", ["Ss"], ["P"], "blocks.0.attn/softmax", [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }]),
      node("MatMul", ["P", "X"], ["Y"]),
    ],
  });
}

function manualAttention(X: number[][], Wq: number[], Wk: number[]): number[][] {
  const mm = (a: number[], W: number[]) => [a[0] * W[0] + a[1] * W[2], a[0] * W[1] + a[1] * W[3]];
  const Q = X.map((x) => mm(x, Wq)), K = X.map((x) => mm(x, Wk));
  return Q.map((q) => {
    const s = K.map((k) => (q[0] * k[0] + q[1] * k[1]) / Math.sqrt(2));
    const m = Math.max(...s), e = s.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

test("probe lists Softmax nodes with static shapes and returns attention maps equal to a manual computation", async () => {
  const Wq = [1, 0.5, -0.3, 2], Wk = [0.2, -1, 1.5, 0.7];
  const m = openOnnx(attentionModel(Wq, Wk, true), "tiny.onnx");
  const sm = m.softmaxNodes();
  assert.equal(sm.length, 1);
  assert.equal(sm[0].node, "blocks.0.attn/softmax");
  assert.equal(sm[0].axis, -1);
  assert.deepEqual(sm[0].shape, [1, "seq", "seq"]);
  assert.match(m.describe(), /inputs X: float\[1, seq, 2\].*1 Softmax/);
  const X = [[1, 0], [0, 1], [1, 1], [-1, 0.5]];
  const { maps, outputs } = await probeAttention(m, { X: { data: X.flat(), shape: [1, 4, 2] } });
  assert.equal(maps.length, 1);
  assert.deepEqual(maps[0].shape, [1, 4, 4]);
  const want = manualAttention(X, Wq, Wk);
  for (let i = 0; i < 4; i++) {
    let rowSum = 0;
    for (let j = 0; j < 4; j++) { assert.ok(Math.abs(maps[0].data[i * 4 + j] - want[i][j]) < 1e-6); rowSum += maps[0].data[i * 4 + j]; }
    assert.ok(Math.abs(rowSum - 1) < 1e-6);
  }
  assert.deepEqual(outputs.Y.shape, [1, 4, 2]); // the model's own output is still there
});

test("without value_info the shape is unknown statically but known at run time", async () => {
  const m = openOnnx(attentionModel([1, 0, 0, 1], [1, 0, 0, 1], false));
  assert.equal(m.softmaxNodes()[0].shape, null);
  assert.deepEqual((await listSoftmax(m, { dims: { seq: 5 } }))[0].shape, [1, 5, 5]); // found by running once
  const { maps } = await probeAttention(m, { X: { data: [1, 2, 3, 4, 5, 6], shape: [1, 3, 2] } });
  assert.deepEqual(maps[0].shape, [1, 3, 3]);
});

test("non-models, models without Softmax and unsupported ops get precise messages", async () => {
  assert.throws(() => openOnnx(new TextEncoder().encode("hello, I am a text file and not a model"), "notes.txt"), /notes\.txt is not an ONNX model/);
  assert.throws(() => openOnnx(new Uint8Array(0), "empty.onnx"), /empty\.onnx is empty/);
  assert.throws(() => openOnnx("/nonexistent/x.onnx"), /cannot read \/nonexistent\/x\.onnx/);
  const noSoftmax = model({ input: [vi("a", F, [2])], output: [vi("b", F, [2])], node: [node("Relu", ["a"], ["b"])] });
  await assert.rejects(probeAttention(noSoftmax, { a: { data: [1, 2], shape: [2] } }, { name: "relu.onnx" }), /relu\.onnx has no Softmax node.*Relu×1/);
  const weird = model({
    input: [vi("a", F, [2])], output: [vi("c", F, [2])],
    node: [node("FancyAttention", ["a"], ["b"]), node("Softmax", ["b"], ["c"])],
  });
  await assert.rejects(probeAttention(weird, { a: { data: [1, 2], shape: [2] } }, { name: "weird.onnx" }),
    (e: Error) => e instanceof OnnxProbeError && /onnxruntime cannot load weird\.onnx/.test(e.message) && /FancyAttention/.test(e.message));
  const m = openOnnx(attentionModel([1, 0, 0, 1], [1, 0, 0, 1], true));
  await assert.rejects(probeAttention(m, {}), /missing input\(s\) X/);
  await assert.rejects(probeAttention(m, { X: { data: [1, 2, 3], shape: [1, 3] } }), /expects rank 3/);
});

test("an external ONNX denoiser (x, t, y) drives the library's DDIM sampler", async () => {
  // out = 0.5·x + (t + y) broadcast per sample; t and y are int64 in the file, as torch exports them
  const bytes = model({
    name: "toy_denoiser",
    input: [vi("x", F, ["N", 1, 2, 2]), vi("t", I64, ["N"]), vi("y", I64, ["N"])],
    output: [vi("out", F, ["N", 1, 2, 2])],
    initializer: [floats("half", [], [0.5]), onnx.TensorProto.create({ name: "shp", dims: [4], dataType: I64, int64Data: [-1, 1, 1, 1] })],
    node: [
      node("Mul", ["x", "half"], ["hx"]), node("Add", ["t", "y"], ["ty"]),
      node("Cast", ["ty"], ["tyf"], "", [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: F }]),
      node("Reshape", ["tyf", "shp"], ["tyr"]), node("Add", ["hx", "tyr"], ["out"]),
    ],
  });
  const den = await onnxDenoiser(bytes);
  try {
    const out = await den(Float32Array.of(2, 4, 6, 8, 0, 0, 0, 0), [2, 1, 2, 2], Int32Array.of(10, 20), Int32Array.of(1, 2));
    assert.deepEqual([...out], [12, 13, 14, 15, 22, 22, 22, 22]);
    const d = createDiffusion({ learnSigma: false, timestepRespacing: "ddim5" });
    let steps = 0;
    const s = await d.ddimSampleLoop(den, [2, 1, 2, 2], { y: Int32Array.of(0, 1), seed: 1, onProgress: () => steps++ });
    assert.equal(steps, 5);
    assert.ok(s.every(Number.isFinite));
    await assert.rejects(den(new Float32Array(4), [1, 1, 2, 2], Int32Array.of(1)), /takes labels "y" but the sampler passed none/);
  } finally {
    await den.release();
  }
});

test("attention inside model-local functions (how torch.onnx's dynamo path exports modules) is inlined and probed", async () => {
  // main graph: two calls of local.Attn(X, Wq, Wk) → Y; the Softmax lives only in the function body
  const attn = onnx.FunctionProto.create({
    name: "Attn", domain: "local", input: ["x", "wq", "wk"], output: ["y"], attribute: ["axis"],
    opsetImport: [{ domain: "", version: 17 }],
    node: [
      node("MatMul", ["x", "wq"], ["q"]), node("MatMul", ["x", "wk"], ["k"]),
      node("Transpose", ["k"], ["kt"], "", [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] }]),
      node("MatMul", ["q", "kt"], ["s"]), node("Mul", ["s", "scale"], ["ss"]),
      node("Softmax", ["ss"], ["p"], "softmax", [{ name: "axis", refAttrName: "axis", type: onnx.AttributeProto.AttributeType.INT }]),
      node("MatMul", ["p", "x"], ["y"]),
    ],
  });
  // "scale" inside the body is a function-local constant
  attn.node.unshift(node("Constant", [], ["scale"], "", [{ name: "value", type: onnx.AttributeProto.AttributeType.TENSOR, t: floats("", [], [1 / Math.sqrt(2)]) }]));
  const Wq = [0.5, -1, 1, 0.25], Wk = [1, 0.5, -0.5, 1];
  const call = (i: number, x: string, y: string) => onnx.NodeProto.create({
    opType: "Attn", domain: "local", name: `blocks.${i}.attn`, input: [x, "Wq", "Wk"], output: [y],
    attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
  });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: "", version: 17 }, { domain: "local", version: 1 }], producerName: "nextframe-test", functions: [attn],
    graph: {
      name: "two_blocks", input: [vi("X", F, [1, "seq", 2])], output: [vi("Y", F, [1, "seq", 2])],
      initializer: [floats("Wq", [2, 2], Wq), floats("Wk", [2, 2], Wk)], node: [call(0, "X", "H"), call(1, "H", "Y")],
    },
  })).finish();
  const m = openOnnx(bytes, "functions.onnx");
  assert.deepEqual(m.softmaxNodes().map((s) => s.node), ["blocks.0.attn/softmax", "blocks.1.attn/softmax"]);
  assert.equal(m.softmaxNodes()[0].axis, -1);
  const X = [[1, 0], [0.5, 2], [-1, 1]];
  const r = await probeAttention(m, { X: { data: X.flat(), shape: [1, 3, 2] } });
  const expect0 = manualAttention(X, Wq, Wk);
  r.maps[0].data.forEach((v, i) => assert.ok(Math.abs(v - expect0[Math.floor(i / 3)][i % 3]) < 1e-5));
  // block 1 attends over block 0's output: its map is softmax over H = P0 X
  const H = expect0.map((p) => [0, 1].map((c) => p.reduce((s, w, j) => s + w * X[j][c], 0)));
  const expect1 = manualAttention(H, Wq, Wk);
  r.maps[1].data.forEach((v, i) => assert.ok(Math.abs(v - expect1[Math.floor(i / 3)][i % 3]) < 1e-5));
  assert.deepEqual(r.outputs.Y.shape, [1, 3, 2]);
  // a function that calls the function: names compose, values stay distinct, same maps
  const block = onnx.FunctionProto.create({
    name: "Block", domain: "local", input: ["x", "wq", "wk"], output: ["y"], opsetImport: [{ domain: "", version: 17 }],
    node: [onnx.NodeProto.create({ opType: "Attn", domain: "local", name: "attn", input: ["x", "wq", "wk"], output: ["y"], attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }] })],
  });
  const nested = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: "", version: 17 }, { domain: "local", version: 1 }], producerName: "nextframe-test", functions: [attn, block],
    graph: {
      name: "nested", input: [vi("X", F, [1, "seq", 2])], output: [vi("Y", F, [1, "seq", 2])],
      initializer: [floats("Wq", [2, 2], Wq), floats("Wk", [2, 2], Wk)],
      node: [0, 1].map((i) => onnx.NodeProto.create({ opType: "Block", domain: "local", name: `blocks.${i}`, input: [i ? "H" : "X", "Wq", "Wk"], output: [i ? "Y" : "H"] })),
    },
  })).finish();
  const rn = await probeAttention(nested, { X: { data: X.flat(), shape: [1, 3, 2] } });
  assert.deepEqual(rn.softmax.map((q) => q.node), ["blocks.0/attn/softmax", "blocks.1/attn/softmax"]);
  rn.maps.forEach((mp, k) => mp.data.forEach((v, i) => assert.ok(Math.abs(v - r.maps[k].data[i]) < 1e-6)));
});

test("Softmax only inside a Loop body: the message says where it is and why it cannot be exposed", async () => {
  const body: onnx.IGraphProto = {
    name: "body", input: [vi("i", I64, []), vi("cond", onnx.TensorProto.DataType.BOOL, []), vi("h", F, [2])],
    output: [vi("cond_out", onnx.TensorProto.DataType.BOOL, []), vi("h_out", F, [2])],
    node: [node("Identity", ["cond"], ["cond_out"]), node("Softmax", ["h"], ["h_out"])],
  };
  const bytes = model({
    input: [vi("a", F, [2])], output: [vi("b", F, [2])],
    initializer: [onnx.TensorProto.create({ name: "n", dims: [], dataType: I64, int64Data: [2] })],
    node: [node("Loop", ["n", "", "a"], ["b"], "layers", [{ name: "body", type: onnx.AttributeProto.AttributeType.GRAPH, g: body }])],
  });
  const m = openOnnx(bytes, "loop.onnx");
  assert.deepEqual(m.subgraphSoftmaxCounts(), { Loop: 1 });
  await assert.rejects(probeAttention(m, { a: { data: [1, 2], shape: [2] } }), /loop\.onnx has no Softmax node in its main graph \(1 inside Loop bodies: values inside control-flow bodies cannot be graph outputs/);
});

test("weights in external data beside the .onnx (as torch.onnx.export writes them) are read in; bad data files get precise messages", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const Wq = [1, 0.5, -0.3, 2], Wk = [0.2, -1, 1.5, 0.7];
  const inline = openOnnx(attentionModel(Wq, Wk, true));
  // move Wq and Wk into one data file at offsets 0 and 16, as torch's exporter does
  const proto = onnx.ModelProto.decode(attentionModel(Wq, Wk, true));
  const data = Buffer.alloc(32);
  for (const [k, t] of proto.graph!.initializer!.filter((t) => t.name === "Wq" || t.name === "Wk").entries()) {
    Buffer.from(Float32Array.from(t.floatData!).buffer).copy(data, 16 * k);
    t.floatData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [{ key: "location", value: "tiny.onnx.data" }, { key: "offset", value: String(16 * k) }, { key: "length", value: "16" }];
  }
  const dir = mkdtempSync(join(tmpdir(), "nf-probe-ext-"));
  const cwd = process.cwd();
  try {
    const path = join(dir, "tiny.onnx");
    writeFileSync(path, onnx.ModelProto.encode(proto).finish());
    writeFileSync(join(dir, "tiny.onnx.data"), data);
    process.chdir(tmpdir()); // the data file must be found beside the model, not in the working directory
    const X = { X: { data: [1, 0, 0, 1, 1, 1, -1, 0.5], shape: [1, 4, 2] } };
    const got = await probeAttention(path, X);
    const want = await probeAttention(inline, X);
    assert.deepEqual(Array.from(got.maps[0]!.data), Array.from(want.maps[0]!.data));
    // the same model given as bytes cannot find its data
    assert.throws(() => openOnnx(onnx.ModelProto.encode(proto).finish(), "bytes.onnx"), /bytes\.onnx keeps 2 tensors in external data \(tiny\.onnx\.data\); open it by file path/);
    // a truncated data file
    writeFileSync(join(dir, "tiny.onnx.data"), data.subarray(0, 20));
    assert.throws(() => openOnnx(path), /tensor "Wk" points at bytes 16\.\.32 of tiny\.onnx\.data, which has 20 bytes/);
    // a missing one
    rmSync(join(dir, "tiny.onnx.data"));
    assert.throws(() => openOnnx(path), /keeps tensor "Wq" in tiny\.onnx\.data, which cannot be read beside the model/);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("external data may not leave the model's folder (onnxruntime's rule): '..', absolute paths and symlinks out are refused by name", async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const Wq = [1, 0.5, -0.3, 2], Wk = [0.2, -1, 1.5, 0.7];
  const data = Buffer.alloc(32);
  const modelAt = (location: string) => {
    const proto = onnx.ModelProto.decode(attentionModel(Wq, Wk, true));
    for (const [k, t] of proto.graph!.initializer!.filter((t) => t.name === "Wq" || t.name === "Wk").entries()) {
      Buffer.from(Float32Array.from(t.floatData!).buffer).copy(data, 16 * k);
      t.floatData = [];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: "location", value: location }, { key: "offset", value: String(16 * k) }, { key: "length", value: "16" }];
    }
    return onnx.ModelProto.encode(proto).finish();
  };
  const root = mkdtempSync(join(tmpdir(), "nf-probe-escape-"));
  try {
    const dir = join(root, "model");
    mkdirSync(join(dir, "weights"), { recursive: true });
    const path = join(dir, "m.onnx");
    const X = { X: { data: [1, 0, 0, 1, 1, 1, -1, 0.5], shape: [1, 4, 2] } };
    const want = await probeAttention(openOnnx(attentionModel(Wq, Wk, true)), X);
    modelAt("weights/m.data"); // fills `data`
    // the file outside holds exactly the bytes a model would want: only the path rule can stop the read
    writeFileSync(join(root, "secret.data"), data);
    writeFileSync(join(dir, "weights", "m.data"), data);
    // a normal data file in a subfolder still works, and so does a symlink that stays inside the folder
    writeFileSync(path, modelAt("weights/m.data"));
    assert.deepEqual(Array.from((await probeAttention(path, X)).maps[0]!.data), Array.from(want.maps[0]!.data));
    symlinkSync(join(dir, "weights", "m.data"), join(dir, "inside.data"));
    writeFileSync(path, modelAt("inside.data"));
    assert.deepEqual(Array.from((await probeAttention(path, X)).maps[0]!.data), Array.from(want.maps[0]!.data));
    writeFileSync(path, modelAt("../secret.data"));
    assert.throws(() => openOnnx(path), /tensor "Wq" keeps its data at "\.\.\/secret\.data", which has a "\.\." component; external data must be a path relative to the model's folder/);
    writeFileSync(path, modelAt("weights/../../secret.data"));
    assert.throws(() => openOnnx(path), /has a "\.\." component/);
    writeFileSync(path, modelAt(join(root, "secret.data")));
    assert.throws(() => openOnnx(path), /keeps its data at the absolute path ".*secret\.data"; external data must be a path relative/);
    symlinkSync(join(root, "secret.data"), join(dir, "weights", "link.data"));
    writeFileSync(path, modelAt("weights/link.data"));
    assert.throws(() => openOnnx(path), /"weights\/link\.data", which resolves \(through symlinks\) to .*secret\.data, outside the model's folder/);
    symlinkSync(root, join(dir, "up"));
    writeFileSync(path, modelAt("up/secret.data"));
    assert.throws(() => openOnnx(path), /outside the model's folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the probe runs on the engine's device: with NEXTFRAME_DEVICE=webgpu it runs where the engine runs and fails where the engine fails, with the device's message", async () => {
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const { spawnSync } = await import("node:child_process");
  const file = join(mkdtempSync(join(tmpdir(), "nf-probe-")), "tiny.onnx");
  writeFileSync(file, attentionModel([1, 0, 0, 1], [1, 0, 0, 1], true));
  const code = `const say = (p) => p.then((r) => "ran", (e) => "error " + e.constructor.name + " " + e.message);
    (async () => {
      const engine = await say(require("./kernel/nextframe/engine/index.ts").tensor([1, 2]).add(1).toArray());
      const probe = await say(require("./kernel/nextframe/probe/index.ts").probeAttention(${JSON.stringify(file)}, { X: { data: [1, 0, 0, 1], shape: [1, 2, 2] } }));
      console.log(JSON.stringify({ engine, probe }));
    })();`;
  const run = (env: Record<string, string>) => JSON.parse(spawnSync(process.execPath, ["--import", "tsx", "-e", code],
    { cwd: new URL("../../../", `file://${__filename}`).pathname, env: { ...process.env, ...env }, encoding: "utf8" }).stdout.trim());
  assert.deepEqual(run({ NEXTFRAME_DEVICE: "cpu" }), { engine: "ran", probe: "ran" });
  // no GPU (as in CI): both fail with the device's own message naming the setting; with WebGPU both run there
  const gpu = run({ NEXTFRAME_DEVICE: "webgpu" });
  if (gpu.engine === "ran") assert.equal(gpu.probe, "ran");
  else assert.match(gpu.probe, /^error NextframeError device webgpu \(NEXTFRAME_DEVICE=webgpu, the nextframe.kernel.device setting\)/);
});
