#!/usr/bin/env node
// Runs every *.test.ts beside the code (extension/, kernel/, media/, test/) with node's own test runner.
// Node 20's `--test` does not expand globs or load TypeScript, so we find the files here and let tsx load them.
// Usage: node test/run.mjs [substring-filter ...]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const roots = ["extension", "kernel", "media", "test"];
const skipDirs = new Set(["node_modules", "dist", ".cache"]);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.ts")) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2);
const chosen = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (chosen.length === 0) {
  console.error(`no test files matched ${JSON.stringify(filters)}`);
  process.exit(1);
}
// The allocator settings every nextframe process runs with (kernel/shared/environment.ts says why).
const allocatorEnv = JSON.parse(readFileSync(join(root, "kernel", "shared", "allocatorEnv.json"), "utf8"));
const env = { ...process.env, ...allocatorEnv };
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...chosen], {
  cwd: root, stdio: "inherit", env,
});
process.exit(r.status ?? 1);
