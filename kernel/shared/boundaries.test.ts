// Import rules across the process and bundle boundaries (the library's own rules are in
// kernel/nextframe/imports.test.ts). What crosses a boundary — the kernel protocol and its client, the view payloads
// and MIME names, the colormap and chart layout, the library contract on globalThis, the allocator environment —
// lives in kernel/shared/, and each side imports only that from the others:
//   - the extension host (extension/) from kernel/ only kernel/shared/;
//   - the browser code (media/) from outside media/ only kernel/shared/, and no Node built-ins;
//   - the kernel process (kernel/process/) does not import the library (cells load it; both read the contract);
//   - nothing in kernel/ imports extension/;
//   - kernel/shared/ imports nothing outside itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { relativeImports } from "../../test/importGraph";

const ROOT = resolve(__dirname, "..", "..");
const rel = (p: string) => relative(ROOT, p).split(sep).join("/");

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Every import that breaks `rule` in the files under `dir`, as "file imports target". */
function offenders(dir: string, rule: (file: string, target: string) => boolean): string[] {
  const out: string[] = [];
  const files = tsFiles(join(ROOT, dir));
  assert.ok(files.length > 5, `read ${files.length} files under ${dir}`);
  for (const f of files) {
    for (const t of relativeImports(f)) if (!rule(rel(f), rel(t))) out.push(`${rel(f)} imports ${rel(t)}`);
  }
  return out;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(dir + "/");

test("the extension imports from kernel/ only the shared contracts", () => {
  assert.deepEqual(offenders("extension", (_f, t) => !under(t, "kernel") || under(t, "kernel/shared")), []);
});

test("the browser code imports from outside media/ only the shared contracts, and no Node built-ins", () => {
  assert.deepEqual(offenders("media", (_f, t) => under(t, "media") || under(t, "kernel/shared")), []);
  const node: string[] = [];
  for (const f of tsFiles(join(ROOT, "media"))) {
    if (/\bfrom\s*["'](node:|fs["']|path["']|child_process["'])/.test(readFileSync(f, "utf8"))) node.push(rel(f));
  }
  assert.deepEqual(node, [], "media/ files importing Node built-ins");
});

test("the kernel never imports the extension, and the kernel process never imports the library", () => {
  assert.deepEqual(offenders("kernel", (_f, t) => !under(t, "extension")), []);
  assert.deepEqual(offenders("kernel/process", (f, t) => f.endsWith(".test.ts") || !under(t, "kernel/nextframe")), []);
});

test("the shared contracts import nothing outside kernel/shared/", () => {
  assert.deepEqual(offenders("kernel/shared", (f, t) => f.endsWith(".test.ts") || under(t, "kernel/shared")), []);
});
