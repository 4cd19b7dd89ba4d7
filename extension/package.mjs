#!/usr/bin/env node
// `npm run package` (after `npm run build`): a platform-specific .vsix for this machine's platform, e.g.
// nextframe-0.1.0-linux-x64.vsix, with dist/ and the production node_modules the kernel loads at run time:
// tslab and its TypeScript fork (@tslab/typescript-for-tslab with its lib.*.d.ts), zeromq, onnxruntime-node
// with its native libraries, fast-png, js-tiktoken, onnx-proto and their dependencies.
//
// vsce collects the production dependency tree itself (it runs `npm list --production`); .vscodeignore drops
// sources, tests and docs, and this script adds the platform part: onnxruntime-node and zeromq ship prebuilt
// binaries for every OS and CPU (≈ 400 MB together), and a .vsix for one target needs only its own.
// Usage: node extension/package.mjs [--target linux-x64] [--out file.vsix]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

// VS Code's target names; musl Linux is "alpine-*".
const musl = process.platform === "linux" && !process.report?.getReport().header?.glibcVersionRuntime;
const target = opt("--target") ?? `${musl ? "alpine" : process.platform}-${process.arch}`;
const [os, arch] = target.replace(/^alpine/, "linux").split("-");
const out = resolve(opt("--out") ?? join(root, `${pkg.name}-${pkg.version}-${target}.vsix`));

for (const f of [pkg.main, "dist/kernel/main.js", "dist/nextframe/index.js"]) {
  if (!existsSync(join(root, f))) {
    console.error(`[package] ${f} is missing: run \`npm run build\` first (\`npm run package\` does)`);
    process.exit(1);
  }
}

const OSES = ["darwin", "linux", "win32"];
const ARCHES = ["x64", "arm64", "ia32", "arm"];
const drop = [];
// onnxruntime-node: bin/napi-v6/<os>/<arch>/ ; zeromq: build/<os>/<arch>/
for (const base of ["node_modules/onnxruntime-node/bin/napi-v*", "node_modules/zeromq/build"]) {
  for (const o of OSES) {
    if (o !== os) drop.push(`${base}/${o}/**`);
    else for (const a of ARCHES) if (a !== arch) drop.push(`${base}/${o}/${a}/**`);
  }
}
// zeromq's Linux builds come per libc; keep the one this target uses.
if (os === "linux") drop.push(`node_modules/zeromq/build/linux/${arch}/node/${musl || target.startsWith("alpine") ? "glibc" : "musl"}-*/**`);
// TypeScript (tslab's fork): the kernel loads lib/typescript.js and the lib.*.d.ts files, never the compiler
// CLI, tsserver or the translated diagnostic messages.
for (const f of ["tsc.js", "tsserver.js", "tsserverlibrary.js", "typingsInstaller.js", "watchGuard.js", "cancellationToken.js",
  "tsserverlibrary.d.ts", "{cs,de,es,fr,it,ja,ko,pl,pt-br,ru,tr,zh-cn,zh-tw}/**"]) {
  drop.push(`node_modules/@tslab/typescript-for-tslab/lib/${f}`);
}
// protobufjs's code generator CLI (onnx-proto only uses the runtime).
drop.push("node_modules/protobufjs/cli/**");

const ignoreDir = join(root, ".cache", "package");
mkdirSync(ignoreDir, { recursive: true });
const ignoreFile = join(ignoreDir, `vscodeignore-${target}`);
writeFileSync(ignoreFile, `${readFileSync(join(root, ".vscodeignore"), "utf8")}\n# platform ${target} (extension/package.mjs)\n${drop.join("\n")}\n`);

console.log(`[package] ${pkg.publisher}.${pkg.name} ${pkg.version} for ${target} -> ${out}`);
const vsce = join(root, "node_modules", ".bin", "vsce");
const r = spawnSync(vsce, [
  "package", "--target", target, "--ignoreFile", ignoreFile, "--out", out,
  // No repository or LICENSE file in this project yet; without these flags vsce stops to ask. Without a
  // repository vsce cannot rewrite README's relative image link; the screenshot ships in the .vsix instead.
  "--allow-missing-repository", "--skip-license", "--no-rewrite-relative-links",
], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
