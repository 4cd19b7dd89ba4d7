/**
 * Two hooks into tslab's TypeScript (the `@tslab/typescript-for-tslab` fork its converter uses). Both must be
 * installed before tslab's converter module is loaded; loadConverter() does that.
 *
 * 1. Source maps. tslab compiles a cell in two stages: a watch program emits ES modules (with its custom
 *    transformers), then `ts.transpileModule` turns them into CommonJS. Neither stage has a source map, so a
 *    runtime error's line is a line of generated JavaScript. TypeScript's exports are non-configurable
 *    getters, so we cannot patch them in place; instead we put a wrapper object into the require cache,
 *    which tslab's `__importStar(require(...))` then copies. The wrapper turns on an inline map in stage 1
 *    and a map in stage 2 and keeps both of the last conversion (the cell's own output is always the last
 *    transpile of a convert() call: side files are transpiled inside emit, the cell after it).
 *
 * 2. `import ... from "nextframe"` from a notebook in any folder. tslab resolves modules with TypeScript's
 *    node10 resolution from process.cwd() (the notebook's folder) and the executor requires from there too.
 *    We write a tiny package `<cache>/node_modules/nextframe/package.json` whose main/types point at the built
 *    library, add `<cache>/node_modules` to NODE_PATH for the runtime, and make TypeScript see
 *    `<cwd>/node_modules/nextframe` as that package when the folder has no real one — the same trick tslab
 *    itself uses to make `import "tslab"` work without a node_modules folder (converter.ts forwardTslabPath).
 */
import Module from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { awaitGateTransformer } from "./awaitGate";

type Ts = typeof import("@tslab/typescript-for-tslab");
type Converter = typeof import("tslab/dist/converter");

export interface RawSourceMap { version: number; sources: string[]; mappings: string; names: string[] }

/** The two maps of the last conversion: final CommonJS → stage-1 JavaScript → the cell (with tslab's prefix). */
export interface CellMaps { stage1: RawSourceMap | null; stage2: RawSourceMap }

let lastMaps: CellMaps | null = null;

/** Take (and forget) the source maps of the last converted cell. */
export function takeLastMaps(): CellMaps | null {
  const m = lastMaps;
  lastMaps = null;
  return m;
}

const inlineMapRe = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

function tslabDir(): string {
  return path.dirname(require.resolve("tslab/package.json"));
}

let converterModule: Converter | null = null;

/** Load tslab's converter with our TypeScript wrapper in place. Idempotent. */
export function loadConverter(): Converter {
  if (converterModule) return converterModule;
  const tsPath = require.resolve("@tslab/typescript-for-tslab", { paths: [path.join(tslabDir(), "dist")] });
  const ts = require(tsPath) as Ts;
  const wrapper: Record<string, unknown> = {};
  const overridden = new Set(["createWatchCompilerHost", "transpileModule"]);
  for (const k of Object.keys(ts)) {
    if (!overridden.has(k)) Object.defineProperty(wrapper, k, { get: () => (ts as Record<string, unknown>)[k], enumerable: true });
  }
  wrapper.createWatchCompilerHost = (files: string[], options: import("@tslab/typescript-for-tslab").CompilerOptions, ...rest: unknown[]) => {
    const host = (ts.createWatchCompilerHost as unknown as (...a: unknown[]) => Record<string, unknown>)(files, { ...options, inlineSourceMap: true }, ...rest);
    addShorthandTransformer(ts, host, options.rootDir);
    return host;
  };
  wrapper.transpileModule = (input: string, opts: import("@tslab/typescript-for-tslab").TranspileOptions) => {
    // tslab calls transpileModule only for its ES module → CommonJS step, with fileName "custom.js".
    if (opts.fileName !== "custom.js") return ts.transpileModule(input, opts);
    const m = inlineMapRe.exec(input);
    const stage1 = m ? (JSON.parse(Buffer.from(m[1], "base64").toString("utf8")) as RawSourceMap) : null;
    if (m) input = input.slice(0, m.index) + "\n";
    const r = ts.transpileModule(input, { ...opts, compilerOptions: { ...opts.compilerOptions, sourceMap: true } });
    lastMaps = { stage1, stage2: JSON.parse(r.sourceMapText ?? "null") as RawSourceMap };
    return { ...r, outputText: r.outputText.replace(/\n\/\/# sourceMappingURL=[^\n]*\s*$/, "\n") };
  };
  const cached = require.cache[tsPath];
  if (!cached) throw new Error(`internal: ${tsPath} is not in the require cache after require()`);
  cached.exports = wrapper;
  converterModule = require(path.join(tslabDir(), "dist", "converter.js")) as Converter;
  return converterModule;
}

// ##### shorthand properties naming earlier cells' variables #################################################

type BuilderProgram = import("@tslab/typescript-for-tslab").EmitAndSemanticDiagnosticsBuilderProgram;
type CustomTransformers = import("@tslab/typescript-for-tslab").CustomTransformers;

/**
 * tslab rewrites a reference to a variable of an earlier cell (declared in its `__prev__.d.ts`) to
 * `exports.name` in an `after` transformer that asks the checker for each identifier's symbol. The name of a
 * shorthand property (`{ data }`, or `({ data } = o)` as an assignment target) resolves to the *property*
 * symbol, declared in the cell itself, so tslab leaves it alone and the cell throws "data is not defined".
 * We add a `before` transformer to every emit that expands such a shorthand into `data: exports.data`
 * (`data: exports.data = init` with a default), asking the checker for the shorthand's value symbol.
 * tslab hands its builder program to `host.afterProgramCreate`, which it assigns after we return the host;
 * an accessor on the host wraps whatever it assigns.
 */
function addShorthandTransformer(ts: Ts, host: Record<string, unknown>, rootDir: string | undefined): void {
  if (!rootDir) throw new Error("internal: tslab's compiler options have no rootDir (expected the kernel's cwd)");
  const declFilename = path.join(rootDir, "__prev__.d.ts").split(path.sep).join("/");
  let assigned: ((b: BuilderProgram) => void) | undefined;
  Object.defineProperty(host, "afterProgramCreate", {
    configurable: true,
    enumerable: true,
    get: () => assigned && ((b: BuilderProgram) => { patchEmit(b); assigned!(b); }),
    set: (fn: (b: BuilderProgram) => void) => { assigned = fn; },
  });
  function patchEmit(b: BuilderProgram): void {
    const emit = b.emit.bind(b);
    b.emit = (sf, write, cancel, onlyDts, transformers?: CustomTransformers) => {
      const program = b.getProgram();
      const declsFile = program.getSourceFile(declFilename);
      // awaitGate.ts: an interrupted cell's awaits never resume
      const gate = awaitGateTransformer(ts, (f) => f.isDeclarationFile);
      if (!declsFile) return emit(sf, write, cancel, onlyDts, { ...transformers, before: [gate, ...(transformers?.before ?? [])] });
      const before = shorthandToExports(ts, program.getTypeChecker(), declsFile);
      return emit(sf, write, cancel, onlyDts, { ...transformers, before: [before, gate, ...(transformers?.before ?? [])] });
    };
  }
}

function shorthandToExports(
  ts: Ts,
  checker: import("@tslab/typescript-for-tslab").TypeChecker,
  declsFile: import("@tslab/typescript-for-tslab").SourceFile,
): import("@tslab/typescript-for-tslab").TransformerFactory<import("@tslab/typescript-for-tslab").SourceFile> {
  type Node = import("@tslab/typescript-for-tslab").Node;
  return (context) => {
    const f = context.factory;
    const fromEarlierCell = (node: import("@tslab/typescript-for-tslab").ShorthandPropertyAssignment): boolean => {
      const symbol = checker.getShorthandAssignmentValueSymbol(node);
      return !!symbol?.declarations?.some((d) => d.getSourceFile() === declsFile);
    };
    const visit = (node: Node): Node => {
      if (ts.isShorthandPropertyAssignment(node) && fromEarlierCell(node)) {
        const name = node.name.text;
        let value: import("@tslab/typescript-for-tslab").Expression = f.createPropertyAccessExpression(f.createIdentifier("exports"), name);
        if (node.objectAssignmentInitializer) {
          const init = ts.visitNode(node.objectAssignmentInitializer, visit) as import("@tslab/typescript-for-tslab").Expression;
          value = f.createAssignment(value, init);
        }
        return ts.setTextRange(ts.setOriginalNode(f.createPropertyAssignment(f.createIdentifier(name), value), node), node);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (sf) => (sf.fileName === declsFile.fileName ? sf : (ts.visitNode(sf, visit) as typeof sf));
  };
}

// ##### nextframe resolution #################################################################################

export interface LibraryLocation {
  /** dist/nextframe/index.js */
  main: string;
  /** dist/nextframe/types/nextframe/index.d.ts (beside it types/shared/: the contracts the library imports) */
  types: string;
}

/**
 * Make `nextframe` importable (runtime and types) from cells whose cwd is `cwd`. Returns the private
 * package folder (…/node_modules/nextframe) or null when the library is not built.
 */
export function provideNextframe(lib: LibraryLocation, cwd: string, log: (s: string) => void): string | null {
  if (!fs.existsSync(lib.main)) {
    log(`nextframe library not found at ${lib.main} (run npm run build); import "nextframe" will fail`);
    return null;
  }
  const pkgJson = JSON.stringify({ name: "nextframe", version: "0.0.0-kernel", main: lib.main, types: lib.types }, null, 2);
  const key = createHash("sha1").update(lib.main).digest("hex").slice(0, 12);
  const bases = [
    process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"),
    os.tmpdir(),
  ];
  let pkgDir: string | null = null;
  for (const base of bases) {
    const dir = path.join(base, "nextframe", "kernel-" + key, "node_modules", "nextframe");
    try {
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, "package.json");
      if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== pkgJson) fs.writeFileSync(file, pkgJson);
      pkgDir = dir;
      break;
    } catch (e) {
      log(`cannot write ${dir}: ${(e as Error).message}`);
    }
  }
  if (!pkgDir) return null;
  // Runtime: NODE_PATH is consulted after every node_modules folder above cwd, so a workspace's own
  // packages (and its own nextframe, if any) win.
  const nodeModules = path.dirname(pkgDir);
  process.env.NODE_PATH = [nodeModules, ...(process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean)].join(path.delimiter);
  (Module as unknown as { _initPaths(): void })._initPaths();
  forwardTypeScriptPaths(path.join(cwd, "node_modules", "nextframe"), pkgDir);
  log(`nextframe → ${lib.main} (types ${lib.types}) via ${pkgDir}`);
  return pkgDir;
}

/** Make TypeScript's file system show `virtualDir` as `realDir` unless `virtualDir` really exists. */
function forwardTypeScriptPaths(virtualDir: string, realDir: string): void {
  if (fs.existsSync(virtualDir)) return;
  const tsPath = require.resolve("@tslab/typescript-for-tslab", { paths: [path.join(tslabDir(), "dist")] });
  const sys = (require(tsPath) as Ts).sys;
  const fwd = (p: string) => {
    const rel = path.relative(virtualDir, p);
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel)) ? path.join(realDir, rel) : p;
  };
  const { fileExists, readFile, directoryExists, realpath, getDirectories } = sys;
  sys.fileExists = (p) => fileExists.call(sys, fwd(p));
  sys.readFile = (p, enc) => readFile.call(sys, fwd(p), enc);
  sys.directoryExists = (p) => directoryExists.call(sys, fwd(p)) || path.join(virtualDir, "..") === p;
  sys.getDirectories = (p) => getDirectories.call(sys, fwd(p));
  if (realpath) sys.realpath = (p) => (fwd(p) !== p ? p : realpath.call(sys, p));
}

// ##### `export` in cells #####################################################################################

/**
 * tslab exports every top-level name of a cell itself (it appends `export { a, b }`), so a cell's own
 * `export const a = 1` clashes with that ("Cannot redeclare exported variable 'a'"). Every name is shared
 * between cells anyway, so the keyword adds nothing: blank it out (same length, so diagnostics and stack
 * trace columns still point into the cell as written) on top-level declarations. `export default` and
 * `export { … }` are left as written.
 */
export function blankTopLevelExports(code: string): string {
  const tsPath = require.resolve("@tslab/typescript-for-tslab", { paths: [path.join(tslabDir(), "dist")] });
  const ts = require(tsPath) as Ts;
  if (!/\bexport\b/.test(code)) return code;
  const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const cuts: [number, number][] = [];
  for (const stmt of sf.statements) {
    if (!ts.canHaveModifiers(stmt)) continue;
    const mods = ts.getModifiers(stmt) ?? [];
    if (mods.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) continue;
    for (const m of mods) if (m.kind === ts.SyntaxKind.ExportKeyword) cuts.push([m.getStart(sf), m.getEnd()]);
  }
  let out = code;
  for (const [a, b] of cuts.reverse()) out = out.slice(0, a) + " ".repeat(b - a) + out.slice(b);
  return out;
}
