import { test } from "node:test";
import assert from "node:assert/strict";
import { ballRooms } from "./videoData";
import { BALL_COLORS, COLORS, PALETTE } from "../worlds/videoWorld";

test("ballRooms: one ball a room, colours in turn, captions that name them, frames in [−1, 1]", () => {
  const R = 16, hw = R * R, rooms = ballRooms({ count: 12, size: R, seed: 1 });
  assert.equal(rooms.frames.length, 12);
  assert.equal(rooms.captions.length, 12);
  rooms.frames.forEach((f, i) => {
    const colour = BALL_COLORS[i % BALL_COLORS.length];
    assert.equal(rooms.captions[i], `${/^[aeiou]/.test(colour) ? "an" : "a"} ${colour} ball bounces in a room.`);
    assert.equal(f.length, 3 * hw);
    assert.ok(f.every((v) => v >= -1 && v <= 1), "values in [−1, 1]");
    // the named ball is drawn: with each pixel given its nearest scene colour, the named ball colour owns the most
    // pixels among the ball colours (chapter 6's agreement check, which real rooms must pass)
    const scene = [...BALL_COLORS.map((c) => PALETTE[c]), ...Object.values(COLORS)];
    const counts = new Array(BALL_COLORS.length).fill(0);
    for (let p = 0; p < hw; p++) {
      const px = [0, 1, 2].map((c) => (f[c * hw + p] + 1) * 127.5);
      const d = scene.map(([r, g, b]) => (px[0] - r) ** 2 + (px[1] - g) ** 2 + (px[2] - b) ** 2);
      const nearest = d.indexOf(Math.min(...d));
      if (nearest < BALL_COLORS.length) counts[nearest]++;
    }
    assert.equal(counts.indexOf(Math.max(...counts)), i % BALL_COLORS.length, `room ${i}: ball pixels ${counts}`);
    assert.ok(Math.max(...counts) >= 4, `room ${i}: only ${Math.max(...counts)} pixels of its ${colour} ball`);
  });
});

test("ballRooms: the seed places the balls; bad sizes are refused with what came", () => {
  const a = ballRooms({ count: 6, size: 16, seed: 1 }), b = ballRooms({ count: 6, size: 16, seed: 1 });
  const c = ballRooms({ count: 6, size: 16, seed: 2 });
  assert.deepEqual(a.frames, b.frames);
  assert.notDeepEqual(a.frames, c.frames);
  assert.throws(() => ballRooms({ count: 0, size: 16, seed: 1 }), /count must be a whole number ≥ 1, got 0/);
  assert.throws(() => ballRooms({ count: 3, size: 2.5, seed: 1 }), /size must be a whole number ≥ 4, got 2.5/);
});
