// Fixtures shaped like the course's hardest views: chapter 7's six-series PSNR chart, chapter 1's 48×48
// attention map with word labels, chapter 8's four counterfactual rollouts. Shared by the tests and shots.ts.
import type { LineChart, LineChartOptions } from "../../kernel/nextframe/display/chart";

export const tensor = (shape: number[], data: Float32Array) => ({ shape, dtype: "float32", data: async () => data });

export const HORIZON_SERIES = [
  "world model", "baseline: copy-last", "baseline: linear extrapolation", "baseline: copy-last through the autoencoder",
  "autoencoder reconstruction of the true frames", "learned baseline: local linear rule (no actions)",
];

/** PSNR vs horizon, six series with the chapter's long names (values in the chapter's range). */
export function horizonChart(Chart: new (o: LineChartOptions) => LineChart): LineChart {
  const hs = Array.from({ length: 8 }, (_, i) => i + 1);
  const start = [42, 38, 36, 33, 31, 40], fall = [1.6, 1.4, 1.1, 0.3, 0, 1.5];
  return new Chart({ title: "PSNR vs horizon (held-out clips)", xLabel: "horizon (frames)", yLabel: "PSNR (dB)", display: false,
    series: HORIZON_SERIES.map((name, s) => ({ name, x: hs, y: hs.map((h) => start[s] - fall[s] * (h - 1) - 0.05 * h * h) })) });
}

/** A causal attention map: each query attends to itself, to the previous token and to token 3. */
export function fixtureAttention(S: number): ReturnType<typeof tensor> {
  const v = new Float32Array(S * S);
  for (let q = 0; q < S; q++) {
    let sum = 0;
    for (let k = 0; k <= q; k++) {
      const w = (k === q ? 4 : 0) + (k === q - 1 ? 2 : 0) + (k === 3 ? 3 : 0) + 0.2;
      v[q * S + k] = w; sum += w;
    }
    for (let k = 0; k <= q; k++) v[q * S + k] /= sum;
  }
  return tensor([S, S], v);
}

const WORDS = ["the", "agent", "picks", "up", "the", "red", "key", ",", "walks", "left", "twice", "and", "drops", "it", "near", "the",
  "door", ".", "\\n", "then", "it", "picks", "up", "a", "blue", "ball"];

export function fixtureTokens(S: number): string[] {
  return Array.from({ length: S }, (_, i) => WORDS[i % WORDS.length]);
}

/** T frames of 32×32 RGB: a grey floor, a wall, and an agent square moving dx pixels a frame. */
function rollout(T: number, dx: number, blur: number): Float32Array {
  const S = 32, v = new Float32Array(T * S * S * 3);
  for (let t = 0; t < T; t++) {
    const ax = 14 + dx * t;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = ((t * S + y) * S + x) * 3;
        const wall = x < 2 || x > 29 || y < 2 || y > 29;
        const agent = Math.abs(x - ax) <= 2 && Math.abs(y - 16) <= 2;
        const c = wall ? [0.3, 0.3, 0.35] : agent ? [0.9 - blur * t, 0.2, 0.2 + blur * t] : [0.85, 0.85, 0.8];
        v.set(c, i);
      }
    }
  }
  return v;
}

/** Chapter 8's comparison: model and truth after eight "left" and eight "right" moves. */
export function rolloutFixture(T = 8): { title: string; frames: ReturnType<typeof tensor> }[] {
  return [
    { title: "model: left", frames: tensor([T, 32, 32, 3], rollout(T, -1, 0.08)) },
    { title: "truth: left", frames: tensor([T, 32, 32, 3], rollout(T, -1, 0)) },
    { title: "model: right", frames: tensor([T, 32, 32, 3], rollout(T, 1, 0.08)) },
    { title: "truth: right", frames: tensor([T, 32, 32, 3], rollout(T, 1, 0)) },
  ];
}
