/**
 * Generates kernel/nextframe/API.md, the reference of every public name of `nextframe`: the exports of index.ts
 * and of each namespace it exports (nn, optim, …, models.gpt, …), one line each, from the TypeScript compiler's
 * view of the source and the first sentence of each name's doc comment. apiReference.test.ts fails when API.md
 * differs from what this generates.
 *
 *   node --import tsx kernel/nextframe/apiReference.ts          write API.md
 *   node --import tsx kernel/nextframe/apiReference.ts --check  exit 1 when API.md is stale
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const HERE = __dirname;
export const API_FILE = join(HERE, "API.md");

interface Entry { name: string; kind: string; doc: string }

function kindOf(s: ts.Symbol): string {
  const f = s.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Enum) return "enum";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  if (f & ts.SymbolFlags.Variable) return "const";
  if (f & ts.SymbolFlags.Module) return "namespace";
  return "other";
}

/** The first sentence of a doc comment's first paragraph, on one line (at most 200 characters). */
function firstSentence(text: string): string {
  const para = text.split(/\n\s*\n/)[0]!.replace(/\s+/g, " ").trim();
  const guarded = para.replace(/\b(e\.g|i\.e|etc|vs|al)\./g, (m) => m.replace(/\./g, "\ue000"));
  const m = /^(.+?[.!?])(\s|$)/.exec(guarded);
  const s = (m ? m[1]! : guarded).replace(/\ue000/g, ".");
  return s.length > 200 ? s.slice(0, 197).trimEnd() + "…" : s;
}

/** Doc text of a symbol: its own comment, else (a class) its constructor's. */
function docOf(checker: ts.TypeChecker, s: ts.Symbol): string {
  const doc = ts.displayPartsToString(s.getDocumentationComment(checker));
  if (doc.trim()) return firstSentence(doc);
  // a class without a class comment: its constructor's
  const decl = s.valueDeclaration;
  if (decl && ts.isClassDeclaration(decl)) {
    const ctor = decl.members.find(ts.isConstructorDeclaration);
    const sig = ctor && checker.getSignatureFromDeclaration(ctor);
    const text = sig ? ts.displayPartsToString(sig.getDocumentationComment(checker)) : "";
    if (text.trim()) return firstSentence(text);
  }
  return "";
}

function signatureOf(checker: ts.TypeChecker, s: ts.Symbol): string {
  const decl = s.valueDeclaration ?? s.declarations?.[0];
  if (!decl) return "";
  const type = checker.getTypeOfSymbolAtLocation(s, decl);
  const sig = type.getCallSignatures()[0];
  if (!sig) return "";
  return "(" + sig.getParameters().map((p) => {
    const d = p.valueDeclaration as ts.ParameterDeclaration | undefined;
    return (d?.dotDotDotToken ? "…" : "") + (p.name.startsWith("__") ? "opts" : p.name) + (d && (d.questionToken || d.initializer) ? "?" : "");
  }).join(", ") + ")";
}

function entriesOf(checker: ts.TypeChecker, module: ts.Symbol, prefix: string, sections: Map<string, Entry[]>): void {
  const list: Entry[] = [];
  sections.set(prefix || "(top level)", list);
  const nested: [string, ts.Symbol][] = [];
  for (const exp of checker.getExportsOfModule(module)) {
    const s = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    const name = prefix ? `${prefix}.${exp.name}` : exp.name;
    const kind = kindOf(s);
    if (kind === "namespace" && !(s.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Function))) {
      list.push({ name, kind, doc: `see ${name} below` });
      nested.push([name, s]);
      continue;
    }
    const sig = kind === "function" || (kind === "const" && signatureOf(checker, s)) ? signatureOf(checker, s) : "";
    list.push({ name: name + sig, kind, doc: docOf(checker, s) });
  }
  list.sort((a, b) => a.name.localeCompare(b.name, "en"));
  for (const [name, s] of nested.sort((a, b) => a[0].localeCompare(b[0], "en"))) entriesOf(checker, s, name, sections);
}

/** The text of API.md for the library as it is on disk now. */
export function generateApiReference(): string {
  const index = join(HERE, "index.ts");
  const program = ts.createProgram([index], {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true, types: ["node"], skipLibCheck: true, noEmit: true,
  });
  const checker = program.getTypeChecker();
  const root = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const sections = new Map<string, Entry[]>();
  entriesOf(checker, root, "", sections);
  const total = [...sections.values()].reduce((n, l) => n + l.filter((e) => e.kind !== "namespace").length, 0);
  const out = [
    "# nextframe API reference",
    "",
    "Every public name of `import { … } from \"nextframe\"`, one line each: the top level, then each namespace.",
    `Generated from kernel/nextframe/index.ts and the doc comments by kernel/nextframe/apiReference.ts (${total} names);`,
    "do not edit by hand: run `node --import tsx kernel/nextframe/apiReference.ts` after changing the public API.",
    "",
  ];
  for (const [section, list] of sections) {
    out.push(`## ${section === "(top level)" ? "Top level" : "`" + section + "`"}`, "");
    for (const e of list) out.push(`- \`${e.name}\` ${e.kind}${e.doc ? " — " + e.doc.replace(/\|/g, "\\|") : ""}`);
    out.push("");
  }
  return out.join("\n");
}

if (require.main === module) {
  const text = generateApiReference();
  if (process.argv.includes("--check")) {
    const now = readFileSync(API_FILE, "utf8");
    if (now !== text) { console.error("kernel/nextframe/API.md is stale: run node --import tsx kernel/nextframe/apiReference.ts"); process.exit(1); }
  } else {
    writeFileSync(API_FILE, text);
    console.log(`wrote ${API_FILE}`);
  }
}
