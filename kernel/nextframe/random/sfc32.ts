// The worlds' and the course's data generator: every world, dataset, split and training batch is a pure function of
// a seed. sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand) seeded through a splitmix32
// hash, so nearby seeds (1, 2, 3, ...) give unrelated streams; hashSeed derives named sub-seeds
// (hashSeed(seed, "val", i)). Math.random is never used in the library.

/** splitmix32 finaliser: a good 32-bit integer hash. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Combine a seed with more numbers or strings into a new 32-bit seed (e.g. hashSeed(seed, "val", i)). */
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

/** A seeded random stream for data (sfc32): the worlds, datasets and training batches draw from it. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const s = hashSeed(seed);
    this.a = mix32(s);
    this.b = mix32(s ^ 0x1234567);
    this.c = mix32(s ^ 0x89abcdef);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32(); // warm up
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int: n must be ≥ 1, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty array");
    return items[this.int(items.length)];
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }
}
