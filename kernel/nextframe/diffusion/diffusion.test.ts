import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GaussianDiffusion, SpacedDiffusion, classifierFreeGuidance, createDiffusion, diffusionCoefficients,
  getNamedBetaSchedule, spaceTimesteps, type DenoiseFn,
} from "./index";
import { Generator } from "../engine/generator.js";

const close = (a: number, b: number, tol: number, msg = "") => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);
function stats(x: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) { s += x[i]; s2 += x[i] * x[i]; }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean) };
}

test("linear and cosine schedules: endpoints, monotone ᾱ, DDPM's ᾱ_T", () => {
  const lin = getNamedBetaSchedule("linear", 1000);
  close(lin[0], 1e-4, 1e-15); close(lin[999], 0.02, 1e-15);
  const c = diffusionCoefficients(lin);
  close(c.alphasCumprod[999], 4.036e-5, 1e-7, "ᾱ_999"); // DDPM linear schedule ends near 4e-5
  const cos = diffusionCoefficients(getNamedBetaSchedule("cosine", 1000));
  for (let i = 1; i < 1000; i++) assert.ok(cos.alphasCumprod[i] < cos.alphasCumprod[i - 1]);
  close(cos.betas[999], 0.999, 1e-12, "cosine clips β at 0.999");
  // T = 100 keeps the same endpoints scaled: β's are 10× larger
  close(getNamedBetaSchedule("linear", 100)[99], 0.2, 1e-15);
  assert.throws(() => getNamedBetaSchedule("quadratic", 10), /unknown beta schedule "quadratic"/);
});

test("posterior coefficients agree with the closed forms and with Bayes on a 1D Gaussian", () => {
  const c = diffusionCoefficients(getNamedBetaSchedule("linear", 1000));
  for (const t of [1, 10, 500, 999]) {
    const b = c.betas[t], ab = c.alphasCumprod[t], abp = c.alphasCumprod[t - 1];
    close(c.posteriorVariance[t], b * (1 - abp) / (1 - ab), 1e-15);
    close(c.posteriorMeanCoef1[t], Math.sqrt(abp) * b / (1 - ab), 1e-14);
    close(c.posteriorMeanCoef2[t], Math.sqrt(1 - b) * (1 - abp) / (1 - ab), 1e-14);
    // q(x_{t-1}|x_t,x0) ∝ q(x_t|x_{t-1}) q(x_{t-1}|x0): precisions add
    const prec = (1 - b) / b + 1 / (1 - abp);
    close(1 / prec, c.posteriorVariance[t], 1e-15);
  }
  close(c.posteriorLogVarianceClipped[0], Math.log(c.posteriorVariance[1]), 1e-15);
  assert.equal(c.posteriorVariance[0], 0);
});

test("qSample has mean sqrt(ᾱ_t)·x₀ and variance 1 − ᾱ_t", () => {
  const d = createDiffusion({ learnSigma: false });
  const n = 200000, t = 300;
  const x0 = new Float32Array(n).fill(0.7);
  const xt = d.qSample(x0, [1, n], Int32Array.of(t), undefined, 1);
  const s = stats(xt);
  close(s.mean, Math.sqrt(d.c.alphasCumprod[t]) * 0.7, 0.01, "mean");
  close(s.std, Math.sqrt(1 - d.c.alphasCumprod[t]), 0.01, "std");
  assert.throws(() => d.qSample(x0, [1, n], Int32Array.of(1000)), /timestep 1000 out of range \[0, 999\]/);
});

/** The exact ε-predictor for data x₀ ~ N(m, s²) elementwise: ε̂ = (x_t − a·E[x₀|x_t]) / σ_t. */
function gaussianOracle(d: GaussianDiffusion, m: number, s: number, learnSigmaValue?: number): DenoiseFn {
  const base = diffusionCoefficients(getNamedBetaSchedule("linear", 1000)); // model sees original timesteps
  return async (x, shape, t) => {
    const N = shape[0], per = x.length / N;
    const k = learnSigmaValue === undefined ? 1 : 2;
    const out = new Float32Array(k * x.length);
    for (let b = 0; b < N; b++) {
      const a = base.sqrtAlphasCumprod[t[b]], sig = base.sqrtOneMinusAlphasCumprod[t[b]];
      for (let j = 0; j < per; j++) {
        const xt = x[b * per + j];
        const ex0 = m + (a * s * s / (a * a * s * s + sig * sig)) * (xt - a * m);
        out[b * per * k + j] = (xt - a * ex0) / sig;
        if (k === 2) out[b * per * k + per + j] = learnSigmaValue!;
      }
    }
    void d;
    return out;
  };
}

test("DDPM (all steps) and DDIM (η=0, all steps and 50 steps) sample the data distribution with an exact denoiser", async () => {
  const m = 0.5, s = 0.2, n = 4000;
  const full = createDiffusion({ learnSigma: false, sigmaSmall: true });
  let calls = 0;
  const ddpm = await full.pSampleLoop(gaussianOracle(full, m, s), [1, n], { seed: 3, onProgress: () => calls++ });
  assert.equal(calls, 1000);
  const ddimAll = await full.ddimSampleLoop(gaussianOracle(full, m, s), [1, n], { seed: 3 });
  for (const [name, x] of [["ddpm", ddpm], ["ddim", ddimAll]] as const) {
    const st = stats(x);
    close(st.mean, m, 0.02, `${name} mean`);
    close(st.std, s, 0.02, `${name} std`);
  }
  // fewer DDIM steps: the ODE discretization error shrinks as the number of steps grows
  const stdErr: number[] = [];
  for (const r of ["ddim10", "ddim50", "ddim250"]) {
    const d = createDiffusion({ learnSigma: false, timestepRespacing: r });
    const x = await d.ddimSampleLoop(gaussianOracle(d, m, s), [1, n], { seed: 3 });
    close(stats(x).mean, m, 0.02, `${r} mean`);
    stdErr.push(Math.abs(stats(x).std - s));
  }
  assert.ok(stdErr[0] > stdErr[1] && stdErr[1] > stdErr[2] && stdErr[2] < 0.02, `std errors ${stdErr}`);
  // DDIM with all steps and DDPM agree in distribution; sample means within noise of each other
  close(stats(ddpm).mean, stats(ddimAll).mean, 0.02, "ddpm vs ddim mean");
});

test("one DDIM step with η = 1 has the DDPM posterior mean and variance", async () => {
  const d = createDiffusion({ learnSigma: false, sigmaSmall: true });
  const model = gaussianOracle(d, 0.1, 0.3);
  const x = new Generator(9).randn(64), t = Int32Array.of(400);
  const mv = await d.pMeanVariance(model, x, [1, 64], t);
  // DDIM with η=1: σ² = β̃_t and the mean part equals μ̃; compare by removing the noise (rng that returns 0)
  const zeroRng = { normal: () => 0 } as unknown as Generator;
  const r = await d.ddimSample(model, x, [1, 64], t, zeroRng, { eta: 1 });
  for (let i = 0; i < 64; i++) close(r.sample[i], mv.mean[i], 1e-5, `elem ${i}`);
  close(Math.exp(mv.logVariance[0]), d.c.posteriorVariance[400], 1e-12);
});

test("DDIM η=0 is deterministic given x_T; sampling is deterministic under a seed", async () => {
  const d = createDiffusion({ learnSigma: false, timestepRespacing: "ddim10" });
  const model = gaussianOracle(d, 0, 1);
  const noise = new Generator(5).randn(32);
  const a = await d.ddimSampleLoop(model, [2, 16], { noise, seed: 1 });
  const b = await d.ddimSampleLoop(model, [2, 16], { noise, seed: 999 });
  assert.deepEqual(a, b);
  const p1 = await d.pSampleLoop(model, [2, 16], { seed: 7 });
  const p2 = await d.pSampleLoop(model, [2, 16], { seed: 7 });
  const p3 = await d.pSampleLoop(model, [2, 16], { seed: 8 });
  assert.deepEqual(p1, p2);
  assert.notDeepEqual(p1, p3);
});

test("learned-range variance interpolates between β̃_t (v = −1) and β_t (v = +1)", async () => {
  const d = createDiffusion({ learnSigma: true });
  const x = new Generator(2).randn(8), t = Int32Array.of(100);
  const lo = await d.pMeanVariance(gaussianOracle(d, 0, 1, -1), x, [1, 8], t);
  const hi = await d.pMeanVariance(gaussianOracle(d, 0, 1, 1), x, [1, 8], t);
  const mid = await d.pMeanVariance(gaussianOracle(d, 0, 1, 0), x, [1, 8], t);
  close(lo.logVariance[0], d.c.posteriorLogVarianceClipped[100], 1e-12);
  close(hi.logVariance[0], Math.log(d.c.betas[100]), 1e-12);
  close(mid.logVariance[0], (lo.logVariance[0] + hi.logVariance[0]) / 2, 1e-12);
  await assert.rejects(d.pMeanVariance(gaussianOracle(d, 0, 1), x, [1, 8], t), /expected 16 \(2·C channels/);
});

test("x0- and v-prediction give the same posterior as ε-prediction for the same underlying x₀", async () => {
  const x = new Generator(4).randn(16), t = Int32Array.of(250);
  const eps = createDiffusion({ learnSigma: false });
  const base = diffusionCoefficients(getNamedBetaSchedule("linear", 1000));
  const ref = await eps.pMeanVariance(gaussianOracle(eps, 0.2, 0.5), x, [1, 16], t);
  const asX0: DenoiseFn = async () => ref.predXstart;
  const asV: DenoiseFn = async (xx, _s, tt) => {
    const a = base.sqrtAlphasCumprod[tt[0]], s = base.sqrtOneMinusAlphasCumprod[tt[0]];
    return xx.map((v, i) => a * ref.predEps[i] - s * ref.predXstart[i]);
  };
  const r0 = await createDiffusion({ learnSigma: false, predict: "x0" }).pMeanVariance(asX0, x, [1, 16], t);
  const rv = await createDiffusion({ learnSigma: false, predict: "v" }).pMeanVariance(asV, x, [1, 16], t);
  for (let i = 0; i < 16; i++) { close(r0.mean[i], ref.mean[i], 1e-5); close(rv.mean[i], ref.mean[i], 1e-5); }
  // and trainingTarget produces the matching v
  const vT = createDiffusion({ learnSigma: false, predict: "v" }).trainingTarget(Float32Array.of(1), Float32Array.of(0), [1, 1], t);
  close(vT[0], -base.sqrtOneMinusAlphasCumprod[250], 1e-7);
});

test("spaceTimesteps and SpacedDiffusion keep ᾱ at the kept steps and map t to the original steps", async () => {
  const ddim50 = spaceTimesteps(1000, "ddim50");
  assert.equal(ddim50.size, 50);
  assert.deepEqual([...ddim50].slice(0, 3), [0, 20, 40]);
  const sec = spaceTimesteps(300, "10,15,20");
  assert.equal(sec.size, 45);
  assert.ok(sec.has(0) && sec.has(99) && sec.has(100) && sec.has(299));
  assert.throws(() => spaceTimesteps(1000, "ddim999"), /cannot create exactly 999 steps/);
  // trailing: counted down from the last step, so one step starts from pure noise (Lin et al. 2024)
  assert.deepEqual([...spaceTimesteps(1000, "trailing1")], [999]);
  assert.deepEqual([...spaceTimesteps(1000, "trailing4")].sort((a, b) => a - b), [249, 499, 749, 999]);
  assert.equal(spaceTimesteps(1000, "trailing1000").size, 1000);
  assert.throws(() => spaceTimesteps(1000, "trailing0"), /bad trailing count in "trailing0" \(expected 1\.\.1000\)/);
  const betas = getNamedBetaSchedule("linear", 1000);
  const base = diffusionCoefficients(betas);
  const sp = new SpacedDiffusion(ddim50, { betas });
  [...ddim50].sort((a, b) => a - b).forEach((orig, i) => close(sp.c.alphasCumprod[i], base.alphasCumprod[orig], 1e-12));
  const seen: number[] = [];
  const spy: DenoiseFn = async (x, _s, t) => { seen.push(t[0]); return new Float32Array(x.length); };
  await sp.ddimSampleLoop(spy, [1, 4], {});
  assert.equal(seen[0], 980); assert.equal(seen[49], 0);
});

test("classifier-free guidance: scale 1 equals the conditional model; scale s extrapolates", async () => {
  // a toy class-conditional model: prediction channel = x + y (cond) or x (null class 10); variance channel = y
  const model: DenoiseFn = async (x, shape, _t, y) => {
    const N = shape[0], per = x.length / N;
    const out = new Float32Array(2 * x.length);
    for (let b = 0; b < N; b++) for (let j = 0; j < per; j++) {
      out[b * 2 * per + j] = x[b * per + j] + (y![b] === 10 ? 0 : y![b]);
      out[b * 2 * per + per + j] = y![b];
    }
    return out;
  };
  const x = new Generator(1).randn(2 * 1 * 3), shape = [2, 1, 3], t = Int32Array.of(5, 5), y = Int32Array.of(2, 3);
  const cond = await model(x, shape, t, y);
  const g1 = await classifierFreeGuidance(model, { scale: 1, nullClass: 10 })(x, shape, t, y);
  for (let i = 0; i < cond.length; i++) close(g1[i], cond[i], 1e-6);
  const g4 = await classifierFreeGuidance(model, { scale: 4, nullClass: 10 })(x, shape, t, y);
  close(g4[0], x[0] + 4 * 2, 1e-5);       // uncond + 4·(cond − uncond)
  close(g4[3], 2, 0);                      // variance channel from the conditional half
  close(g4[6], x[3] + 4 * 3, 1e-5);
});

test("an interrupted cell's DDIM sampling loop stops between steps for good; the next cell samples as usual", async () => {
  const { lastInterruption } = await import("../engine/interrupt");
  const { cells, installCellContract } = await import("../../../test/simulatedCells");
  const uninstall = installCellContract();
  try {
    const d = createDiffusion({ learnSigma: false });
    let calls = 0;
    const model: DenoiseFn = async (x) => {
      calls++;
      if (calls === 5) cells.getStore()!.interrupted = true; // the person interrupts during the 5th denoising step
      await new Promise((r) => setTimeout(r, 1));
      return new Float32Array(x.length);
    };
    let settled = false;
    cells.run({ interrupted: false }, () => d.ddimSampleLoop(model, [1, 4], { seed: 1 })).then(() => { settled = true; }, () => { settled = true; });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls, 5, "the interrupted sampler went on calling the model");
    assert.equal(settled, false, "the interrupted cell's sampling must never settle (its code would resume)");
    assert.equal(lastInterruption()!.message, "sample: interrupted before denoising step 6 of 1000 (t = 994)");
    const few = createDiffusion({ learnSigma: false, timestepRespacing: "ddim10" });
    calls = 100;
    const x = await cells.run({ interrupted: false }, () => few.ddimSampleLoop(model, [1, 4], { seed: 1 }));
    assert.equal(calls, 110);
    assert.ok(x.every(Number.isFinite));
  } finally {
    uninstall();
  }
});
