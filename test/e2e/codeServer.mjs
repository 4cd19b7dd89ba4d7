// code-server (VS Code in the browser): install on first use into an ignored cache folder, then start it with
// the nextframe extension loaded. Shared by `npm start` (extension/start.mjs) and the end-to-end tests, so it is
// plain ESM JavaScript with JSDoc (start.mjs runs before any TypeScript loader is installed); types live in
// codeServer.d.mts.
//
// Facts this module relies on (measured on Debian 12, Node 20, npm 11, offline except the npm registry):
// - code-server 4.100.3 is the last release that runs on Node 20; it embeds VS Code 1.100.3 with the built-in
//   ipynb notebook support.
// - Its install builds native modules (node-pty, kerberos, @vscode/spdlog, ...) with node-gyp against the local
//   Node headers: Debian build-essential python3 pkg-config libkrb5-dev libsecret-1-dev libxkbfile-dev
//   libx11-dev; npm_config_nodedir=/usr so node-gyp does not download headers; npm_config_yes=true because
//   node-pty's install script runs `npx node-gyp`; npm_config_unsafe_perm=true because we run as root.
// - npm here runs install scripts only where package.json's "allowScripts" allows it, so the cache folder's
//   package.json allows code-server's.
// - @vscode/ripgrep 1.15.11 downloads a ripgrep release from GitHub on install. It first looks in
//   $TMPDIR/vscode-ripgrep-cache-1.15.11/, so we put Debian's `rg` there in an archive of the expected name.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, renameSync, lstatSync, readlinkSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";

export const CODE_SERVER_VERSION = "4.100.3";
/** The VS Code version code-server 4.100.3 embeds. */
export const VSCODE_VERSION = "1.100.3";
const RIPGREP_PACKAGE_VERSION = "1.15.11";
const RIPGREP_ARCHIVE = "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz";

/** Debian packages the code-server install needs (native module builds, ripgrep). */
export const DEBIAN_BUILD_PACKAGES = ["build-essential", "python3", "pkg-config", "libkrb5-dev", "libsecret-1-dev", "libxkbfile-dev", "libx11-dev", "ripgrep"];

export const projectRoot = resolve(new URL("../..", import.meta.url).pathname);
export const cacheDir = join(projectRoot, ".cache", "code-server");

/** @param {string} msg */
function log(msg) {
  process.stderr.write(`[code-server] ${msg}\n`);
}

/** Debian packages from DEBIAN_BUILD_PACKAGES that dpkg does not report as installed. */
export function missingDebianPackages(packages = DEBIAN_BUILD_PACKAGES) {
  return packages.filter((p) => spawnSync("dpkg", ["-s", p], { stdio: "ignore" }).status !== 0);
}

/**
 * Installs missing Debian build packages with apt-get when running as root; otherwise throws with the command
 * to run.
 * @param {{ allowApt?: boolean }} [opts]
 */
export function ensureDebianPackages(opts = {}) {
  if (spawnSync("dpkg", ["--version"], { stdio: "ignore" }).status !== 0) return; // not Debian: let npm try
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (!opts.allowApt || process.getuid?.() !== 0) {
    throw new Error(`code-server install: Debian packages missing: ${missing.join(", ")}. Install them as root: ${cmd}`);
  }
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...missing]]) {
    const r = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} exited with ${r.status}`);
  }
}

/** Path of the code-server launcher inside the cache, whether installed or not. */
export function codeServerBin() {
  return join(cacheDir, "node_modules", "code-server", "out", "node", "entry.js");
}

function installedVersion() {
  try {
    const pkg = JSON.parse(readFileSync(join(cacheDir, "node_modules", "code-server", "package.json"), "utf8"));
    // The postinstall builds lib/vscode's own node_modules; a missing marker means it did not finish.
    if (!existsSync(join(cacheDir, ".installed"))) return undefined;
    return pkg.version;
  } catch {
    return undefined;
  }
}

/**
 * Installs code-server CODE_SERVER_VERSION into .cache/code-server/ unless it is already there. The install goes
 * into a temporary sibling folder that is renamed into place when complete, so an interrupted install never
 * leaves a half-installed cache that looks usable.
 * @param {{ allowApt?: boolean }} [opts]
 * @returns {string} the path of code-server's entry script (run it with `node`)
 */
export function ensureCodeServer(opts = {}) {
  if (installedVersion() === CODE_SERVER_VERSION) return codeServerBin();
  ensureDebianPackages(opts);
  const parent = join(projectRoot, ".cache");
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(join(parent, "code-server-install-"));
  const rgTmp = mkdtempSync(join(tmpdir(), "nextframe-rg-"));
  try {
    // Seed @vscode/ripgrep's download cache with Debian's rg so its install needs no GitHub.
    const rgCache = join(rgTmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
    mkdirSync(rgCache);
    const rg = execFileSync("sh", ["-c", "command -v rg"], { encoding: "utf8" }).trim();
    if (!rg) throw new Error("code-server install: `rg` (Debian package ripgrep) is not on PATH");
    execFileSync("tar", ["-czf", join(rgCache, RIPGREP_ARCHIVE), "-C", resolve(rg, ".."), "rg"]);

    writeFileSync(join(staging, "package.json"), JSON.stringify({
      name: "nextframe-code-server-cache",
      private: true,
      description: "VS Code in the browser for `npm start` and the end-to-end tests; installed by test/e2e/codeServer.mjs",
      dependencies: { "code-server": CODE_SERVER_VERSION },
      allowScripts: { "code-server": true },
    }, null, 2) + "\n");
    log(`installing code-server ${CODE_SERVER_VERSION} into ${cacheDir} (first use only, about 2 minutes, 300 MB)`);
    // Start from an environment without npm_* variables: under `npm test` or `npm start` the enclosing npm
    // passes its own configuration down (npm_config_allow_scripts= among it, which would veto the install
    // scripts this folder's package.json allows) and describes the project's package, not this one.
    /** @type {NodeJS.ProcessEnv} */
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    Object.assign(env, {
      TMPDIR: rgTmp,
      npm_config_unsafe_perm: "true",
      npm_config_nodedir: "/usr",
      npm_config_yes: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    });
    const r = spawnSync("npm", ["install", "--no-save", "--loglevel=error"], { cwd: staging, stdio: ["ignore", "inherit", "inherit"], env });
    if (r.status !== 0) throw new Error(`code-server install: npm install exited with ${r.status} (in ${staging})`);
    // code-server's postinstall installs VS Code's own node_modules (native node-pty, ripgrep): check its fruits.
    const cs = join(staging, "node_modules", "code-server");
    for (const f of ["out/node/entry.js", "lib/vscode/node_modules/node-pty/build/Release/pty.node", "lib/vscode/node_modules/@vscode/ripgrep/bin/rg"]) {
      if (!existsSync(join(cs, f))) throw new Error(`code-server install: ${f} missing after npm install (did its install scripts run?)`);
    }
    writeFileSync(join(staging, ".installed"), `${CODE_SERVER_VERSION}\n`);
    rmSync(cacheDir, { recursive: true, force: true });
    renameSync(staging, cacheDir);
    log("code-server installed");
    return codeServerBin();
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(rgTmp, { recursive: true, force: true });
  }
}

/** @returns {Promise<number>} a free TCP port on 127.0.0.1 */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** An extension's id parts from its package.json (default: this project's). */
export function extensionIdentity(extensionPath = projectRoot) {
  const pkg = JSON.parse(readFileSync(join(extensionPath, "package.json"), "utf8"));
  return { publisher: pkg.publisher, name: pkg.name, version: pkg.version, id: `${pkg.publisher}.${pkg.name}` };
}

/**
 * Makes `<extensionsDir>/<publisher>.<name>-<version>` a symlink to the project, which is how code-server loads
 * an unpacked extension from its extensions folder. Replaces a stale link.
 * @param {string} extensionsDir
 * @param {string} [extensionPath] the extension folder (default: this project)
 */
export function linkExtension(extensionsDir, extensionPath = projectRoot) {
  const { publisher, name, version } = extensionIdentity(extensionPath);
  mkdirSync(extensionsDir, { recursive: true });
  const link = join(extensionsDir, `${publisher}.${name}-${version}`);
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === extensionPath) return link;
    unlinkSync(link);
  } catch { /* absent */ }
  symlinkSync(extensionPath, link, "dir");
  return link;
}

/**
 * Installs a .vsix into the extensions folder of `stateDir` (the layout startCodeServer uses) with code-server's
 * own `--install-extension`, as a person installing the packaged extension would.
 * @param {string} vsix
 * @param {string} stateDir
 */
export function installExtension(vsix, stateDir) {
  const entry = ensureCodeServer();
  const xdgConfig = join(stateDir, "xdg-config");
  const xdgData = join(stateDir, "xdg-data");
  for (const d of [xdgConfig, xdgData]) mkdirSync(d, { recursive: true });
  const r = spawnSync(process.execPath, [
    entry, "--user-data-dir", join(stateDir, "user-data"), "--extensions-dir", join(stateDir, "extensions"),
    "--config", join(stateDir, "config.yaml"), "--install-extension", vsix,
  ], { encoding: "utf8", env: { ...process.env, XDG_CONFIG_HOME: xdgConfig, XDG_DATA_HOME: xdgData } });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

/**
 * @typedef {object} StartOptions
 * @property {string} folder         workspace folder to open
 * @property {string} stateDir       where user data, extensions, config and XDG dirs go
 * @property {Record<string, unknown>} [settings]  user settings.json contents
 * @property {string | false} [extension]  extension folder to load through a symlink in the extensions folder
 *   (default: this project); false loads none (e.g. when a .vsix was installed with installExtension)
 * @property {number} [port]
 * @property {boolean} [quiet]       do not forward code-server's output to stderr
 * @property {NodeJS.ProcessEnv} [env]
 */

/**
 * Starts code-server in its own process group and resolves once it answers HTTP.
 * @param {StartOptions} opts
 */
export async function startCodeServer(opts) {
  const entry = ensureCodeServer();
  const port = opts.port ?? await freePort();
  const dirs = {
    userData: join(opts.stateDir, "user-data"),
    extensions: join(opts.stateDir, "extensions"),
    config: join(opts.stateDir, "config.yaml"),
    xdgConfig: join(opts.stateDir, "xdg-config"),
    xdgData: join(opts.stateDir, "xdg-data"),
  };
  for (const d of [dirs.userData, dirs.extensions, dirs.xdgConfig, dirs.xdgData]) mkdirSync(d, { recursive: true });
  writeFileSync(dirs.config, "auth: none\ncert: false\n");
  if (opts.settings) {
    mkdirSync(join(dirs.userData, "User"), { recursive: true });
    writeFileSync(join(dirs.userData, "User", "settings.json"), JSON.stringify(opts.settings, null, 2));
  }
  if (opts.extension !== false) linkExtension(dirs.extensions, opts.extension ?? projectRoot);
  const args = [
    entry, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry", "--disable-update-check",
    "--disable-workspace-trust", "--config", dirs.config, "--user-data-dir", dirs.userData,
    "--extensions-dir", dirs.extensions, opts.folder,
  ];
  if (!opts.settings || opts.settings["security.workspace.trust.enabled"] !== false) {
    args.splice(args.indexOf("--disable-workspace-trust"), 1);
  }
  const env = { ...process.env, ...opts.env, XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData };
  delete env.VSCODE_IPC_HOOK_CLI;
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  const onData = (/** @type {Buffer} */ b) => {
    output += b.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (!opts.quiet) process.stderr.write(b);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exited = /** @type {null | string} */ (null);
  child.on("exit", (code, sig) => { exited = `code ${code} signal ${sig}`; });
  const url = `http://127.0.0.1:${port}/`;
  const server = {
    url, port, dirs, child,
    get output() { return output; },
    /** Kills code-server's whole process group (its extension host and kernel children included). */
    async stop() {
      if (exited) return;
      const done = new Promise((ok) => child.once("exit", ok));
      killGroup(child.pid, "SIGTERM");
      const t = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5000);
      await done;
      clearTimeout(t);
      killGroup(child.pid, "SIGKILL"); // stragglers left in the group
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited before answering (${exited}):\n${output.slice(-4000)}`);
    try {
      const res = await fetch(`${url}healthz`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return server;
}

/**
 * @param {number | undefined} pid
 * @param {NodeJS.Signals} sig
 */
function killGroup(pid, sig) {
  if (!pid) return;
  try { process.kill(-pid, sig); } catch { /* gone */ }
}
