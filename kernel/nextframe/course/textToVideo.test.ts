import { test } from "node:test";
import assert from "node:assert/strict";
import { Autoencoder } from "../models/autoencoder";
import { parseCaption } from "./captionAgreement";
import {
  HELDOUT_COMBOS, PromptError, decodeClips, diversity, evaluationClips, expandPrompt, flicker, heldoutCombo, loadTextToVideo, minSnrWeight,
  panConsistency, retrieve, textToVideoClip, textToVideoData, trainTextToVideo,
} from "./textToVideo";
import { loadAutoencoder } from "./checkpoints";
import { TEXT_TO_VIDEO_SAMPLING, textToVideoConfig, textToVideoDiffusion } from "../models/textToVideo";
import { TEXT_TO_VIDEO_RECIPE } from "./recipes";
import { Generator } from "../engine/generator.js";

test("prompt expander: short prompts become captions of the training grammar; prompts it cannot handle get a clear message", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["red ball, agent goes left", { balls: ["red"], agentMotion: "left", ateBurger: false, cameraPan: false }],
    ["A blue and a green ball; the agent walks toward us and eats the burger, camera pans", { balls: ["blue", "green"], agentMotion: "toward", ateBurger: true, cameraPan: true }],
    ["cyan ball hides behind the tree", { balls: ["cyan"], hidden: ["cyan"], agentMotion: "still" }],
  ];
  for (const [prompt, want] of cases) {
    const caption = expandPrompt(prompt);
    const got = parseCaption(caption);
    assert.ok(got, `"${caption}" parses`);
    for (const [k, v] of Object.entries(want)) assert.deepEqual((got as Record<string, unknown>)[k], v, `${prompt}: ${k}`);
  }
  for (const [bad, msg] of [["", /empty/], ["a dog runs in the park", /no "dog"/], ["a purple ball", /no purple ball/], ["the agent walks left", /name at least one ball colour/],
    ["red, blue and green balls", /one or two balls/]] as const) {
    assert.throws(() => expandPrompt(bad), (e: Error) => e instanceof PromptError && msg.test(e.message), bad);
  }
});

test("held-out combinations: no training clip shows one and no training caption says one; the held-out evaluation captions all do", async () => {
  assert.deepEqual(heldoutCombo({ balls: ["green", "red"], agentMotion: "left" }), HELDOUT_COMBOS[0]);
  assert.equal(heldoutCombo({ balls: ["red"], agentMotion: "right" }), null);
  const ae = new Autoencoder({ name: "ae-32-f2" });
  const data = await textToVideoData(ae, { seed: 5, numTrain: 48 });
  assert.ok(data.train.length > 30 && data.droppedHeldout > 0, `${data.train.length} kept, ${data.droppedHeldout} dropped`);
  data.train.forEach((c, i) => {
    assert.equal(heldoutCombo(c.attributes), null);
    assert.equal(heldoutCombo(parseCaption(data.captions[i]!)), null);
    if (!data.recaptioned[i]) assert.equal(data.captions[i], c.captions.rich);
    else assert.notEqual(c.captionKind, "rich");
  });
  const held = evaluationClips(1, 3, { heldout: true });
  assert.equal(held.length, 3);
  for (const c of held) assert.ok(heldoutCombo(c.attributes));
  for (const c of evaluationClips(1, 2, { pan: true })) assert.ok(c.attributes.cameraPan && !heldoutCombo(c.attributes));
  // retrieval: a caption present in the training set retrieves a clip with exactly that caption
  const [hit] = retrieve(data, [data.captions[0]!]);
  assert.equal(data.captions[data.train.indexOf(hit!)], data.captions[0]);
});

test("consistency measures on true clips: little flicker, tree keeps its width under a pan and the near tree slides more than the far burger", () => {
  const clips = Array.from({ length: 40 }, (_, i) => textToVideoClip(900 + i)).filter((c) => c.attributes.cameraPan).slice(0, 6);
  assert.ok(clips.length >= 4);
  const per = 16 * 32 * 32 * 3, all = new Uint8Array(clips.length * per);
  clips.forEach((c, i) => all.set(c.frames, i * per));
  const shape = [clips.length, 16, 32, 32];
  const f = flicker(all, shape);
  const pan = panConsistency(all, shape);
  assert.ok(pan.parallaxOk >= 0.75 && pan.treeSizeSpread <= 1, JSON.stringify(pan));
  // the same frames in a random order flicker more
  const shuffled = new Uint8Array(all.length), P = 32 * 32 * 3;
  for (let c = 0; c < clips.length; c++) for (let t = 0; t < 16; t++) shuffled.set(all.subarray((c * 16 + ((t * 7) % 16)) * P, (c * 16 + ((t * 7) % 16) + 1) * P), (c * 16 + t) * P);
  assert.ok(f < flicker(shuffled, shape), `flicker ${f} vs shuffled ${flicker(shuffled, shape)}`);
  assert.equal(diversity(all, all), 0);
});

test("decodeClips decodes any latent grid (square and wide) with the autoencoder's decoder", async () => {
  const ae = new Autoencoder({ name: "ae-32-f2" });
  const out = await decodeClips(ae, new Float32Array(2 * 3 * 4 * 12 * 16), [2, 3, 4, 12, 16]);
  assert.equal(out.length, 2 * 3 * 24 * 32 * 3);
});

test("min-SNR-γ: whatever the prediction (x₀, v, ε), the weighted loss is min(SNR, γ) times the x₀ error", () => {
  const d = textToVideoDiffusion(textToVideoConfig("t2v-xs"));
  const g = new Generator(3), gamma = 5;
  for (const t of [10, 300, 700, 990]) {
    const ab = d.c.alphasCumprod[t]!, sa = Math.sqrt(ab), s1 = Math.sqrt(1 - ab), snr = ab / (1 - ab);
    const x0 = Array.from({ length: 64 }, () => g.normal()), eps = x0.map(() => g.normal()), xt = x0.map((v, i) => sa * v + s1 * eps[i]!);
    const x0hat = x0.map((v) => v + 0.1 * g.normal());                  // some imperfect denoiser's x̂₀ …
    const epsHat = xt.map((v, i) => (v - sa * x0hat[i]!) / s1);         // … and the ε and v it implies at x_t
    const vHat = x0hat.map((v, i) => sa * epsHat[i]! - s1 * v), v = x0.map((u, i) => sa * eps[i]! - s1 * u);
    const sq = (a: number[], b: number[]) => a.reduce((s, u, i) => s + (u - b[i]!) ** 2, 0);
    const want = Math.min(snr, gamma) * sq(x0hat, x0);
    for (const [predict, err] of [["x0", sq(x0hat, x0)], ["v", sq(vHat, v)], ["epsilon", sq(epsHat, eps)]] as const) {
      const got = minSnrWeight(predict, ab, gamma) * err;
      assert.ok(Math.abs(got - want) <= 1e-6 * want, `t=${t} ${predict}: ${got} vs ${want}`);
    }
  }
  assert.equal(minSnrWeight("x0", 0.5, 5), 1, "SNR 1 < γ: the x₀ loss keeps weight SNR = 1");
});

test("the shipped sampler settings are one: the recipe's (card, chapter) and the sampler's defaults (bench)", () => {
  assert.deepEqual({ steps: TEXT_TO_VIDEO_SAMPLING.steps, guidance: TEXT_TO_VIDEO_SAMPLING.guidance }, { ...TEXT_TO_VIDEO_RECIPE.sampling });
});

test("trainTextToVideo continues a given model (init): its config and latent scale kept, its caption GPT frozen, not retrained", async () => {
  const init = loadTextToVideo(), scale = init.config.latentScale;
  const copy = (m: typeof init) => new Map(Object.entries(m.stateDict()).map(([k, v]) => [k, Float32Array.from(v._value as Float32Array)]));
  const before = copy(init);
  const data = await textToVideoData(loadAutoencoder(), { seed: 5, numTrain: 16 });
  const r = await trainTextToVideo({ data, config: "t2v-xs", steps: 1, batchSize: 2, lr: 1e-3, seed: 5, init });
  assert.equal(r.model, init, "the given model is the one trained");
  assert.equal(r.gptLoss, null, "the caption GPT was retrained");
  assert.equal(r.model.config.latentScale, scale, "the latent scale was recomputed from the new data");
  let gptMoved = 0, ditMoved = 0;
  for (const [k, v] of copy(r.model)) {
    const d = v.reduce((m, x, i) => Math.max(m, Math.abs(x - before.get(k)![i]!)), 0);
    if (k.startsWith("text_encoder.gpt.")) gptMoved = Math.max(gptMoved, d); else ditMoved = Math.max(ditMoved, d);
  }
  assert.equal(gptMoved, 0, "the frozen caption GPT changed");
  // one AdamW step from the given weights moves each by about the learning rate at most; a fresh model would not be near
  assert.ok(ditMoved > 1e-6 && ditMoved <= 2e-3, `one step moved the DiT's weights by up to ${ditMoved}`);
});
