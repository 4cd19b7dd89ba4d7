import { test } from "node:test";
import assert from "node:assert/strict";
import { tensor } from "../engine/index";
import { Generator } from "../engine/generator.js";
import { TextToVideoDiT, TextToVideoSampler, captionTokens, textToVideoConfig } from "./textToVideo";

const small = { hiddenSize: 32, depth: 2, numHeads: 2, textWidth: 16, textLayers: 1, textHeads: 2 };

/** Trained-looking weights: adaLN-Zero and the zero cross-attention output would make every output 0. */
function randomize(model: TextToVideoDiT, seed = 1): void {
  const rng = new Generator(seed);
  for (const [, p] of model.namedParameters()) {
    const v = p._value as Float32Array;
    for (let i = 0; i < v.length; i++) v[i] += 0.1 * rng.normal();
  }
}

const caps = ["a red ball bounces in a room. the agent walks left.", "a blue ball bounces in a room. the agent walks right."];

async function run(model: TextToVideoDiT, x: Float32Array, shape: number[], captions: (string | null)[]): Promise<Float32Array> {
  const n = shape[0]!;
  const t = tensor(Float32Array.from({ length: n }, (_, i) => 300 + 100 * i), { shape: [n] });
  const y = tensor(captionTokens(model.config, captions), { dtype: "int32", shape: [n, model.config.textLength] });
  return (await model.forward(tensor(x, { shape }), t, y).data()) as Float32Array;
}

test("joint denoising: changing the last frame's noise changes every earlier frame's output (not frame by frame)", async () => {
  const model = new TextToVideoDiT(small);
  randomize(model);
  const shape = [2, 8, 4, 8, 8], per = 4 * 8 * 8;
  const x = new Generator(3).randn(2 * 8 * per);
  const x2 = Float32Array.from(x);
  for (let i = 7 * per; i < 8 * per; i++) x2[i] += new Generator(9 + i).normal();   // sample 0, last frame only
  const [a, b] = [await run(model, x, shape, caps), await run(model, x2, shape, caps)];
  for (let f = 0; f < 7; f++) {
    let d = 0;
    for (let i = f * per; i < (f + 1) * per; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    assert.ok(d > 1e-4, `frame ${f} did not change (max |Δ| ${d})`);
  }
  // sample 1 is untouched: samples do not mix
  for (let i = 8 * per; i < 16 * per; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5);
});

test("one set of weights takes 8 and 16 frames, square and wide latents", async () => {
  const model = new TextToVideoDiT(small);
  randomize(model, 2);
  for (const shape of [[1, 8, 4, 8, 8], [1, 16, 4, 8, 8], [1, 8, 4, 8, 12], [1, 16, 4, 4, 12]]) {
    const n = shape.reduce((p, q) => p * q, 1);
    const out = await run(model, new Generator(4).randn(n), shape, [caps[0]!]);
    assert.equal(out.length, n);
    assert.ok(out.every(Number.isFinite) && out.some((v) => v !== 0), `shape ${shape}`);
  }
  assert.throws(() => model.forward(tensor(new Float32Array(4 * 6 * 8), { shape: [1, 1, 4, 6, 8] }), tensor(Float32Array.of(1), { shape: [1] }),
    tensor(new Int32Array(32), { dtype: "int32", shape: [1, 32] })), /multiples of 4/);
});

test("the caption conditions the output; the null caption is the unconditional model", async () => {
  const model = new TextToVideoDiT(small);
  const shape = [2, 4, 4, 8, 8], x = new Generator(5).randn(2 * 4 * 4 * 64);
  // untrained: cross-attention's output is zero and adaLN-Zero gates are closed → the caption has no effect
  const fresh = await run(model, x, shape, [caps[0]!, caps[0]!]);
  assert.ok(fresh.every((v) => v === 0));
  randomize(model, 3);
  const [red, blue, none] = [await run(model, x, shape, [caps[0]!, caps[0]!]), await run(model, x, shape, [caps[1]!, caps[1]!]), await run(model, x, shape, [null, null])];
  const diff = (p: Float32Array, q: Float32Array) => p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i]!)), 0);
  assert.ok(diff(red, blue) > 1e-3 && diff(red, none) > 1e-3);
  // the null caption is all padding: any padding-only caption gives the same output
  const tokens = captionTokens(model.config, [null]);
  assert.ok(tokens.every((v) => v === 0));
});

test("GPT text encoder: frozen GPT weights, only the DiT trains; config errors name the field", () => {
  const model = new TextToVideoDiT({ ...small, textEncoder: "gpt" });
  const frozen = model.text_encoder.parameters();
  assert.ok(frozen.length > 0 && frozen.every((p) => !p.requiresGrad));
  assert.ok(model.numParameters({ trainableOnly: true }) < model.numParameters());
  assert.throws(() => textToVideoConfig(null, { hiddenSize: 40 }), /divisible by 16/);
  assert.throws(() => textToVideoConfig("t2v-huge"), /unknown config/);
  assert.throws(() => textToVideoConfig(null, { predict: "score" as never }), /predict must be "x0", "v" or "epsilon", got "score"/);
  assert.equal(textToVideoConfig("t2v-xs").predict, "x0", "cards written before `predict` existed were x0 models");
});

test("sampler: CFG batch of caption + null caption, shapes and bad options", async () => {
  const model = new TextToVideoDiT(small);
  randomize(model, 4);
  const sampler = new TextToVideoSampler(model);
  const { latents, shape } = await sampler.sample([caps[0]!], { frames: 8, latentHeight: 8, latentWidth: 12, steps: 2, guidance: 2 });
  assert.deepEqual(shape, [1, 8, 4, 8, 12]);
  assert.ok(latents.every(Number.isFinite));
  const again = await sampler.sample([caps[0]!], { frames: 8, latentHeight: 8, latentWidth: 12, steps: 2, guidance: 2 });
  assert.deepEqual(again.latents, latents);   // seeded
  const other = await sampler.sample([caps[0]!], { frames: 8, latentHeight: 8, latentWidth: 12, steps: 2, guidance: 0 });
  assert.ok(other.latents.some((v, i) => Math.abs(v - latents[i]!) > 1e-4));
  await assert.rejects(sampler.sample([caps[0]!], { latentWidth: 10 }), /multiple of the patch size/);
  await assert.rejects(sampler.sample([caps[0]!], { guidance: -1 }), /guidance/);
});
