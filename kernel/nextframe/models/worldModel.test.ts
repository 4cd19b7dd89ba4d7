import { test } from "node:test";
import assert from "node:assert/strict";
import { randn, tensor, withCapture } from "../engine/index";
import { Generator } from "../engine/generator.js";
import { CAPTION_LENGTH, WorldModel, WorldSimulator, captionTokenizer, contextLevelStd, contextOffsets, encodeCaptions, noisyNextLatent, worldModelConfig, worldModelDiffusion } from "./worldModel";
import { Autoencoder } from "./autoencoder";
import { generateVideoClip } from "../worlds/videoWorld";
import { trainWorldModel, worldModelBatch } from "../course/worldModelTraining";
import { videoWorldData } from "../course/videoData";

const small = { hiddenSize: 32, depth: 2, numHeads: 2, contextFrames: 3, latentSize: 8, patchSize: 4 };

/** adaLN-Zero starts every block as the identity and the output at 0; perturb so outputs depend on inputs. */
function randomize(model: WorldModel, seed = 1): void {
  const rng = new Generator(seed);
  for (const [name, p] of model.namedParameters()) {
    if (name === "pos_embed") continue;
    const v = p._value as Float32Array;
    for (let i = 0; i < v.length; i++) v[i] += 0.1 * rng.normal();
  }
}

test("worldModelConfig: table names and field errors", () => {
  assert.equal(worldModelConfig("wm-xs").hiddenSize, 96);
  assert.throws(() => worldModelConfig("wm-xxl"), /unknown config "wm-xxl"; expected one of wm-xs, wm-s/);
  assert.throws(() => worldModelConfig(null, { patchSize: 3 }), /latentSize 8 is not divisible by patchSize 3/);
  assert.throws(() => worldModelConfig(null, { contextFrames: 0 }), /contextFrames must be a positive integer, got 0/);
  assert.throws(() => worldModelConfig(null, { attention: "axial" as never }), /attention must be "factorized" or "full", got "axial"/);
});

test("memory frames: offsets before the target, oldest first; training windows and the simulator read the same frames, older ones repeat the first", async () => {
  assert.deepEqual(contextOffsets(worldModelConfig(null, { contextFrames: 3, memoryFrames: [5, 9] })), [9, 5, 3, 2, 1]);
  assert.throws(() => worldModelConfig(null, { contextFrames: 3, memoryFrames: [3] }), /memoryFrames must be distinct integer offsets greater than contextFrames \(3\), got \[3\]/);
  const m = new WorldModel(small, { memoryFrames: [6], contextNoise: 0 });     // window: t−6, t−3, t−2, t−1, t
  assert.equal(m.frames, 5);
  // training windows: latent frame f is filled with the value f, so each window slot shows which frame it holds
  const T = 10, L = 4 * 8 * 8, acts = Uint8Array.from({ length: T }, (_, i) => 1 + (i % 5));
  const data = { latents: [Float32Array.from({ length: T * L }, (_, i) => Math.floor(i / L))], actions: [acts], numFrames: T, frameLength: L };
  const b = worldModelBatch(m, worldModelDiffusion(m.config), data, 32, new Generator(5), () => 0);
  const x = (await b.x.data()) as Float32Array, a = (await b.a.data()) as Int32Array, target = (await b.target.data()) as Float32Array;
  const targets = new Set<number>();
  for (let r = 0; r < 32; r++) {
    const tgt = target[r * L]!;
    targets.add(tgt);
    const want = [Math.max(0, tgt - 6), tgt - 3, tgt - 2, tgt - 1];
    assert.deepEqual([0, 1, 2, 3].map((f) => x[(r * 5 + f) * L + 7]), want, `window for target ${tgt}`);
    assert.deepEqual(Array.from(a.subarray(r * 5, r * 5 + 5)), [...want, tgt].map((i) => (i > 0 ? acts[i - 1]! : 0)));
  }
  assert.ok([...targets].every((t) => t >= 3 && t < T) && targets.has(3) && targets.has(9), `targets ${[...targets]}`);
  // the simulator: K to historyFrames true frames; frames before the first given read as the first
  randomize(m);
  const sim = new WorldSimulator(m, new Autoencoder(), { steps: 1 });
  assert.equal(sim.historyFrames, 6);
  const clip = generateVideoClip({ seed: 4, frames: 9, size: 32 }), F3 = 32 * 32 * 3;
  const next = async (frames: Uint8Array, actions: number[]) => { await sim.reset(frames, actions); return sim.stepLatent(2); };
  const recent = clip.frames.slice(6 * F3, 9 * F3), first = recent.subarray(0, F3);
  const padded = new Uint8Array(6 * F3);
  for (let k = 0; k < 3; k++) padded.set(first, k * F3);
  padded.set(recent, 3 * F3);
  const short = await next(recent, [1, 1, 1]);
  assert.deepEqual(await next(padded, [1, 1, 1, 1, 1, 1]), short);                 // the same window
  const full = await next(clip.frames.slice(3 * F3, 9 * F3), [1, 1, 1, 1, 1, 1]);   // frame 3 in the memory slot
  assert.ok(full.some((v, i) => Math.abs(v - short[i]!) > 1e-4), "the memory frame should change the prediction");
  await assert.rejects(sim.reset(clip.frames.slice(0, 7 * F3), new Array(7).fill(0)), /expected 3 to 6 frames of 32×32×3/);
  await assert.rejects(sim.reset(clip.frames.slice(0, 2 * F3), [0, 0]), /expected 3 to 6 frames/);
});

test("forward: (N, K+1, C, H, W) in and out; spatial and temporal attention captured", () => {
  const m = new WorldModel(small);
  const x = randn([2, 4, 4, 8, 8], { seed: 1 });
  const t = tensor(Float32Array.of(10, 900), { shape: [2] });
  const a = tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1]), { shape: [2, 4] });
  const { output, captured } = withCapture(() => m.forward(x, t, a));
  assert.deepEqual(output.shape, [2, 4, 4, 8, 8]);
  assert.deepEqual(m.predictNext(x, t, a).shape, [2, 4, 8, 8]);
  assert.deepEqual(captured.get("blocks.0.attn.temporal")!.shape, [2 * 4, 2, 4, 4]);
  assert.deepEqual(captured.get("blocks.1.attn.spatial")!.shape, [2 * 4, 2, 4, 4]);
  assert.throws(() => m.forward(randn([2, 3, 4, 8, 8]), t, a), /x must be \(N, 4, 4, 8, 8\), got \[2, 3, 4, 8, 8\]/);
  assert.throws(() => m.forward(x, t, tensor(new Int32Array(6), { shape: [2, 3] })), /actions must be \(N, F\) = \[2, 4\]/);
});

for (const attention of ["factorized", "full"] as const) test(`causal in time (${attention} attention): changing later frames never changes the prediction for earlier frames`, async () => {
  const m = new WorldModel(small, { attention });
  if (attention === "full") {
    const { captured } = withCapture(() => m.forward(randn([1, 4, 4, 8, 8]), tensor(Float32Array.of(1), { shape: [1] }), tensor(new Int32Array(4), { shape: [1, 4] })));
    assert.deepEqual(captured.get("blocks.0.attn")!.shape, [1, 2, 16, 16]);   // one attention over all 4 frames × 4 tokens
  }
  randomize(m);
  const x1 = (await randn([1, 4, 4, 8, 8], { seed: 2 }).data()) as Float32Array;
  const x2 = x1.slice();
  const L = 4 * 8 * 8;
  for (let i = 2 * L; i < 4 * L; i++) x2[i] = -x2[i]! + 0.5;         // frames 2 and 3 change
  const t = tensor(Float32Array.of(500), { shape: [1] });
  const a = tensor(Int32Array.from([0, 1, 2, 3]), { shape: [1, 4] });
  const y1 = (await m.forward(tensor(x1, { shape: [1, 4, 4, 8, 8] }), t, a).data()) as Float32Array;
  const y2 = (await m.forward(tensor(x2, { shape: [1, 4, 4, 8, 8] }), t, a).data()) as Float32Array;
  for (let i = 0; i < 2 * L; i++) assert.ok(Math.abs(y1[i]! - y2[i]!) < 1e-4, `frame ${Math.floor(i / L)} changed`);
  let diff = 0;
  for (let i = 2 * L; i < 4 * L; i++) diff = Math.max(diff, Math.abs(y1[i]! - y2[i]!));
  assert.ok(diff > 1e-3, "later frames should depend on their inputs");
  // the action conditions the prediction
  const y3 = (await m.forward(tensor(x1, { shape: [1, 4, 4, 8, 8] }), t, tensor(Int32Array.from([0, 1, 2, 5]), { shape: [1, 4] })).data()) as Float32Array;
  assert.ok(y3.some((v, i) => Math.abs(v - y1[i]!) > 1e-4));
});

test("simulator: few-step DDIM rollouts of any length, anchored decoding, bad input named", async () => {
  const m = new WorldModel(small);
  randomize(m);
  const ae = new Autoencoder();
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 });
  const F3 = 32 * 32 * 3;
  const sim = new WorldSimulator(m, ae, { steps: 2 });
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  const frames = await sim.rollout([1, 2, 3, 4, 5]);
  assert.equal(frames.length, 5 * F3);
  assert.equal(sim.t, 5);
  // same seed → same rollout
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  assert.deepEqual(await sim.rollout([1, 2, 3, 4, 5]), frames);
  await assert.rejects(sim.step(6), /action must be an integer in \[0, 6\)/);
  await assert.rejects(sim.reset(clip.frames.slice(0, 2 * F3), [0, 1]), /expected 3 frames of 32×32×3/);
  assert.throws(() => new WorldSimulator(m, ae, { steps: 0 }), /steps must be an integer in \[1, 1000\]/);
  assert.throws(() => new WorldSimulator(new WorldModel({ ...small, latentChannels: 2 }), ae), /autoencoder latents \(4×8×8\) do not match/);
  // the sampler's steps count down from the noisiest one: a single step starts from pure noise (t = T − 1)
  assert.equal(worldModelDiffusion(m.config, 2).numTimesteps, 2);
  assert.deepEqual([...worldModelDiffusion(m.config, 1).mapTimesteps(Int32Array.of(0))], [m.config.diffusionSteps - 1]);
  assert.deepEqual([...worldModelDiffusion(m.config, 2).mapTimesteps(Int32Array.of(0, 1))], [m.config.diffusionSteps / 2 - 1, m.config.diffusionSteps - 1]);
});

test("changeScale: the predicted change is scaled before it is drawn (0 copies the last latent, 2 doubles the change); bad values named", async () => {
  const m = new WorldModel(small);
  randomize(m);
  const ae = new Autoencoder(), clip = generateVideoClip({ seed: 4, frames: 8, size: 32 }), F3 = 32 * 32 * 3;
  const next = async (changeScale?: number) => {
    const sim = new WorldSimulator(m, ae, { steps: 1, changeScale });
    await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
    return sim.stepLatent(3);
  };
  const [zDefault, z1, z0, z2] = [await next(), await next(1), await next(0), await next(2)];
  assert.deepEqual(zDefault, z1);
  const lim = 1 / m.config.latentScale;
  let compared = 0, changed = 0;
  for (let i = 0; i < z1.length; i++) {
    const zt = z0[i]!, d1 = z1[i]! - zt;                    // scale 0: the last latent itself (clamped like every x̂₀)
    if (Math.abs(zt + 2 * d1) >= lim || Math.abs(zt) >= lim) continue;
    assert.ok(Math.abs(z2[i]! - (zt + 2 * d1)) < 1e-4, `element ${i}: ${z2[i]} vs z_t + 2Δ = ${zt + 2 * d1}`);
    compared++;
    if (Math.abs(d1) > 1e-3) changed++;
  }
  assert.ok(compared > z1.length / 2 && changed > 10, `compared ${compared}, changed ${changed}`);
  for (const bad of [-1, NaN, Infinity]) assert.throws(() => new WorldSimulator(m, ae, { changeScale: bad }), /changeScale must be a finite number ≥ 0 \(1 = the model as trained\), got/);
});

test("residual: a fresh model predicts 'nothing changes', so its rollout IS copy-last-frame", async () => {
  const m = new WorldModel({ ...small, residual: true });  // adaLN-Zero: Δ = 0 before training
  assert.equal(m.config.residual, true);
  const x = randn([2, 4, 4, 8, 8], { seed: 3 });
  const t = tensor(Float32Array.of(999, 10), { shape: [2] });
  const a = tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1]), { shape: [2, 4] });
  assert.deepEqual(await m.predictNext(x, t, a).data(), await x.slice(1, 2, 3).squeeze(1).data());
  const direct = new WorldModel({ ...small, residual: false });
  assert.ok(((await direct.predictNext(x, t, a).data()) as Float32Array).every((v) => v === 0), "x₀-direct starts at 0");
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 });
  const F3 = 32 * 32 * 3;
  const sim = new WorldSimulator(m, new Autoencoder(), { steps: 2 });
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  const frames = await sim.rollout([1, 2, 3]);
  for (let h = 0; h < 3; h++) assert.deepEqual(frames.slice(h * F3, (h + 1) * F3), clip.frames.slice(2 * F3, 3 * F3), `frame ${h + 1} is the last context frame`);
});

test("local path: zero at init (still copy-last); the current action's 3×3 convolution acts — a centre tap on the last change extrapolates for that action only; trained by trainWorldModel", async () => {
  assert.throws(() => worldModelConfig(null, { ...small, localPath: true }), /localPath needs residual: true and contextFrames ≥ 3/);
  const m = new WorldModel({ ...small, residual: true, localPath: true });
  const x = randn([2, 4, 4, 8, 8], { seed: 3 });
  const t = tensor(Float32Array.of(999, 10), { shape: [2] });
  const a = tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 0, 1]), { shape: [2, 4] });     // current actions: 3 and 1
  const zt = x.slice(1, 2, 3).squeeze(1), z1 = x.slice(1, 1, 2).squeeze(1);
  assert.deepEqual(await m.predictNext(x, t, a).data(), await zt.data(), "untrained: z_t + 0");
  // weight (A·C, 3C, 3, 3): output channel a·C + c for action a; input channels [z_t, z_t − z_{t−1}, z_{t−1} − z_{t−2}]
  const C = 4, L = C * 8 * 8, w = m.local_conv!.weight._value as Float32Array;
  assert.deepEqual(m.local_conv!.weight.shape, [m.config.numActions * C, 3 * C, 3, 3]);
  for (let c = 0; c < C; c++) w[(((1 * C + c) * 3 * C + C + c) * 3 + 1) * 3 + 1] = 1;   // action 1 only
  const lin = (await zt.add(zt.sub(z1)).data()) as Float32Array, last = (await zt.data()) as Float32Array;
  const got = (await m.predictNext(x, t, a).data()) as Float32Array;
  for (let i = 0; i < L; i++) assert.equal(got[i], last[i], "sample 0 (action 3): no tap, z_t");
  for (let i = L; i < 2 * L; i++) assert.ok(Math.abs(got[i]! - lin[i]!) < 1e-5, "sample 1 (action 1): z_t + (z_t − z_{t−1})");
  const data = videoWorldData({ seed: 9, numTrain: 4, numVal: 0, frames: 8 });
  const init = new WorldModel({ ...small, residual: true, localPath: true }, {}, { seed: 1 });
  const r = await trainWorldModel({ ae: new Autoencoder(), data, init, steps: 3, batchSize: 4, lr: 1e-2 });
  assert.ok((r.model.local_conv!.weight._value as Float32Array).some((v) => v !== 0), "the local path was trained");
  assert.ok("local_conv.weight" in r.model.stateDict());
});

test("caption conditioning (optional): captions change the prediction, a missing caption is the null caption, bad use is named", async () => {
  const tok = captionTokenizer();
  const caps = ["a red ball bounces in a room. the agent walks left.", "a video.", null];
  const ids = encodeCaptions(tok, caps);
  assert.equal(ids.length, 3 * CAPTION_LENGTH);
  assert.ok(ids.slice(0, CAPTION_LENGTH).filter((v) => v > 0).length === 11, "11 words, ids shifted by one");
  assert.ok(ids.slice(2 * CAPTION_LENGTH).every((v) => v === 0), "missing caption → all padding");
  const m = new WorldModel({ ...small, captionVocab: tok.vocabSize });
  assert.deepEqual(m.c_embedder!.weight.shape, [tok.vocabSize + 1, 32]);
  randomize(m);
  const x = randn([1, 4, 4, 8, 8], { seed: 5 });
  const t = tensor(Float32Array.of(500), { shape: [1] });
  const a = tensor(Int32Array.from([0, 1, 2, 3]), { shape: [1, 4] });
  const cap = (i: number) => tensor(ids.slice(i * CAPTION_LENGTH, (i + 1) * CAPTION_LENGTH), { shape: [1, CAPTION_LENGTH] });
  const y0 = (await m.predictNext(x, t, a, cap(0)).data()) as Float32Array;
  const y1 = (await m.predictNext(x, t, a, cap(1)).data()) as Float32Array;
  assert.ok(y0.some((v, i) => Math.abs(v - y1[i]!) > 1e-4), "different captions, different predictions");
  assert.deepEqual(await m.predictNext(x, t, a, cap(2)).data(), await m.predictNext(x, t, a).data());
  assert.throws(() => new WorldModel(small).predictNext(x, t, a, cap(0)), /no caption conditioning \(config.captionVocab = 0\)/);
  assert.throws(() => m.predictNext(x, t, a, tensor(new Int32Array(4), { shape: [4] })), /caption must be \(N, L\) = \[1, L\]/);
  assert.throws(() => new WorldSimulator(new WorldModel(small), new Autoencoder(), { caption: "a video." }), /no caption conditioning/);
  assert.throws(() => worldModelConfig(null, { captionVocab: -1 }), /captionVocab must be an integer ≥ 0/);
  // the simulator feeds its caption to every denoiser call: two captions, two rollouts
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 });
  const F3 = 32 * 32 * 3;
  const roll = async (caption: string | null) => {
    const sim = new WorldSimulator(m, new Autoencoder(), { steps: 1, caption, anchored: false });
    await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
    return sim.rollout([1, 2]);
  };
  assert.notDeepEqual(await roll(caps[0]!), await roll("a video."));
});

test("trainWorldModel with captions: the caption embeddings get gradients (carried captions, 10 % null)", async () => {
  const data = videoWorldData({ seed: 9, numTrain: 4, numVal: 0, frames: 8 });
  const init = new WorldModel({ ...small, captionVocab: captionTokenizer().vocabSize }, {}, { seed: 1 });
  randomize(init);
  const before = (init.c_embedder!.weight._value as Float32Array).slice();
  const r = await trainWorldModel({ ae: new Autoencoder(), data, init, steps: 3, batchSize: 4, lr: 1e-2 });
  assert.ok(r.losses.every(Number.isFinite));
  const after = r.model.c_embedder!.weight._value as Float32Array;
  assert.ok(after.some((v, i) => v !== before[i]), "caption embeddings were trained");
});

test("trainWorldModel without a config picks the named one that fits the autoencoder's latents", async () => {
  const data = videoWorldData({ seed: 9, numTrain: 2, numVal: 0, frames: 8 });
  const f2 = await trainWorldModel({ ae: new Autoencoder({ name: "ae-32-f2" }), data, steps: 1, batchSize: 2 });
  assert.equal(f2.model.config.latentSize, 16);
  assert.equal(f2.model.config.residual, true);                       // "wm-xs-16", the shipped kind
  const f4 = await trainWorldModel({ ae: new Autoencoder(), data, steps: 1, batchSize: 2 });
  assert.equal(f4.model.config.latentSize, 8);
  assert.equal(f4.model.config.patchSize, 4);                         // "wm-xs"
  await assert.rejects(trainWorldModel({ ae: new Autoencoder(), data, config: "wm-xs-16", steps: 1 }), /config expects 4×16×16 latents, the autoencoder makes 4×8×8/);
  const small = videoWorldData({ seed: 9, numTrain: 2, numVal: 0, frames: 8, size: 16 });
  await assert.rejects(trainWorldModel({ ae: new Autoencoder({ imageSize: 16 }), data: small, steps: 1 }), /no named world-model config is made for 4×4×4 latents \(have wm-xs, wm-s, wm-xs-16, wm-xs-16-mem, wm-play[^)]*\); pass config: \{ latentSize: 4, \.\.\. \}/);
});

test("deltaStd: the noise lives on the change from the last latent (training, evaluation and the sampler's start agree); a fresh residual model still rolls out copy-last", async () => {
  assert.throws(() => worldModelConfig(null, { deltaStd: 0.1 }), /deltaStd must be ≥ 0, and > 0 only with residual: true/);
  assert.throws(() => worldModelConfig(null, { residual: true, deltaStd: -1 }), /deltaStd must be ≥ 0/);
  const cfg = worldModelConfig(null, { ...small, residual: true, deltaStd: 0.1 });
  const next = Float32Array.of(1, 2), last = Float32Array.of(0.5, 0.5), out = new Float32Array(3);
  noisyNextLatent(cfg, next, last, 0.6, 0.8, () => 1, out, 1);                    // last + 0.6 (next − last) + 0.8 · 0.1 · 1
  assert.deepEqual(Array.from(out, (v) => +v.toFixed(6)), [0, 0.88, 1.48]);
  noisyNextLatent(worldModelConfig(null, small), next, last, 0.6, 0.8, () => 1, out, 1);   // on the latent: 0.6 next + 0.8
  assert.deepEqual(Array.from(out, (v) => +v.toFixed(6)), [0, 1.4, 2]);
  // training windows: the target slot is centred on the (clean) last context latent, its noise scaled by deltaStd
  const m = new WorldModel(cfg, { contextNoise: 0 });
  const T = 10, L = 4 * 8 * 8;
  const data = { latents: [Float32Array.from({ length: T * L }, (_, i) => Math.floor(i / L))], actions: [new Uint8Array(T)], numFrames: T, frameLength: L };
  const d = worldModelDiffusion(m.config), b = worldModelBatch(m, d, data, 16, new Generator(5), () => 1);
  const x = (await b.x.data()) as Float32Array, t = (await b.t.data()) as Float32Array, target = (await b.target.data()) as Float32Array;
  for (let r = 0; r < 16; r++) {
    const tgt = target[r * L]!, sa = d.c.sqrtAlphasCumprod[t[r]!]!, s1 = d.c.sqrtOneMinusAlphasCumprod[t[r]!]!;
    assert.ok(Math.abs(x[(r * 4 + 3) * L]! - ((tgt - 1) + sa * 1 + s1 * 0.1)) < 1e-5, `window ${r}: z_t + √ᾱ·Δ + √(1−ᾱ)·deltaStd·ε`);
  }
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 }), F3 = 32 * 32 * 3;
  const sim = new WorldSimulator(m, new Autoencoder(), { steps: 3 });
  await sim.reset(clip.frames.slice(0, 3 * F3), [0, 1, 2]);
  const frames = await sim.rollout([1, 2]);
  for (let h = 0; h < 2; h++) assert.deepEqual(frames.slice(h * F3, (h + 1) * F3), clip.frames.slice(2 * F3, 3 * F3), `frame ${h + 1} is the last context frame`);
});

test("lastContextNoise: the last context latent gets a noise level of its own per window (uniform up to the maximum); motion weighting marks the moving latent values", async () => {
  assert.throws(() => worldModelConfig(null, { lastContextNoise: 0.2 }), /lastContextNoise must be ≥ 0, and > 0 only with residual: true/);
  const T = 10, L = 4 * 8 * 8;
  // frame f holds the value f everywhere except value 0 of each frame, which holds 0: only that value never changes
  const z = Float32Array.from({ length: T * L }, (_, i) => (i % L === 0 ? 0 : Math.floor(i / L)));
  const data = { latents: [z], actions: [new Uint8Array(T)], numFrames: T, frameLength: L };
  const m = new WorldModel({ ...small, residual: true, lastContextNoise: 0.5 }, { contextNoise: 0 });
  const b = worldModelBatch(m, worldModelDiffusion(m.config), data, 64, new Generator(5), () => 1, { weight: 9, threshold: 0.5 });
  const x = (await b.x.data()) as Float32Array, target = (await b.target.data()) as Float32Array, w = (await b.weight!.data()) as Float32Array;
  const levels: number[] = [];
  for (let r = 0; r < 64; r++) {
    const tgt = target[r * L + 1]!;
    assert.equal(x[(r * 4 + 1) * L + 1], tgt - 2, "older context frames stay clean with contextNoise 0");
    levels.push(x[(r * 4 + 2) * L + 1]! - (tgt - 1));                          // the last context latent's noise (ε = 1)
    assert.equal(w[r * L], 1, "a value that does not change weighs 1");
    assert.equal(w[r * L + 1], 10, "a value that changes by 1 > 0.5 weighs 1 + 9");
  }
  assert.ok(levels.every((v) => v >= 0 && v <= 0.5) && Math.min(...levels) < 0.1 && Math.max(...levels) > 0.4, `levels ${levels.map((v) => v.toFixed(2))}`);
  const plain = worldModelBatch(new WorldModel({ ...small, residual: true }, { contextNoise: 0 }), worldModelDiffusion(m.config), data, 4, new Generator(5), () => 1);
  assert.equal(plain.weight, undefined, "no weights without motion weighting");
  const r = await trainWorldModel({ ae: new Autoencoder(), data: videoWorldData({ seed: 9, numTrain: 4, numVal: 0, frames: 8 }), init: m, steps: 2, batchSize: 4, lr: 1e-2, motion: { weight: 9, threshold: 0.1 } });
  assert.ok(r.losses.every(Number.isFinite));
  await assert.rejects(trainWorldModel({ ae: new Autoencoder(), data: videoWorldData({ seed: 9, numTrain: 4, numVal: 0, frames: 8 }), init: m, steps: 1, motion: { weight: 9, threshold: 0 } }), /motion needs weight ≥ 0 and threshold > 0/);
});

test("actionGuidance: amplifies only what the key changes — none with noop or an untrained model, a different frame with a key; bad values named", async () => {
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 }), F3 = 32 * 32 * 3, ctx = clip.frames.slice(0, 3 * F3);
  const fresh = new WorldModel({ ...small, residual: true, deltaStd: 0.1 });
  const guided = new WorldSimulator(fresh, new Autoencoder(), { steps: 2, actionGuidance: 2 });
  await guided.reset(ctx, [0, 1, 2]);
  assert.deepEqual((await guided.rollout([1])).slice(0, F3), clip.frames.slice(2 * F3, 3 * F3), "untrained: Δ = 0 for every key, still copy-last");
  const m = new WorldModel({ ...small, residual: true, deltaStd: 0.1 });
  randomize(m);
  const ae = new Autoencoder();                                                      // one autoencoder: each new one is initialised afresh
  const latent = async (g: number, key: number) => {
    const sim = new WorldSimulator(m, ae, { steps: 2, actionGuidance: g, seed: 3 });
    await sim.reset(ctx, [0, 1, 2]);
    return sim.stepLatent(key);
  };
  // (guided runs compared with each other: they run the same batch of two, so no batch-size rounding enters)
  assert.deepEqual(await latent(2, 0), await latent(5, 0), "noop: the key's effect over noop is zero, whatever the scale");
  const plain = await latent(0, 0), noopGuided = await latent(2, 0);
  assert.ok(plain.every((v, i) => Math.abs(v - noopGuided[i]!) < 1e-3), "noop with and without guidance: the same up to rounding");
  const weak = await latent(2, 2), strong = await latent(5, 2);
  assert.ok(strong.some((v, i) => Math.abs(v - weak[i]!) > 1e-3), "a key: the scale changes the sample");
  assert.throws(() => new WorldSimulator(m, new Autoencoder(), { actionGuidance: -1 }), /actionGuidance must be a finite number ≥ 0/);
});

test("contextNoiseLevels: each training window draws one level for every context frame and tells the model; the level moves the prediction; the sampler's contextLevel adds and tells it; bad use named", async () => {
  assert.throws(() => worldModelConfig(null, { contextNoiseLevels: 1, contextNoiseMax: 0.3 }), /contextNoiseLevels must be 0 \(off\) or an integer ≥ 2, got 1/);
  assert.throws(() => worldModelConfig(null, { contextNoiseLevels: 4 }), /contextNoiseLevels needs contextNoiseMax > 0 and replaces contextNoise and lastContextNoise/);
  assert.throws(() => worldModelConfig(null, { contextNoiseLevels: 4, contextNoiseMax: 0.3 }), /contextNoise 0.05/);   // the default contextNoise must be 0
  const cfg = { ...small, residual: true, deltaStd: 0.1, contextNoise: 0, contextNoiseLevels: 4, contextNoiseMax: 0.3 };
  assert.deepEqual([0, 1, 2, 3].map((l) => +contextLevelStd(worldModelConfig(null, cfg), l).toFixed(6)), [0, 0.1, 0.2, 0.3]);
  const m = new WorldModel(cfg);
  // training windows: frame f holds f; with ε = 1 every context value is f + the window's level's std
  const T = 10, L = 4 * 8 * 8;
  const data = { latents: [Float32Array.from({ length: T * L }, (_, i) => Math.floor(i / L))], actions: [new Uint8Array(T)], numFrames: T, frameLength: L };
  const b = worldModelBatch(m, worldModelDiffusion(m.config), data, 32, new Generator(5), () => 1);
  const x = (await b.x.data()) as Float32Array, target = (await b.target.data()) as Float32Array, lv = (await b.level!.data()) as Int32Array;
  for (let r = 0; r < 32; r++) {
    const tgt = target[r * L]!;
    for (let f = 0; f < 3; f++) assert.ok(Math.abs(x[(r * 4 + f) * L]! - (tgt - 3 + f + 0.1 * lv[r]!)) < 1e-5, `window ${r}, frame ${f}: level ${lv[r]}'s noise on every context frame`);
  }
  assert.deepEqual([...new Set(lv)].sort(), [0, 1, 2, 3], "every level is drawn");
  // the level enters c: level 0 equals no level given, another level moves the prediction
  randomize(m);
  const xin = randn([2, 4, 4, 8, 8], { seed: 3 }), t = tensor(Float32Array.of(10, 500), { shape: [2] }), a = tensor(Int32Array.of(0, 1, 2, 3, 1, 2, 3, 4), { shape: [2, 4] });
  const lev = (l: number) => tensor(Int32Array.of(l, l), { shape: [2] });
  assert.deepEqual(await m.predictNext(xin, t, a, undefined, lev(0)).data(), await m.predictNext(xin, t, a).data(), "level 0 = omitted");
  const moved = (await m.predictNext(xin, t, a, undefined, lev(3)).data()) as Float32Array, still = (await m.predictNext(xin, t, a).data()) as Float32Array;
  assert.ok(moved.some((v, i) => Math.abs(v - still[i]!) > 1e-4), "level 3 moves the prediction");
  assert.throws(() => new WorldModel({ ...small }).predictNext(xin, t, a, undefined, lev(0)), /context noise level was given but this model has none/);
  // the sampler: contextLevel tells the level (and by default adds its noise), 0 = clean
  const clip = generateVideoClip({ seed: 4, frames: 8, size: 32 }), F3 = 32 * 32 * 3, ctx = clip.frames.slice(0, 3 * F3), ae = new Autoencoder();
  const step = async (opts: { contextLevel?: number; contextLevelNoise?: boolean }) => {
    const sim = new WorldSimulator(m, ae, { steps: 2, seed: 3, ...opts });
    await sim.reset(ctx, [0, 1, 2]);
    return { sim, z: await sim.stepLatent(1) };
  };
  const clean = await step({}), told = await step({ contextLevel: 2, contextLevelNoise: false }), noisy = await step({ contextLevel: 2 });
  assert.deepEqual([clean.sim.contextLevelStd, told.sim.contextLevelStd, +noisy.sim.contextLevelStd.toFixed(6)], [0, 0, 0.2]);
  const differs = (p: Float32Array, q: Float32Array) => p.some((v, i) => Math.abs(v - q[i]!) > 1e-4);
  assert.ok(differs(told.z, clean.z) && differs(noisy.z, told.z), "telling the level and adding its noise each change the sample");
  assert.throws(() => new WorldSimulator(m, ae, { contextLevel: 4 }), /contextLevel must be an integer in \[0, 4\), got 4/);
  assert.throws(() => new WorldSimulator(new WorldModel(small), ae, { contextLevel: 1 }), /no context-noise levels/);
});
