/**
 * End-to-end live controls and scorecards: the nextframe extension in real VS Code (code-server) in headless
 * Chromium. Opens fixtures/interact.ipynb and checks what a learner sees: an interact() cell draws its output (a table
 * for n = 3) under a slider; moving the slider with the keyboard sends the value through the renderer's messaging and
 * the extension to the kernel, which runs the function again and replaces the table in place (n = 7, 49); a
 * scorecard() cell draws its rows with verdict badges.
 *
 * Needs `npm run build` first. Screenshots go to test-results/ (interact-*.png; failures as interact-fail-*.png).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Frame, Page } from "playwright-core";
import {
  CHROMIUM, T, codeCell, openNotebook, openWorkbench, outputFrameWith, outputsText, runCell, screenshot,
  selectKernel, until, waitCellState,
} from "./workbench";
import { fixtureSession, RESULTS } from "./fixtureSession";

const skip = existsSync(CHROMIUM) ? false : `Debian chromium is not installed (${CHROMIUM}); .ci/run installs it`;

describe("live controls and scorecards in VS Code in the browser (code-server + Chromium)", { skip, timeout: 15 * 60_000 }, () => {
  const session = fixtureSession({
    fixture: "interact.ipynb", built: ["dist/extension/extension.js", "dist/media/renderer.js"], viewport: { width: 1300, height: 900 },
    failShotPrefix: "interact",
  });
  const { step } = session;
  let page: Page;
  before(() => { page = session.page; });

  let frame: Frame;

  it("an interact() cell shows its output for the default value under a slider", async () => {
    await step("open", async () => {
      await openWorkbench(page, session.server.url, "interact.ipynb");
      await openNotebook(page, "interact.ipynb");
      await codeCell(page, "interact(").waitFor({ timeout: T.ui });
      await page.keyboard.press("Control+B");
      await selectKernel(page, "TypeScript (nextframe)");
      const cell = codeCell(page, "interact(");
      await runCell(page, cell);
      await waitCellState(cell, "success", T.kernelStart);
      frame = await outputFrameWith(page, "input[type=range]");
      await until("the table for the default n = 3", T.cell, async () =>
        /table for n = 3[\s\S]*\b9\b/.test(await frame.locator("body").innerText()) || undefined);
      await screenshot(page, RESULTS, "interact-default");
    });
  });

  it("moving the slider runs the function again in the kernel and replaces the output in place", async () => {
    await step("slide", async () => {
      const slider = frame.locator("input[type=range]").first();
      await slider.focus();
      for (let i = 0; i < 4; i++) await slider.press("ArrowRight");
      await until("the table for n = 7", T.cell, async () => {
        const text = await frame.locator("body").innerText();
        return /table for n = 7[\s\S]*\b49\b/.test(text) && !/table for n = 3/.test(text) ? true : undefined;
      }, async () => (await frame.locator("body").innerText()).slice(0, 500));
      assert.equal(await frame.locator("input[type=range]").count(), 1, "one slider: the output was replaced, not appended");
      await screenshot(page, RESULTS, "interact-moved");
    });
  });

  it("a scorecard() cell draws its rows with verdict badges", async () => {
    await step("scorecard", async () => {
      const cell = codeCell(page, "scorecard(");
      await runCell(page, cell);
      await waitCellState(cell, "success");
      await until("the scorecard's rows", T.cell, async () => {
        const text = await outputsText(page);
        return /a knob re-runs its function/.test(text) && /✓ shown/.test(text) && /✗ contradicted/.test(text) ? true : undefined;
      }, async () => (await outputsText(page)).slice(-800));
      await screenshot(page, RESULTS, "interact-scorecard");
    });
  });
});
