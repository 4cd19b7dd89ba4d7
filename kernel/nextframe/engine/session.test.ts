import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { setDevice, getDevice, tensor } from "./index.js";

test("auto picks a provider that runs the probe graph, else cpu, and reports once", async () => {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(" ")); };
  try {
    const r1 = await setDevice("auto");
    const r2 = await setDevice("auto");
    assert.ok(["cpu", "cuda", "webgpu"].includes(r1.device));
    assert.equal(r1.device, r2.device);
    if (r1.device === "cpu") assert.match(r1.reason, /cuda .*; webgpu /);
    assert.ok(lines.filter((l) => l.startsWith("nextframe: device")).length <= 1);
  } finally {
    console.log = orig;
  }
  await setDevice("cpu");
  assert.deepEqual(await tensor([1, 2]).mul(3).toArray(), [3, 6]);
});

test("explicit providers that cannot run fail with the reason", async () => {
  const auto = await setDevice("auto");
  if (auto.device === "cpu") {
    await assert.rejects(setDevice("webgpu"), /setDevice: webgpu/);
    await assert.rejects(setDevice("cuda"), /setDevice: cuda/);
  }
  await setDevice("cpu");
  assert.equal(getDevice().device, "cpu");
});

test("threads: a setting (default 2), NEXTFRAME_THREADS overrides, invalid values are rejected", async () => {
  const before = getDevice().threads;
  await setDevice("cpu", { threads: 1 });
  assert.equal(getDevice().threads, 1);
  assert.deepEqual(await tensor([1, 2]).add(1).toArray(), [2, 3]);
  await setDevice("cpu", { threads: before });
  await assert.rejects(setDevice("cpu", { threads: 0 }), /threads must be a positive integer, got 0/);
  const code = `require("./kernel/nextframe/engine/session.ts"); console.log(JSON.stringify(require("./kernel/nextframe/engine/session.ts").getDevice()))`;
  const run = (env: Record<string, string>) =>
    JSON.parse(spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: new URL("../../../", `file://${__filename}`).pathname, env: { ...process.env, ...env }, encoding: "utf8" }).stdout.trim());
  assert.equal(run({ NEXTFRAME_THREADS: "3" }).threads, 3);
  assert.equal(run({ NEXTFRAME_THREADS: "" }).threads, 2);
});

test("NEXTFRAME_DEVICE (the nextframe.kernel.device setting) picks the starting device; a GPU that cannot run says why at the first op", () => {
  const code = `const e = require("./kernel/nextframe/engine/index.ts"); console.log(e.getDevice().device);
    e.tensor([1, 2]).add(1).toArray().then((v) => console.log("ran", v.join(",")), (err) => console.log("error", err.message));`;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: new URL("../../../", `file://${__filename}`).pathname, env: { ...process.env, ...env }, encoding: "utf8" });
  const cpu = run({ NEXTFRAME_DEVICE: "cpu" });
  assert.deepEqual(cpu.stdout.trim().split("\n"), ["cpu", "ran 2,3"]);
  const bad = run({ NEXTFRAME_DEVICE: "tpu" });
  assert.match(bad.stderr, /NEXTFRAME_DEVICE must be cpu, cuda or webgpu, got "tpu"/);
  const webgpu = run({ NEXTFRAME_DEVICE: "webgpu" });
  const [dev, result] = webgpu.stdout.trim().split("\n");
  assert.equal(dev, "webgpu");
  // here (no GPU, as in CI) the first op names the setting and the reason; on a machine with WebGPU it runs
  if (!result!.startsWith("ran")) assert.match(result!, /^error device webgpu \(NEXTFRAME_DEVICE=webgpu, the nextframe.kernel.device setting\)(: onnxruntime could not make a session: | cannot run here: ).*Use cpu, or await setDevice\("auto"\)/);
});

test("NEXTFRAME_ORT_CONFIG passes onnxruntime session config entries; a malformed value is rejected by name", () => {
  const code = `require("./kernel/nextframe/engine/index.ts").tensor([1, 2]).mul(2).toArray().then((v) => console.log("ran", v.join(",")), (err) => console.log("error", err.message));`;
  const run = (cfg: string) =>
    spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: new URL("../../../", `file://${__filename}`).pathname, env: { ...process.env, NEXTFRAME_ORT_CONFIG: cfg }, encoding: "utf8" }).stdout.trim();
  // a real entry (the CPU provider's denormal flushing) is accepted and the graph runs
  assert.equal(run(`{"session.set_denormal_as_zero":"1"}`), "ran 2,4");
  assert.match(run(`{"session.set_denormal_as_zero":1}`), /^error NEXTFRAME_ORT_CONFIG must be a JSON object of onnxruntime session config entries with string values, got \{"session.set_denormal_as_zero":1\}/);
  assert.match(run("not json"), /^error NEXTFRAME_ORT_CONFIG must be a JSON object/);
});
