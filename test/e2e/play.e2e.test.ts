/**
 * End-to-end play mode: the nextframe extension in real VS Code (code-server) in headless Chromium. Opens
 * fixtures/play.ipynb, runs its cell that starts a live playWorld session on the true video world (no model: a
 * step costs milliseconds), and checks what a learner sees: the World Viewer opens beside the notebook as a
 * pinned (not preview) tab without taking the focus, says the session is live and how to play; keys pressed in
 * the viewer advance the step counter and change the frame, while the viewer stays in its own column and the
 * notebook stays visible; the Stop button ends the session, and the notebook's next cell sees it stopped.
 *
 * Needs `npm run build` first. Screenshots go to test-results/ (play-*.png; failures as play-fail-*.png) and, when
 * NEXTFRAME_PLAY_SHOTS names a folder, there too.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Frame, Locator, Page } from "playwright-core";
import {
  CHROMIUM, T, codeCell, openNotebook, openWorkbench, revealCell, runCell, screenshot, selectKernel, until,
  waitCellState, waitForOutput,
} from "./workbench";
import { fixtureSession, RESULTS } from "./fixtureSession";

const KERNEL_LABEL = "TypeScript (nextframe)";
const EXTRA_SHOTS = process.env.NEXTFRAME_PLAY_SHOTS;
const skip = existsSync(CHROMIUM) ? false : `Debian chromium is not installed (${CHROMIUM}); .ci/run installs it`;

interface Box { x: number; y: number; width: number; height: number }
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe("play mode in VS Code in the browser (code-server + Chromium)", { skip, timeout: 15 * 60_000 }, () => {
  const session = fixtureSession({
    fixture: "play.ipynb", built: ["dist/extension/extension.js", "dist/media/worldViewer.js"],
    viewport: { width: 1400, height: 860 }, failShotPrefix: "play", shot: (_page, name) => shot(name),
  });
  const { step } = session;
  let page: Page;
  before(() => { page = session.page; });
  let viewer: Frame;

  async function shot(name: string): Promise<string> {
    const path = await screenshot(page, RESULTS, name);
    if (EXTRA_SHOTS && existsSync(path)) {
      mkdirSync(EXTRA_SHOTS, { recursive: true });
      copyFileSync(path, join(EXTRA_SHOTS, `${name}.png`));
    }
    return path;
  }

  /** The tab whose label is `label`, and the editor group that holds it. */
  const tab = (label: string): Locator => page.locator(".part.editor .tabs-container .tab", { hasText: label }).first();
  /** Whether a tab is a preview tab (VS Code draws its label in italics). */
  const isPreview = (label: string) => tab(label).locator(".monaco-icon-label").first().evaluate((e) => e.classList.contains("italic"));
  const groupIndex = async (label: string) => page.locator(".part.editor .editor-group-container").evaluateAll(
    (groups, l) => groups.findIndex((g) => Array.from(g.querySelectorAll(".tabs-container .tab")).some((t) => ((t as { textContent: string | null }).textContent ?? "").includes(l as string))), label);
  const viewerState = () => viewer.locator(".nf-world").getAttribute("data-state");
  const viewerStep = async () => Number(await viewer.locator(".nf-world").getAttribute("data-step"));
  /** The outer webview iframe of the World Viewer, where the workbench lays it out. */
  const viewerBox = async (): Promise<Box> => {
    let f: Frame | null = viewer;
    let box: Box | null = null;
    while (f && f.parentFrame()) {
      box = await (await f.frameElement()).boundingBox();
      f = f.parentFrame();
    }
    if (!box) throw new Error("the World Viewer's iframe has no box");
    return box;
  };
  const notebookBox = async (): Promise<Box> => {
    const b = await page.locator(".notebookOverlay .cell-list-container").first().boundingBox();
    if (!b || b.width < 100 || b.height < 100) throw new Error(`the notebook is not visible (box ${JSON.stringify(b)})`);
    return b;
  };
  /** Where the two are now: in different editor groups, side by side, both visible, the viewer a pinned tab. */
  async function checkLayout(when: string): Promise<void> {
    const [nbGroup, viewerGroup] = [await groupIndex("play.ipynb"), await groupIndex("World Viewer")];
    assert.ok(nbGroup >= 0 && viewerGroup >= 0, `${when}: both tabs exist (notebook group ${nbGroup}, viewer group ${viewerGroup})`);
    assert.notEqual(viewerGroup, nbGroup, `${when}: the World Viewer is in its own column, not the notebook's`);
    assert.equal(await isPreview("World Viewer"), false, `${when}: the World Viewer is a pinned tab, not a preview`);
    const [nb, v] = [await notebookBox(), await viewerBox()];
    assert.ok(!overlaps(nb, v), `${when}: the viewer (${JSON.stringify(v)}) does not cover the notebook (${JSON.stringify(nb)})`);
    assert.ok(v.x >= nb.x + nb.width - 1, `${when}: the viewer is right of the notebook`);
  }
  async function modelFrame(): Promise<Buffer> {
    return viewer.locator("canvas[aria-label='model frame']").screenshot();
  }

  it("opens the fixture notebook and selects the kernel", async () => {
    await step("open", async () => {
      await openWorkbench(page, session.server.url, "play.ipynb");
      await openNotebook(page, "play.ipynb");
      await codeCell(page, "playWorld").waitFor({ timeout: T.ui });
      // the explorer's double click pins the notebook; the side bar only takes room from the two columns
      await page.keyboard.press("Control+B");
      await selectKernel(page, KERNEL_LABEL);
    });
  });

  it("a cell starts a live session: the World Viewer opens beside the notebook, pinned, without taking the focus", async () => {
    await step("start", async () => {
      const cell = await revealCell(page, "playWorld");
      await runCell(page, cell);
      assert.equal(await waitCellState(cell, ["success", "error"], T.kernelStart), "success");
      await waitForOutput(page, /play session is live/);
      viewer = await until("the World Viewer's page", T.ui, async () => {
        for (const f of page.frames()) if (await f.locator(".nf-world[data-state='live']").count().catch(() => 0)) return f;
        return undefined;
      });
      await until("the first frame", T.ui, async () => ((await viewerStep()) === 0 ? true : undefined));
      assert.equal(await viewer.locator(".nf-state-text").textContent(), "● live — arrow keys move, space eats");
      assert.equal(await viewer.locator(".nf-title").first().textContent(), "e2e room");
      // the notebook keeps the focus: the active editor group is still the notebook's
      assert.equal(await page.locator(".part.editor .editor-group-container.active").first().locator(".tab", { hasText: "play.ipynb" }).count(), 1,
        "the notebook's group stays active");
      // so the viewer says how to give it the keyboard
      assert.match(await viewer.locator(".nf-help").textContent() ?? "", /Click the picture \(or Tab to it\) so that the viewer has the keyboard/);
      await checkLayout("after the session started");
      await shot("play-opened");
    });
  });

  it("keys pressed in the viewer step the world: step counter and frame change, the viewer stays in its column", async () => {
    await step("keys", async () => {
      await viewer.locator(".nf-play").click();
      await until("the viewer to have the keyboard", T.ui, async () => ((await viewer.locator(".nf-world").getAttribute("data-focus")) === "yes" ? true : undefined));
      assert.match(await viewer.locator(".nf-help").textContent() ?? "", /Keys go to the world/);
      const before = await modelFrame();
      const columnBefore = await groupIndex("World Viewer");
      for (let i = 1; i <= 6; i++) {
        await page.keyboard.press(i % 2 ? "ArrowLeft" : "ArrowUp");
        await until(`step ${i}`, T.ui, async () => ((await viewerStep()) === i ? true : undefined),
          async () => `viewer: ${await viewer.locator(".nf-world").innerText().catch(() => "?")}`);
        // after every key: not moved, not a preview, the notebook still visible beside it
        assert.equal(await groupIndex("World Viewer"), columnBefore, `key ${i} moved the World Viewer`);
        if (i === 1) await checkLayout("after the first key");
      }
      assert.equal(await viewer.locator(".nf-step").textContent(), "step 6");
      assert.ok(!before.equals(await modelFrame()), "the frame changed");
      await checkLayout("after six keys");
      await shot("play-keys");
    });
  });

  it("Stop ends the session; the notebook's next cell sees it stopped", async () => {
    await step("stop", async () => {
      await viewer.locator("button.nf-stop").click();
      await until("the viewer to say stopped", T.ui, async () => ((await viewerState()) === "stopped" ? true : undefined));
      assert.match(await viewer.locator(".nf-state-text").textContent() ?? "", /^■ stopped by the Stop button — run the play cell again to play$/);
      await viewer.locator(".nf-play").click();
      await page.keyboard.press("ArrowRight");
      await until("the not-live hint", T.ui, async () => (/This session is stopped/.test(await viewer.locator(".nf-help").textContent() ?? "") ? true : undefined));
      assert.equal(await viewerStep(), 6, "no step after Stop");
      await shot("play-stopped");
      const cell = await revealCell(page, "session.stop()");
      await runCell(page, cell);
      assert.equal(await waitCellState(cell, ["success", "error"]), "success");
      await waitForOutput(page, /play session stopped after 6 steps/);
      await checkLayout("after Stop");
    });
  });
});
