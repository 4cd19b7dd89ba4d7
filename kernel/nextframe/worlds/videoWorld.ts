// Video world: a deterministic 2.5D simulator whose ground truth we know, for chapters 2–8.
//
// The article's emergent abilities (Sora report, "Video generation models as world simulators", 2024):
// 3D consistency, object permanence (the dog behind passers-by), interaction (the bitten burger). This world
// has each of them in miniature, and exports the ground truth so a world model can be measured against it:
//
//   • a room (floor with a checker texture, back wall, side walls) seen through a pinhole camera — farther
//     objects are smaller and higher on screen, and each object casts a shadow on the floor;
//   • balls with position (x, y, z = depth) and velocity, gravity, bounces on the floor and walls, and elastic
//     collisions with each other;
//   • an occluder (a tree-like panel near the camera) that objects pass behind;
//   • a controllable agent (Action: noop, left, right, up = away, down = toward, jump/eat);
//   • a burger: the agent bites it (JumpEat next to it) and the bite marks stay;
//   • an optional panning camera (parallax: near things slide faster than far ones);
//   • painter's-algorithm rendering (far to near) into RGB Uint8 frames, with an id buffer giving exact
//     per-object visibility.
//
// World axes: x to the right (0..width), y up (floor y = 0), z away from the camera (0..depth).
// The camera sits at (cameraX, camera.height, −camera.distance) looking along +z; screen coordinates are
//   sx = size · (0.5 + 0.5 · f · (x − cameraX) / (z + distance))
//   sy = size · (horizon − 0.5 · f · (y − height) / (z + distance))
// so as z grows, an object shrinks and moves toward the horizon (higher on screen). Objects live in
// z ∈ [zMin, depth]; the occluder stands in front of that region, so everything passes behind it.

import { Generator, hashSeed } from "../engine/generator.js";
import { NextframeError } from "../engine/errors";

// ───────────────────────────── config ─────────────────────────────

/** Agent actions. Values are what datasets store (Uint8). */
export enum Action {
  Noop = 0,
  Left = 1,
  Right = 2,
  /** Walk away from the camera (+z). */
  Up = 3,
  /** Walk toward the camera (−z). */
  Down = 4,
  /** Bite the burger when next to it, else jump. */
  JumpEat = 5,
}
/** Number of agent actions (the values of Action are 0 … NUM_ACTIONS − 1). */
export const NUM_ACTIONS = 6;
/** Display names of the actions, indexed by Action value. */
export const ACTION_NAMES = ["noop", "left", "right", "up", "down", "jump/eat"] as const;

/** A ball's start: position (x, y, z = depth), velocity per frame, radius and colour. */
export interface BallSpec {
  x: number;
  y: number;
  z: number;
  vx: number;
  vy: number;
  vz: number;
  radius: number;
  /** A PALETTE key. */
  color: BallColor;
}

/** Everything that defines a video world: room, physics, balls, occluder, agent, burger, camera and renderer settings. */
export interface VideoWorldConfig {
  room: { width: number; depth: number; height: number };
  /** Nearest depth objects may occupy; the occluder stands in front of it. */
  zMin: number;
  /** Downward acceleration per frame². */
  gravity: number;
  /** Fraction of speed kept in a bounce (floor, walls, each other). */
  restitution: number;
  balls: BallSpec[];
  occluder: { x0: number; x1: number; z: number; height: number } | null;
  agent: { x: number; z: number; radius: number; speed: number; jumpSpeed: number } | null;
  burger: { x: number; z: number; radius: number; maxBites: number } | null;
  /** Agent centre within this xz-distance of the burger's edge can bite it. */
  biteReach: number;
  camera: {
    x: number;
    height: number;
    distance: number;
    focal: number;
    /** Screen row of the horizon as a fraction of the height (0 = top). */
    horizon: number;
    /** Camera x oscillates: x(t) = x + panAmplitude · sin(2π t / panPeriod). 0 = still. */
    panAmplitude: number;
    panPeriod: number;
  };
  /**
   * Anti-aliasing: subsamples per pixel side when drawing balls, the agent and shadows (1 = hard edges, a pixel is
   * the object's if its centre is; the burger, which stands still, always has hard edges). With 4, an edge pixel's
   * colour follows the object's coverage of it in 1/16 steps.
   */
  antialias: number;
}

/** The ball colours by name, as RGB. */
export const PALETTE = {
  red: [230, 40, 40],
  blue: [40, 90, 240],
  yellow: [245, 215, 30],
  green: [40, 200, 70],
  cyan: [30, 220, 230],
  orange: [250, 140, 20],
} as const satisfies Record<string, readonly [number, number, number]>;
/** A ball colour's name (a PALETTE key). */
export type BallColor = keyof typeof PALETTE;
/** Every ball colour's name, in PALETTE order. */
export const BALL_COLORS = Object.keys(PALETTE) as BallColor[];

/** Colours of the other drawables (distinct from every ball colour so blobs can be found by colour). */
export const COLORS = {
  agent: [200, 60, 220],
  occluder: [95, 70, 45],
  occluderLeaves: [30, 110, 40],
  bunTop: [205, 165, 110],
  patty: [110, 55, 30],
  lettuce: [120, 220, 90],
  bunBottom: [190, 150, 100],
  floorA: [150, 150, 160],
  floorB: [120, 120, 132],
  backWall: [185, 195, 215],
  sideWall: [160, 170, 195],
  outside: [60, 60, 70],
  sky: [30, 30, 45],
} as const satisfies Record<string, readonly [number, number, number]>;

/** The default world: two balls, the tree-like occluder, the agent and the burger, no camera pan. */
export const DEFAULT_VIDEO_WORLD: VideoWorldConfig = {
  room: { width: 6, depth: 6, height: 4 },
  zMin: 1.6,
  gravity: 0.02,
  restitution: 0.9,
  balls: [
    { x: 1.2, y: 0.7, z: 3.5, vx: 0.12, vy: 0, vz: 0.05, radius: 0.55, color: "red" },
    { x: 4.5, y: 1.8, z: 4.8, vx: -0.07, vy: 0, vz: -0.04, radius: 0.55, color: "blue" },
  ],
  // As tall as the room, so whatever is behind it is fully hidden; 1.1 wide hides a ball (diameter 1.1) at
  // every depth, because its shadow widens with distance: 1.1 · (z + 6) / 6.8 ≥ 1.32.
  occluder: { x0: 2.45, x1: 3.55, z: 0.8, height: 4 },
  agent: { x: 4.6, z: 2.4, radius: 0.45, speed: 0.12, jumpSpeed: 0.28 },
  burger: { x: 1.5, z: 5.0, radius: 0.5, maxBites: 4 },
  biteReach: 0.35,
  // f·height/distance = 1.7 puts the near floor edge (z = 0) at the bottom row with horizon 0.15;
  // f = 2 with distance 6 makes the room's width exactly fill the screen at z = 0.
  camera: { x: 3, height: 5.1, distance: 6, focal: 2, horizon: 0.15, panAmplitude: 0, panPeriod: 48 },
  // Balls move about 0.4 px a frame at 32×32: with hard edges a frame changes only when an edge crosses a pixel
  // centre; with coverage it changes a little every frame, as in a camera's image.
  antialias: 4,
};

/** Thrown for an invalid world config or clip option (the message names the field and the value). */
export class VideoWorldError extends NextframeError {}

function fail(msg: string): never {
  throw new VideoWorldError(`videoWorld: ${msg}`);
}

function finite(field: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`${field} must be a finite number, got ${v}`);
}
function positive(field: string, v: number): void {
  finite(field, v);
  if (!(v > 0)) fail(`${field} must be > 0, got ${v}`);
}

/** Merge a partial config with the defaults and validate every field; errors name the field. */
export function videoWorldConfig(partial: Partial<VideoWorldConfig> = {}): VideoWorldConfig {
  const d = DEFAULT_VIDEO_WORLD;
  const c: VideoWorldConfig = {
    ...d,
    ...partial,
    room: { ...d.room, ...partial.room },
    camera: { ...d.camera, ...partial.camera },
    balls: (partial.balls ?? d.balls).map((b) => ({ ...b })),
    occluder: partial.occluder === null ? null : { ...d.occluder!, ...partial.occluder },
    agent: partial.agent === null ? null : { ...d.agent!, ...partial.agent },
    burger: partial.burger === null ? null : { ...d.burger!, ...partial.burger },
  };
  const { width: W, depth: D, height: H } = c.room;
  positive("room.width", W);
  positive("room.depth", D);
  positive("room.height", H);
  finite("zMin", c.zMin);
  if (c.zMin < 0 || c.zMin >= D) fail(`zMin must be in [0, room.depth = ${D}), got ${c.zMin}`);
  finite("gravity", c.gravity);
  if (c.gravity < 0) fail(`gravity must be ≥ 0, got ${c.gravity}`);
  finite("restitution", c.restitution);
  if (c.restitution < 0 || c.restitution > 1) fail(`restitution must be in [0, 1], got ${c.restitution}`);
  if (!Number.isInteger(c.antialias) || c.antialias < 1 || c.antialias > 8) fail(`antialias must be an integer in [1, 8] (subsamples per pixel side; 1 = hard edges), got ${c.antialias}`);
  positive("biteReach", c.biteReach);
  const inside = (field: string, x: number, z: number, r: number) => {
    if (x - r < 0 || x + r > W) fail(`${field}.x = ${x} is outside the room: with radius ${r} it must be in [${r}, ${W - r}]`);
    if (z - r < c.zMin || z + r > D) fail(`${field}.z = ${z} is outside the room: with radius ${r} it must be in [${c.zMin + r}, ${D - r}]`);
  };
  c.balls.forEach((b, i) => {
    for (const k of ["x", "y", "z", "vx", "vy", "vz"] as const) finite(`balls[${i}].${k}`, b[k]);
    positive(`balls[${i}].radius`, b.radius);
    if (!(b.color in PALETTE)) fail(`balls[${i}].color must be one of ${BALL_COLORS.join(", ")}, got ${JSON.stringify(b.color)}`);
    inside(`balls[${i}]`, b.x, b.z, b.radius);
    if (b.y < b.radius || b.y + b.radius > H) fail(`balls[${i}].y = ${b.y} is outside the room: with radius ${b.radius} it must be in [${b.radius}, ${H - b.radius}]`);
  });
  if (c.occluder) {
    const o = c.occluder;
    for (const k of ["x0", "x1", "z"] as const) finite(`occluder.${k}`, o[k]);
    positive("occluder.height", o.height);
    if (o.x1 <= o.x0) fail(`occluder.x1 (${o.x1}) must be greater than occluder.x0 (${o.x0})`);
    if (o.z < 0 || o.z >= c.zMin) fail(`occluder.z must be in [0, zMin = ${c.zMin}) so objects pass behind it, got ${o.z}`);
  }
  if (c.agent) {
    const a = c.agent;
    positive("agent.radius", a.radius);
    finite("agent.speed", a.speed);
    finite("agent.jumpSpeed", a.jumpSpeed);
    if (a.speed < 0) fail(`agent.speed must be ≥ 0, got ${a.speed}`);
    if (a.jumpSpeed < 0) fail(`agent.jumpSpeed must be ≥ 0, got ${a.jumpSpeed}`);
    finite("agent.x", a.x);
    finite("agent.z", a.z);
    inside("agent", a.x, a.z, a.radius);
  }
  if (c.burger) {
    const b = c.burger;
    positive("burger.radius", b.radius);
    finite("burger.x", b.x);
    finite("burger.z", b.z);
    if (!Number.isInteger(b.maxBites) || b.maxBites < 1 || b.maxBites > 8) fail(`burger.maxBites must be an integer in [1, 8], got ${b.maxBites}`);
    inside("burger", b.x, b.z, b.radius);
  }
  const cam = c.camera;
  finite("camera.x", cam.x);
  finite("camera.height", cam.height);
  positive("camera.distance", cam.distance);
  positive("camera.focal", cam.focal);
  finite("camera.horizon", cam.horizon);
  finite("camera.panAmplitude", cam.panAmplitude);
  positive("camera.panPeriod", cam.panPeriod);
  return c;
}

// ───────────────────────────── state ─────────────────────────────

/** What a simulated object is: a ball, the agent or the burger. */
export type ObjectKind = "ball" | "agent" | "burger";

/** Ground truth of one object at one frame: position, velocity, size, colour and its visibility on screen. */
export interface ObjectState {
  id: number;
  kind: ObjectKind;
  /** Palette name: a ball colour, "agent" or "burger". */
  color: string;
  rgb: readonly [number, number, number];
  x: number;
  y: number;
  z: number;
  vx: number;
  vy: number;
  vz: number;
  radius: number;
  /** False once a rule-breaking clip has made it vanish. */
  exists: boolean;
  /** Projected centre and radius, in pixels of the rendered size (NaN when not rendered). */
  screenX: number;
  screenY: number;
  screenRadius: number;
  /** Pixels of the object that would be drawn / that survive in the final frame (id buffer). */
  drawnPixels: number;
  visiblePixels: number;
  /** visiblePixels / drawnPixels (0 when nothing is drawn). */
  visibleFraction: number;
  /** At least one pixel visible. */
  visible: boolean;
  /** On screen but less than half visible. */
  occluded: boolean;
  /** Projected centre lies inside the occluder's screen rectangle (geometry, independent of pixels). */
  behindOccluder: boolean;
}

/** Ground truth of one frame: the action that led to it, the camera, the burger's bites and every object's state. */
export interface FrameState {
  t: number;
  /** Action applied to reach this frame from the previous one (Noop for frame 0). */
  action: Action;
  cameraX: number;
  bites: number;
  /** The burger's maxBites (0 without a burger): bite geometry depends on it. */
  maxBites: number;
  objects: ObjectState[];
}

interface Body {
  kind: ObjectKind;
  color: string;
  rgb: readonly [number, number, number];
  x: number; y: number; z: number;
  vx: number; vy: number; vz: number;
  r: number;
  exists: boolean;
  /** Wall collisions disabled (rule-breaking clip). */
  ghost: boolean;
}

/** One rendered frame: the RGB pixels, the object id of every pixel and each object's drawn and visible pixel counts. */
export interface RenderResult {
  size: number;
  /** (size, size, 3) RGB. */
  rgb: Uint8Array;
  /** (size, size) object id that owns each pixel; −1 background, OCCLUDER_ID for the occluder. */
  ids: Int16Array;
  drawnPixels: Int32Array;
  visiblePixels: Int32Array;
  /** Projected centre/radius per object (pixels). */
  screen: Float32Array; // (numObjects, 3): sx, sy, sr
  /** Occluder's screen rectangle [x0, y0, x1, y1] in pixels, or null. */
  occluderRect: [number, number, number, number] | null;
}

/** The id the occluder's pixels carry in RenderResult.ids (object ids are below it). */
export const OCCLUDER_ID = 1000;

// ───────────────────────────── simulator ─────────────────────────────

/** A running world. All randomness comes from its config (use `randomVideoWorldConfig` for seeded variety). */
export class VideoWorld {
  readonly config: VideoWorldConfig;
  /** Frame counter: 0 before any step. */
  t = 0;
  /** Bite marks taken out of the burger. */
  bites = 0;
  lastAction: Action = Action.Noop;
  private bodies: Body[] = [];
  private bgCache = new Map<string, Uint8Array>();
  private readonly shadeScratch = new Float64Array(3);

  constructor(config: Partial<VideoWorldConfig> = {}) {
    this.config = videoWorldConfig(config);
    const c = this.config;
    for (const b of c.balls) {
      this.bodies.push({ kind: "ball", color: b.color, rgb: PALETTE[b.color], x: b.x, y: b.y, z: b.z, vx: b.vx, vy: b.vy, vz: b.vz, r: b.radius, exists: true, ghost: false });
    }
    if (c.agent) {
      this.bodies.push({ kind: "agent", color: "agent", rgb: COLORS.agent, x: c.agent.x, y: c.agent.radius, z: c.agent.z, vx: 0, vy: 0, vz: 0, r: c.agent.radius, exists: true, ghost: false });
    }
    if (c.burger) {
      // The burger is drawn as a squat ellipse resting on the floor: half-height 0.55 r.
      this.bodies.push({ kind: "burger", color: "burger", rgb: COLORS.bunTop, x: c.burger.x, y: c.burger.radius * 0.55, z: c.burger.z, vx: 0, vy: 0, vz: 0, r: c.burger.radius, exists: true, ghost: false });
    }
  }

  get numObjects(): number {
    return this.bodies.length;
  }

  /** Index of the agent / burger in the object list, or −1. */
  get agentId(): number {
    return this.bodies.findIndex((b) => b.kind === "agent");
  }
  get burgerId(): number {
    return this.bodies.findIndex((b) => b.kind === "burger");
  }

  cameraX(t = this.t): number {
    const cam = this.config.camera;
    return cam.x + (cam.panAmplitude ? cam.panAmplitude * Math.sin((2 * Math.PI * t) / cam.panPeriod) : 0);
  }

  /** Advance one frame under an action. */
  step(action: Action | number = Action.Noop): void {
    if (!Number.isInteger(action) || action < 0 || action >= NUM_ACTIONS) {
      throw new VideoWorldError(`videoWorld.step: action must be an integer 0..${NUM_ACTIONS - 1} (Action.Noop..Action.JumpEat), got ${action}`);
    }
    const c = this.config;
    const { width: W, depth: D, height: H } = c.room;
    const e = c.restitution;
    this.lastAction = action;
    // Agent control.
    const ai = this.agentId;
    if (ai >= 0) {
      const a = this.bodies[ai];
      const s = c.agent!.speed;
      a.vx = action === Action.Left ? -s : action === Action.Right ? s : 0;
      a.vz = action === Action.Up ? s : action === Action.Down ? -s : 0;
      if (action === Action.JumpEat) {
        const bi = this.burgerId;
        const onGround = a.y <= a.r + 1e-9;
        if (bi >= 0 && this.bites < c.burger!.maxBites && onGround) {
          const b = this.bodies[bi];
          const dist = Math.hypot(a.x - b.x, a.z - b.z);
          if (dist <= a.r + b.r + c.biteReach) this.bites++;
          else a.vy = c.agent!.jumpSpeed;
        } else if (onGround) a.vy = c.agent!.jumpSpeed;
      }
    }
    // Integrate: gravity, then position.
    for (const b of this.bodies) {
      if (!b.exists || b.kind === "burger") continue;
      b.vy -= c.gravity;
      b.x += b.vx;
      b.y += b.vy;
      b.z += b.vz;
      // Floor and ceiling.
      if (b.y < b.r) {
        b.y = b.r;
        if (b.kind === "agent") b.vy = 0;
        else {
          b.vy = -b.vy * e;
          if (b.vy < c.gravity * 2) b.vy = 0; // resting: stop micro-bounces
        }
      }
      if (b.y > H - b.r) { b.y = H - b.r; b.vy = -Math.abs(b.vy) * e; }
      // Walls: reflect and clamp so nothing ever leaves the room (the invariant the tests check).
      if (!b.ghost) {
        if (b.x < b.r) { b.x = b.r; b.vx = Math.abs(b.vx) * (b.kind === "agent" ? 0 : e); }
        if (b.x > W - b.r) { b.x = W - b.r; b.vx = -Math.abs(b.vx) * (b.kind === "agent" ? 0 : e); }
      }
      if (b.z < c.zMin + b.r) { b.z = c.zMin + b.r; b.vz = Math.abs(b.vz) * (b.kind === "agent" ? 0 : e); }
      if (b.z > D - b.r) { b.z = D - b.r; b.vz = -Math.abs(b.vz) * (b.kind === "agent" ? 0 : e); }
    }
    // Collisions between spheres. Who yields: balls yield to the agent (as if it were much heavier) and
    // to the burger; the agent yields to the burger; the burger never moves. Agent–burger contact is
    // resolved in the floor plane only, so the agent cannot climb onto the burger.
    const n = this.bodies.length;
    const yields = (a: Body, b: Body): number => (a.kind === "ball" ? 1 : a.kind === "agent" && b.kind === "burger" ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const p = this.bodies[i];
      if (!p.exists) continue;
      for (let j = i + 1; j < n; j++) {
        const q = this.bodies[j];
        if (!q.exists) continue;
        const pm = yields(p, q), qm = yields(q, p);
        const tot = pm + qm;
        if (tot === 0) continue;
        const flat = (p.kind === "agent" && q.kind === "burger") || (p.kind === "burger" && q.kind === "agent");
        const dx = q.x - p.x, dy = flat ? 0 : q.y - p.y, dz = q.z - p.z;
        const dist = Math.hypot(dx, dy, dz);
        const minD = p.r + q.r;
        if (dist >= minD || dist === 0) continue;
        const nx = dx / dist, ny = dy / dist, nz = dz / dist;
        const rel = (q.vx - p.vx) * nx + (q.vy - p.vy) * ny + (q.vz - p.vz) * nz;
        const overlap = minD - dist;
        // Separate along the normal, then exchange the normal velocity component (restitution e).
        p.x -= (nx * overlap * pm) / tot; p.y -= (ny * overlap * pm) / tot; p.z -= (nz * overlap * pm) / tot;
        q.x += (nx * overlap * qm) / tot; q.y += (ny * overlap * qm) / tot; q.z += (nz * overlap * qm) / tot;
        if (rel < 0 && !flat) {
          const jImp = (-(1 + e) * rel) / tot;
          p.vx -= jImp * nx * pm; p.vy -= jImp * ny * pm; p.vz -= jImp * nz * pm;
          q.vx += jImp * nx * qm; q.vy += jImp * ny * qm; q.vz += jImp * nz * qm;
        }
        // Separation may push against a wall: clamp again.
        if (pm) this.clampToRoom(p);
        if (qm) this.clampToRoom(q);
      }
    }
    this.t++;
  }

  private clampToRoom(b: Body): void {
    const c = this.config;
    const { width: W, depth: D, height: H } = c.room;
    if (!b.ghost) b.x = Math.min(Math.max(b.x, b.r), W - b.r);
    b.y = Math.min(Math.max(b.y, b.r), H - b.r);
    b.z = Math.min(Math.max(b.z, c.zMin + b.r), D - b.r);
  }

  /** An independent copy of the world in its current state (for counterfactual rollouts). */
  clone(): VideoWorld {
    const w = new VideoWorld(this.config);
    w.t = this.t;
    w.bites = this.bites;
    w.lastAction = this.lastAction;
    w.bodies = this.bodies.map((b) => ({ ...b }));
    return w;
  }

  // ── rule breaking (surprise test): only the clip generator should call these ──

  /** Move object `id` instantly (breaks continuity). */
  teleport(id: number, x: number, z: number): void {
    const b = this.body(id);
    b.x = x;
    b.z = z;
  }
  /** Remove object `id` from the world (breaks permanence). */
  vanish(id: number): void {
    this.body(id).exists = false;
  }
  /** Let object `id` pass through the side walls from now on (breaks solidity). */
  ghostThroughWalls(id: number): void {
    this.body(id).ghost = true;
  }

  private body(id: number): Body {
    if (!Number.isInteger(id) || id < 0 || id >= this.bodies.length) fail(`object id must be an integer in [0, ${this.bodies.length}), got ${id}`);
    return this.bodies[id];
  }

  // ───────────────────────────── rendering ─────────────────────────────

  private project(x: number, y: number, z: number, size: number, camX: number): [number, number, number] {
    const cam = this.config.camera;
    const s = z + cam.distance;
    const k = (0.5 * cam.focal * size) / s;
    return [size * 0.5 + k * (x - camX), size * cam.horizon - k * (y - cam.height), k];
  }

  /** The room without objects, ray-cast per pixel (cached per camera position and size). */
  background(size: number, camX = this.cameraX()): Uint8Array {
    const key = `${size}:${camX}`;
    const hit = this.bgCache.get(key);
    if (hit) return hit;
    const c = this.config;
    const cam = c.camera;
    const { width: W, depth: D, height: H } = c.room;
    const out = new Uint8Array(size * size * 3);
    for (let py = 0; py < size; py++) {
      const kv = ((cam.horizon - (py + 0.5) / size) * 2) / cam.focal; // (y − h) / s along the ray
      for (let px = 0; px < size; px++) {
        const ku = (((px + 0.5) / size - 0.5) * 2) / cam.focal; // (x − camX) / s
        let best = Infinity;
        let col: readonly number[] = COLORS.sky;
        let fog = 0;
        // Floor y = 0.
        if (kv < 0) {
          const s = -cam.height / kv;
          const x = camX + ku * s, z = s - cam.distance;
          if (x >= 0 && x <= W && z <= D) {
            best = s;
            if (z < 0) col = COLORS.outside;
            else col = (Math.floor(x) + Math.floor(z)) % 2 === 0 ? COLORS.floorA : COLORS.floorB;
            fog = Math.max(0, z) / D;
          }
        }
        // Back wall z = D.
        {
          const s = D + cam.distance;
          const x = camX + ku * s, y = cam.height + kv * s;
          if (s < best && x >= 0 && x <= W && y >= 0 && y <= H) { best = s; col = COLORS.backWall; fog = 1; }
        }
        // Side walls x = 0 and x = W (inner faces).
        for (const wx of [0, W]) {
          if (ku === 0) continue;
          const s = (wx - camX) / ku;
          if (s <= 0 || s >= best) continue;
          const y = cam.height + kv * s, z = s - cam.distance;
          if (z >= 0 && z <= D && y >= 0 && y <= H) { best = s; col = COLORS.sideWall; fog = z / D; }
        }
        // Farther surfaces a little darker: a depth cue the probes can also use.
        const shade = 1 - 0.25 * fog;
        const o = (py * size + px) * 3;
        out[o] = col[0] * shade;
        out[o + 1] = col[1] * shade;
        out[o + 2] = col[2] * shade;
      }
    }
    if (this.bgCache.size > 512) this.bgCache.clear();
    this.bgCache.set(key, out);
    return out;
  }

  /**
   * Render the current state: background, floor shadows, then objects from far to near (painter's
   * algorithm), then the occluder (nearest of all). `ids` records which object owns each pixel.
   */
  render(size: number, into?: Uint8Array): RenderResult {
    if (!Number.isInteger(size) || size < 4 || size > 1024) fail(`render size must be an integer in [4, 1024], got ${size}`);
    const n = this.bodies.length;
    const rgb = into ?? new Uint8Array(size * size * 3);
    if (rgb.length !== size * size * 3) fail(`render: output buffer has ${rgb.length} bytes, expected ${size * size * 3}`);
    const camX = this.cameraX();
    rgb.set(this.background(size, camX));
    const ids = new Int16Array(size * size).fill(-1);
    const drawn = new Int32Array(n);
    const screen = new Float32Array(n * 3);
    // Shadows on the floor (not owned by any object).
    for (const b of this.bodies) {
      if (!b.exists) continue;
      const [sx, sy, k] = this.project(b.x, 0, b.z, size, camX);
      const rx = k * b.r * 0.9, ry = rx * 0.35;
      const fade = Math.max(0.55, Math.min(0.85, 0.55 + 0.1 * b.y)); // higher objects: lighter shadow
      this.fillEllipse(rgb, ids, size, sx, sy, rx, ry, (o, _x, _y, c) => {
        c[0] = rgb[o] * fade; c[1] = rgb[o + 1] * fade; c[2] = rgb[o + 2] * fade;
        return true;
      }, -2);
    }
    // Objects, far to near.
    const order = [...this.bodies.keys()].filter((i) => this.bodies[i].exists).sort((i, j) => this.bodies[j].z - this.bodies[i].z || i - j);
    for (let i = 0; i < n; i++) {
      const b = this.bodies[i];
      const [sx, sy, k] = this.project(b.x, b.y, b.z, size, camX);
      screen[i * 3] = sx; screen[i * 3 + 1] = sy; screen[i * 3 + 2] = k * b.r;
    }
    for (const i of order) {
      const b = this.bodies[i];
      const sx = screen[i * 3], sy = screen[i * 3 + 1], sr = screen[i * 3 + 2];
      if (b.kind === "burger") drawn[i] = this.drawBurger(rgb, ids, size, i, sx, sy, sr);
      else {
        const col = b.rgb;
        drawn[i] = this.fillEllipse(rgb, ids, size, sx, sy, sr, sr, (_o, px, py, c) => {
          // A small highlight toward the upper left makes balls read as spheres at 64×64 without
          // changing the dominant colour that permanence metrics look for.
          const hx = px - (sx - sr * 0.35), hy = py - (sy - sr * 0.35);
          const hl = hx * hx + hy * hy < sr * sr * 0.08 ? 40 : 0;
          c[0] = Math.min(255, col[0] + hl); c[1] = Math.min(255, col[1] + hl); c[2] = Math.min(255, col[2] + hl);
          return true;
        }, i);
      }
    }
    // Occluder: a trunk with a leafy top, nearest of all.
    let occluderRect: RenderResult["occluderRect"] = null;
    const oc = this.config.occluder;
    if (oc) {
      const [x0, yb] = this.project(oc.x0, 0, oc.z, size, camX);
      const [x1, yt] = this.project(oc.x1, oc.height, oc.z, size, camX);
      occluderRect = [x0, yt, x1, yb];
      const leafLine = yt + (yb - yt) * 0.4;
      const ix0 = Math.max(0, Math.ceil(x0 - 0.5)), ix1 = Math.min(size - 1, Math.floor(x1 - 0.5));
      const iy0 = Math.max(0, Math.ceil(yt - 0.5)), iy1 = Math.min(size - 1, Math.floor(yb - 0.5));
      for (let py = iy0; py <= iy1; py++) {
        const col = py + 0.5 < leafLine ? COLORS.occluderLeaves : COLORS.occluder;
        for (let px = ix0; px <= ix1; px++) {
          const o = (py * size + px) * 3;
          rgb[o] = col[0]; rgb[o + 1] = col[1]; rgb[o + 2] = col[2];
          ids[py * size + px] = OCCLUDER_ID;
        }
      }
    }
    const visible = new Int32Array(n);
    for (let p = 0; p < ids.length; p++) if (ids[p] >= 0 && ids[p] < n) visible[ids[p]]++;
    return { size, rgb, ids, drawnPixels: drawn, visiblePixels: visible, screen, occluderRect };
  }

  /**
   * Paint an ellipse: `shade(o, x, y, out)` writes the object's colour at screen point (x, y) into `out` (it may read
   * the pixel's current colour at rgb[o]) and returns false where the object draws nothing there. Each pixel blends
   * toward the mean colour of its config.antialias² subsamples that fall inside (area coverage, as a camera
   * integrates light over a pixel), so an object moving 0.4 px changes its edge pixels a little instead of snapping a
   * whole pixel every few frames. Ownership (`ids`) and the returned count (pixels painted) use the pixel centre
   * only; id −2 records no ownership (shadows).
   */
  private fillEllipse(
    rgb: Uint8Array, ids: Int16Array, size: number, cx: number, cy: number, rx: number, ry: number,
    shade: (o: number, x: number, y: number, out: Float64Array) => boolean, id: number, n = this.config.antialias,
  ): number {
    if (!(rx > 0 && ry > 0)) return 0;
    const inv = 1 / n, area = 1 / (n * n);
    const x0 = Math.max(0, Math.floor(cx - rx)), x1 = Math.min(size - 1, Math.ceil(cx + rx) - 1);
    const y0 = Math.max(0, Math.floor(cy - ry)), y1 = Math.min(size - 1, Math.ceil(cy + ry) - 1);
    const irx2 = 1 / (rx * rx), iry2 = 1 / (ry * ry), c = this.shadeScratch;
    const inside = (x: number, y: number) => (x - cx) ** 2 * irx2 + (y - cy) ** 2 * iry2 <= 1;
    let count = 0;
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        const o = (py * size + px) * 3;
        const owns = inside(px + 0.5, py + 0.5) && shade(o, px + 0.5, py + 0.5, c);
        let r = 0, g = 0, b = 0, covered = 0;
        for (let sy = 0; sy < n; sy++) {
          const y = py + (sy + 0.5) * inv;
          for (let sx = 0; sx < n; sx++) {
            const x = px + (sx + 0.5) * inv;
            if (!inside(x, y) || !shade(o, x, y, c)) continue;
            r += c[0]; g += c[1]; b += c[2]; covered++;
          }
        }
        if (covered) {
          const keep = 1 - covered * area;
          rgb[o] = Math.round(rgb[o] * keep + r * area); rgb[o + 1] = Math.round(rgb[o + 1] * keep + g * area); rgb[o + 2] = Math.round(rgb[o + 2] * keep + b * area);
        }
        if (!owns) continue;
        if (id !== -2) ids[py * size + px] = id;
        count++;
      }
    }
    return count;
  }
  private drawBurger(rgb: Uint8Array, ids: Int16Array, size: number, id: number, sx: number, sy: number, sr: number): number {
    const geom = burgerGeometry(sx, sy, sr, this.bites, this.config.burger!.maxBites);
    const { rx, ry, bitesAt } = geom;
    const rows: [number, readonly number[]][] = [
      [-0.1, COLORS.bunTop], [0.15, COLORS.lettuce], [0.5, COLORS.patty], [1.01, COLORS.bunBottom],
    ];
    return this.fillEllipse(rgb, ids, size, sx, sy, rx, ry, (_o, px, py, c) => {
      for (const [bx, by, br] of bitesAt) {
        const dx = px - bx, dy = py - by;
        if (dx * dx + dy * dy < br * br) return false; // bitten away: nothing drawn, pixel not owned
      }
      const rel = (py - sy) / ry; // −1 top .. 1 bottom
      let col: readonly number[] = COLORS.bunBottom;
      for (const [limit, rowColor] of rows) if (rel < limit) { col = rowColor; break; }
      c[0] = col[0]; c[1] = col[1]; c[2] = col[2];
      return true;
    }, id, 1); // hard edges: the burger stands still, and its bite marks are scored pixel by pixel (interactionPersistence)
  }


  // ───────────────────────────── ground truth ─────────────────────────────

  /** Ground-truth state of the current frame; pass the render result to fill screen/visibility fields. */
  state(render?: RenderResult): FrameState {
    const objects: ObjectState[] = this.bodies.map((b, i) => {
      const drawn = render ? render.drawnPixels[i] : 0;
      const vis = render ? render.visiblePixels[i] : 0;
      let behind = false;
      if (render?.occluderRect && b.exists) {
        const [x0, y0, x1, y1] = render.occluderRect;
        const sx = render.screen[i * 3], sy = render.screen[i * 3 + 1];
        behind = sx >= x0 && sx <= x1 && sy >= y0 && sy <= y1 && b.z > this.config.occluder!.z;
      }
      return {
        id: i, kind: b.kind, color: b.color, rgb: b.rgb,
        x: b.x, y: b.y, z: b.z, vx: b.vx, vy: b.vy, vz: b.vz, radius: b.r, exists: b.exists,
        screenX: render ? render.screen[i * 3] : NaN,
        screenY: render ? render.screen[i * 3 + 1] : NaN,
        screenRadius: render ? render.screen[i * 3 + 2] : NaN,
        drawnPixels: drawn, visiblePixels: vis,
        visibleFraction: drawn > 0 ? vis / drawn : 0,
        visible: vis > 0,
        occluded: drawn > 0 && vis < drawn * 0.5,
        behindOccluder: behind,
      };
    });
    return { t: this.t, action: this.lastAction, cameraX: this.cameraX(), bites: this.bites, maxBites: this.config.burger?.maxBites ?? 0, objects };
  }
}

/** Screen geometry of the burger and its bite marks (shared by the renderer and the persistence metric). */
export function burgerGeometry(sx: number, sy: number, sr: number, bites: number, maxBites: number): { rx: number; ry: number; bitesAt: [number, number, number][] } {
  const rx = sr, ry = sr * 0.55;
  const bitesAt: [number, number, number][] = [];
  for (let k = 0; k < bites; k++) {
    // Bites march along the upper rim from the right: a crescent that grows with every bite.
    const ang = -Math.PI * 0.15 - (k * Math.PI * 0.7) / Math.max(1, maxBites - 1);
    bitesAt.push([sx + rx * Math.cos(ang), sy + ry * Math.sin(ang), Math.max(0.9, sr * 0.42)]);
  }
  return { rx, ry, bitesAt };
}

// ───────────────────────────── seeded worlds ─────────────────────────────

/** Ball 0's scripted start: heading behind the occluder or into a side wall. */
export type BallSetup = "crossOccluder" | "hitWall";

/** Options of randomVideoWorldConfig: how many balls, camera pan, ball 0's setup, agent, burger and base overrides. */
export interface RandomWorldOptions {
  /** Inclusive range of the number of balls. */
  numBalls?: [number, number];
  /** Probability that the camera pans (parallax clips). */
  panProb?: number;
  /** Ball 0's scripted start: heading behind the occluder (permanence) or into a side wall. */
  setup?: BallSetup;
  agent?: boolean;
  burger?: boolean;
  /** Overrides applied before randomising (room size, camera, ...). */
  base?: Partial<VideoWorldConfig>;
}

/**
 * A random but reproducible world: ball count, colours, positions and velocities, agent and burger
 * placement and camera pan all follow from `seed`. Ball 0 is scripted (see `setup`) so every clip
 * contains the event the chapter measures.
 */
export function randomVideoWorldConfig(seed: number, opts: RandomWorldOptions = {}): VideoWorldConfig {
  const rng = new Generator(hashSeed(seed, "videoWorld"));
  const base = videoWorldConfig({ ...opts.base, balls: [] });
  const [lo, hi] = opts.numBalls ?? [1, 2];
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo || hi > BALL_COLORS.length) {
    fail(`numBalls must be [min, max] integers with 1 ≤ min ≤ max ≤ ${BALL_COLORS.length}, got [${lo}, ${hi}]`);
  }
  const panProb = opts.panProb ?? 0;
  if (!(panProb >= 0 && panProb <= 1)) fail(`panProb must be in [0, 1], got ${panProb}`);
  const { width: W, depth: D } = base.room;
  const r = 0.55;
  const zLo = base.zMin + r, zHi = D - r;
  const nBalls = lo + rng.int(hi - lo + 1);
  const colors = rng.shuffle([...BALL_COLORS]).slice(0, nBalls);
  const camX = base.camera.x;
  // The tree stands somewhere across the middle of the room.
  const occluder = base.occluder ? (() => {
    const o = base.occluder!;
    const shift = rng.uniform(-1, 1);
    const lo = Math.max(0, o.x0 + shift), w = o.x1 - o.x0;
    return { ...o, x0: Math.min(lo, W - w), x1: Math.min(lo, W - w) + w };
  })() : null;
  const balls: BallSpec[] = [];
  const clampX = (x: number) => Math.min(W - r, Math.max(r, x));
  for (let i = 0; i < nBalls; i++) {
    const z = rng.uniform(zLo, zHi);
    const y = rng.uniform(r, 2);
    let x = rng.uniform(r, W - r);
    let vx = rng.uniform(-0.12, 0.12);
    const vz = rng.uniform(-0.04, 0.04);
    if (i === 0) {
      const speed = rng.uniform(0.08, 0.14);
      const dir = rng.chance(0.5) ? 1 : -1;
      if ((opts.setup ?? "crossOccluder") === "crossOccluder" && occluder) {
        // Aim at the occluder's "shadow" at this depth (where the camera ray through its centre meets z),
        // arriving after 6–12 frames.
        const oc = occluder;
        const xc = camX + ((oc.x0 + oc.x1) / 2 - camX) * ((z + base.camera.distance) / (oc.z + base.camera.distance));
        x = clampX(xc - dir * speed * rng.uniform(6, 12));
      } else {
        // Start close to a side wall, heading into it.
        x = dir > 0 ? W - r - rng.uniform(0.5, 1.2) : r + rng.uniform(0.5, 1.2);
      }
      vx = dir * speed;
    } else {
      for (let tries = 0; tries < 20 && balls.some((b) => Math.hypot(b.x - x, b.z - z) < 2 * r + 0.1); tries++) x = rng.uniform(r, W - r);
    }
    balls.push({ x, y, z, vx, vy: 0, vz, radius: r, color: colors[i] });
  }
  const agentOn = opts.agent ?? true;
  const burgerOn = opts.burger ?? true;
  const ar = base.agent?.radius ?? 0.45;
  const br = base.burger?.radius ?? 0.5;
  const agent = agentOn ? { ...(base.agent ?? DEFAULT_VIDEO_WORLD.agent!), x: rng.uniform(ar, W - ar), z: rng.uniform(base.zMin + ar, D - ar) } : null;
  let burger: VideoWorldConfig["burger"] = null;
  if (burgerOn) {
    let bx = 0, bz = 0;
    for (let tries = 0; tries < 50; tries++) {
      bx = rng.uniform(br, W - br);
      bz = rng.uniform(base.zMin + br, D - br);
      if (!agent || Math.hypot(agent.x - bx, agent.z - bz) > ar + br + (base.biteReach ?? 0.35) + 0.5) break;
    }
    burger = { ...(base.burger ?? DEFAULT_VIDEO_WORLD.burger!), x: bx, z: bz };
  }
  const pan = rng.chance(panProb);
  return videoWorldConfig({
    ...base,
    balls,
    occluder,
    agent,
    burger,
    camera: { ...base.camera, panAmplitude: pan ? 0.8 : 0 },
  });
}

// ───────────────────────────── agent policy ─────────────────────────────

/**
 * The scripted player: sticky random walking, or (in "seek" mode) walking to the burger and biting it.
 * Deterministic given its seed and the world it observes.
 */
export class AgentPolicy {
  private rng: Generator;
  private current: Action = Action.Noop;
  constructor(seed: number, readonly mode: "wander" | "seek") {
    this.rng = new Generator(hashSeed(seed, "policy"));
  }
  act(world: VideoWorld): Action {
    const st = world.state();
    const ai = world.agentId, bi = world.burgerId;
    if (ai < 0) return Action.Noop;
    if (this.mode === "seek" && bi >= 0 && world.bites < world.config.burger!.maxBites) {
      const a = st.objects[ai], b = st.objects[bi];
      const dx = b.x - a.x, dz = b.z - a.z;
      const reach = a.radius + b.radius + world.config.biteReach;
      if (Math.hypot(dx, dz) <= reach * 0.9) return this.rng.chance(0.5) ? Action.JumpEat : Action.Noop;
      if (this.rng.chance(0.15)) return Action.Noop; // hesitate now and then so timing varies
      if (Math.abs(dx) > Math.abs(dz)) return dx > 0 ? Action.Right : Action.Left;
      return dz > 0 ? Action.Up : Action.Down;
    }
    if (this.rng.chance(0.2)) {
      const r = this.rng.uniform();
      this.current = r < 0.25 ? Action.Noop : r < 0.95 ? ((1 + this.rng.int(4)) as Action) : Action.JumpEat;
    }
    return this.current;
  }
}

// ───────────────────────────── clips, captions, rule breaking ─────────────────────────────

/** A rule of the world a clip can break: a ball teleports, vanishes or passes through a wall. */
export type ViolationKind = "teleport" | "vanish" | "passThroughWall";

/** What happens in a clip, from the ground truth: the balls, which hid behind the occluder, how the agent moved, the burger, the pan. */
export interface ClipAttributes {
  balls: BallColor[];
  /** Balls that were fully hidden behind the occluder at some frame. */
  hidden: BallColor[];
  agentMotion: "left" | "right" | "away" | "toward" | "still";
  ateBurger: boolean;
  bites: number;
  cameraPan: boolean;
}

/** A generated clip: its frames, actions, per-frame ground truth, captions and any rule it breaks. */
export interface VideoClip {
  seed: number;
  size: number;
  numFrames: number;
  /** (T, size, size, 3) RGB. */
  frames: Uint8Array;
  /** actions[t] is applied to frame t and produces frame t + 1 (the last one is what the policy would do next). */
  actions: Uint8Array;
  /** Ground truth per frame (states[t].action is the action that produced frame t). */
  states: FrameState[];
  captions: { rich: string; poor: string };
  /** The caption this clip carries in a dataset: rich, poor or missing (null). */
  caption: string | null;
  captionKind: "rich" | "poor" | "missing";
  attributes: ClipAttributes;
  /** Rule break in this clip (surprise test), or null for a lawful clip. */
  violation: { kind: ViolationKind; frame: number; object: number } | null;
  config: VideoWorldConfig;
}

/** Options of generateVideoClip: the seed, frames, size, a rule to break, ball 0's setup, the agent's policy and the world's variety. */
export interface ClipOptions {
  seed: number;
  /** Frames per clip (≥ 2). */
  frames?: number;
  /** 32 or 64 (any size in [4, 1024] works). */
  size?: number;
  /** Break a rule of the world in this clip. */
  violation?: ViolationKind | null;
  /** Ball 0's scripted start; defaults to "hitWall" for passThroughWall, else "crossOccluder". */
  setup?: BallSetup;
  policy?: "wander" | "seek" | "random";
  panProb?: number;
  numBalls?: [number, number];
  /** Probabilities of the clip's caption being rich / poor (the rest are missing). */
  captionMix?: { rich: number; poor: number };
  base?: Partial<VideoWorldConfig>;
}

const POOR_CAPTIONS = ["a video.", "some things move.", "a room.", "a clip of a room with stuff."];

function listPhrase(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The rich caption is a pure function of the attributes, so caption accuracy can be scored exactly. */
export function richCaption(a: ClipAttributes): string {
  const parts = [`${listPhrase(a.balls.map((c) => `${/^[aeiou]/.test(c) ? "an" : "a"} ${c} ball`))} bounce${a.balls.length === 1 ? "s" : ""} in a room.`];
  if (a.hidden.length) parts.push(`the ${listPhrase(a.hidden.map((c) => `${c}`))} ball${a.hidden.length > 1 ? "s pass" : " passes"} behind the tree.`);
  const walk = {
    still: "the agent stays put", left: "the agent walks left", right: "the agent walks right",
    away: "the agent walks away from the camera", toward: "the agent walks toward the camera",
  }[a.agentMotion];
  parts.push(a.ateBurger ? `${walk} and bites the burger.` : `${walk}.`);
  if (a.cameraPan) parts.push("the camera pans.");
  return parts.join(" ");
}

/** Every caption the grammar can put together from its parts (rich for all attribute values, and the poor ones): a caption tokenizer's corpus. */
export function captionCorpus(): string[] {
  const out: string[] = [...POOR_CAPTIONS];
  for (const agentMotion of ["left", "right", "away", "toward", "still"] as const) {
    for (const n of [1, 2, BALL_COLORS.length]) {
      out.push(richCaption({ balls: BALL_COLORS.slice(0, n), hidden: BALL_COLORS.slice(0, n), agentMotion, ateBurger: n > 1, bites: 1, cameraPan: n > 1 }));
    }
  }
  for (const c of BALL_COLORS) out.push(richCaption({ balls: [c], hidden: [c], agentMotion: "still", ateBurger: false, bites: 0, cameraPan: false }));
  return out;
}

/**
 * Simulate and render one clip. Deterministic in `seed` (and the options). Rule-breaking clips share
 * everything with their lawful twin (same seed and setup, violation null) up to the violation frame.
 */
export function generateVideoClip(opts: ClipOptions): VideoClip {
  const T = opts.frames ?? 32;
  const size = opts.size ?? 32;
  if (!Number.isInteger(T) || T < 2) fail(`frames must be an integer ≥ 2, got ${T}`);
  if (!Number.isInteger(size) || size < 4 || size > 1024) fail(`size must be an integer in [4, 1024], got ${size}`);
  const violation = opts.violation ?? null;
  if (violation !== null && !["teleport", "vanish", "passThroughWall"].includes(violation)) {
    fail(`violation must be "teleport", "vanish", "passThroughWall" or null, got ${JSON.stringify(violation)}`);
  }
  const setup = opts.setup ?? (violation === "passThroughWall" ? "hitWall" : "crossOccluder");
  const config = randomVideoWorldConfig(opts.seed, { setup, panProb: opts.panProb, numBalls: opts.numBalls, base: opts.base });
  const rng = new Generator(hashSeed(opts.seed, "clip"));
  const policyMode = opts.policy === undefined || opts.policy === "random" ? (rng.chance(0.5) ? "seek" : "wander") : opts.policy;
  const policy = new AgentPolicy(opts.seed, policyMode);
  const world = new VideoWorld(config);
  const frames = new Uint8Array(T * size * size * 3);
  const actions = new Uint8Array(T);
  const states: FrameState[] = [];
  let applied: VideoClip["violation"] = null;
  const hidden = new Set<number>();
  // The ghost ignores the side walls from the start; the violation "happens" at the first frame its
  // centre is beyond where a wall would have stopped it (identical to the lawful twin before that).
  if (violation === "passThroughWall") world.ghostThroughWalls(0);
  for (let t = 0; t < T; t++) {
    if (t > 0) world.step(actions[t - 1]);
    // Rule breaks that depend on the lawful trajectory are applied before rendering frame t.
    if (violation === "teleport" && t === Math.floor(T / 2)) {
      const b = world.state().objects[0];
      const W = config.room.width;
      let nx = W - b.x;
      if (Math.abs(nx - b.x) < 1.5) nx = b.x < W / 2 ? Math.min(W - b.radius, b.x + 2) : Math.max(b.radius, b.x - 2);
      world.teleport(0, nx, b.z);
      applied = { kind: violation, frame: t, object: 0 };
    }
    let render = world.render(size, frames.subarray(t * size * size * 3, (t + 1) * size * size * 3));
    if (violation === "vanish" && !applied) {
      const o = world.state(render).objects[0];
      if (o.behindOccluder && o.visiblePixels === 0) {
        world.vanish(0);
        applied = { kind: violation, frame: t, object: 0 };
        render = world.render(size, frames.subarray(t * size * size * 3, (t + 1) * size * size * 3));
      }
    }
    const st = world.state(render);
    if (violation === "passThroughWall" && !applied) {
      const o = st.objects[0];
      if (o.x < o.radius || o.x > config.room.width - o.radius) applied = { kind: violation, frame: t, object: 0 };
    }
    st.objects.forEach((o) => { if (o.kind === "ball" && o.exists && o.behindOccluder && o.visiblePixels === 0) hidden.add(o.id); });
    states.push(st);
    actions[t] = policy.act(world);
  }
  if (violation && !applied) fail(`internal: violation "${violation}" never happened in clip seed ${opts.seed} (${T} frames too short?)`);
  // Attributes from the ground truth.
  const first = states[0], last = states[T - 1];
  let agentMotion: ClipAttributes["agentMotion"] = "still";
  const ai = world.agentId;
  if (ai >= 0) {
    const dx = last.objects[ai].x - first.objects[ai].x, dz = last.objects[ai].z - first.objects[ai].z;
    if (Math.max(Math.abs(dx), Math.abs(dz)) >= 0.5) {
      agentMotion = Math.abs(dx) >= Math.abs(dz) ? (dx > 0 ? "right" : "left") : (dz > 0 ? "away" : "toward");
    }
  }
  const attributes: ClipAttributes = {
    balls: config.balls.map((b) => b.color),
    hidden: [...hidden].sort((a, b) => a - b).map((i) => config.balls[i].color),
    agentMotion,
    ateBurger: last.bites > 0,
    bites: last.bites,
    cameraPan: config.camera.panAmplitude !== 0,
  };
  const rich = richCaption(attributes);
  const poor = POOR_CAPTIONS[rng.int(POOR_CAPTIONS.length)];
  const mix = opts.captionMix ?? { rich: 1, poor: 0 };
  if (!(mix.rich >= 0 && mix.poor >= 0 && mix.rich + mix.poor <= 1 + 1e-12)) fail(`captionMix must have rich, poor ≥ 0 with rich + poor ≤ 1, got ${JSON.stringify(mix)}`);
  const u = rng.uniform();
  const captionKind = u < mix.rich ? "rich" : u < mix.rich + mix.poor ? "poor" : "missing";
  return {
    seed: opts.seed, size, numFrames: T, frames, actions, states,
    captions: { rich, poor },
    caption: captionKind === "rich" ? rich : captionKind === "poor" ? poor : null,
    captionKind, attributes, violation: applied, config,
  };
}

/** Train and validation clips generated from one seed. */
export interface VideoDataset {
  seed: number;
  train: VideoClip[];
  val: VideoClip[];
}

/**
 * Train/validation clips from one seed; clip i of a split uses seed hashSeed(seed, split, i), so the
 * splits never share a clip and growing numTrain leaves validation unchanged.
 */
export function generateVideoDataset(opts: { seed: number; numTrain: number; numVal: number } & Omit<ClipOptions, "seed" | "violation">): VideoDataset {
  for (const f of ["numTrain", "numVal"] as const) {
    if (!Number.isInteger(opts[f]) || opts[f] < 0) fail(`${f} must be a non-negative integer, got ${opts[f]}`);
  }
  const { seed, numTrain, numVal, ...clip } = opts;
  return {
    seed,
    train: Array.from({ length: numTrain }, (_, i) => generateVideoClip({ ...clip, seed: hashSeed(seed, "train", i) })),
    val: Array.from({ length: numVal }, (_, i) => generateVideoClip({ ...clip, seed: hashSeed(seed, "val", i) })),
  };
}

/**
 * Pairs of clips for the surprise test: each violating clip has a lawful twin with the same seed and
 * setup, identical up to the violation frame. Kinds cycle teleport → vanish → passThroughWall.
 */
export function generateSurpriseSet(opts: { seed: number; count: number; frames?: number; size?: number; kinds?: ViolationKind[] }): { lawful: VideoClip[]; violating: VideoClip[] } {
  const kinds = opts.kinds ?? ["teleport", "vanish", "passThroughWall"];
  if (!Number.isInteger(opts.count) || opts.count < 0) fail(`count must be a non-negative integer, got ${opts.count}`);
  const lawful: VideoClip[] = [], violating: VideoClip[] = [];
  for (let i = 0, attempt = 0; lawful.length < opts.count; attempt++) {
    if (attempt > 20 * (opts.count + 1)) fail(`generateSurpriseSet: could not make ${opts.count} violating clips; frames (${opts.frames}) too short?`);
    const kind = kinds[i % kinds.length];
    const seed = hashSeed(opts.seed, "surprise", attempt);
    const setup: BallSetup = kind === "passThroughWall" ? "hitWall" : "crossOccluder";
    let bad: VideoClip;
    try {
      bad = generateVideoClip({ seed, frames: opts.frames, size: opts.size, setup, violation: kind });
    } catch (e) {
      if (e instanceof VideoWorldError && /never happened/.test(e.message)) continue; // e.g. the ball never got fully hidden
      throw e;
    }
    violating.push(bad);
    lawful.push(generateVideoClip({ seed, frames: opts.frames, size: opts.size, setup, violation: null }));
    i++;
  }
  return { lawful, violating };
}

// ───────────────────────────── per-frame labels for probes ─────────────────────────────

/**
 * Per-frame ground truth of one object as numbers, for probes (chapter 8: is depth in the latents?).
 *   "depth"   z of the object             "x", "height"  its x / y
 *   "screenX", "screenY"                    "visible"  1 if any pixel is visible, else 0
 *   "nearer"  1 if object `id` is nearer the camera than object `other`, else 0 (ordering probe)
 *   "bites"   bites taken out of the burger so far
 */
export function clipLabels(
  clip: Pick<VideoClip, "states">,
  target: "depth" | "x" | "height" | "screenX" | "screenY" | "visible" | "nearer" | "bites",
  id = 0,
  other = 1,
): Float64Array {
  const n = clip.states[0]?.objects.length ?? 0;
  if (!Number.isInteger(id) || id < 0 || id >= n) fail(`clipLabels: object id must be in [0, ${n}), got ${id}`);
  if (target === "nearer" && (!Number.isInteger(other) || other < 0 || other >= n || other === id)) {
    fail(`clipLabels: "nearer" needs another object id in [0, ${n}) different from ${id}, got ${other}`);
  }
  return Float64Array.from(clip.states, (s) => {
    const o = s.objects[id];
    switch (target) {
      case "depth": return o.z;
      case "x": return o.x;
      case "height": return o.y;
      case "screenX": return o.screenX;
      case "screenY": return o.screenY;
      case "visible": return o.visible ? 1 : 0;
      case "nearer": return o.z < s.objects[other].z ? 1 : 0;
      case "bites": return s.bites;
    }
  });
}

/**
 * The world of a lawful clip at frame t, rebuilt by replaying its actions (the simulator is deterministic).
 * Step it with other actions for counterfactual ground truth ("what if the agent had gone left?").
 */
export function replayClip(clip: Pick<VideoClip, "config" | "actions" | "numFrames" | "violation">, t: number): VideoWorld {
  if (clip.violation) fail(`replayClip: clip breaks a rule (${clip.violation.kind}); only lawful clips can be replayed`);
  if (!Number.isInteger(t) || t < 0 || t >= clip.numFrames) fail(`replayClip: frame t must be an integer in [0, ${clip.numFrames}), got ${t}`);
  const w = new VideoWorld(clip.config);
  for (let k = 0; k < t; k++) w.step(clip.actions[k]);
  return w;
}
