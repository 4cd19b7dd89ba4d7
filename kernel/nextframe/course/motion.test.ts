// Chapter 7's motion measures and latent-space baselines, on the shipped autoencoder and world model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WorldModel, worldModelDiffusion } from "../models/worldModel";
import type { Tensor } from "../engine/index";
import { changeGain, checkpointsDir, encodeClips, evaluateRollouts, fitLocalLinearPredictor, latentExtrapolation, loadAutoencoder, loadWorldModel, localLinearError, type LocalLinearPredictor, localLinearRollout, motionTest, nextLatentError, reemergenceTest, type RolloutPredictor, truthOracle, videoWorldData } from "./index";
import { AUTOENCODER_RECIPE, WORLD_MODEL_RECIPE } from "./recipes";

const dir = checkpointsDir();

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
