/**
 * The library's one random generator. Every random number nextframe draws — the worlds' clips and episodes, datasets
 * and training batches, tensors (randn, rand, randint), initialisers, dropout, the diffusion samplers' and losses'
 * noise — comes from a `Generator` and a seed; Math.random is never used.
 *
 * The algorithm is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand): four 32-bit words,
 * only adds, shifts and xors, so it is fast in JavaScript and gives the same numbers on every machine; it passes
 * PractRand and BigCrush, and its counter word guarantees a period of at least 2^32 from any seed. A seed goes
 * through a splitmix32 hash (hashSeed) first, so nearby seeds (1, 2, 3, ...) give unrelated streams, and named
 * sub-seeds (hashSeed(seed, "val", i)) give a split or a clip its own stream without drawing from anyone else's.
 * Uniforms carry 32 random bits (more than a float32 holds); normals come from Box–Muller, two per pair of uniforms.
 *
 * (Until this was one class, tensors drew from xoshiro128** and the worlds from sfc32; the course's checkpoints were
 * retrained when the tensors' stream moved to sfc32, so the shipped weights are what `npm run train` gives today.)
 */
import { NextframeError } from "./errors.js";

/** splitmix32's finaliser: a good 32-bit integer hash. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Combines a seed with more numbers or strings into a new 32-bit seed, e.g. hashSeed(seed, "val", i). */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    if (typeof p === "number") {
      h = mix32(h ^ mix32(p >>> 0) ^ mix32(Math.floor(p / 2 ** 32)));
    } else {
      for (let i = 0; i < p.length; i++) h = mix32(h ^ p.charCodeAt(i));
      h = mix32(h ^ 0xfeed);
    }
  }
  return h >>> 0;
}

/** A seeded random stream (torch.Generator): 32-bit integers, uniforms, normals, choices and whole arrays of them. */
export class Generator {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spare: number | null = null;

  /** `seed`: any finite number (its integer part; up to 2^53 apart seeds differ). */
  constructor(seed = 0) { this.seed(seed); }

  /** Resets the state from a seed, as a new Generator(seed) would start. */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new NextframeError(`Generator: the seed must be a finite number, got ${seed}`);
    const s = hashSeed(Math.trunc(seed));
    this.a = mix32(s) | 0;
    this.b = mix32(s ^ 0x1234567) | 0;
    this.c = mix32(s ^ 0x89abcdef) | 0;
    this.d = 1;
    this.spare = null;
    for (let i = 0; i < 12; i++) this.nextU32(); // warm up
  }
  /** A new generator seeded from `seed` (does not advance this one). */
  fork(seed: number): Generator { return new Generator(seed); }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [low, high) (default [0, 1)), from 32 random bits. */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * (this.nextU32() / 4294967296);
  }
  /** Standard normal (Box–Muller; the pair's second sample is kept for the next call). */
  normal(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new NextframeError(`Generator.int: n must be a number ≥ 1, got ${n}`);
    return Math.floor(this.uniform() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean { return this.uniform() < p; }
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new NextframeError("Generator.pick: expected a non-empty array, got an empty one");
    return items[this.int(items.length)]!;
  }
  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
  /** Fills `out` with normals of the given mean and std. */
  fillNormal(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }
  /** Fills `out` with uniforms in [low, high). */
  fillUniform(out: { length: number; [i: number]: number }, low = 0, high = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
  }
  /** A new Float32Array of `n` standard normals (the same numbers as `n` calls of normal()). */
  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    this.fillNormal(out);
    return out;
  }
  /** `n` integers uniform in [low, high). */
  randint(low: number, high: number, n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + Math.floor(this.uniform() * (high - low));
    return out;
  }
  /** A 31-bit integer seed for in-graph random ops. */
  nextSeed(): number { return this.nextU32() >>> 1; }
}

let global = new Generator(0);
/** The process-wide generator used by randn/rand/randint and initialisers when no seed is given. */
export function globalGenerator(): Generator { return global; }
/** Reseeds the global generator (deterministic from here on), like torch.manual_seed. */
export function manualSeed(seed: number): void { global = new Generator(seed); }
