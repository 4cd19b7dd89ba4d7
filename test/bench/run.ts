/**
 * Benchmark dispatcher: `npm run bench -- <name>` imports test/bench/<name>.bench.ts and calls main();
 * with no name, runs every *.bench.ts here. Each bench prints one JSON object per line.
 * Re-executes itself with the allocator settings of kernel/shared/environment.ts when they are missing (fresh memory
 * is expensive).
 */
import { reexecWithAllocatorEnv } from "../../kernel/shared/environment";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = typeof __dirname !== "undefined" ? __dirname : dirname(fileURLToPath(import.meta.url));

async function run(): Promise<void> {
  reexecWithAllocatorEnv();
  const names = process.argv.slice(2);
  const all = readdirSync(here).filter((f) => f.endsWith(".bench.ts")).map((f) => f.replace(/\.bench\.ts$/, "")).sort();
  const chosen = names.length ? names : all;
  for (const name of chosen) {
    if (!all.includes(name)) {
      console.error(`bench: no test/bench/${name}.bench.ts (have: ${all.join(", ")})`);
      process.exitCode = 1;
      continue;
    }
    const mod = await import(pathToFileURL(join(here, `${name}.bench.ts`)).href);
    const main = mod.main ?? mod.default?.main;
    if (typeof main !== "function") throw new Error(`bench: ${name}.bench.ts does not export main()`);
    await main();
  }
}

run().catch((e) => { console.error(e); process.exit(1); });
