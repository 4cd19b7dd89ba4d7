/**
 * In-extension-host integration tests in code-server. code-server honours `extensionDevelopmentPath` and
 * `extensionTestsPath` in its `payload` URL parameter (as VS Code for the Web does; checked on 4.100.3): the
 * workbench hands both to the remote Node extension host, which loads this project as a development extension,
 * runs test/e2e/host/suite.cjs and then exits with the suite's status. A browser is still needed to open the
 * workbench that starts the extension host. Results come back through a JSON file (NEXTFRAME_HOST_TEST_RESULT)
 * and the extension host's exit code in code-server's log.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ensureCodeServer, projectRoot, startCodeServer } from "./codeServer.mjs";
import { CHROMIUM, launchChromium, screenshot, until } from "./workbench";

const skip = existsSync(CHROMIUM) ? false : `Debian chromium is not installed (${CHROMIUM}); .ci/run installs it`;

interface HostResults { vscode: string; results: { name: string; ok: boolean; ms: number; error?: string }[] }

describe("in-extension-host suite in code-server (payload extensionTestsPath)", { skip, timeout: 10 * 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Browser | undefined;
  const tmp = mkdtempSync(join(tmpdir(), "nextframe-host-"));
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("runs test/e2e/host/suite.cjs inside VS Code's extension host", async (t) => {
    assert.ok(existsSync(join(projectRoot, "dist/extension/extension.js")), "run `npm run build` first (npm test does)");
    ensureCodeServer();
    const workspace = join(tmp, "workspace");
    mkdirSync(workspace);
    copyFileSync(join(projectRoot, "test/e2e/fixtures/e2e.ipynb"), join(workspace, "e2e.ipynb"));
    const resultFile = join(tmp, "host-results.json");
    server = await startCodeServer({
      folder: workspace, stateDir: join(tmp, "state"), quiet: true,
      extension: false, // loaded as the development extension instead
      env: { NEXTFRAME_HOST_TEST_RESULT: resultFile },
      settings: { "security.workspace.trust.enabled": false, "workbench.startupEditor": "none" },
    });
    const authority = `127.0.0.1:${server.port}`;
    const payload = JSON.stringify([
      ["extensionDevelopmentPath", `vscode-remote://${authority}${projectRoot}`],
      ["extensionTestsPath", `vscode-remote://${authority}${join(projectRoot, "test/e2e/host/suite.cjs")}`],
    ]);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${server.url}?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    let exitCode: number;
    try {
      exitCode = await until("the extension host to finish the suite and exit", 8 * 60_000, async () => {
        const m = /Extension Host Process exited with code: (\d+)/.exec(server!.output);
        return m ? Number(m[1]) : undefined;
      });
    } catch (e) {
      await screenshot(page, join(projectRoot, "test-results"), "host-fail");
      throw new Error(`${(e as Error).message}\ncode-server log tail:\n${server.output.slice(-3000)}`);
    }
    assert.ok(existsSync(resultFile), `the suite wrote no results (extension host exit code ${exitCode}):\n${server.output.slice(-3000)}`);
    const { vscode, results } = JSON.parse(readFileSync(resultFile, "utf8")) as HostResults;
    assert.equal(vscode, "1.100.3");
    for (const r of results) {
      await t.test(r.name, () => {
        if (!r.ok) throw new Error(r.error);
      });
    }
    assert.equal(exitCode, 0, `the extension host exited with ${exitCode}`);
    assert.ok(results.length >= 5 && results.every((r) => r.ok), "every host test passed");
  });
});
