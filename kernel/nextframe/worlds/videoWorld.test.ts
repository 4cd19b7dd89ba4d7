import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Action, clipLabels, generateSurpriseSet, replayClip, generateVideoClip, generateVideoDataset, OCCLUDER_ID, PALETTE, randomVideoWorldConfig,
  VideoWorld, videoWorldConfig, type BallSpec,
} from "./videoWorld";

const ball = (o: Partial<BallSpec>): BallSpec => ({ x: 3, y: 0.55, z: 3, vx: 0, vy: 0, vz: 0, radius: 0.55, color: "red", ...o });

test("simulator and clips are deterministic by seed", () => {
  const a = generateVideoClip({ seed: 11, frames: 24, size: 32, panProb: 0.5 });
  const b = generateVideoClip({ seed: 11, frames: 24, size: 32, panProb: 0.5 });
  assert.deepEqual(a.frames, b.frames);
  assert.deepEqual(a.actions, b.actions);
  assert.deepEqual(a.states, b.states);
  assert.equal(a.captions.rich, b.captions.rich);
  const c = generateVideoClip({ seed: 12, frames: 24, size: 32 });
  assert.notDeepEqual(a.frames, c.frames);
  assert.equal(a.frames.length, 24 * 32 * 32 * 3);
  const big = generateVideoClip({ seed: 11, frames: 4, size: 64 });
  assert.equal(big.frames.length, 4 * 64 * 64 * 3);
  // The same world stepped by hand gives the same states as the clip.
  const w = new VideoWorld(a.config);
  for (let t = 1; t < 24; t++) {
    w.step(a.actions[t - 1]);
    assert.deepEqual([w.state().objects[0].x, w.state().objects[0].z], [a.states[t].objects[0].x, a.states[t].objects[0].z]);
  }
});

test("objects never pass through walls, floor or ceiling", () => {
  for (let s = 0; s < 25; s++) {
    const clip = generateVideoClip({ seed: s, frames: 80, size: 16, numBalls: [2, 5], setup: s % 2 ? "hitWall" : "crossOccluder" });
    const { width: W, depth: D, height: H } = clip.config.room;
    for (const st of clip.states) {
      for (const o of st.objects) {
        const e = 1e-9;
        assert.ok(o.x >= o.radius - e && o.x <= W - o.radius + e, `seed ${s} t ${st.t} ${o.kind} x=${o.x}`);
        assert.ok(o.z >= clip.config.zMin + o.radius - e && o.z <= D - o.radius + e, `seed ${s} t ${st.t} ${o.kind} z=${o.z}`);
        assert.ok(o.y >= (o.kind === "burger" ? 0 : o.radius) - e && o.y <= H - o.radius + e, `seed ${s} t ${st.t} ${o.kind} y=${o.y}`);
      }
    }
  }
});

test("occluded objects keep their state: they move on while hidden and reappear where physics says", () => {
  let runs = 0;
  for (let s = 0; s < 10; s++) {
    const clip = generateVideoClip({ seed: s, frames: 40, size: 32, numBalls: [1, 1], policy: "wander" });
    // The same world without the occluder: the occluder is scenery, so every state must be identical.
    const bare = new VideoWorld({ ...clip.config, occluder: null });
    for (let t = 0; t < clip.numFrames; t++) {
      if (t > 0) bare.step(clip.actions[t - 1]);
      const s0 = bare.state().objects[0], s1 = clip.states[t].objects[0];
      assert.deepEqual([s1.x, s1.y, s1.z, s1.vx], [s0.x, s0.y, s0.z, s0.vx]);
    }
    const hiddenT = clip.states.filter((st) => st.objects[0].behindOccluder && st.objects[0].visiblePixels === 0).map((st) => st.t);
    // Split into contiguous hidden runs; within each, the ball keeps moving.
    const spans: number[][] = [];
    for (const t of hiddenT) {
      if (spans.length && spans[spans.length - 1].at(-1) === t - 1) spans[spans.length - 1].push(t);
      else spans.push([t]);
    }
    for (const span of spans) {
      if (span.length < 3) continue;
      runs++;
      const first = clip.states[span[0]].objects[0], last = clip.states[span[span.length - 1]].objects[0];
      assert.ok(first.exists && last.exists);
      assert.ok(Math.hypot(last.x - first.x, last.z - first.z) > 0.05, `ball should keep moving behind the occluder (seed ${s}, frames ${span[0]}..${span.at(-1)})`);
      // Hidden means no pixel of the ball in the frame, yet it is still painted (then covered).
      assert.ok(first.drawnPixels > 0);
    }
  }
  assert.ok(runs >= 5, `expected most clips to hide ball 0, got ${runs}`);
});

test("depth ordering: the nearer object's pixels win where they overlap, consistent with the id buffer", () => {
  const w = new VideoWorld({ balls: [ball({ x: 3, z: 4.5, color: "red" }), ball({ x: 3.2, y: 1.2, z: 2.8, color: "blue" })], agent: null, burger: null, occluder: null, gravity: 0 });
  const r = w.render(64);
  const st = w.state(r);
  const [far, near] = st.objects;
  // Farther is smaller and higher on screen.
  assert.ok(far.screenRadius < near.screenRadius);
  assert.ok(far.screenY < near.screenY);
  let overlap = 0;
  for (let py = 0; py < 64; py++) for (let px = 0; px < 64; px++) {
    const inside = (o: typeof far) => (px + 0.5 - o.screenX) ** 2 + (py + 0.5 - o.screenY) ** 2 <= o.screenRadius ** 2;
    if (inside(far) && inside(near)) {
      overlap++;
      assert.equal(r.ids[py * 64 + px], 1);
      // the colour: wherever the whole pixel lies inside the nearer ball (edge pixels blend, anti-aliased)
      if (Math.hypot(px + 0.5 - near.screenX, py + 0.5 - near.screenY) + Math.SQRT1_2 > near.screenRadius) continue;
      const o = (py * 64 + px) * 3;
      const [cr, cg, cb] = [r.rgb[o], r.rgb[o + 1], r.rgb[o + 2]];
      const [br, bg, bb] = PALETTE.blue;
      assert.ok(Math.abs(cr - br) <= 40 && Math.abs(cg - bg) <= 40 && Math.abs(cb - bb) <= 40, `pixel ${px},${py} = ${cr},${cg},${cb}`);
    }
  }
  assert.ok(overlap > 20, `test setup should overlap, got ${overlap}`);
  assert.ok(far.visiblePixels < far.drawnPixels && near.visiblePixels === near.drawnPixels);
  // Random scenes: wherever two round objects overlap geometrically, the id buffer holds the nearer one.
  for (let s = 0; s < 10; s++) {
    const clip = generateVideoClip({ seed: 100 + s, frames: 30, size: 32, numBalls: [3, 5] });
    const world = new VideoWorld(clip.config);
    for (let t = 0; t < clip.numFrames; t++) {
      if (t > 0) world.step(clip.actions[t - 1]);
      const rr = world.render(32);
      const objs = world.state(rr).objects.filter((o) => o.kind !== "burger" && o.exists);
      for (let py = 0; py < 32; py++) for (let px = 0; px < 32; px++) {
        const id = rr.ids[py * 32 + px];
        if (id === OCCLUDER_ID) continue;
        const covering = objs.filter((o) => (px + 0.5 - o.screenX) ** 2 + (py + 0.5 - o.screenY) ** 2 <= o.screenRadius ** 2);
        if (covering.length === 0) continue;
        const nearest = covering.reduce((a, b) => (b.z < a.z ? b : a));
        const owner = clip.states[0].objects[id];
        if (owner?.kind === "burger" && world.state().objects[id].z < nearest.z) continue; // the nearer burger won
        assert.equal(id, nearest.id, `seed ${s} t ${t} pixel ${px},${py}`);
      }
    }
  }
});

test("anti-aliasing: a sub-pixel move changes edge pixels by coverage; hard edges (antialias 1) only when an edge crosses a pixel centre", () => {
  const frameAt = (antialias: number, x: number) => {
    const w = new VideoWorld({ balls: [ball({ x, z: 2.5 })], occluder: null, agent: null, burger: null, gravity: 0, antialias });
    const r = w.render(32);
    return { rgb: r.rgb, state: w.state(r).objects[0] };
  };
  // a 0.02-unit move is about 0.1 px on screen: coverage changes, pixel centres (almost always) do not
  const [a, b] = [frameAt(4, 1.5), frameAt(4, 1.52)];
  const [h0, h1] = [frameAt(1, 1.5), frameAt(1, 1.52)];
  const changed = (p: Uint8Array, q: Uint8Array) => p.reduce((n, v, i) => n + +(v !== q[i]), 0);
  assert.ok(changed(a.rgb, b.rgb) > 0, "anti-aliased frame must change");
  assert.equal(changed(h0.rgb, h1.rgb), 0, "hard-edged frame should not change for this sub-pixel move");
  // ownership and pixel counts are by pixel centre, the same with and without anti-aliasing
  assert.equal(a.state.drawnPixels, h0.state.drawnPixels);
  assert.equal(a.state.visiblePixels, h0.state.visiblePixels);
  // an interior pixel keeps the ball's exact colour
  const o = (py: number, px: number) => (py * 32 + px) * 3;
  const cx = Math.floor(a.state.screenX), cy = Math.floor(a.state.screenY);
  const red = PALETTE.red;
  const interior = a.rgb.subarray(o(cy, cx + 1), o(cy, cx + 1) + 3);
  assert.ok(Math.abs(interior[0]! - red[0]) <= 1 && Math.abs(interior[1]! - red[1]) <= 1, `interior ${[...interior]}`);
  assert.throws(() => videoWorldConfig({ antialias: 0 }), /antialias must be an integer in \[1, 8\].*got 0/);
});

test("the occluder hides what is behind it", () => {
  const w = new VideoWorld({ balls: [ball({ x: 3, z: 4 })], agent: null, burger: null, gravity: 0 });
  const st = w.state(w.render(32));
  assert.equal(st.objects[0].behindOccluder, true);
  assert.equal(st.objects[0].visiblePixels, 0);
  assert.equal(st.objects[0].visible, false);
  assert.ok(st.objects[0].drawnPixels > 0);
});

test("eating leaves a persistent bite mark", () => {
  const w = new VideoWorld({ balls: [], occluder: null, agent: { x: 3, z: 3, radius: 0.45, speed: 0.12, jumpSpeed: 0.28 }, burger: { x: 4.2, z: 3, radius: 0.5, maxBites: 3 } });
  const bi = w.burgerId;
  const drawnAt = () => w.state(w.render(64)).objects[bi].drawnPixels;
  const whole = drawnAt();
  w.step(Action.JumpEat);
  assert.equal(w.bites, 1);
  const once = drawnAt();
  assert.ok(once < whole, `${once} < ${whole}`);
  for (let i = 0; i < 10; i++) w.step(i % 2 ? Action.Left : Action.Right);
  assert.equal(w.bites, 1, "bites never heal");
  assert.equal(drawnAt(), once);
  w.step(Action.JumpEat); w.step(Action.JumpEat); w.step(Action.JumpEat); w.step(Action.JumpEat);
  assert.equal(w.bites, 3, "capped at maxBites");
  // Far from the burger, JumpEat jumps instead.
  const far = new VideoWorld({ balls: [], agent: { x: 0.5, z: 2.5, radius: 0.45, speed: 0.12, jumpSpeed: 0.28 }, burger: { x: 5, z: 5, radius: 0.5, maxBites: 3 } });
  far.step(Action.JumpEat);
  assert.equal(far.bites, 0);
  assert.ok(far.state().objects[far.agentId].y > 0.45);
});

test("panning camera gives parallax: near objects slide further than far ones", () => {
  const cfg = { balls: [ball({ x: 1, z: 2.3 }), ball({ x: 5, z: 5.3, color: "blue" as const })], agent: null, burger: null, occluder: null, gravity: 0, camera: { panAmplitude: 1, panPeriod: 40 } as never };
  const w = new VideoWorld(cfg);
  const a = w.state(w.render(64));
  for (let i = 0; i < 10; i++) w.step();
  const b = w.state(w.render(64));
  assert.notEqual(a.cameraX, b.cameraX);
  const dNear = Math.abs(b.objects[0].screenX - a.objects[0].screenX), dFar = Math.abs(b.objects[1].screenX - a.objects[1].screenX);
  assert.ok(dNear > dFar * 1.3, `near moved ${dNear}px, far ${dFar}px`);
  assert.equal(a.objects[0].x, b.objects[0].x, "the objects themselves did not move");
});

test("invalid parameters name the field", () => {
  assert.throws(() => videoWorldConfig({ room: { width: -2, depth: 6, height: 4 } }), /room\.width must be > 0, got -2/);
  assert.throws(() => videoWorldConfig({ balls: [ball({ x: 9 })] }), /balls\[0\]\.x = 9 is outside the room/);
  assert.throws(() => videoWorldConfig({ balls: [ball({ radius: -1 })] }), /balls\[0\]\.radius must be > 0/);
  assert.throws(() => videoWorldConfig({ balls: [ball({ color: "pink" as never })] }), /balls\[0\]\.color must be one of/);
  assert.throws(() => videoWorldConfig({ agent: { x: 3, z: 0.5, radius: 0.45, speed: 0.1, jumpSpeed: 0.2 } }), /agent\.z = 0\.5 is outside the room/);
  assert.throws(() => videoWorldConfig({ occluder: { x0: 2, x1: 3, z: 5, height: 2 } }), /occluder\.z must be in \[0, zMin/);
  assert.throws(() => videoWorldConfig({ burger: { x: 3, z: 3, radius: 0.5, maxBites: 0 } }), /burger\.maxBites/);
  const w = new VideoWorld();
  assert.throws(() => w.step(7), /action must be an integer 0\.\.5 .*got 7/);
  assert.throws(() => w.step(-1), /got -1/);
  assert.throws(() => w.render(0), /render size/);
  assert.throws(() => generateVideoClip({ seed: 1, frames: 1 }), /frames must be an integer ≥ 2/);
  assert.throws(() => generateVideoClip({ seed: 1, violation: "explode" as never }), /violation must be/);
  assert.throws(() => randomVideoWorldConfig(1, { numBalls: [3, 1] }), /numBalls/);
});

test("dataset: reproducible, disjoint splits, caption variants", () => {
  const opts = { seed: 5, numTrain: 6, numVal: 3, frames: 8, size: 16, captionMix: { rich: 0.4, poor: 0.3 } };
  const a = generateVideoDataset(opts), b = generateVideoDataset(opts);
  assert.deepEqual(a.train.map((c) => c.frames), b.train.map((c) => c.frames));
  assert.deepEqual(generateVideoDataset({ ...opts, numTrain: 2 }).val.map((c) => c.seed), a.val.map((c) => c.seed));
  assert.ok(a.train.every((c) => !a.val.some((v) => v.seed === c.seed)));
  const many = generateVideoDataset({ ...opts, numTrain: 60, numVal: 0 });
  const kinds = new Set(many.train.map((c) => c.captionKind));
  assert.deepEqual([...kinds].sort(), ["missing", "poor", "rich"]);
  for (const c of many.train) {
    if (c.captionKind === "missing") assert.equal(c.caption, null);
    if (c.captionKind === "rich") assert.equal(c.caption, c.captions.rich);
    assert.match(c.captions.rich, /^(a|an) \w+ ball/);
    assert.ok(c.captions.rich.includes(c.attributes.balls[0]));
  }
});

test("rule-breaking clips match their lawful twin until the violation, then break the rule", () => {
  const { lawful, violating } = generateSurpriseSet({ seed: 2, count: 6, frames: 32, size: 32 });
  assert.equal(lawful.length, 6);
  for (let i = 0; i < 6; i++) {
    const L = lawful[i], V = violating[i];
    assert.equal(L.violation, null);
    assert.ok(V.violation);
    const f = V.violation!.frame;
    const frameBytes = 32 * 32 * 3;
    if (f > 0) assert.deepEqual(V.frames.subarray(0, f * frameBytes), L.frames.subarray(0, f * frameBytes));
    const W = V.config.room.width;
    switch (V.violation!.kind) {
      case "teleport":
        assert.ok(Math.abs(V.states[f].objects[0].x - L.states[f].objects[0].x) > 1);
        break;
      case "vanish":
        assert.ok(V.states.slice(f).every((s) => !s.objects[0].exists && s.objects[0].visiblePixels === 0));
        assert.ok(L.states.slice(f).every((s) => s.objects[0].exists), "the lawful ball still exists");
        assert.ok(L.states.slice(f).some((s) => s.objects[0].visiblePixels > 0) || L.states[L.numFrames - 1].objects[0].behindOccluder, "the lawful ball reappears unless still behind the tree");
        break;
      case "passThroughWall":
        {
          const o = V.states[f].objects[0];
          assert.ok(o.x < o.radius || o.x > W - o.radius, "ghost ball goes into the wall");
          assert.ok(L.states.every((s) => s.objects[0].x >= o.radius - 1e-9 && s.objects[0].x <= W - o.radius + 1e-9));
        }
        break;
    }
  }
  assert.deepEqual(new Set(violating.map((v) => v.violation!.kind)), new Set(["teleport", "vanish", "passThroughWall"]));
});

test("clipLabels gives per-frame probe targets", () => {
  const clip = generateVideoClip({ seed: 3, frames: 12, size: 16, numBalls: [2, 2] });
  const z = clipLabels(clip, "depth", 0);
  assert.equal(z.length, 12);
  assert.equal(z[5], clip.states[5].objects[0].z);
  const nearer = clipLabels(clip, "nearer", 0, 1);
  assert.ok(nearer.every((v, t) => v === (clip.states[t].objects[0].z < clip.states[t].objects[1].z ? 1 : 0)));
  assert.throws(() => clipLabels(clip, "nearer", 0, 0), /different from 0/);
  assert.throws(() => clipLabels(clip, "depth", 99), /object id must be in/);
});

test("replayClip and clone give counterfactual rollouts from any frame", () => {
  const clip = generateVideoClip({ seed: 21, frames: 20, size: 32 });
  const w = replayClip(clip, 10);
  const r = w.render(32);
  assert.deepEqual(r.rgb, clip.frames.subarray(10 * 32 * 32 * 3, 11 * 32 * 32 * 3));
  const alt = w.clone();
  for (let k = 0; k < 5; k++) { w.step(clip.actions[10 + k]); alt.step(Action.Left); }
  assert.deepEqual(w.render(32).rgb, clip.frames.subarray(15 * 32 * 32 * 3, 16 * 32 * 32 * 3), "clone does not disturb the original");
  const ai = alt.agentId;
  assert.ok(alt.state().objects[ai].x <= w.state().objects[ai].x + 1e-9 || clip.actions.slice(10, 15).every((a) => a === Action.Left));
  assert.throws(() => replayClip(clip, 20), /frame t must be an integer in \[0, 20\)/);
  const bad = generateVideoClip({ seed: 21, frames: 20, size: 32, violation: "teleport" });
  assert.throws(() => replayClip(bad, 3), /only lawful clips/);
});
