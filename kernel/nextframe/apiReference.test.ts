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
