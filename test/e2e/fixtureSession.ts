/**
 * One end-to-end session on a fixture notebook, for a `describe` block: before its tests, code-server starts on a
 * fresh temporary workspace holding test/e2e/fixtures/<fixture> (fresh user data, no trust prompt, no tips or update
 * checks) and headless Chromium opens a page; after them both stop and the workspace goes. `step()` runs one step of
 * a test: after a step fails, the later ones fail at once, and the failure keeps a screenshot, the outputs' text and
 * code-server's log tail.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ensureCodeServer, projectRoot, startCodeServer, type CodeServer } from "./codeServer.mjs";
import { launchChromium, outputsText, screenshot } from "./workbench";

/** Where e2e screenshots go (ignored by git). */
export const RESULTS = join(projectRoot, "test-results");

export interface FixtureSessionOptions {
  /** the notebook in test/e2e/fixtures/ to copy into the workspace */
  fixture: string;
  /** files `npm run build` makes that the tests need, relative to the project */
  built: string[];
  viewport: { width: number; height: number };
  /** screenshots of failed steps are named `<failShotPrefix>-<step>` */
  failShotPrefix: string;
  /** VS Code settings beside the defaults */
  settings?: Record<string, unknown>;
  /** how to take a named screenshot (default: into test-results/) */
  shot?(page: Page, name: string): Promise<string>;
}

export interface FixtureSession {
  readonly page: Page;
  readonly server: CodeServer;
  step(name: string, fn: () => Promise<void>): Promise<void>;
}

export function fixtureSession(opts: FixtureSessionOptions): FixtureSession {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let tmp = "";
  let failed = false;
  const shot = opts.shot ?? ((p: Page, name: string) => screenshot(p, RESULTS, name));

  before(async () => {
    for (const f of [...opts.built, "package.json"]) {
      assert.ok(existsSync(join(projectRoot, f)), `${f} is missing: run \`npm run build\` first (npm test does)`);
    }
    ensureCodeServer();
    tmp = mkdtempSync(join(tmpdir(), `nextframe-${opts.failShotPrefix}-`));
    const workspace = join(tmp, "workspace");
    mkdirSync(workspace);
    copyFileSync(join(projectRoot, "test", "e2e", "fixtures", opts.fixture), join(workspace, opts.fixture));
    server = await startCodeServer({
      folder: workspace,
      stateDir: join(tmp, "state"), // fresh user-data-dir per run
      quiet: true,
      settings: {
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "workbench.tips.enabled": false,
        ...opts.settings,
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: opts.viewport });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  return {
    get page() {
      if (!page) throw new Error("fixtureSession: the page exists only inside the describe block's tests");
      return page;
    },
    get server() {
      if (!server) throw new Error("fixtureSession: code-server runs only inside the describe block's tests");
      return server;
    },
    async step(name, fn) {
      if (failed) throw new Error("an earlier step failed");
      try {
        await fn();
      } catch (e) {
        failed = true;
        const path = page ? await shot(page, `${opts.failShotPrefix}-fail-${name}`) : "(no page)";
        const outputs = page ? await outputsText(page).catch(() => "") : "";
        throw new Error(`${(e as Error).message}\nscreenshot: ${path}\noutputs:\n${outputs.slice(-1500)}\ncode-server log tail:\n${server?.output.slice(-1500) ?? ""}`);
      }
    },
  };
}
