/**
 * The packaged extension: `node extension/package.mjs` (what `npm run package` runs after the build) makes a
 * platform-specific .vsix; code-server installs it with --install-extension into a fresh extensions folder (no
 * link to this checkout), and in the browser a notebook cell runs on the nextframe engine (onnxruntime-node's
 * native library from the .vsix) and a table renders with the renderer from the .vsix. The course (notebooks and
 * checkpoints) is inside, and the installed library finds its checkpoints.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ensureCodeServer, extensionIdentity, installExtension, projectRoot, startCodeServer } from "./codeServer.mjs";
import {
  CHROMIUM, T, launchChromium, openNotebook, openWorkbench, outputFrameWith, outputsText, revealCell, runCell, screenshot,
  selectKernel, waitCellState, waitForOutput,
} from "./workbench";

const skip = existsSync(CHROMIUM) ? false : `Debian chromium is not installed (${CHROMIUM}); .ci/run installs it`;

describe("the packaged .vsix installed into code-server", { skip, timeout: 15 * 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "nextframe-vsix-"));
  let server: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("packages, installs with --install-extension, runs an engine cell and renders a table", async () => {
    assert.ok(existsSync(join(projectRoot, "dist/extension/extension.js")), "run `npm run build` first (npm test does)");
    ensureCodeServer();
    const vsix = join(tmp, "nextframe.vsix");
    const pack = spawnSync(process.execPath, [join(projectRoot, "extension/package.mjs"), "--out", vsix], { cwd: projectRoot, encoding: "utf8" });
    assert.equal(pack.status, 0, `package.mjs failed:\n${pack.stdout.slice(-3000)}\n${pack.stderr.slice(-3000)}`);
    const mb = statSync(vsix).size / 1e6;
    assert.ok(mb > 5 && mb < 120, `the .vsix is ${mb.toFixed(1)} MB`);

    const stateDir = join(tmp, "state");
    installExtension(vsix, stateDir);
    const { id, version } = extensionIdentity();
    const installed = readdirSync(join(stateDir, "extensions")).find((d) => d.startsWith(`${id}-${version}`));
    assert.ok(installed, `no ${id}-${version}* folder in the extensions folder`);
    const dir = join(stateDir, "extensions", installed);
    assert.ok(!lstatSync(dir).isSymbolicLink(), "the installed extension is a copy, not a link to this checkout");
    if (process.platform === "linux" && process.arch === "x64") {
      assert.ok(existsSync(join(dir, "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node")));
      assert.ok(!existsSync(join(dir, "node_modules/onnxruntime-node/bin/napi-v6/win32")), "other platforms' binaries are left out");
    }
    // The course ships inside (what "nextframe: Open the Course" copies): eight chapters, the map, the checkpoints.
    assert.equal(readdirSync(join(dir, "notebooks")).filter((f) => /^0\d-.*\.ipynb$/.test(f)).length, 8, "eight chapters in the .vsix");
    assert.ok(existsSync(join(dir, "notebooks/README.md")), "the course map in the .vsix");
    for (const c of ["gpt-textworld", "autoencoder", "world-model"]) {
      for (const ext of [".json", ".safetensors"]) assert.ok(existsSync(join(dir, "notebooks/checkpoints", c + ext)), `checkpoint ${c}${ext} in the .vsix`);
    }

    const workspace = join(tmp, "workspace");
    mkdirSync(workspace);
    copyFileSync(join(projectRoot, "test/e2e/fixtures/vsix.ipynb"), join(workspace, "vsix.ipynb"));
    server = await startCodeServer({
      folder: workspace, stateDir, quiet: true, extension: false,
      settings: { "security.workspace.trust.enabled": false, "workbench.startupEditor": "none" },
    });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      await openWorkbench(page, server.url, "vsix.ipynb");
      await openNotebook(page, "vsix.ipynb");
      await selectKernel(page, "TypeScript (nextframe)");
      const engine = await revealCell(page, "onnxruntime says");
      await runCell(page, engine);
      assert.equal(await waitCellState(engine, ["success", "error"], T.kernelStart), "success", await outputsText(page));
      await waitForOutput(page, /onnxruntime says \[\[3\],\[7\]\]/);
      const table = await revealCell(page, "vsix losses");
      await runCell(page, table);
      assert.equal(await waitCellState(table, ["success", "error"]), "success", await outputsText(page));
      const frame = await outputFrameWith(page, ".nf-table-view");
      await frame.locator(".nf-table-view", { hasText: "vsix losses" }).waitFor({ timeout: T.ui });
      // the library in the installed extension finds the shipped checkpoints from a workspace that has none
      const shipped = await revealCell(page, "shipped checkpoints");
      await runCell(page, shipped);
      assert.equal(await waitCellState(shipped, ["success", "error"]), "success", await outputsText(page));
      await waitForOutput(page, new RegExp(`shipped checkpoints \\S*/extensions/${installed.replace(/\./g, "\\.")}/notebooks/checkpoints GPT`));
    } catch (e) {
      const shot = await screenshot(page, join(projectRoot, "test-results"), "vsix-fail");
      throw new Error(`${(e as Error).message}\nscreenshot: ${shot}\ncode-server log tail:\n${server.output.slice(-2000)}`);
    }
  });
});
