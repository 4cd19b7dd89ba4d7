import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { API_FILE, generateApiReference } from "./apiReference";

const reference = generateApiReference();
const names = new Set([...reference.matchAll(/^- `([^`(]+)/gm)].map((m) => m[1]!));

test("API.md is what apiReference.ts generates from index.ts now (regenerate it after changing the public API)", () => {
  const saved = readFileSync(API_FILE, "utf8").split("\n"), now = reference.split("\n");
  const first = now.findIndex((l, i) => l !== saved[i]);
  assert.ok(first < 0 && saved.length === now.length,
    `kernel/nextframe/API.md is stale from line ${first + 1} (saved: ${JSON.stringify(saved[first])}, now: ${JSON.stringify(now[first])}); ` +
    "run node --import tsx kernel/nextframe/apiReference.ts");
});

test("the public API: tensor basics at the top level, one namespace per area, internals and duplicate names left out", () => {
  for (const n of ["tensor", "randn", "zeros", "compile", "grad", "setDevice", "manualSeed", "Tensor", "DType", "NextframeError", "F",
    "display", "showTable", "lineChart", "claim"]) assert.ok(names.has(n), `${n} at the top level`);
  for (const ns of ["nn", "optim", "diffusion", "models", "patches", "probe", "metrics", "worlds", "io", "course", "nn.init",
    "models.gpt", "models.dit"]) assert.ok(names.has(ns), `namespace ${ns}`);
  for (const n of ["nn.Linear", "optim.AdamW", "diffusion.createDiffusion", "models.gpt.Block", "models.dit.DiTBlock", "metrics.linearProbe",
    "probe.probeAttention", "worlds.VideoWorld", "F.relu", "F.softmax", "course.videoWorldData", "io.loadSafetensors", "nn.init.normal_"]) assert.ok(names.has(n), n);
  // internals, names kept only to dodge a clash, second names of one symbol, exports nobody used
  for (const n of ["internal", "userFirstStack", "vjpRules", "unbroadcast", "mix32", "MIME_BUNDLE", "TensorOrNumber", "TensorMimeBundle",
    "NEXTFRAME_MIME", "zerosLike", "onesLike", "nn.init.ones_", "bf16ToF32", "concat", "normal_", "isCapturing", "CHAPTER1_TEXT_WORLD",
    "course.frameActions", "course.rolloutFromTruth", "relu", "gelu", "softmax"]) {
    assert.ok(!names.has(n), `${n} is not public`);
  }
});

test("every public name has a one-line doc comment", () => {
  const bare = reference.split("\n").filter((l) => /^- `[^`]+` [a-z]+$/.test(l));
  assert.deepEqual(bare, [], "write a /** … */ comment above each of these");
});

test("every error class the library exports is a NextframeError", async () => {
  const nf = await import("./index");
  const errors: string[] = [];
  const walk = (ns: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(ns)) {
      if (typeof v === "function" && /^[A-Z]\w*Error$/.test(k)) {
        assert.ok(v.prototype instanceof nf.NextframeError || v === nf.NextframeError, `${prefix}${k} does not extend NextframeError`);
        errors.push(prefix + k);
      } else if (names.has(prefix + k) && reference.includes("`" + prefix + k + "` namespace")) walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(nf as unknown as Record<string, unknown>, "");
  for (const e of ["ShapeError", "io.SafetensorsError", "worlds.VideoWorldError", "probe.OnnxProbeError", "DisplayInputError"]) assert.ok(errors.includes(e), e);
});

test("library code throws NextframeError (or a subclass), not a plain Error, except for `internal:` bugs", async () => {
  const { readdirSync, statSync } = await import("node:fs");
  const { join, relative } = await import("node:path");
  const pending = new Set<string>();
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".ts") && !n.endsWith(".test.ts")) files.push(p);
    }
  };
  walk(__dirname);
  const plain: string[] = [], stillPlain = new Set<string>();
  for (const f of files) {
    const rel = relative(__dirname, f);
    readFileSync(f, "utf8").split("\n").forEach((line, i) => {
      if (!/throw new Error\(/.test(line) || /internal:/.test(line)) return;
      if (pending.has(rel)) stillPlain.add(rel);
      else plain.push(`${rel}:${i + 1}`);
    });
  }
  assert.deepEqual(plain, [], "throw a NextframeError (engine/errors.ts) so `catch (e) { e instanceof NextframeError }` sees every library error");
  assert.deepEqual([...pending].filter((f) => !stillPlain.has(f)), [], "these files throw no plain Error any more: take them off the pending list");
});
