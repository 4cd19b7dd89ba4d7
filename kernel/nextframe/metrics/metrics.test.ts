import { test } from "node:test";
import assert from "node:assert/strict";
import { copyLastFrame, horizonCurve, linearExtrapolation, meanCurve, mse, psnr, ssim, surpriseScore } from "./image";
import { appearanceStrength, findColorBlob, interactionPersistence, objectPermanence } from "./permanence";
import { linearProbe } from "./linearProbe";
import { captionWordF1, nearestNeighbourRecaption } from "./recaption";
import { Generator } from "../engine/generator.js";
import { Action, generateVideoClip, PALETTE, VideoWorld, type FrameState } from "../worlds/videoWorld";

const noisy = (a: Uint8Array, amp: number, seed: number) => {
  const r = new Generator(seed);
  return Uint8Array.from(a, (v) => Math.max(0, Math.min(255, v + Math.round(r.uniform(-amp, amp)))));
};

test("psnr and mse: identical frames give Infinity, known values", () => {
  const a = new Uint8Array(300).fill(100);
  assert.equal(psnr(a, a), Infinity);
  const b = new Uint8Array(300).fill(101);
  assert.equal(mse(a, b), 1);
  assert.ok(Math.abs(psnr(a, b) - 20 * Math.log10(255)) < 1e-12);
  assert.ok(Math.abs(psnr(new Float32Array([0, 0]), new Float32Array([0.5, 0.5]), 1) - 10 * Math.log10(4)) < 1e-9);
  assert.throws(() => psnr(a, new Uint8Array(3)), /differ in length \(300 vs 3\)/);
});

test("ssim: 1 for identical frames, the analytic value for constants, lower with more noise", () => {
  const clip = generateVideoClip({ seed: 1, frames: 2, size: 32 });
  const f = clip.frames.subarray(0, 32 * 32 * 3);
  const shape = { height: 32, width: 32, channels: 3 };
  assert.equal(ssim(f, f, shape), 1);
  assert.equal(ssim(f, f, { ...shape, window: "box8" }), 1);
  assert.equal(ssim(f, f, { ...shape, grayscale: true }), 1);
  // Constant images: SSIM = (2ab + C1) / (a² + b² + C1) (the contrast-structure term is C2/C2 = 1).
  const A = new Uint8Array(16 * 16).fill(100), B = new Uint8Array(16 * 16).fill(150);
  const C1 = (0.01 * 255) ** 2;
  const want = (2 * 100 * 150 + C1) / (100 ** 2 + 150 ** 2 + C1);
  assert.ok(Math.abs(ssim(A, B, { height: 16, width: 16, channels: 1 }) - want) < 1e-9);
  const s5 = ssim(f, noisy(f, 5, 2), shape), s40 = ssim(f, noisy(f, 40, 2), shape);
  assert.ok(s5 < 1 && s40 < s5, `${s5} ${s40}`);
  assert.ok(Math.abs(ssim(f, noisy(f, 20, 3), shape) - ssim(noisy(f, 20, 3), f, shape)) < 1e-12, "symmetric");
  assert.throws(() => ssim(f, f, { height: 32, width: 32, channels: 1 }), /expected height·width·channels = 1024/);
});

test("baselines: copy-last and linear extrapolation", () => {
  const F = 4;
  const ctx = new Uint8Array([10, 20, 30, 40, 12, 22, 32, 42]); // two frames, +2 per frame
  assert.deepEqual(Array.from(copyLastFrame(ctx, F, 2)), [12, 22, 32, 42, 12, 22, 32, 42]);
  assert.deepEqual(Array.from(linearExtrapolation(ctx, F, 2)), [14, 24, 34, 44, 16, 26, 36, 46]);
  const sat = new Uint8Array([200, 250, 100, 0]);
  const sat2 = new Uint8Array([...sat, 250, 255, 50, 0]);
  assert.deepEqual(Array.from(linearExtrapolation(sat2, F, 1)), [255, 255, 0, 0], "clamped to bytes");
  const fl = linearExtrapolation(new Float32Array([0, 1]), 1, 3);
  assert.ok(fl instanceof Float32Array);
  assert.deepEqual(Array.from(fl), [2, 3, 4]);
  assert.throws(() => linearExtrapolation(new Uint8Array(4), 4, 1), /at least 2 context frames, got 1/);
  assert.throws(() => copyLastFrame(new Uint8Array(5), 4, 1), /not a multiple of frameSize 4/);

  // On real clips: the truth scores perfectly; baselines degrade with horizon (averaged over clips).
  const FS = 32 * 32 * 3, ctxT = 8, H = 8;
  const shape = { height: 32, width: 32, channels: 3 };
  const copyCurves: Float64Array[] = [], linCurves: Float64Array[] = [];
  for (let s = 0; s < 6; s++) {
    const clip = generateVideoClip({ seed: 20 + s, frames: 16, size: 32 });
    const truth = clip.frames.subarray(ctxT * FS, (ctxT + H) * FS);
    const copy = copyLastFrame(clip.frames.subarray(0, ctxT * FS), FS, H);
    const lin = linearExtrapolation(clip.frames.subarray(0, ctxT * FS), FS, H);
    if (s === 0) {
      assert.ok(horizonCurve(truth, truth, { ...shape, metric: "psnr" }).every((v) => v === 100), "PSNR capped at 100 dB in curves");
      const ss = horizonCurve(copy, truth, { ...shape, metric: "ssim" });
      assert.ok(ss.every((v) => v > 0 && v <= 1));
    }
    copyCurves.push(horizonCurve(copy, truth, { ...shape, metric: "psnr", capDb: 60 }));
    linCurves.push(horizonCurve(lin, truth, { ...shape, metric: "psnr", capDb: 60 }));
  }
  const cCopy = meanCurve(copyCurves), cLin = meanCurve(linCurves);
  assert.equal(cCopy.length, H);
  assert.ok(cCopy[0] > cCopy[H - 1], `copy baseline should get worse with horizon: ${Array.from(cCopy)}`);
  assert.ok(cLin[0] > cLin[H - 1], `linear baseline should get worse with horizon: ${Array.from(cLin)}`);
  assert.deepEqual(Array.from(meanCurve([[1, 2], [3, 4]])), [2, 3]);
});

function hiddenClip(): { states: FrameState[]; frames: Uint8Array; h0: number } {
  for (let s = 0; s < 30; s++) {
    const c = generateVideoClip({ seed: s, frames: 40, size: 32, numBalls: [1, 1] });
    const h0 = c.states.findIndex((st) => st.objects[0].behindOccluder && st.objects[0].visiblePixels === 0);
    const back = h0 >= 0 ? c.states.findIndex((st, t) => t > h0 && st.objects[0].visibleFraction >= 0.5) : -1;
    if (h0 > 2 && back > 0) return { states: c.states, frames: c.frames, h0 };
  }
  throw new Error("no clip with an occlusion");
}

test("object permanence: truth reappears at the right place, copy-last does not", () => {
  const { states, frames, h0 } = hiddenClip();
  const FS = 32 * 32 * 3;
  const perfect = objectPermanence(states, frames, { size: 32, from: h0, truthFrames: frames });
  assert.ok(perfect.events.length >= 1);
  assert.equal(perfect.reappearRate, 1);
  assert.equal(perfect.correctRate, 1);
  assert.ok(perfect.meanError < 1e-9);
  // Without truth frames the target is the projected centre: still close.
  assert.ok(objectPermanence(states, frames, { size: 32, from: h0 }).meanError < 2);
  // Copy the frame where the ball is hidden: it never comes back.
  const pred = new Uint8Array(frames);
  pred.set(copyLastFrame(frames.subarray(0, (h0 + 1) * FS), FS, states.length - h0 - 1), (h0 + 1) * FS);
  const copy = objectPermanence(states, pred, { size: 32, from: h0 + 1 });
  assert.equal(copy.reappearRate, 0);
  assert.equal(copy.correctRate, 0);
  assert.throws(() => objectPermanence(states, new Uint8Array(10), { size: 32 }), /expected 40 frames/);
  const blob = findColorBlob(frames.subarray(0, FS), 32, 32, PALETTE[states[0].objects[0].color as keyof typeof PALETTE]);
  assert.ok(blob.count > 0 || states[0].objects[0].visiblePixels === 0);
  // a frame dissolved into colour noise, the ball's colour scattered over it, is not the ball, though there are enough pixels of its colour
  const e = perfect.events[0]!, rgb = states[e.reappearFrame]!.objects[e.object]!.rgb;
  const ball = findColorBlob(frames.subarray(e.reappearFrame * FS, (e.reappearFrame + 1) * FS), 32, 32, rgb);
  assert.ok(ball.spread > 0 && ball.spread < 2, `a ball is compact: spread ${ball.spread}`);
  const noise = new Uint8Array(frames);
  const scattered = noise.subarray(e.reappearFrame * FS, (e.reappearFrame + 1) * FS);
  scattered.fill(0);
  for (const [x, y] of [[1, 1], [30, 1], [1, 30], [30, 30], [15, 2], [15, 29], [2, 15], [29, 15]]) scattered.set(rgb, (y * 32 + x) * 3);
  const blobNoise = findColorBlob(scattered, 32, 32, rgb);
  assert.ok(blobNoise.count === 8 && Math.abs(blobNoise.cx - 16) < 0.5 && blobNoise.spread > 8, `scattered: ${JSON.stringify(blobNoise)}`);
  const scoredNoise = objectPermanence(states, noise, { size: 32, from: h0 }).events.find((v) => v.reappearFrame === e.reappearFrame && v.object === e.object)!;
  assert.equal(scoredNoise.found, false);
  assert.equal(objectPermanence(states, noise, { size: 32, from: h0, maxSpread: 32 }).events.find((v) => v.reappearFrame === e.reappearFrame && v.object === e.object)!.found, true, "without the spread bound it would count");
  assert.equal(findColorBlob(new Uint8Array(FS), 32, 32, rgb).spread, NaN);
});

test("appearance strength: 1 for the truth, 0 for copy-last, the blend fraction for a ghost, only on the object's new pixels", () => {
  const size = 8, bg = [200, 200, 200], red = PALETTE.red;
  const before = new Uint8Array(size * size * 3).fill(200);
  const truth = before.slice();
  for (const i of [9, 10, 17, 18]) truth.set(red, i * 3);          // a 2×2 red ball comes out
  truth.set([30, 30, 200], 40 * 3);                                 // something else changes too: not scored
  const blend = (a: number) => Uint8Array.from(truth, (v, i) => Math.round(bg[i % 3]! + a * (v - bg[i % 3]!)));
  assert.equal(appearanceStrength(truth, truth, before, red), 1);
  assert.equal(appearanceStrength(before, truth, before, red), 0);
  assert.ok(Math.abs(appearanceStrength(blend(0.25), truth, before, red) - 0.25) < 0.01);
  const elsewhere = before.slice(); elsewhere.set(red, 50 * 3);     // the ball drawn at the wrong place counts nothing
  assert.equal(appearanceStrength(elsewhere, truth, before, red), 0);
  assert.ok(Number.isNaN(appearanceStrength(truth, truth, truth, red)));   // nothing new to draw
  assert.throws(() => appearanceStrength(truth.subarray(3), truth, before, red), /frames must have the same length, got pred 189, truth 192, before 192/);
});

test("interaction persistence: kept bites score 1, a regrown burger scores 0", () => {
  const cfg = { balls: [], occluder: null, agent: { x: 3, z: 3, radius: 0.45, speed: 0.12, jumpSpeed: 0.28 }, burger: { x: 4.2, z: 3, radius: 0.5, maxBites: 4 } };
  const truthW = new VideoWorld(cfg), regrowW = new VideoWorld(cfg);
  const size = 64, FS = size * size * 3;
  const actions = [Action.JumpEat, Action.JumpEat, Action.Left, Action.Left, Action.Noop, Action.Noop, Action.Up, Action.Noop];
  const states: FrameState[] = [];
  const truth = new Uint8Array(actions.length * FS), regrown = new Uint8Array(actions.length * FS);
  actions.forEach((a, t) => {
    truthW.step(a); regrowW.step(a);
    regrowW.bites = 0; // the model "forgets" the bite
    states.push(truthW.state(truthW.render(size, truth.subarray(t * FS, (t + 1) * FS))));
    regrowW.render(size, regrown.subarray(t * FS, (t + 1) * FS));
  });
  const good = interactionPersistence(states, truth, { size });
  assert.ok(good.frames >= 6, `scored ${good.frames}`);
  assert.equal(good.persistentRate, 1);
  assert.equal(good.meanRegrown, 0);
  const bad = interactionPersistence(states, regrown, { size });
  assert.equal(bad.persistentRate, 0);
  assert.ok(bad.meanRegrown > 0.9);
});

test("linear probe beats chance on a linearly separable set, not on random labels", () => {
  const rng = new Generator(5);
  const n = 600, d = 12, K = 4;
  const centres = Array.from({ length: K }, () => Array.from({ length: d }, () => rng.normal() * 3));
  const X = new Float32Array(n * d), y = new Int32Array(n), yRand = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    yRand[i] = rng.int(K);
    for (let j = 0; j < d; j++) X[i * d + j] = centres[y[i]][j] + rng.normal();
  }
  const ridge = linearProbe(X, y, d, { seed: 1 });
  assert.equal(ridge.metric, "accuracy");
  assert.ok(ridge.test > 0.95 && ridge.chance < 0.4, JSON.stringify({ test: ridge.test, chance: ridge.chance }));
  const soft = linearProbe(X, y, d, { method: "softmax", seed: 1, epochs: 150 });
  assert.ok(soft.test > 0.95, `softmax ${soft.test}`);
  const rand = linearProbe(X, yRand, d, { seed: 1 });
  assert.ok(rand.test < 0.45, `random labels should stay near chance, got ${rand.test}`);
  // Unknown labels (−1) are skipped.
  const y2 = Int32Array.from(y, (v, i) => (i % 5 === 0 ? -1 : v));
  assert.equal(linearProbe(X, y2, d).nTrain + linearProbe(X, y2, d).nTest, n - n / 5);
  // Regression: R² near 1 for a linear target, near 0 or below for noise.
  const w = Array.from({ length: d }, () => rng.normal());
  const t = Float64Array.from({ length: n }, (_, i) => w.reduce((s, wj, j) => s + wj * X[i * d + j], 0) + 0.1 * rng.normal());
  const reg = linearProbe(X, t, d, { task: "regression" });
  assert.equal(reg.metric, "r2");
  assert.ok(reg.test > 0.99 && reg.chance <= 0.01, JSON.stringify({ test: reg.test, chance: reg.chance }));
  assert.throws(() => linearProbe(X, y, 7), /not a multiple of dim 7/);
  assert.throws(() => linearProbe(X, t, d, { task: "regression", method: "softmax" }), /softmax/);
});

test("nearest-neighbour recaptioning raises coverage and accuracy", () => {
  const rng = new Generator(9);
  const names = ["a red ball bounces in a room.", "a blue ball bounces in a room.", "the agent bites the burger."];
  const n = 90, d = 6;
  const z = new Float32Array(n * d);
  const truth: string[] = [], caps: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    truth.push(names[k]);
    for (let j = 0; j < d; j++) z[i * d + j] = (j === k ? 5 : 0) + rng.normal() * 0.3;
    caps.push(i % 2 === 0 ? names[k] : i % 4 === 1 ? null : "a video.");
  }
  const r = nearestNeighbourRecaption(z, d, caps, { truth, isWeak: (c) => c === null || c === "a video." });
  assert.equal(r.coverageBefore, 0.5);
  assert.equal(r.coverageAfter, 1);
  assert.equal(r.accuracyBefore, 0.5);
  assert.equal(r.accuracyAfter, 1);
  assert.ok(r.wordF1After! > r.wordF1Before!);
  assert.equal(r.replaced, 45);
  assert.ok(r.source.every((s, i) => (i % 2 === 0 ? s === -1 : s % 3 === i % 3)));
  assert.equal(captionWordF1("a red ball.", "a red ball"), 1);
  assert.equal(captionWordF1(null, "x"), 0);
  assert.throws(() => nearestNeighbourRecaption(z, 5, caps), /expected 90 clips × 5/);
});

test("surprise score", () => {
  const s = surpriseScore([1, 1.1, 0.9], [2, 1.5, 3]);
  assert.equal(s.auc, 1);
  assert.ok(s.ratio > 1.5);
  assert.equal(surpriseScore([1, 2], [1, 2]).auc, 0.5);
});

test("ridge probe: primal and dual solvers give the same predictions", () => {
  const rng = new Generator(3);
  const n = 60, d = 90; // more features than samples, like a raw-pixel probe
  const X = Float32Array.from({ length: n * d }, () => rng.normal());
  const y = Int32Array.from({ length: n }, (_, i) => (X[i * d] + X[i * d + 1] > 0 ? 1 : 0));
  const p = linearProbe(X, y, d, { solver: "primal", lambda: 0.1 });
  const q = linearProbe(X, y, d, { solver: "dual", lambda: 0.1 });
  assert.deepEqual(Array.from(p.testPredictions), Array.from(q.testPredictions));
  assert.equal(p.train, q.train);
  const t = Float64Array.from({ length: n }, (_, i) => X[i * d] - 2 * X[i * d + 5]);
  const rp = linearProbe(X, t, d, { task: "regression", solver: "primal" });
  const rq = linearProbe(X, t, d, { task: "regression", solver: "dual" });
  assert.ok(Math.abs(rp.test - rq.test) < 1e-6, `${rp.test} vs ${rq.test}`);
});

test("grouped split keeps whole groups on one side", () => {
  const rng = new Generator(4);
  const n = 200, d = 3;
  const X = Float32Array.from({ length: n * d }, () => rng.normal());
  const y = Int32Array.from({ length: n }, (_, i) => (X[i * d] > 0 ? 1 : 0));
  const groups = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 10));
  const r = linearProbe(X, y, d, { groups, seed: 2 });
  const testGroups = new Set(Array.from(r.testIndices, (i) => groups[i]));
  for (const g of testGroups) assert.equal(Array.from(r.testIndices).filter((i) => groups[i] === g).length, 10);
  assert.equal(r.nTrain + r.nTest, n);
  assert.ok(r.nTest >= 50 && r.nTest <= 60, `${r.nTest}`);
  assert.throws(() => linearProbe(X, y, d, { groups: new Int32Array(3) }), /groups has 3 entries/);
});

test("ridge probe with λ candidates: chosen inside the training split, the same test split, the best candidate wins", () => {
  const rng = new Generator(5);
  const groups = Int32Array.from({ length: 240 }, (_, i) => Math.floor(i / 8));
  // (a) a clean linear target in 4 features: almost no shrinkage is best
  const d1 = 4, X1 = Float32Array.from({ length: 240 * d1 }, () => rng.normal());
  const y1 = Float64Array.from({ length: 240 }, (_, i) => X1[i * d1]! - 2 * X1[i * d1 + 1]! + 0.01 * rng.normal());
  const cands = [1e-4, 1e-2, 1, 100];
  const a = linearProbe(X1, y1, d1, { task: "regression", lambda: cands, groups, seed: 1 });
  assert.equal(a.lambda, 1e-4);
  assert.deepEqual(a.validation!.map((v) => v.lambda), cands);
  assert.deepEqual(Array.from(a.testIndices), Array.from(linearProbe(X1, y1, d1, { task: "regression", lambda: 5, groups, seed: 1 }).testIndices));
  // (b) 400 noise features beside a weak signal, 240 samples: strong shrinkage is best
  const d2 = 400, X2 = Float32Array.from({ length: 240 * d2 }, () => rng.normal());
  const y2 = Float64Array.from({ length: 240 }, (_, i) => 0.3 * X2[i * d2]! + rng.normal());
  const b = linearProbe(X2, y2, d2, { task: "regression", lambda: cands, groups, seed: 1 });
  assert.ok(b.lambda >= 1, `chose λ = ${b.lambda}`);
  const best = Math.max(...b.validation!.map((v) => v.score));
  assert.equal(b.validation!.find((v) => v.lambda === b.lambda)!.score, best);
  assert.ok(b.test > linearProbe(X2, y2, d2, { task: "regression", lambda: 1e-4, groups, seed: 1 }).test, "the tuned probe generalises better than the unshrunk one");
  assert.throws(() => linearProbe(X1, y1, d1, { task: "regression", lambda: [] }), /lambda candidates must not be empty/);
});
