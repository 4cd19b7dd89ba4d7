/**
 * End-to-end: the nextframe extension in real VS Code (code-server 4.100.3 = VS Code 1.100.3) in a real browser
 * (headless Debian Chromium through playwright-core). Opens a fixture notebook, selects the kernel
 * "TypeScript (nextframe)", runs its cells one at a time and checks what a person sees: a stdout output, an error
 * with the cell line, an interrupted runaway cell followed by a cell that still sees earlier state, and a rich
 * output drawn by nextframe's renderer (or its HTML fallback where no renderer is contributed).
 *
 * Needs `npm run build` first (npm test does it). Installs code-server into .cache/code-server/ on first use.
 * Skips only when /usr/bin/chromium is absent. Failure screenshots go to test-results/; the success
 * screenshot to test-results/e2e-notebook.png, copied to media/screenshots/notebook.png (the README's) when
 * that file is missing or NEXTFRAME_UPDATE_SCREENSHOT=1.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Page } from "playwright-core";
import { projectRoot } from "./codeServer.mjs";
import {
  CHROMIUM, T, codeCell, revealCell, interrupt, openNotebook, openWorkbench, runCell, screenshot, selectKernel,
  outputFrameWith, until, waitCellState, waitForOutput,
} from "./workbench";
import { fixtureSession, RESULTS } from "./fixtureSession";

const KERNEL_LABEL = "TypeScript (nextframe)";
const README_SHOT = join(projectRoot, "media", "screenshots", "notebook.png");
const skip = existsSync(CHROMIUM) ? false : `Debian chromium is not installed (${CHROMIUM}); .ci/run installs it`;

describe("nextframe in VS Code in the browser (code-server + Chromium)", { skip, timeout: 15 * 60_000 }, () => {
  const session = fixtureSession({
    fixture: "e2e.ipynb", built: ["dist/extension/extension.js"], viewport: { width: 1280, height: 860 }, failShotPrefix: "e2e",
    settings: { "notebook.confirmDeleteRunningCell": false },
  });
  const { step } = session;
  let page: Page;
  before(() => { page = session.page; });

  it("opens the fixture as a notebook once the workbench has settled", async () => {
    await step("open", async () => {
      await openWorkbench(page, session.server.url, "e2e.ipynb");
      await openNotebook(page, "e2e.ipynb");
      await codeCell(page, "hello from the nextframe kernel").waitFor({ timeout: T.ui });
    });
  });

  it(`selects the kernel "${KERNEL_LABEL}"`, async () => {
    await step("kernel", () => selectKernel(page, KERNEL_LABEL));
  });

  it("runs a cell and shows its stdout", async () => {
    await step("stdout", async () => {
      const cell = await revealCell(page, "hello from the nextframe kernel");
      await runCell(page, cell);
      await waitCellState(cell, ["success", "error"], T.kernelStart);
      assert.equal(await waitCellState(cell, ["success", "error"]), "success");
      await waitForOutput(page, /hello from the nextframe kernel/);
    });
  });

  it("shows a runtime error with the cell's line", async () => {
    await step("error", async () => {
      const cell = await revealCell(page, "kaboom from the fixture");
      await runCell(page, cell);
      assert.equal(await waitCellState(cell, ["success", "error"]), "error");
      const text = await waitForOutput(page, /kaboom from the fixture/);
      // The throw is on line 2 of the cell; the stack names it as <something>:2:<column>.
      const errorBlock = text.slice(text.indexOf("kaboom from the fixture"));
      assert.match(errorBlock, /:2:\d+/, `the error should point at the cell's line 2:\n${errorBlock.slice(0, 800)}`);
    });
  });

  it("interrupts a runaway cell, and the next cell still sees earlier state", async () => {
    await step("interrupt", async () => {
      const runaway = await revealCell(page, "while (true)");
      await runCell(page, runaway);
      await waitCellState(runaway, "executing", T.ui);
      // Interrupt once the loop runs, as a person would after seeing its first line printed. (An interrupt that
      // lands while the kernel is still compiling the cell is lost today and the kernel gets restarted after the
      // grace period; that race belongs to the kernel's own tests.)
      await waitForOutput(page, /spinning until interrupted/);
      await interrupt(page);
      const end = await waitCellState(runaway, ["success", "error"], T.ui);
      assert.equal(end, "error", "an interrupted cell ends as failed");
      const next = await revealCell(page, "after the interrupt");
      await runCell(page, next);
      assert.equal(await waitCellState(next, ["success", "error"]), "success");
      await waitForOutput(page, /after the interrupt, answer \+ 1 = 42/);
    });
  });

  it("renders a rich output: a nextframe table", async () => {
    await step("rich", async () => {
      const cell = await revealCell(page, "showTable");
      await runCell(page, cell);
      assert.equal(await waitCellState(cell, ["success", "error"]), "success");
      await waitForOutput(page, /e2e losses/);
      const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
      const renderers: { id: string; mimeTypes: string[] }[] = pkg.contributes?.notebookRenderer ?? [];
      const hasRenderer = existsSync(join(projectRoot, "dist", "media", "renderer.js")) &&
        renderers.some((r) => r.mimeTypes.includes("application/vnd.nextframe.table+json"));
      if (hasRenderer) {
        // nextframe's renderer draws .nf-table-view with sortable column headers; sorting by loss reorders rows.
        const frame = await outputFrameWith(page, ".nf-table-view");
        const view = frame.locator(".nf-table-view", { hasText: "e2e losses" });
        await view.waitFor({ timeout: T.ui });
        const losses = () => view.locator("tbody tr td:nth-child(2)").allInnerTexts();
        assert.deepEqual(await losses(), ["0.50", "0.25"]); // a column at one precision
        // Keyboard, as the renderer supports: a pointer click can land on workbench chrome laid over the webview.
        await view.getByRole("button", { name: "sort by loss" }).press("Enter");
        await until("the table to sort by loss", T.ui, async () => ((await losses()).join() === "0.25,0.50" ? true : undefined));
      } else {
        // Without a renderer for the table MIME type, VS Code shows the bundle's text/html fallback.
        const frame = await outputFrameWith(page, "table caption");
        assert.equal(await frame.locator("table caption").first().innerText(), "e2e losses");
      }
    });
  });

  it("keeps a screenshot of the notebook", async () => {
    await step("screenshot", async () => {
      // Frame the interrupted cell, the state that survived it and the rendered table, without the side bar.
      // (Cosmetic, so best effort: Ctrl+B toggles the side bar.)
      await page.locator(".notebookOverlay").first().click({ position: { x: 5, y: 60 } }).catch(() => undefined);
      await page.keyboard.press("Control+B");
      await page.locator(".part.sidebar").waitFor({ state: "hidden", timeout: 5000 }).catch(() => undefined);
      await revealCell(page, "spinning until interrupted", { top: true });
      const shot = await screenshot(page, RESULTS, "e2e-notebook");
      if (!existsSync(README_SHOT) || process.env.NEXTFRAME_UPDATE_SCREENSHOT === "1") {
        mkdirSync(dirname(README_SHOT), { recursive: true });
        copyFileSync(shot, README_SHOT);
      }
    });
  });
});
