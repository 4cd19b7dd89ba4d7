/** Shared by the benchmarks: JSON-line output and median timing. */
export const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

/** Median wall seconds of `repeats` calls after `warmup` untimed ones. */
export async function timeIt(fn: () => Promise<unknown>, repeats: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}
