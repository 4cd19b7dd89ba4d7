// Import rules over the source tree, read from the import statements of every .ts file:
//   1. no cycles between the library's folders (kernel/nextframe/engine, nn, optim, …): each folder builds only on
//      folders below it, so any one can be read, tested and changed without the ones above it;
//   2. the course (kernel/nextframe/course/) serves the chapters; the library never imports it. Only the public
//      entry point (index.ts, which exports it as the `course` namespace), the course itself, tests, the training
//      scripts (kernel/train), the PyTorch twin's tests (kernel/torch) and benchmarks (test/bench) may.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { relativeImports } from "../../test/importGraph";

const ROOT = resolve(__dirname, "..", "..");
const LIB = join(ROOT, "kernel", "nextframe");
const COURSE = join(LIB, "course");

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** kernel/nextframe's folder a path lies in ("engine", "nn", …), or null for the root files and paths outside. */
function libFolder(p: string): string | null {
  const rel = relative(LIB, p);
  if (rel.startsWith("..") || !rel.includes(sep)) return null;
  return rel.split(sep)[0]!;
}

/** Cycles in a directed graph, each as its path of nodes (first node repeated at the end). */
export function findCycles(edges: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [], state = new Map<string, "open" | "done">(), stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, "open");
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === "open") cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test("findCycles finds a cycle and only cycles", () => {
  const g = (pairs: [string, string][]) => {
    const m = new Map<string, Set<string>>();
    for (const [a, b] of pairs) { if (!m.has(a)) m.set(a, new Set()); m.get(a)!.add(b); }
    return m;
  };
  assert.deepEqual(findCycles(g([["a", "b"], ["b", "c"], ["a", "c"]])), []);
  assert.deepEqual(findCycles(g([["a", "b"], ["b", "c"], ["c", "a"]])), [["a", "b", "c", "a"]]);
  assert.deepEqual(relativeImports(join(LIB, "x", "f.ts"), `import { a } from "../engine/index.js";\n// import { b } from "../nn";\nexport * from "./y";\nconst m = await import("../io/safetensors");`),
    [join(LIB, "engine", "index"), join(LIB, "x", "y"), join(LIB, "io", "safetensors")]);
});

test("the library's folders import each other without cycles (tests excluded)", () => {
  const edges = new Map<string, Set<string>>(), why = new Map<string, string>();
  for (const f of tsFiles(LIB).filter((f) => !f.endsWith(".test.ts"))) {
    const from = libFolder(f);
    if (from === null) continue;
    for (const target of relativeImports(f)) {
      const to = libFolder(target);
      if (to === null || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      if (!why.has(`${from}>${to}`)) why.set(`${from}>${to}`, relative(ROOT, f));
    }
  }
  assert.ok(edges.size >= 8, `read the imports of ${edges.size} folders`);
  const cycles = findCycles(edges);
  assert.deepEqual(cycles.map((c) => c.map((n, i) => (i + 1 < c.length ? `${n} (${why.get(`${n}>${c[i + 1]}`)})` : n)).join(" → ")), [],
    "folder cycles in kernel/nextframe");
});

test("only the public entry point, the course itself, tests, kernel/train, kernel/torch and test/bench import kernel/nextframe/course/", () => {
  const allowed = (f: string): boolean => f === join(LIB, "index.ts") || f.startsWith(COURSE + sep) || f.endsWith(".test.ts") ||
    ["kernel/train/", "kernel/torch/", "test/bench/"].some((d) => relative(ROOT, f).split(sep).join("/").startsWith(d));
  const offenders: string[] = [];
  let checked = 0;
  for (const dir of ["extension", "kernel", "media", "test"]) {
    for (const f of tsFiles(join(ROOT, dir))) {
      checked++;
      if (allowed(f)) continue;
      for (const target of relativeImports(f)) {
        if (target === COURSE || target.startsWith(COURSE + sep)) offenders.push(`${relative(ROOT, f)} imports ${relative(ROOT, target)}`);
      }
    }
  }
  assert.ok(checked > 100, `read ${checked} files`);
  assert.deepEqual(offenders, []);
});
