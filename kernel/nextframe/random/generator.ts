/**
 * The library's generator: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/), seeded through splitmix32,
 * with 53-bit uniforms and Box–Muller normals, generated in JS so samples are the same on every device and every
 * run. `manualSeed(n)` resets the global generator, like torch.manual_seed. Tensors, initialisers, dropout, the
 * diffusion samplers and losses, and model seeds draw from it.
 */

/** A seeded random stream (torch.Generator): 32-bit integers, uniforms, normals, and whole arrays of them. */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;
  constructor(seed = 0) { this.seed(seed); }

  /** Resets the state from a seed (any number; non-integers are hashed via their float bits). */
  seed(seed: number): void {
    let x = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spare = null;
  }
  /** A new generator seeded from `seed` (does not advance this one). */
  fork(seed: number): Generator { return new Generator(seed); }
  /** Next 32 random bits. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }
  /** Standard normal (Box–Muller, caching the second sample). */
  normal(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Fills `out` with normals of the given mean and std. */
  fillNormal(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }
  /** Fills `out` with uniforms in [low, high). */
  fillUniform(out: { length: number; [i: number]: number }, low = 0, high = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
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

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }

let global = new Generator(0);
/** The process-wide generator used by randn/rand/randint and initialisers when no seed is given. */
export function globalGenerator(): Generator { return global; }
/** Reseeds the global generator (deterministic from here on). */
export function manualSeed(seed: number): void { global = new Generator(seed); }
