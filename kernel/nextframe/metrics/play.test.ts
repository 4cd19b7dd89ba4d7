import { test } from "node:test";
import assert from "node:assert/strict";
import {
  evaluatePlay, findAgent, frozenPredictor, paletteFidelity, PLAY_METRIC_TITLES, playMetricsRow, randomKeys, simulatorPredictor,
  trueFuture, type PlayPredictor,
} from "./play";
import { Action, COLORS, generateVideoDataset } from "../worlds/videoWorld";

// clips of the video world, 32×32, with its default agent (0.12 a step: 8 held moves take it 2–4 px)
const clips = generateVideoDataset({ seed: 11, numTrain: 0, numVal: 12, frames: 12, size: 32, policy: "random" }).val;
const K = 4;

/** The true simulator with the keys ← and → swapped: it moves, the wrong way. */
function mirrored(p: PlayPredictor): PlayPredictor {
  const swap = (a: number) => (a === Action.Left ? Action.Right : a === Action.Right ? Action.Left : a);
  return { ...p, reset: (f, a) => p.reset(f, a), rollout: (a) => p.rollout(Array.from(a, swap)) };
}

/** The true simulator's frames through a 3×3 box blur: every object in place, its edges in colours the world never draws. */
function blurred(p: PlayPredictor): PlayPredictor {
  return {
    ...p, reset: (f, a) => p.reset(f, a),
    async rollout(a) {
      const x = await p.rollout(a), y = new Uint8Array(x.length), S = 32;
      for (let f = 0; f < x.length / (S * S * 3); f++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) for (let ch = 0; ch < 3; ch++) {
        let s = 0, n = 0;
        for (let di = -1; di <= 1; di++) for (let dj = -1; dj <= 1; dj++) {
          const ii = i + di, jj = j + dj;
          if (ii >= 0 && ii < S && jj >= 0 && jj < S) { s += x[((f * S + ii) * S + jj) * 3 + ch]!; n++; }
        }
        y[((f * S + i) * S + j) * 3 + ch] = Math.round(s / n);
      }
      return y;
    },
  };
}

test("the true simulator scores 1 on every play metric (and 0 agent error)", async () => {
  const m = await evaluatePlay(simulatorPredictor(clips, K), clips, { longSteps: 24 });
  assert.ok(m.counts.followRollouts >= 4, `enough held-key rollouts where the true agent moves: ${m.counts.followRollouts}`);
  assert.ok(m.counts.lrTruthSeparates >= 2, `enough clips whose true futures separate: ${m.counts.lrTruthSeparates}`);
  assert.ok(m.counts.truthShowsAgent64 >= 3);
  assert.equal(m.action_follow_rate, 1);
  assert.equal(m.agent_error_vs_copy_last_8, 0);
  assert.ok(m.counts.copyLastError > 1, `the true agent moves: copy-last is ${m.counts.copyLastError} px off`);
  assert.equal(m.lr_separation, 1);
  assert.equal(m.palette_fidelity_64, 1);
  assert.equal(m.agent_visible_64, 1);
  assert.ok(m.fps > 0 && Number.isFinite(m.fps));
});

test("a frozen predictor (copy-last) follows no key and separates nothing; a mirrored one moves the wrong way", async () => {
  const f = await evaluatePlay(frozenPredictor(K), clips, { longSteps: 24 });
  assert.equal(f.action_follow_rate, 0);
  assert.equal(f.lr_separation, 0);
  assert.equal(f.agent_error_vs_copy_last_8, 1, "copy-last against itself");
  const m = await evaluatePlay(mirrored(simulatorPredictor(clips, K)), clips, { longSteps: 24 });
  assert.equal(m.action_follow_rate, 0);
  assert.equal(m.lr_separation, 0);
  assert.ok(m.agent_error_vs_copy_last_8 > 1, `moving the wrong way is worse than standing still: ${m.agent_error_vs_copy_last_8}`);
});

test("blur draws colours the world never does", async () => {
  const m = await evaluatePlay(blurred(simulatorPredictor(clips, K)), clips, { longSteps: 24 });
  assert.ok(m.palette_fidelity_64 < 0.97, `a blurred frame draws colours the world never does (issue 32 asks ≥ 0.97): ${m.palette_fidelity_64}`);
});

test("paletteFidelity, findAgent, randomKeys and trueFuture: known values and clear errors", () => {
  const pal = Uint8Array.of(10, 20, 30, 200, 200, 200);
  assert.equal(paletteFidelity(Uint8Array.of(10, 20, 30, 18, 28, 38, 100, 100, 100), pal), 2 / 3);   // L1 24 is in, far grey is out
  assert.equal(paletteFidelity(Uint8Array.of(25, 30, 31), pal), 0);                                   // L1 15 + 10 + 1 = 26 > 24
  assert.throws(() => paletteFidelity(Uint8Array.of(1, 2), pal), /RGB triples/);
  const f = new Uint8Array(8 * 8 * 3);
  for (const [x, y] of [[2, 3], [3, 3], [2, 4], [3, 4]]) f.set(COLORS.agent, (y * 8 + x) * 3);
  assert.deepEqual(findAgent(f, 8), { found: true, x: 3, y: 4 });
  f.set(COLORS.agent, (7 * 8 + 7) * 3); f.set(COLORS.agent, 0);                                       // a smear: too spread out
  assert.equal(findAgent(f, 8).found, false);
  const keys = randomKeys(64, 3);
  assert.deepEqual(keys, randomKeys(64, 3));
  assert.ok(new Set(keys).size >= 3 && keys.every((a) => Number.isInteger(a) && a >= 0 && a < 6));
  const c = clips[0]!, F3 = 32 * 32 * 3;
  assert.deepEqual(trueFuture(c, 2, [c.actions[2]!, c.actions[3]!]), c.frames.slice(3 * F3, 5 * F3), "the replayed world with the clip's own keys is the clip");
});

test("evaluatePlay refuses bad input", async () => {
  await assert.rejects(evaluatePlay(frozenPredictor(K), []), /at least one clip/);
  await assert.rejects(evaluatePlay(frozenPredictor(20), clips), /at least K = 20 frames/);
  await assert.rejects(evaluatePlay(frozenPredictor(K), clips, { moves: 0 }), /moves must be a positive integer/);
});

test("playMetricsRow: the model, then each play metric under its title; counts and settings left out", async () => {
  const m = await evaluatePlay(frozenPredictor(K), clips, { longSteps: 24 });
  const row = playMetricsRow("copy-last", m);
  assert.deepEqual(Object.keys(row), ["model", ...Object.values(PLAY_METRIC_TITLES)]);
  assert.equal(row["follows a held key"], 0);
  assert.equal(row["agent error ÷ copy-last's"], 1);
  assert.equal(row["fps (1 thread)"], m.fps);
  // text is kept (a count, a target); a metric that is missing or not a number or text shows "—"
  const mixed = playMetricsRow("target", { action_follow_rate: "≥ 0.9", lr_separation: "5/6", agent_visible_64: [1] });
  assert.equal(mixed["follows a held key"], "≥ 0.9");
  assert.equal(mixed["left/right separate"], "5/6");
  assert.equal(mixed["agent kept at step 64"], "—");
  assert.equal(mixed["fps (1 thread)"], "—");
});
