// Linear probes: can a linear map read a property of the world out of a model's hidden vectors?
//
// The Othello-GPT argument (Li et al. 2023, https://arxiv.org/abs/2210.13382; Nanda et al. 2023 for the
// linear version): if a simple probe recovers the board from the activations far above chance — and far
// above the same probe on a randomly initialised model — the model represents the world state. Chapter 1
// probes the text world's agent position; chapter 8 probes depth/order from latents vs from raw pixels.
//
// Plain TypeScript on typed arrays: ridge regression solved in closed form (Cholesky), or multinomial
// logistic (softmax) regression trained by full-batch Adam. Features are standardised on the train split.

import { Generator } from "../engine/generator.js";
import { NextframeError } from "../engine/errors";

/** Options of linearProbe: classification or regression, ridge or softmax, the L2 strength (or candidates), the split and its seed. */
export interface LinearProbeOptions {
  /** "classification" (integer labels, accuracy) or "regression" (real targets, R²). Default: classification. */
  task?: "classification" | "regression";
  /** "ridge" (closed form, one-hot targets for classification) or "softmax" (classification only). Default ridge. */
  method?: "ridge" | "softmax";
  /**
   * L2 strength, relative to the number of training samples. Default 1e-3. A list of candidates is chosen from by
   * validation inside the training split (whole groups again when groups are given; the test split is never seen),
   * so feature sets of different sizes each get the strength that suits them.
   */
  lambda?: number | readonly number[];
  /** Fraction held out for testing. Default 0.25. */
  testFraction?: number;
  /** Seed of the train/test shuffle. */
  seed?: number;
  /**
   * Group id per sample (e.g. the clip or episode it came from). When given, whole groups go to train or
   * test, so near-duplicate neighbouring frames/tokens cannot leak across the split.
   */
  groups?: ArrayLike<number>;
  /**
   * Ridge only: solve in feature space (d×d system, cost n·d²) or sample space (n×n, cost n²·d; the same
   * solution, cheaper when features outnumber samples, e.g. raw pixels). Default "auto" picks the smaller.
   */
  solver?: "auto" | "primal" | "dual";
  /** Softmax only. */
  epochs?: number;
  lr?: number;
}

/** A linear probe's train and test scores (accuracy or R²) beside chance, with its test predictions and the L2 strength used. */
export interface LinearProbeResult {
  task: "classification" | "regression";
  method: "ridge" | "softmax";
  metric: "accuracy" | "r2";
  train: number;
  test: number;
  /** Majority-class accuracy on the test split (classification) or R² of predicting the train mean (regression). */
  chance: number;
  nTrain: number;
  nTest: number;
  dim: number;
  classes: number;
  /** Per-sample prediction on the test split (class id, or the first output for regression). */
  testPredictions: Float64Array;
  testIndices: Int32Array;
  /** The L2 strength used (the chosen one when candidates were given). */
  lambda: number;
  /** With candidates: each one's validation score (accuracy or R²) inside the training split. */
  validation?: { lambda: number; score: number }[];
}

/** Solve (A) X = B for symmetric positive-definite A (d×d), B (d×k), in place on copies. */
export function choleskySolve(A: Float64Array, B: Float64Array, d: number, k: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j];
      for (let p = 0; p < j; p++) s -= L[i * d + p] * L[j * d + p];
      if (i === j) {
        if (s <= 0) throw new NextframeError(`choleskySolve: matrix not positive definite at ${i} (increase the ridge lambda)`);
        L[i * d + i] = Math.sqrt(s);
      } else L[i * d + j] = s / L[j * d + j];
    }
  }
  const X = new Float64Array(B);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < d; i++) { // forward: L y = b
      let s = X[i * k + c];
      for (let p = 0; p < i; p++) s -= L[i * d + p] * X[p * k + c];
      X[i * k + c] = s / L[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) { // backward: Lᵀ x = y
      let s = X[i * k + c];
      for (let p = i + 1; p < d; p++) s -= L[p * d + i] * X[p * k + c];
      X[i * k + c] = s / L[i * d + i];
    }
  }
  return X;
}

/**
 * Fit a linear probe from `features` (n × dim, row-major) to `labels` (n integers for classification —
 * negative labels mark "unknown" and are skipped — or n × outputs reals for regression), on a seeded
 * train/test split, and report train/test accuracy or R² next to chance.
 */
export function linearProbe(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number, opts: LinearProbeOptions = {}): LinearProbeResult {
  const task = opts.task ?? "classification";
  const method = opts.method ?? "ridge";
  if (!Number.isInteger(dim) || dim < 1) throw new NextframeError(`linearProbe: dim must be a positive integer, got ${dim}`);
  if (features.length % dim !== 0) throw new NextframeError(`linearProbe: features length ${features.length} is not a multiple of dim ${dim}`);
  const nAll = features.length / dim;
  if (task === "regression" && method === "softmax") throw new NextframeError(`linearProbe: method "softmax" needs task "classification"`);
  if (labels.length % nAll !== 0 || labels.length === 0) throw new NextframeError(`linearProbe: labels length ${labels.length} does not match ${nAll} samples`);
  const outputs = task === "regression" ? labels.length / nAll : 1;
  if (task === "classification" && outputs !== 1) throw new NextframeError(`linearProbe: classification needs one label per sample, got ${labels.length} labels for ${nAll} samples`);
  if (Array.isArray(opts.lambda)) return tunedProbe(features, labels, dim, nAll, outputs, opts as LinearProbeOptions & { lambda: readonly number[] });
  const lambda = (opts.lambda as number | undefined) ?? 1e-3;
  if (!(lambda >= 0)) throw new NextframeError(`linearProbe: lambda must be ≥ 0, got ${lambda}`);
  const testFraction = opts.testFraction ?? 0.25;
  if (!(testFraction > 0 && testFraction < 1)) throw new NextframeError(`linearProbe: testFraction must be in (0, 1), got ${testFraction}`);

  const { trainIdx, testIdx } = splitSamples(labels, nAll, outputs, task, testFraction, opts);
  const nTest = testIdx.length;
  const nTrain = trainIdx.length;
  if (nTrain < 2) throw new NextframeError(`linearProbe: only ${nTrain} training samples after the split; need at least 2`);

  // Standardise with train statistics.
  const mean = new Float64Array(dim), std = new Float64Array(dim);
  for (const i of trainIdx) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j] / nTrain;
  for (const i of trainIdx) for (let j = 0; j < dim; j++) std[j] += (features[i * dim + j] - mean[j]) ** 2 / nTrain;
  for (let j = 0; j < dim; j++) std[j] = Math.sqrt(std[j]) || 1;
  const rows = (idx: number[]) => {
    const X = new Float64Array(idx.length * dim);
    idx.forEach((i, r) => { for (let j = 0; j < dim; j++) X[r * dim + j] = (features[i * dim + j] - mean[j]) / std[j]; });
    return X;
  };
  const Xtr = rows(trainIdx), Xte = rows(testIdx);

  let classes = 0;
  if (task === "classification") for (const i of [...trainIdx, ...testIdx]) classes = Math.max(classes, labels[i] + 1);
  const K = task === "classification" ? classes : outputs;
  const target = (idx: number[]) => {
    const Y = new Float64Array(idx.length * K);
    idx.forEach((i, r) => {
      if (task === "classification") Y[r * K + labels[i]] = 1;
      else for (let j = 0; j < K; j++) Y[r * K + j] = labels[i * outputs + j];
    });
    return Y;
  };
  const Ytr = target(trainIdx);

  // Weights W (dim × K) and bias (K).
  let W: Float64Array;
  const bias = new Float64Array(K);
  if (method === "ridge") {
    // Centred targets: the bias is the target mean (features are already centred), so it is not penalised.
    const ym = new Float64Array(K);
    for (let r = 0; r < nTrain; r++) for (let c = 0; c < K; c++) ym[c] += Ytr[r * K + c] / nTrain;
    const solver = opts.solver ?? "auto";
    const dual = solver === "dual" || (solver === "auto" && dim > nTrain);
    if (!dual) {
      // (XᵀX + λnI) W = Xᵀ(Y − ȳ)
      const A = new Float64Array(dim * dim), B = new Float64Array(dim * K);
      for (let r = 0; r < nTrain; r++) {
        const x = Xtr.subarray(r * dim, (r + 1) * dim);
        for (let i = 0; i < dim; i++) {
          const xi = x[i];
          if (xi === 0) continue;
          for (let j = 0; j <= i; j++) A[i * dim + j] += xi * x[j];
          for (let c = 0; c < K; c++) B[i * K + c] += xi * (Ytr[r * K + c] - ym[c]);
        }
      }
      for (let i = 0; i < dim; i++) {
        for (let j = 0; j < i; j++) A[j * dim + i] = A[i * dim + j];
        A[i * dim + i] += lambda * nTrain + 1e-9;
      }
      W = choleskySolve(A, B, dim, K);
    } else {
      // Dual form: α = (XXᵀ + λnI)⁻¹ (Y − ȳ), W = Xᵀα — the same minimiser, with an n×n system.
      const G = new Float64Array(nTrain * nTrain);
      for (let a = 0; a < nTrain; a++) {
        const xa = Xtr.subarray(a * dim, (a + 1) * dim);
        for (let b = 0; b <= a; b++) {
          const xb = Xtr.subarray(b * dim, (b + 1) * dim);
          let sdot = 0;
          for (let i = 0; i < dim; i++) sdot += xa[i] * xb[i];
          G[a * nTrain + b] = sdot;
          G[b * nTrain + a] = sdot;
        }
        G[a * nTrain + a] += lambda * nTrain + 1e-9;
      }
      const Yc = new Float64Array(nTrain * K);
      for (let r = 0; r < nTrain; r++) for (let c = 0; c < K; c++) Yc[r * K + c] = Ytr[r * K + c] - ym[c];
      const alpha = choleskySolve(G, Yc, nTrain, K);
      W = new Float64Array(dim * K);
      for (let r = 0; r < nTrain; r++) {
        const x = Xtr.subarray(r * dim, (r + 1) * dim);
        for (let i = 0; i < dim; i++) {
          const xi = x[i];
          if (xi === 0) continue;
          for (let c = 0; c < K; c++) W[i * K + c] += xi * alpha[r * K + c];
        }
      }
    }
    bias.set(ym);
  } else {
    // Multinomial logistic regression, full-batch Adam on mean cross-entropy + (λ/2)·‖W‖².
    W = new Float64Array(dim * K);
    const epochs = opts.epochs ?? 300, lr = opts.lr ?? 0.05;
    const mW = new Float64Array(dim * K), vW = new Float64Array(dim * K), mb = new Float64Array(K), vb = new Float64Array(K);
    const gW = new Float64Array(dim * K), gb = new Float64Array(K);
    const logits = new Float64Array(K);
    for (let e = 1; e <= epochs; e++) {
      gW.fill(0); gb.fill(0);
      for (let r = 0; r < nTrain; r++) {
        const x = Xtr.subarray(r * dim, (r + 1) * dim);
        let mx = -Infinity;
        for (let c = 0; c < K; c++) {
          let s = bias[c];
          for (let i = 0; i < dim; i++) s += x[i] * W[i * K + c];
          logits[c] = s;
          if (s > mx) mx = s;
        }
        let z = 0;
        for (let c = 0; c < K; c++) { logits[c] = Math.exp(logits[c] - mx); z += logits[c]; }
        for (let c = 0; c < K; c++) {
          const g = (logits[c] / z - Ytr[r * K + c]) / nTrain; // d(CE)/d(logit)
          if (g === 0) continue;
          gb[c] += g;
          for (let i = 0; i < dim; i++) gW[i * K + c] += g * x[i];
        }
      }
      const b1 = 0.9, b2 = 0.999, eps = 1e-8;
      const c1 = 1 - b1 ** e, c2 = 1 - b2 ** e;
      for (let p = 0; p < W.length; p++) {
        const g = gW[p] + lambda * W[p];
        mW[p] = b1 * mW[p] + (1 - b1) * g; vW[p] = b2 * vW[p] + (1 - b2) * g * g;
        W[p] -= (lr * mW[p]) / c1 / (Math.sqrt(vW[p] / c2) + eps);
      }
      for (let c = 0; c < K; c++) {
        mb[c] = b1 * mb[c] + (1 - b1) * gb[c]; vb[c] = b2 * vb[c] + (1 - b2) * gb[c] * gb[c];
        bias[c] -= (lr * mb[c]) / c1 / (Math.sqrt(vb[c] / c2) + eps);
      }
    }
  }

  const predict = (X: Float64Array, n: number): Float64Array => {
    const P = new Float64Array(n * K);
    for (let r = 0; r < n; r++) for (let c = 0; c < K; c++) {
      let s = bias[c];
      for (let i = 0; i < dim; i++) s += X[r * dim + i] * W[i * K + c];
      P[r * K + c] = s;
    }
    return P;
  };
  const score = (X: Float64Array, idx: number[]): { value: number; pred: Float64Array } => {
    const P = predict(X, idx.length);
    const pred = new Float64Array(idx.length);
    if (task === "classification") {
      let hit = 0;
      idx.forEach((i, r) => {
        let best = 0;
        for (let c = 1; c < K; c++) if (P[r * K + c] > P[r * K + best]) best = c;
        pred[r] = best;
        if (best === labels[i]) hit++;
      });
      return { value: hit / idx.length, pred };
    }
    return { value: r2(idx, P, pred), pred };
  };
  const trainMean = new Float64Array(K);
  if (task === "regression") for (const i of trainIdx) for (let c = 0; c < K; c++) trainMean[c] += labels[i * outputs + c] / nTrain;
  // R² averaged over outputs: 1 − SSE/SST with SST around the evaluated set's own mean.
  function r2(idx: number[], P: Float64Array, pred: Float64Array): number {
    let tot = 0;
    for (let c = 0; c < K; c++) {
      let m = 0;
      for (const i of idx) m += labels[i * outputs + c] / idx.length;
      let sse = 0, sst = 0;
      idx.forEach((i, r) => {
        const y = labels[i * outputs + c];
        sse += (y - P[r * K + c]) ** 2;
        sst += (y - m) ** 2;
        if (c === 0) pred[r] = P[r * K];
      });
      tot += sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0;
    }
    return tot / K;
  }
  const tr = score(Xtr, trainIdx), te = score(Xte, testIdx);
  let chance: number;
  if (task === "classification") {
    const counts = new Float64Array(K);
    for (const i of trainIdx) counts[labels[i]]++;
    let major = 0;
    for (let c = 1; c < K; c++) if (counts[c] > counts[major]) major = c;
    chance = testIdx.filter((i) => labels[i] === major).length / nTest;
  } else {
    const P = new Float64Array(nTest * K);
    for (let r = 0; r < nTest; r++) P.set(trainMean, r * K);
    chance = r2(testIdx, P, new Float64Array(nTest));
  }
  return {
    task, method, metric: task === "classification" ? "accuracy" : "r2",
    train: tr.value, test: te.value, chance, nTrain, nTest, dim, classes: K,
    testPredictions: te.pred, testIndices: Int32Array.from(testIdx), lambda,
  };
}

/** Usable samples (known labels), shuffled by seed and split into train and test (whole groups when given). */
function splitSamples(labels: ArrayLike<number>, nAll: number, outputs: number, task: "classification" | "regression", testFraction: number,
  opts: Pick<LinearProbeOptions, "seed" | "groups">): { trainIdx: number[]; testIdx: number[] } {
  const keep: number[] = [];
  for (let i = 0; i < nAll; i++) {
    if (task === "classification") {
      const y = labels[i];
      if (y >= 0 && Number.isInteger(y)) keep.push(i);
      else if (!(y < 0)) throw new NextframeError(`linearProbe: label ${i} = ${y} is not an integer class (use negative labels to skip samples)`);
    } else {
      let ok = true;
      for (let j = 0; j < outputs; j++) if (!Number.isFinite(labels[i * outputs + j])) ok = false;
      if (ok) keep.push(i);
    }
  }
  const rng = new Generator(opts.seed ?? 0);
  let trainIdx: number[], testIdx: number[];
  if (opts.groups) {
    const groups = opts.groups;
    if (groups.length !== nAll) throw new NextframeError(`linearProbe: groups has ${groups.length} entries, expected one per sample (${nAll})`);
    const byGroup = new Map<number, number[]>();
    for (const i of keep) {
      const g = groups[i];
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(i);
    }
    const ids = rng.shuffle([...byGroup.keys()].sort((a, b) => a - b));
    if (ids.length < 2) throw new NextframeError(`linearProbe: groups split needs at least 2 distinct groups, got ${ids.length}`);
    // The first shuffled group always trains; then groups fill the test split up to testFraction.
    trainIdx = [...byGroup.get(ids[0])!];
    testIdx = [];
    const want = keep.length * testFraction;
    for (const g of ids.slice(1)) {
      if (testIdx.length < want) testIdx.push(...byGroup.get(g)!);
      else trainIdx.push(...byGroup.get(g)!);
    }
  } else {
    rng.shuffle(keep);
    const nT = Math.max(1, Math.round(keep.length * testFraction));
    trainIdx = keep.slice(0, keep.length - nT);
    testIdx = keep.slice(keep.length - nT);
  }
  return { trainIdx, testIdx };
}

/** linearProbe with λ chosen among candidates by seeded, grouped splits of the outer training split. */
function tunedProbe(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number, nAll: number, outputs: number,
  opts: LinearProbeOptions & { lambda: readonly number[] }): LinearProbeResult {
  const cands = opts.lambda;
  if (cands.length === 0) throw new NextframeError("linearProbe: lambda candidates must not be empty");
  // the outer split the final probe will use (it depends on the seed, groups and labels only, not on λ)
  const { trainIdx: train } = splitSamples(labels, nAll, outputs, opts.task ?? "classification", opts.testFraction ?? 0.25, opts);
  const subF = new Float64Array(train.length * dim), subY = new Float64Array(train.length * outputs);
  train.forEach((i, r) => {
    for (let j = 0; j < dim; j++) subF[r * dim + j] = features[i * dim + j]!;
    for (let j = 0; j < outputs; j++) subY[r * outputs + j] = labels[i * outputs + j]!;
  });
  const subG = opts.groups ? Int32Array.from(train, (i) => opts.groups![i]!) : undefined;
  // mean score over three seeded inner splits: one split of a few groups is too noisy to choose by
  const validation = cands.map((lambda) => ({
    lambda,
    score: [1, 2, 3].reduce((acc, k) => acc + linearProbe(subF, subY, dim, { ...opts, lambda, groups: subG, seed: (opts.seed ?? 0) + k, testFraction: 0.3 }).test, 0) / 3,
  }));
  const best = validation.reduce((a, b) => (b.score > a.score ? b : a));
  return { ...linearProbe(features, labels, dim, { ...opts, lambda: best.lambda }), validation };
}
