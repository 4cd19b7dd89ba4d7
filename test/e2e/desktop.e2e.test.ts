/**
 * The in-extension-host suite (test/e2e/host/suite.cjs) in VS Code desktop, the way @vscode/test-electron runs
 * extension tests: the VS Code executable with --extensionDevelopmentPath and --extensionTestsPath, a fresh
 * user-data and extensions folder, exiting with the suite's status.
 *
 * Runs only where a VS Code build is available: set VSCODE_DESKTOP_PATH to its executable (on Linux without a
 * display, run under xvfb-run). None can be downloaded here, so the suite reports itself as skipped; the
 * code-server suites (vscode.e2e.test.ts, host.e2e.test.ts) are the ones that run here.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "./codeServer.mjs";

const exe = process.env.VSCODE_DESKTOP_PATH;
const skip = !exe
  ? "VSCODE_DESKTOP_PATH is not set: no VS Code desktop build here (none can be downloaded offline); the code-server e2e suites cover VS Code 1.100.3"
  : !existsSync(exe) ? `VSCODE_DESKTOP_PATH=${exe} does not exist` : false;

describe("in-extension-host suite in VS Code desktop", { skip, timeout: 10 * 60_000 }, () => {
  it("runs test/e2e/host/suite.cjs with --extensionTestsPath", async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), "nextframe-desktop-"));
    try {
      const workspace = join(tmp, "workspace");
      mkdirSync(workspace);
      copyFileSync(join(projectRoot, "test/e2e/fixtures/e2e.ipynb"), join(workspace, "e2e.ipynb"));
      const resultFile = join(tmp, "host-results.json");
      const args = [
        `--extensionDevelopmentPath=${projectRoot}`, `--extensionTestsPath=${join(projectRoot, "test/e2e/host/suite.cjs")}`,
        `--user-data-dir=${join(tmp, "user-data")}`, `--extensions-dir=${join(tmp, "extensions")}`,
        "--disable-workspace-trust", "--skip-welcome", "--skip-release-notes", "--disable-updates", "--no-sandbox", workspace,
      ];
      const child = spawn(exe!, args, { stdio: "inherit", env: { ...process.env, NEXTFRAME_HOST_TEST_RESULT: resultFile } });
      const code = await new Promise<number | null>((ok) => child.on("exit", ok));
      assert.ok(existsSync(resultFile), `the suite wrote no results (VS Code exited with ${code})`);
      const { results } = JSON.parse(readFileSync(resultFile, "utf8")) as { results: { name: string; ok: boolean; error?: string }[] };
      for (const r of results) await t.test(r.name, () => { if (!r.ok) throw new Error(r.error); });
      assert.equal(code, 0, `VS Code exited with ${code}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
