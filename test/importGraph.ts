// Reading a source file's imports, for the import-rule tests (kernel/nextframe/imports.test.ts for the library's
// folders, kernel/shared/boundaries.test.ts for the process and bundle boundaries).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** The files a source file imports by relative path (import/export … from, import("…"), import "…"), resolved. */
export function relativeImports(file: string, text = readFileSync(file, "utf8")): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, "")));
}

