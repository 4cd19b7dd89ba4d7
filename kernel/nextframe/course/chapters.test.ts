// The shipped checkpoints (notebooks/checkpoints) against their cards and against the baselines the chapters
// claim to beat. Each number is recomputed here with the library code and must match the card.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GPT } from "../models/gpt";
import { Autoencoder } from "../models/autoencoder";
import { WorldModel, WorldSimulator, worldModelDiffusion } from "../models/worldModel";
import type { Tensor } from "../engine/index";
import { autoencoderOracle, truthOracle, autoencoderPsnr, checkpointsDir, type RolloutPredictor, depthProbe, loadAutoencoder, loadWorldModel, recaptionExperiment, evaluateGpt, motionTest, nextLatentError, evaluatePermanence, evaluateRollouts, loadCheckpoint, probeGpt, readCard, fitLocalLinearPredictor, lastSightingTracker, localLinearError, localLinearRollout, type LocalLinearPredictor, changeGain, latentExtrapolation, encodeClips, reemergenceTest, surpriseTest, textWorldData, videoWorldData } from "./index";
import { AUTOENCODER_RECIPE, GPT_TEXTWORLD_RECIPE, WORLD_MODEL_MEMORIZER_RECIPE, WORLD_MODEL_MEMORY_RECIPE, WORLD_MODEL_RECIPE } from "./recipes";
import { findColorBlob } from "../metrics/permanence";
import { PALETTE } from "../worlds/videoWorld";

const dir = checkpointsDir();
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: recomputed ${a}, card ${b}`);

test("gpt-textworld: beats unigram/bigram, writes legal moves far more often than a bigram, the held-object and agent-position probes beat chance and a random-init GPT", async () => {
  const card = readCard("gpt-textworld", dir);
  const r = GPT_TEXTWORLD_RECIPE;
  assert.equal(card.dataSeed, r.dataSeed);
  const data = textWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: r.numVal });
  const model = new GPT(card.config as any);
  loadCheckpoint("gpt-textworld", model, dir);
  const m = card.metrics as any;
  const ev = await evaluateGpt(model, data, { numEpisodes: 64, continuations: 12, seed: 7 });
  close(ev.valLoss, m.valLoss, 1e-3, "val loss");
  close(ev.baselines.bigram, m.baselines.bigram, 1e-9, "bigram");
  assert.ok(ev.valLoss < ev.baselines.bigram && ev.baselines.bigram < ev.baselines.unigram);
  close(ev.legalRate, m.legalRate, 1e-9, "legal rate");
  assert.ok(ev.legalRate > ev.bigramLegalRate + 0.3, `legal ${ev.legalRate} vs bigram ${ev.bigramLegalRate}`);
  // what the agent holds is hidden state: only the log's history says it
  const p = await probeGpt(model, data, { target: "held", episodes: 64 });
  const cardProbe = m.probes.find((q: any) => q.target === "held");
  close(p.trained.accuracy, cardProbe.accuracy, 0.02, "held probe");
  assert.ok(p.trained.accuracy > p.trained.chance + 0.1, `probe ${p.trained.accuracy} vs chance ${p.trained.chance}`);
  assert.ok(p.trained.accuracy > p.randomInit.accuracy + 0.03, `probe ${p.trained.accuracy} vs random init ${p.randomInit.accuracy}`);
  // where the agent stands is never written after the header: the model has to sum the moves
  const pos = await Promise.all((["agentX", "agentY"] as const).map((target) => probeGpt(model, data, { target, episodes: 64 })));
  pos.forEach((q) => close(q.trained.accuracy, m.probes.find((c: any) => c.target === q.target).accuracy, 0.02, `${q.target} probe`));
  const mean = (f: (q: (typeof pos)[number]) => number) => (f(pos[0]!) + f(pos[1]!)) / 2;
  const acc = mean((q) => q.trained.accuracy), chance = mean((q) => q.trained.chance), random = mean((q) => q.randomInit.accuracy);
  assert.ok(acc > chance + 0.05 && acc > random + 0.05, `position probe ${acc} vs chance ${chance}, random init ${random}`);
});

test("autoencoder: reconstruction PSNR matches the card", async () => {
  const card = readCard("autoencoder", dir);
  const ae = new Autoencoder(card.config as any);
  loadCheckpoint("autoencoder", ae, dir);
  const data = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 0, numVal: AUTOENCODER_RECIPE.numVal });
  const v = await autoencoderPsnr(ae, data.val.slice(0, 8));
  close(v, (card.metrics as any).valPsnr, 1e-2, "PSNR");
  assert.ok(v > 25, `reconstruction PSNR ${v} dB`);
});

// The issue's bar: the shipped world models' rollouts (without and with memory frames) beat copy-last AND linear
// extrapolation at every horizon 1–8 (PSNR over the card's 32 held-out clips). Permanence is recomputed and must
// match the card; it is not above the baselines yet (the cards say so), so that is not asserted.
for (const [name, recipe] of [["world-model", WORLD_MODEL_RECIPE], ["world-model-memory", WORLD_MODEL_MEMORY_RECIPE]] as const) test(`${name}: card matches the recomputed rollouts and permanence; rollouts beat copy-last and linear extrapolation at horizons 1–8`, async () => {
  const card = readCard(name, dir);
  const ae = loadAutoencoder(dir), model = loadWorldModel(dir, name);
  assert.equal((card.recipe as any).config, recipe.config);
  const data = videoWorldData({ seed: recipe.dataSeed, numTrain: 0, numVal: recipe.numVal });
  const sim = new WorldSimulator(model, ae, { steps: recipe.samplingSteps });
  assert.equal((card.recipe as any).samplingSteps, recipe.samplingSteps);
  const r = await evaluateRollouts(sim, data.val, { horizon: 8 });
  const m = (card.metrics as any).rollouts;
  assert.equal(m.clips, data.val.length);
  for (let h = 0; h < 8; h++) {
    close(r.model.psnr[h]!, m.model.psnr[h], 0.05, `model PSNR h=${h + 1}`);
    close(r.copyLast.psnr[h]!, m.copyLast.psnr[h], 1e-9, `copy-last PSNR h=${h + 1}`);
    assert.ok(r.model.psnr[h]! > r.copyLast.psnr[h]!, `h=${h + 1}: model ${r.model.psnr[h]} dB vs copy-last ${r.copyLast.psnr[h]} dB`);
    assert.ok(r.model.psnr[h]! > r.linear.psnr[h]!, `h=${h + 1}: model ${r.model.psnr[h]} dB vs linear ${r.linear.psnr[h]} dB`);
  }
  const p = await evaluatePermanence(sim, data.val.slice(0, 16));
  const cp = (card.metrics as any).permanence;
  assert.equal(p.events, cp.events);
  close(p.model.correctRate, cp.model.correctRate, 1e-9, "permanence");
  close(p.copyLast.correctRate, cp.copyLast.correctRate, 1e-9, "permanence (copy-last)");
});

// Chapter 7's memorizer: the memory recipe on 8 clips. The chapter's point rests on it having fitted those clips: there
// it brings hidden balls back above both baselines (the architecture can carry a hidden ball), and on new clips it does not.
test("world-model-memorizer: card matches the recomputed scores on its training clips, where permanence beats copy-last and linear extrapolation", async () => {
  const card = readCard("world-model-memorizer", dir), r = WORLD_MODEL_MEMORIZER_RECIPE;
  assert.deepEqual([(card.recipe as any).config, (card.recipe as any).numTrain, card.steps], [r.config, r.numTrain, r.steps]);
  const sim = new WorldSimulator(loadWorldModel(dir, "world-model-memorizer"), loadAutoencoder(dir), { steps: r.samplingSteps });
  const own = videoWorldData({ seed: r.dataSeed, numTrain: r.numTrain, numVal: 0 }).train;
  const cm = (card.metrics as any).trainClips;
  assert.equal(cm.clips, own.length);
  const p = await evaluatePermanence(sim, own), re = await reemergenceTest(sim, own);
  assert.equal(p.events, cm.permanence.events);
  close(p.model.correctRate, cm.permanence.model.correctRate, 1e-9, "permanence on its training clips");
  assert.deepEqual([re.withinContext, re.model.correct, re.linear.correct], [cm.reemergence.withinContext, cm.reemergence.model.correct, cm.reemergence.linear.correct]);
  assert.ok(p.model.correctRate > Math.max(p.copyLast.correctRate, p.linear.correctRate), `long rollouts: ${p.model.correctRate} vs copy-last ${p.copyLast.correctRate}, linear ${p.linear.correctRate}`);
  assert.ok(re.model.correct > re.linear.correct, `re-emergence ${re.model.correct} vs linear ${re.linear.correct} of ${re.withinContext}`);
  const held = await evaluatePermanence(sim, videoWorldData({ seed: r.dataSeed, numTrain: 0, numVal: r.numVal }).val.slice(0, 16));
  close(held.model.correctRate, (card.metrics as any).permanence.model.correctRate, 1e-9, "permanence on held-out clips");
});

test("re-emergence test: a predictor that replays the truth brings every ball back at the right place; copy-last cannot", async () => {
  const clips = videoWorldData({ seed: 2, numTrain: 0, numVal: 16 }).val;
  const oracle = truthOracle(clips, 7);
  const r = await reemergenceTest(oracle, clips);
  assert.ok(r.withinContext > 0 && r.withinContext <= r.events, `${r.withinContext} of ${r.events}`);
  assert.equal(r.model.correct, r.withinContext);
  assert.equal(r.copyLast.found, 0);                 // no pixel centre in its last frame shows the ball
  // linear extrapolation can only grow the faint anti-aliased edge a ball shows as it starts to come out
  assert.ok(r.linear.correct < r.withinContext, `linear extrapolation ${r.linear.correct} of ${r.withinContext}`);
  // a context found twice: the same future is fine, two different futures are named, not guessed
  const F3 = 32 * 32 * 3, c = clips[0]!, ctx = c.frames.slice(0, 7 * F3), acts = new Int32Array(7);
  const twice = truthOracle([c, c], 7);
  await twice.reset(ctx, acts);
  assert.deepEqual(await twice.rollout([0, 0]), c.frames.slice(7 * F3, 9 * F3));
  const otherFuture = { ...c, frames: c.frames.slice() };
  otherFuture.frames.fill(0, 8 * F3, 9 * F3);
  await assert.rejects(truthOracle([c, otherFuture], 7).reset(ctx, acts), /these frames appear in the clips twice with different futures \(clip 0 frame 0, clip 1 frame 0\)/);
});

test("autoencoderOracle: the truth through the shipped autoencoder brings every re-emerging ball back and moves what moves; bad input is named", async () => {
  const ae = loadAutoencoder(dir), clips = videoWorldData({ seed: 2, numTrain: 0, numVal: 16 }).val;
  const oracle = autoencoderOracle(ae, clips, 7);
  const r = await reemergenceTest(oracle, clips);
  assert.ok(r.withinContext > 0);
  assert.equal(r.model.correct, r.withinContext);         // the latent space keeps a re-emerging ball
  const m = await motionTest(oracle, clips.slice(0, 8), { horizon: 4 });
  for (const [kind, k] of Object.entries(m.byKind)) assert.ok(k.model < 0.5 && k.copyLast > 1, `${kind}: ${k.model} px vs copy-last ${k.copyLast} px`);
  await assert.rejects(oracle.reset(new Uint8Array(7 * 32 * 32 * 3), new Int32Array(7)), /truthOracle.reset: these frames are not a window of any clip/);
  await assert.rejects(oracle.reset(new Uint8Array(5), new Int32Array(7)), /expected 7 frames of 32×32×3 \(21504 bytes\), got 5/);
  assert.throws(() => autoencoderOracle(ae, videoWorldData({ seed: 2, numTrain: 0, numVal: 1, size: 64 }).val, 7), /the autoencoder takes 32×32 frames, a clip has 64×64/);
});

test("lastSightingTracker: a ball the last frame hides comes back where its last two sightings at constant velocity put it; a visible one stays as copy-last; bad input is named", async () => {
  const size = 16, F3 = size * size * 3, K = 3;
  const frames = new Uint8Array(K * F3).fill(200);
  const square = (t: number, x0: number) => { for (let y = 6; y < 8; y++) for (let x = x0; x < x0 + 2; x++) frames.set(PALETTE.red, t * F3 + (y * size + x) * 3); };
  square(0, 2); square(1, 3);                  // seen at x = 2, then 3; hidden in the last frame
  const tr = lastSightingTracker(size, K);
  await tr.reset(frames, [0, 0, 0]);
  const out = await tr.rollout([0, 0]);        // frames 3 and 4: 2 and 3 steps after the last sighting
  for (const [k, cx] of [[0, 4 + 2], [1, 4 + 3]] as const) {
    const b = findColorBlob(out.subarray(k * F3, (k + 1) * F3), size, size, PALETTE.red, 50);
    assert.equal(b.count, 4);
    assert.equal(b.cx, cx);
    assert.equal(b.cy, 7);
  }
  square(2, 4);                                // now in view in the last frame: copy-last
  await tr.reset(frames, [0, 0, 0]);
  assert.deepEqual(await tr.rollout([0]), frames.slice(2 * F3));
  await assert.rejects(tr.reset(new Uint8Array(10), [0]), /expected 3 frames of 16×16×3 \(768 bytes each\), got 10 bytes/);
  assert.throws(() => lastSightingTracker(16, 1), /contextFrames must be an integer ≥ 2/);
  // with a longer history it reads sightings older than K: seen in frames 0 and 1 of 5, hidden in the last 3
  const long = lastSightingTracker(size, K, { historyFrames: 5 });
  const five = new Uint8Array(5 * F3).fill(200);
  five.set(frames.subarray(0, 2 * F3));
  await long.reset(five, [0, 0, 0, 0, 0]);
  const b = findColorBlob(await long.rollout([0]), size, size, PALETTE.red, 50);   // frame 5: 4 steps after x = 3
  assert.deepEqual([b.count, b.cx, b.cy], [4, 4 + 4, 7]);
  await assert.rejects(long.reset(new Uint8Array(6 * F3), new Array(6).fill(0)), /expected 3 to 5 frames/);
  assert.throws(() => lastSightingTracker(16, 3, { historyFrames: 2 }), /historyFrames must be an integer ≥ contextFrames \(3\), got 2/);
});

test("motion test: a predictor that replays the truth puts every moving object exactly where it is; one that copies the last frame scores as copy-last", async () => {
  const clips = videoWorldData({ seed: 2, numTrain: 0, numVal: 8 }).val;
  const K = 7, F3 = clips[0]!.size ** 2 * 3;
  const truth = await motionTest(truthOracle(clips, K), clips, { horizon: 4 });
  assert.deepEqual(Object.keys(truth.byKind).sort(), ["agent", "ball"]);
  for (const [kind, k] of Object.entries(truth.byKind)) {
    assert.ok(k.objects > 0 && k.modelDrawn === k.objects, `${kind}: ${k.modelDrawn} of ${k.objects} drawn`);
    assert.equal(k.model, 0);
    assert.ok(k.copyLast >= 0.5, `${kind}: copy-last error ${k.copyLast} px for objects that moved ≥ 1 px`);
    assert.ok(k.modelCloser > 0.5 * k.objects, `${kind}: closer in ${k.modelCloser} of ${k.objects}`);
  }
  let last: Uint8Array | null = null;
  const copier = {
    contextFrames: K,
    async reset(frames: Uint8Array) { last = frames.slice(frames.length - F3); },
    async rollout(actions: ArrayLike<number>) { const out = new Uint8Array(actions.length * F3); for (let i = 0; i < actions.length; i++) out.set(last!, i * F3); return out; },
  } as RolloutPredictor;
  const copy = await motionTest(copier, clips, { horizon: 4 });
  await assert.rejects(motionTest(copier, clips, { horizon: 0 }), /motionTest: horizon must be a positive integer, got 0/);
  await assert.rejects(motionTest(copier, clips, { horizon: 30 }), /motionTest: a clip has 32 frames; the model's context \(7\) plus the horizon \(30\) needs 37/);
  for (const [kind, k] of Object.entries(copy.byKind)) {
    assert.equal(k.objects, truth.byKind[kind]!.objects);
    assert.ok(Math.abs(k.model - k.copyLast) < 1e-12 && k.modelCloser === 0, `${kind}: ${k.model} vs ${k.copyLast}`);
  }
});

test("next-latent error: an untrained residual world model (adaLN-Zero: Δ = 0) is exactly copy-last; the shipped model is below it on its training clips", async () => {
  const ae = loadAutoencoder(dir);
  const clips = videoWorldData({ seed: WORLD_MODEL_RECIPE.dataSeed, numTrain: 6, numVal: 0 }).train;
  const fresh = new WorldModel(WORLD_MODEL_RECIPE.config, { latentScale: 0.5 }, { seed: 1 });
  const f = await nextLatentError(fresh, ae, clips);
  assert.equal(f.windows, 6 * 9);          // 32-frame clips, 8-frame windows every 3 frames
  assert.ok(f.copyLast > 0);
  assert.equal(f.ratio, 1);
  await assert.rejects(nextLatentError(fresh, ae, videoWorldData({ numTrain: 1, numVal: 0, frames: 5 }).train), /needs clips of at least 8 frames \(context 7 \+ the next one\), got 1 clip\(s\) of 5/);
  const shipped = await nextLatentError(loadWorldModel(dir), ae, clips);
  assert.ok(shipped.ratio < 1, `shipped model ${shipped.model} vs copy-last ${shipped.copyLast}`);
  // with t, the noisy input is the true next latent at step t: a denoiser that reads it (x_t / √ᾱ_t) is near-exact at t = 10,
  // hopeless from pure noise; the untrained model, which ignores it, scores copy-last either way
  const sa10 = worldModelDiffusion(fresh.config).c.sqrtAlphasCumprod[10]!;
  const peek = new (class extends WorldModel { predictNext(x: Tensor) { return x.slice(1, this.frames - 1, this.frames).squeeze(1).div(sa10); } })(WORLD_MODEL_RECIPE.config, { latentScale: 0.5 });
  const read = await nextLatentError(peek, ae, clips, { t: 10 });
  assert.ok(read.ratio < 0.1 * (await nextLatentError(peek, ae, clips)).ratio, `reads its input: ${read.ratio}`);
  assert.equal((await nextLatentError(fresh, ae, clips, { t: 10 })).ratio, 1);
  await assert.rejects(nextLatentError(fresh, ae, clips, { t: 1000 }), /t must be an integer diffusion step in \[0, 1000\), got 1000/);
});

test("local linear baseline: fitted on the shipped autoencoder's latents it predicts part of the next change on held-out clips, on nextLatentError's windows; bad input is named", async () => {
  const ae = loadAutoencoder(dir), wm = loadWorldModel(dir);
  const data = videoWorldData({ seed: WORLD_MODEL_RECIPE.dataSeed, numTrain: 8, numVal: 4 });
  const ll = await fitLocalLinearPredictor(ae, data.train, { latentScale: wm.config.latentScale });
  assert.equal(ll.weights.length, (3 * 4 * 9 + 1) * 4);
  const e = await localLinearError(ll, ae, data.val, { contextFrames: 7 });
  const m = await nextLatentError(wm, ae, data.val);
  assert.equal(e.windows, m.windows);
  assert.ok(Math.abs(e.copyLast - m.copyLast) < 1e-9 * m.copyLast, `copy-last ${e.copyLast} vs ${m.copyLast}: not the same windows`);
  assert.ok(e.ratio < 0.9, `local linear ${e.model} vs copy-last ${e.copyLast}`);
  // a frame with no change predicts itself: the fit's bias is ~0 and the last two changes are 0
  const z = (await encodeClips(ae, data.val.slice(0, 1)))[0]!.slice(0, 4 * 16 * 16).map((v) => v / wm.config.latentScale);
  const still = new Float32Array(3 * z.length); still.set(z, 0); still.set(z, z.length); still.set(z, 2 * z.length);
  const p = ll.predict(still);
  assert.ok(p.every((v, i) => Math.abs(v - z[i]!) < 0.05), "a still scene should stay (nearly) still");
  assert.throws(() => ll.predict(new Float32Array(5)), /expected 3 latents of 4×16×16 \(3072 values\), got 5/);
  await assert.rejects(fitLocalLinearPredictor(ae, data.train, { latentScale: 1, radius: 4 }), /radius must be an integer in \[0, 3\], got 4/);
  await assert.rejects(localLinearError(ll, ae, data.val, { contextFrames: 2 }), /contextFrames must be an integer ≥ 3, got 2/);
  await assert.rejects(fitLocalLinearPredictor(ae, [], { latentScale: 1 }), /needs clips of at least 4 frames \(3 in, 1 out\), got 0 clip\(s\) of 0/);
  await assert.rejects(localLinearError(ll, ae, videoWorldData({ numTrain: 1, numVal: 0, frames: 5 }).train, { contextFrames: 7 }), /needs clips of at least 8 frames \(context 7 \+ the next one\), got 1 clip\(s\) of 5/);
});

test("latent extrapolation and its squared-error gain: gain 0 is copy-last, changeGain recovers a known gain; on the shipped autoencoder full gain brings back more re-emerging balls than the least-squares gain, which has the lower one-step error", async () => {
  // synthetic latents whose change shrinks by half every frame: the least-squares gain is exactly 0.5
  const L = 6, T = 8, z = new Float32Array(T * L);
  for (let i = 0; i < L; i++) { let v = i, d = 1 + i; for (let t = 0; t < T; t++) { z[t * L + i] = v; v += d; d *= 0.5; } }
  assert.ok(Math.abs(changeGain([z], T) - 0.5) < 1e-6);
  const three = Float32Array.from([0, 1, 2, 10, 10, 10, 12, 13, 14]);   // three latents of 3 values: last change 2, 3, 4
  assert.deepEqual([...latentExtrapolation(1).predict(three)], [14, 16, 18]);
  assert.deepEqual([...latentExtrapolation(0).predict(three)], [12, 13, 14]);
  assert.throws(() => changeGain([z], 2), /needs clips of at least 3 frames/);
  assert.throws(() => changeGain([new Float32Array(8)], 4), /never change/);
  assert.throws(() => latentExtrapolation(NaN), /gain must be a finite number, got NaN/);
  assert.throws(() => latentExtrapolation(1).predict(new Float32Array(4)), /expected 3 latents of equal size, got 4 values/);
  // the shipped autoencoder's latents
  const ae = loadAutoencoder(dir), K = 7, scale = loadWorldModel(dir).config.latentScale;
  const fit = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 48, numVal: 0 }).train;
  const g = changeGain(await encodeClips(ae, fit), fit[0]!.numFrames);
  assert.ok(g > 0 && g < 1, `least-squares gain ${g}`);
  const clips = videoWorldData({ seed: 2, numTrain: 0, numVal: 32 }).val;
  assert.equal((await localLinearError(latentExtrapolation(0, scale), ae, clips.slice(0, 4), { contextFrames: K })).ratio, 1);
  const full = latentExtrapolation(1, scale), fitted = latentExtrapolation(g, scale);
  const eFull = await localLinearError(full, ae, clips, { contextFrames: K }), eFit = await localLinearError(fitted, ae, clips, { contextFrames: K });
  assert.ok(eFit.ratio < eFull.ratio, `one-step error: gain ${g} ${eFit.ratio}, gain 1 ${eFull.ratio}`);
  const rFull = await reemergenceTest(localLinearRollout(full, ae, K), clips), rFit = await reemergenceTest(localLinearRollout(fitted, ae, K), clips);
  assert.ok(rFull.model.correct > rFit.model.correct, `re-emerging balls at the right place: gain 1 ${rFull.model.correct}, gain ${g} ${rFit.model.correct} of ${rFull.withinContext}`);
});

test("local linear rollout: a rule that predicts no change draws exactly copy-last (anchored decoding); bad input is named", async () => {
  const ae = loadAutoencoder(dir);
  const clips = videoWorldData({ seed: 3, numTrain: 0, numVal: 2 }).val;
  const [C, H] = ae.latentShape, L = C * H * H;
  const still: LocalLinearPredictor = { radius: 1, latentScale: 0.5, weights: new Float64Array((3 * C * 9 + 1) * C), predict: (last3) => last3.slice(2 * L) };
  const sim = localLinearRollout(still, ae, 7);
  const r = await evaluateRollouts(sim, clips, { horizon: 3 });
  r.model.psnr.forEach((p, h) => assert.equal(p, r.copyLast.psnr[h], `horizon ${h + 1}: ${p} vs copy-last ${r.copyLast.psnr[h]}`));
  assert.throws(() => localLinearRollout(still, ae, 2), /contextFrames must be an integer ≥ 3 \(the rule reads three latents\), got 2/);
  await assert.rejects(localLinearRollout(still, ae, 7).rollout([0]), /call reset\(frames, actions\) first/);
  await assert.rejects(sim.reset(new Uint8Array(5), []), /expected 7 frames of 32×32×3 \(21504 bytes\), got 5/);
});

// Per kind (two seeds, 8 pairs each, while choosing this test): teleports 8/8 and 8/8 more surprising than their lawful twin,
// passing through a wall 5/8 and 6/8, vanishing behind the occluder 0/8 and 0/8 — the model does not expect the ball
// back (no permanence), so the lawful reappearance is the surprising one. Only the teleport side is asserted.
test("surprise on the shipped world model: a teleport is more surprising than its lawful twin; per-kind counts add up", async () => {
  const sim = new WorldSimulator(loadWorldModel(dir), loadAutoencoder(dir));
  const s = await surpriseTest(sim, { count: 12, seed: 5 });
  assert.deepEqual(Object.keys(s.byKind).sort(), ["passThroughWall", "teleport", "vanish"]);
  assert.equal(Object.values(s.byKind).reduce((n, k) => n + k.pairs, 0), 12);
  assert.equal(Object.values(s.byKind).reduce((n, k) => n + k.moreSurprised, 0), s.moreSurprised);
  assert.ok(s.byKind.teleport!.moreSurprised >= 3, `teleport more surprising in ${s.byKind.teleport!.moreSurprised} of 4 pairs`);
});

// Latents vs pixels is close (R² 0.54 vs 0.54 on these 32 clips, 0.34 vs 0.26 on chapter 8's 64), so only "above chance" is asserted.
test("depth probe on the shipped autoencoder: an object-centred probe reads the agent's depth above chance, a whole-frame probe much less", async () => {
  const ae = loadAutoencoder(dir);
  const clips = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 32, numVal: 0, frames: 16 }).train;
  const local = await depthProbe(ae, clips, { at: "object" });
  assert.equal(local.at, "object");
  assert.ok(local.samples > 100 && local.samples < 32 * 16, `object-centred frames ${local.samples} (hidden ones left out)`);
  assert.ok(local.latents > 0.1, `object-centred R² from latents ${local.latents}`);
  assert.ok(local.pixels > 0.1, `object-centred R² from pixels ${local.pixels}`);
  const whole = await depthProbe(ae, clips);
  assert.equal(whole.samples, 32 * 16);
  assert.ok(whole.latents < local.latents, `whole-frame R² ${whole.latents} vs object-centred ${local.latents}`);
});

test("chapter 6 with the shipped autoencoder: nearest-neighbour recaptioning in latent space raises caption word F1", async () => {
  const ae = new Autoencoder(readCard("autoencoder", dir).config as any);
  loadCheckpoint("autoencoder", ae, dir);
  const val = videoWorldData({ seed: AUTOENCODER_RECIPE.dataSeed, numTrain: 0, numVal: AUTOENCODER_RECIPE.numVal }).val;
  const r = await recaptionExperiment(ae, val);
  assert.equal(r.coverageAfter, 1);
  assert.ok(r.coverageBefore < 1 && r.wordF1After! > r.wordF1Before! + 0.1, `word F1 ${r.wordF1Before} → ${r.wordF1After}`);
});
