#!/usr/bin/env node
// `npm start`: install what is missing, build, and open a working copy of the course in VS Code with the nextframe
// extension loaded. The working copy (.cache/course/, ignored by git; --course-dir DIR picks another folder) is made
// from notebooks/ on first run and brought up to date on every start: chapters the learner has not edited get the
// course's new version (after a git pull), edited ones are kept (the command "nextframe: Reset Chapter" restores
// one). The repository's notebooks/ are never written, so they stay clean and pull without conflicts.
//   - If a `code` command is on PATH: VS Code desktop with --extensionDevelopmentPath=<this project>.
//   - Otherwise VS Code in the browser: code-server, installed on first use into .cache/code-server/ (ignored by
//     git, not a dependency of package.json), started on 127.0.0.1, and the URL to open is printed. It stays in
//     the foreground until Ctrl-C, then stops code-server and everything it started (kernels included).
// Options: --port N (default $PORT or 8080, the next free one if taken), --browser (use code-server even when
// `code` is on PATH), --course-dir DIR (the working copy's folder). Runs as plain Node (no TypeScript loader)
// because node_modules may not exist yet.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve, delimiter } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const args = process.argv.slice(2);
const courseDir = resolve(args.includes("--course-dir") ? args[args.indexOf("--course-dir") + 1] : join(root, ".cache", "course"));
const portArg = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : Number(process.env.PORT || 8080);
const forceBrowser = args.includes("--browser");

/** @param {string} msg */
function say(msg) {
  process.stdout.write(`[nextframe] ${msg}\n`);
}

/** @param {string} cmd @param {string[]} argv @param {import("node:child_process").SpawnSyncOptions} [opts] */
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit", ...opts });
  if (r.status !== 0) {
    console.error(`[nextframe] \`${cmd} ${argv.join(" ")}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** @param {string} name */
function onPath(name) {
  return (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, name)));
}

// 1. Dependencies: `npm ci` when node_modules is missing or older than package-lock.json.
const lock = join(root, "package-lock.json");
const installed = join(root, "node_modules", ".package-lock.json");
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  say("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

// 2. Build the extension, the kernel process, the `nextframe` library and the renderer (esbuild: seconds).
say("building (npm run build)");
run("npm", ["run", "--silent", "build"]);

// 3. The working copy of the course (courseCopy.ts, loaded through tsx: a devDependency, installed by step 1).
const { tsImport } = await import("tsx/esm/api");
const { nodeCourseFs, syncWorkingCopy } = await tsImport("./courseCopy.ts", import.meta.url);
const synced = await syncWorkingCopy(nodeCourseFs(), join(root, "notebooks"), courseDir);
const names = (/** @type {string[]} */ l) => l.filter((f) => !f.startsWith("checkpoints/")).join(", ") || `${l.length} checkpoint files`;
if (synced.copied.length) say(`copied the course into ${courseDir} (${names(synced.copied)})`);
if (synced.updated.length) say(`updated from the course: ${names(synced.updated)}`);
if (synced.kept.length) {
  say(`kept your edited ${names(synced.kept)}; the course has a newer version — "nextframe: Reset Chapter" restores one`);
}
const notebooks = courseDir;

// 4a. VS Code desktop.
if (onPath("code") && !forceBrowser) {
  say(`opening ${notebooks} in VS Code with the extension from ${root}`);
  run("code", [`--extensionDevelopmentPath=${root}`, "--new-window", "--wait", notebooks]);
  process.exit(0);
}

// 4b. VS Code in the browser (code-server).
const cs = await import("../test/e2e/codeServer.mjs");
cs.ensureCodeServer({ allowApt: true });
const stateDir = join(root, ".cache", "code-server-state");
const settingsFile = join(stateDir, "user-data", "User", "settings.json");
mkdirSync(join(stateDir, "user-data", "User"), { recursive: true });
// Defaults that make the course ready to run; a person's own values for these keys win.
const defaults = {
  // The folder is this checkout, started by its owner: no trust prompt (the kernel refuses untrusted folders).
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "readme",
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "workbench.enableExperiments": false,
};
if (!existsSync(settingsFile)) {
  writeFileSync(settingsFile, JSON.stringify(defaults, null, 2) + "\n");
} else {
  try {
    const mine = JSON.parse(readFileSync(settingsFile, "utf8"));
    writeFileSync(settingsFile, JSON.stringify({ ...defaults, ...mine }, null, 2) + "\n");
  } catch {
    // Edited by hand (comments are allowed there): leave it exactly as it is.
  }
}

const port = await firstFreePort(portArg);
const server = await cs.startCodeServer({ folder: notebooks, stateDir, port, quiet: true });

let stopping = false;
async function stop(/** @type {number} */ code) {
  if (stopping) return;
  stopping = true;
  say("stopping code-server");
  await server.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGHUP", () => void stop(0));
server.child.on("exit", (code, sig) => {
  if (stopping) return;
  console.error(`[nextframe] code-server exited (${code ?? sig}); its last output:\n${server.output.slice(-3000)}`);
  process.exit(1);
});

const url = `${server.url}?folder=${encodeURI(notebooks)}`;
say("");
say(`VS Code is running in the browser. Open:  ${url}`);
say(`(on a remote machine: ssh -L ${server.port}:127.0.0.1:${server.port} <host>, then open the URL locally)`);
say("Open a notebook, pick the kernel \"TypeScript (nextframe)\" if asked, and run its cells. Ctrl-C stops.");
say(`code-server log: ${join(stateDir, "user-data", "logs")}`);

/** @param {number} from @returns {Promise<number>} */
async function firstFreePort(from) {
  for (let p = from; p < from + 50; p++) {
    const free = await new Promise((ok) => {
      const s = createServer();
      s.once("error", () => ok(false));
      s.listen(p, "127.0.0.1", () => s.close(() => ok(true)));
    });
    if (free) return p;
  }
  return cs.freePort();
}
// Keep the event loop alive while code-server runs (its pipes already do; this is belt and braces).
setInterval(() => {}, 1 << 30);
