// Does a clip show what its caption says? Detectors built from the video world's own rules (videoWorld.ts): the
// palette (every drawable has its own flat colour), the pinhole camera (an object on the floor at screen row sy stands
// at depth z + distance = size·(height − y)/(sy − horizon·size), and at x = cameraX + (sx/size − 0.5)·(z + distance)
// for focal 2), the tree standing nearest of all (never covered; under a pan it slides by the camera's shift), and
// the caption grammar (richCaption) read backwards. They score any RGB clip — true, generated or retrieved — of any
// frame count, and any width and height.

import { NextframeError } from "../engine/errors";
import { BALL_COLORS, COLORS, DEFAULT_VIDEO_WORLD, PALETTE, richCaption, type BallColor, type ClipAttributes, type VideoClip } from "../worlds/videoWorld";

/** What a caption says, in the world's terms (the rich caption's attributes; bites are not in the text). */
export type CaptionAttributes = Omit<ClipAttributes, "bites">;

const MOTIONS: Record<string, ClipAttributes["agentMotion"]> = {
  "stays put": "still", "walks left": "left", "walks right": "right", "walks away from the camera": "away", "walks toward the camera": "toward",
};

/**
 * The attributes a rich caption states, read back with the caption grammar (richCaption's inverse); null for a
 * caption the grammar did not write (a poor one, a user's prompt).
 */
export function parseCaption(caption: string | null): CaptionAttributes | null {
  if (!caption) return null;
  const m = /^(.+) bounces? in a room\.(?: the (.+) balls? pass(?:es)? behind the tree\.)? the agent (stays put|walks left|walks right|walks away from the camera|walks toward the camera)( and bites the burger)?\.( the camera pans\.)?$/.exec(caption.trim());
  if (!m) return null;
  const colours = (s: string) => s.split(/, | and /).map((w) => w.replace(/^(an?|the) /, "").replace(/ ball$/, "").trim());
  const balls = colours(m[1]!), hidden = m[2] ? colours(m[2]) : [];
  if (![...balls, ...hidden].every((c) => (BALL_COLORS as string[]).includes(c))) return null;
  return { balls: balls as BallColor[], hidden: hidden as BallColor[], agentMotion: MOTIONS[m[3]!]!, ateBurger: !!m[4], cameraPan: !!m[5] };
}

/** Detector settings: colour tolerance (Chebyshev distance to the palette colour), pixel counts, and motion thresholds. */
export const DETECTOR_DEFAULTS = {
  /** A pixel is an object's if every channel is within this of the object's palette colour. */
  tolerance: 48,
  /** A ball is present in a frame with at least this many pixels of its colour… */
  minPixels: 2,
  /** …in at least this share of the frames. */
  presentShare: 0.1,
  /** The agent walked when its floor position moved at least this far (world units; the caption's rule is 0.5). */
  walkThreshold: 0.5,
  /** The camera panned when the tree slid at least this many pixels (per 32 px of width). */
  panPixels: 1.25,
  /** The agent "bites the burger" when it stays within this xz-distance (world units) of the burger's centre… */
  biteDistance: 1.3,
  /** …for at least this many frames, moving at most stillStep a frame (the scripted player stops there to bite; walking is 0.12 a frame). */
  biteFrames: 4,
  stillStep: 0.1,
  /** A ball that vanishes counts as behind the tree when last (or next) seen within this many pixels of the tree's sides. */
  treeMargin: 5,
  /** Ends of the clip averaged for the agent's start and end positions (frames). */
  endFrames: 2,
  /**
   * For a frame cut out of a taller render (the model's wide 24×32 clips are the 32×32 view without its top and bottom
   * 4 rows): the rows cut off above it, and the height of the render (0: the frame's own height, nothing cut).
   */
  cropTop: 0,
  fullHeight: 0,
} as const;

/** Detector settings to override (any subset of DETECTOR_DEFAULTS). */
export type DetectorOptions = Partial<{ [K in keyof typeof DETECTOR_DEFAULTS]: number }>;

const BURGER = [COLORS.bunTop, COLORS.patty, COLORS.lettuce, COLORS.bunBottom];
const TREE = [COLORS.occluder, COLORS.occluderLeaves];


/** Per-frame pixel counts and centroids of one colour group. */
interface Track { count: number[]; cx: number[]; cy: number[]; bottom: number[]; left: number[]; right: number[] }

/** What the detectors read off a clip: per-frame tracks of every ball colour, the agent, the burger and the tree. */
export interface ClipReading {
  frames: number;
  width: number;
  height: number;
  balls: Record<BallColor, Track>;
  agent: Track;
  burger: Track;
  tree: Track;
}

/** Every colour the world draws with (objects, then the room), for nearest-colour pixel classification. */
const REFERENCE: { group: number; rgb: readonly number[] }[] = [
  ...BALL_COLORS.map((c, i) => ({ group: i, rgb: PALETTE[c] })),
  { group: BALL_COLORS.length, rgb: COLORS.agent },
  ...BURGER.map((rgb) => ({ group: BALL_COLORS.length + 1, rgb })),
  ...TREE.map((rgb) => ({ group: BALL_COLORS.length + 2, rgb })),
  ...[COLORS.floorA, COLORS.floorB, COLORS.backWall, COLORS.sideWall, COLORS.outside, COLORS.sky].map((rgb) => ({ group: -1, rgb })),
];

function treeAt(f: Uint8Array, o: number, tol: number): boolean {
  let best = -1, bestD = Infinity;
  for (const r of REFERENCE) {
    const d = Math.max(Math.abs(f[o]! - r.rgb[0]!), Math.abs(f[o + 1]! - r.rgb[1]!), Math.abs(f[o + 2]! - r.rgb[2]!));
    if (d < bestD) { bestD = d; best = r.group; }
  }
  return best === BALL_COLORS.length + 2 && bestD <= tol;
}

/** Reads one RGB clip (T, H, W, 3) uint8 (frames row-major): each pixel goes to the nearest colour the world draws with, if within the tolerance. */
export function readClip(rgb: Uint8Array, frames: number, height: number, width: number, opts: DetectorOptions = {}): ClipReading {
  if (rgb.length !== frames * height * width * 3) throw new NextframeError(`readClip: clip has ${rgb.length} values, expected ${frames}×${height}×${width}×3 = ${frames * height * width * 3}`);
  const tol = opts.tolerance ?? DETECTOR_DEFAULTS.tolerance;
  const G = BALL_COLORS.length + 3;
  const tracks: Track[] = Array.from({ length: G }, () => ({ count: [], cx: [], cy: [], bottom: [], left: [], right: [] }));
  const P = height * width * 3;
  const n = new Int32Array(G), sx = new Float64Array(G), sy = new Float64Array(G), bottom = new Int32Array(G), left = new Int32Array(G), right = new Int32Array(G);
  for (let t = 0; t < frames; t++) {
    const f = rgb.subarray(t * P, (t + 1) * P);
    n.fill(0); sx.fill(0); sy.fill(0); bottom.fill(-1); left.fill(1 << 30); right.fill(-1);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let best = -1, bestD = Infinity;
      for (const r of REFERENCE) {
        const d = Math.max(Math.abs(f[o]! - r.rgb[0]!), Math.abs(f[o + 1]! - r.rgb[1]!), Math.abs(f[o + 2]! - r.rgb[2]!));
        if (d < bestD) { bestD = d; best = r.group; }
      }
      if (best < 0 || bestD > tol) continue;
      n[best]++; sx[best] += x + 0.5; sy[best] += y + 0.5;
      bottom[best] = Math.max(bottom[best]!, y + 1); left[best] = Math.min(left[best]!, x); right[best] = Math.max(right[best]!, x + 1);
    }
    // the tree is a full-height panel: its columns are those that are tree-coloured at least half-way down (a floor
    // shadow can be as dark as its trunk, but only a few rows of it)
    const T3 = G - 1;
    let tl = -1, tr3 = -1, tn = 0, tsx = 0;
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let y = 0; y < height; y++) if (treeAt(f, (y * width + x) * 3, tol)) k++;
      if (k < height / 2) continue;
      if (tl < 0) tl = x;
      tr3 = x + 1; tn += k; tsx += k * (x + 0.5);
    }
    n[T3] = tn; sx[T3] = tsx; sy[T3] = tn * height / 2; left[T3] = tl < 0 ? 1 << 30 : tl; right[T3] = tr3;
    for (let g = 0; g < G; g++) {
      const tr = tracks[g]!, k = n[g]!;
      tr.count.push(k); tr.cx.push(k ? sx[g]! / k : NaN); tr.cy.push(k ? sy[g]! / k : NaN);
      tr.bottom.push(k ? bottom[g]! : NaN); tr.left.push(k ? left[g]! : NaN); tr.right.push(k ? right[g]! : NaN);
    }
  }
  const B = BALL_COLORS.length;
  return {
    frames, width, height,
    balls: Object.fromEntries(BALL_COLORS.map((c, i) => [c, tracks[i]!])) as Record<BallColor, Track>,
    agent: tracks[B]!, burger: tracks[B + 1]!, tree: tracks[B + 2]!,
  };
}

/**
 * Floor position (x relative to the camera's rest position, z) of an object of radius r resting on the floor seen at
 * screen centroid (sx, sy) in a frame `height` px tall (width `width`), with the camera shifted by `camShift`. The
 * projection scales with the frame's height; a wide frame shows more to the sides.
 */
function floorPosition(sx: number, sy: number, r: number, camShift: number, height: number, width: number): { x: number; z: number } {
  const cam = DEFAULT_VIDEO_WORLD.camera, k = cam.focal / 2;
  const depth = (height * k * (cam.height - r)) / (sy - cam.horizon * height);     // z + distance
  return { x: camShift + ((sx - width / 2) / height) * depth / k, z: depth - cam.distance };
}

/** The camera's shift per frame (world units) read from the tree's slide: the tree stands at z = occluder.z. */
function cameraShift(r: ClipReading, height: number): number[] {
  const cam = DEFAULT_VIDEO_WORLD.camera, oz = DEFAULT_VIDEO_WORLD.occluder!.z;
  const x0 = r.tree.cx.find(Number.isFinite);
  return r.tree.cx.map((cx) => (Number.isFinite(cx) && x0 !== undefined ? -((cx - x0) / height) * (oz + cam.distance) / (cam.focal / 2) : 0));
}

/** What the detectors see in a clip, as a caption's attributes. */
export function detectAttributes(r: ClipReading, opts: DetectorOptions = {}): CaptionAttributes & { agentShift: { dx: number; dz: number }; treeSlide: number; agentToBurger: number } {
  const o = { ...DETECTOR_DEFAULTS, ...opts };
  const T = r.frames;
  const balls = BALL_COLORS.filter((c) => r.balls[c].count.filter((n) => n >= o.minPixels).length >= Math.max(2, o.presentShare * T));
  // hidden: present, and fully gone in some frame between its first and last appearance or at either end
  // hidden: the ball vanishes for ≥ 2 frames in a row, and where it was last or next seen is beside the tree
  const hidden = balls.filter((c) => {
    const b = r.balls[c];
    for (let t = 0; t + 1 < T; t++) {
      if (b.count[t]! > 0 || b.count[t + 1]! > 0) continue;
      let before = t - 1, after = t + 2;
      while (before >= 0 && b.count[before] === 0) before--;
      while (after < T && b.count[after] === 0) after++;
      const nearTree = (u: number) => u >= 0 && u < T && Number.isFinite(r.tree.left[u]!) && b.cx[u]! >= r.tree.left[u]! - o.treeMargin && b.cx[u]! <= r.tree.right[u]! + o.treeMargin;
      if (nearTree(before) || nearTree(after)) return true;
    }
    return false;
  });
  const H0 = o.fullHeight || r.height, top = o.cropTop;                   // the render's height; rows cut above the frame
  const cam = cameraShift(r, H0);
  const agentR = DEFAULT_VIDEO_WORLD.agent!.radius;
  const at = (t: number) => {
    const a = r.agent;
    if (!(a.count[t]! > 0)) return null;
    return floorPosition(a.cx[t]!, a.cy[t]! + top, agentR, cam[t]!, H0, r.width);
  };
  // start and end: the first and last frames where the agent shows (it may be behind the tree at either end)
  const seen: { x: number; z: number }[] = [];
  for (let t = 0; t < T; t++) { const p = r.agent.count[t]! >= o.minPixels ? at(t) : null; if (p) seen.push(p); }
  const k = Math.min(o.endFrames, Math.floor(seen.length / 2));
  const median = (v: number[]) => { const u = [...v].sort((a, b) => a - b); return u[Math.floor((u.length - 1) / 2)]!; };
  const avg = (ps: { x: number; z: number }[]) => (ps.length ? { x: median(ps.map((p) => p.x)), z: median(ps.map((p) => p.z)) } : null);
  const first = k ? avg(seen.slice(0, k)) : null, last = k ? avg(seen.slice(seen.length - k)) : null;
  let agentMotion: ClipAttributes["agentMotion"] = "still";
  const dx = first && last ? last.x - first.x : 0, dz = first && last ? last.z - first.z : 0;
  if (Math.max(Math.abs(dx), Math.abs(dz)) >= o.walkThreshold) agentMotion = Math.abs(dx) >= Math.abs(dz) ? (dx > 0 ? "right" : "left") : (dz > 0 ? "away" : "toward");
  // the burger: where it rests (its lowest visible row is its base on the floor); the agent's closest approach
  const bR = DEFAULT_VIDEO_WORLD.burger!.radius * 0.55;
  // biting: the player stops next to the burger (a walker passing by keeps moving)
  let closest = Infinity, nearFrames = 0, prev: { x: number; z: number } | null = null;
  for (let t = 0; t < T; t++) {
    const p = r.agent.count[t]! >= 1 ? at(t) : null;
    const step = p && prev ? Math.hypot(p.x - prev.x, p.z - prev.z) : Infinity;
    prev = p;
    if (!p || !(r.burger.count[t]! > 0)) continue;
    const b = floorPosition(r.burger.cx[t]!, r.burger.cy[t]! + top, bR, cam[t]!, H0, r.width);
    const d = Math.hypot(p.x - b.x, p.z - b.z);
    closest = Math.min(closest, d);
    if (d <= o.biteDistance && step <= o.stillStep) nearFrames++;
  }
  const slide = Math.max(0, ...r.tree.cx.filter(Number.isFinite).map((cx) => Math.abs(cx - (r.tree.cx.find(Number.isFinite) ?? cx))));
  return {
    balls, hidden, agentMotion, ateBurger: nearFrames >= o.biteFrames, cameraPan: slide * (32 / r.width) >= o.panPixels,
    agentShift: { dx, dz }, treeSlide: slide, agentToBurger: closest,
  };
}

/** The checks of one clip against one caption: each true when the clip shows what the caption says. */
export interface AgreementChecks { balls: boolean; hidden: boolean; agent: boolean; burger: boolean; pan: boolean }
/** The five checks captionAgreement makes, in order: balls, hidden balls, agent motion, burger eaten, camera pan. */
export const AGREEMENT_CHECKS = ["balls", "hidden", "agent", "burger", "pan"] as const;

/** Compares what the detectors see with what the caption says; score = share of the five checks that hold. */
export function captionAgreement(seen: CaptionAttributes, said: CaptionAttributes): { checks: AgreementChecks; score: number } {
  const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((c) => b.includes(c));
  const checks: AgreementChecks = {
    balls: sameSet(seen.balls, said.balls),
    hidden: sameSet(seen.hidden, said.hidden),
    agent: seen.agentMotion === said.agentMotion,
    burger: seen.ateBurger === said.ateBurger,
    pan: seen.cameraPan === said.cameraPan,
  };
  return { checks, score: AGREEMENT_CHECKS.filter((k) => checks[k]).length / AGREEMENT_CHECKS.length };
}

/** Agreement of an RGB clip (T, H, W, 3) with a rich caption; throws for a caption the grammar did not write. */
export function scoreClip(rgb: Uint8Array, frames: number, height: number, width: number, caption: string, opts: DetectorOptions = {}): { checks: AgreementChecks; score: number; seen: CaptionAttributes } {
  const said = parseCaption(caption);
  if (!said) throw new NextframeError(`scoreClip: "${caption}" is not a caption of the video world's grammar (richCaption); expand a prompt first`);
  const seen = detectAttributes(readClip(rgb, frames, height, width, opts), opts);
  return { ...captionAgreement(seen, said), seen };
}

/**
 * Can a caption be checked from this clip's pixels at all? From the simulator's ground truth (per-object visible
 * pixels): every ball of the caption shows with ≥ 2 pixels in ≥ 2 frames, the agent in ≥ half the frames, including
 * the first and last two, standing on the floor there (not mid-jump), and the burger in every frame. At 32×32 a scripted ball can spend a whole 16-frame clip
 * behind the tree, and the agent can stand behind it: such captions say things no detector (and no viewer) can see.
 */
export function legibleClip(clip: Pick<VideoClip, "states" | "numFrames">): boolean {
  const T = clip.numFrames, objs = clip.states[0]!.objects;
  const vis = (i: number) => clip.states.map((s) => s.objects[i]!.visiblePixels);
  for (let i = 0; i < objs.length; i++) {
    const v = vis(i), kind = objs[i]!.kind;
    if (kind === "ball" && v.filter((n) => n >= 2).length < 2) return false;
    const ends = [0, 1, T - 2, T - 1];
    if (kind === "agent" && (v.filter((n) => n >= 2).length < T / 2 || ends.some((t) => v[t]! < 2))) return false;
    // mid-jump at either end: its floor position is not where it shows (its shadow is, at 32×32 a pixel or two)
    if (kind === "agent" && ends.some((t) => clip.states[t]!.objects[i]!.y > objs[i]!.radius + 0.02)) return false;
    if (kind === "burger" && v.some((n) => n < 1)) return false;
  }
  return true;
}

/** A caption that contradicts every checked attribute of `a` (other ball colours, another motion, the burger and the pan flipped): the detectors' negative control. */
export function contradictingCaption(a: CaptionAttributes): string {
  const others = BALL_COLORS.filter((c) => !a.balls.includes(c));
  const balls = others.slice(0, a.balls.length);
  const order: ClipAttributes["agentMotion"][] = ["left", "right", "away", "toward", "still"];
  return richCaption({
    balls, hidden: a.hidden.length ? [] : balls.slice(0, 1), agentMotion: order[(order.indexOf(a.agentMotion) + 2) % order.length]!,
    ateBurger: !a.ateBurger, bites: a.ateBurger ? 0 : 1, cameraPan: !a.cameraPan,
  });
}
