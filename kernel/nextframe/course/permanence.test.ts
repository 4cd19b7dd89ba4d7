// Chapter 7's permanence measures: the re-emergence test and the last-sighting tracker, on clips and the shipped autoencoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lastSightingTracker, reemergenceTest, truthOracle, videoWorldData } from "./index";
import { findColorBlob } from "../metrics/permanence";
import { PALETTE } from "../worlds/videoWorld";

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
