import { test } from "node:test";
import assert from "node:assert/strict";
import { DIT_CONFIGS, ditConfig } from "./dit";
import { ditComplexity, spaceTimeMacs } from "./flops";

/**
 * Peebles & Xie 2023 (https://arxiv.org/abs/2212.09748), Table 4: forward Gflops of each DiT config on 32×32×4
 * latents (256×256 images). The p = 4 column also appears rounded in Table 1 (S 1.4, B 5.6, L 19.7, XL 29.1).
 */
const PAPER_GFLOPS: Record<string, number> = {
  "DiT-S/8": 0.36, "DiT-S/4": 1.41, "DiT-S/2": 6.06,
  "DiT-B/8": 1.42, "DiT-B/4": 5.56, "DiT-B/2": 23.01,
  "DiT-L/8": 5.01, "DiT-L/4": 19.70, "DiT-L/2": 80.71,
  "DiT-XL/8": 7.39, "DiT-XL/4": 29.05, "DiT-XL/2": 118.64,
};

test("all 12 DiT configs match the paper's Gflops (Table 4) within 1%", () => {
  assert.deepEqual(Object.keys(DIT_CONFIGS).sort(), Object.keys(PAPER_GFLOPS).sort());
  for (const name of Object.keys(DIT_CONFIGS)) {
    const want = PAPER_GFLOPS[name];
    assert.ok(want !== undefined, `no paper number for ${name}`);
    const { gflops } = ditComplexity(name);
    const rel = Math.abs(gflops - want) / want;
    assert.ok(rel < 0.01, `${name}: computed ${gflops.toFixed(3)} Gflops, paper ${want} (rel err ${(rel * 100).toFixed(2)}%)`);
  }
});

test("DiT-XL/2 has the paper's 675M parameters", () => {
  const { params } = ditComplexity("DiT-XL/2");
  assert.ok(Math.abs(params / 1e6 - 675) < 1, `params ${params}`);
  // S/2 is ~33M in the paper's Table 1 ("33M").
  assert.ok(Math.abs(ditComplexity("DiT-S/2").params / 1e6 - 33) < 0.5);
});

test("gflops scale ~4x when patch size halves, and with input size", () => {
  const s4 = ditComplexity("DiT-S/4").gflops, s2 = ditComplexity("DiT-S/2").gflops;
  assert.ok(s2 / s4 > 4 && s2 / s4 < 4.5);
  assert.ok(ditComplexity("DiT-S/2", { inputSize: 64 }).gflops > 4 * s2);
});

test("unknown config name lists the valid ones", () => {
  assert.throws(() => ditConfig("DiT-M/3"), /unknown config "DiT-M\/3".*DiT-XL\/2/);
  assert.throws(() => ditConfig("DiT-S/2", { inputSize: 31 }), /inputSize 31 is not divisible by patchSize 2/);
});

test("factorized space-time attention is cheaper than full, and the gap grows with frames", () => {
  const o = { spatialTokens: 64, hiddenSize: 384 };
  const ratio = (F: number) => spaceTimeMacs("full", { ...o, frames: F }).attention / spaceTimeMacs("factorized", { ...o, frames: F }).attention;
  assert.ok(ratio(16) > ratio(4) && ratio(4) > 1);
  // exact counts for a small case: F=2, S=3, D=4 → full pairs 36, factorized 2·9 + 3·4 = 30
  assert.equal(spaceTimeMacs("full", { frames: 2, spatialTokens: 3, hiddenSize: 4, mlpRatio: 0 }).attention, 36 * 4 * 2);
  assert.equal(spaceTimeMacs("factorized", { frames: 2, spatialTokens: 3, hiddenSize: 4 }).attention, 30 * 4 * 2);
  assert.equal(spaceTimeMacs("factorized", { frames: 2, spatialTokens: 3, hiddenSize: 4, causal: true }).attention, (18 + 9) * 4 * 2);
});
