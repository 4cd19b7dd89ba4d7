// World Viewer play loop in headless Chromium with a scripted world: keys in → actions → kernel comm handler
// (playWorld) → frames out → pixels on the stage; the session's state (live / stopped) and the Stop button. The
// message hops are the extension's own validators.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { playWorld, type WorldSession } from "../../kernel/nextframe/display/worldViewer";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { showInWorldViewer } from "../../kernel/nextframe/display/worldViewer";
import type { WorldAction } from "../../kernel/shared/payloads";
import { chromiumMissing, connectedWorldViewer, decodeScreenshot, ensureMediaBuilt, launch, pixel } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const skip = chromiumMissing();

/** An 8×8 room; the agent is a white pixel (model) / green pixel (ground truth). */
function scriptedWorld() {
  let x = 0, y = 0;
  const frame = (rgb: number[]) => {
    const f = new Uint8Array(8 * 8 * 3);
    f.set(rgb, (y * 8 + x) * 3);
    return { data: f, shape: [8, 8, 3] };
  };
  const moves: Record<WorldAction, [number, number]> = { up: [0, -1], down: [0, 1], left: [-1, 0], right: [1, 0], space: [0, 0], noop: [0, 0] };
  return {
    actions: [] as WorldAction[],
    reset() { x = 0; y = 0; return frame([255, 255, 255]); },
    step(a: WorldAction) {
      this.actions.push(a);
      x = Math.max(0, Math.min(7, x + moves[a][0]));
      y = Math.max(0, Math.min(7, y + moves[a][1]));
      return { frame: frame([255, 255, 255]), truth: frame([0, 255, 0]) };
    },
  };
}

describe("World Viewer play mode in headless Chromium", { skip }, () => {
  let browser: Browser;
  let page: Page;
  let session: WorldSession;
  const world = scriptedWorld();
  /** every valid message the webview sent, in order */
  let fromWebview: unknown[] = [];
  let disconnect = async () => {};

  before(async () => {
    ensureMediaBuilt();
    browser = await launch();
    let sent: unknown[];
    ({ page, fromWebview, sent, disconnect } = await connectedWorldViewer(browser));
    session = await playWorld(world, { title: "scripted room" });
    assert.deepEqual(sent.map((d) => (d as { type: string }).type), ["state", "frame"], "playWorld says the session is live and shows the first frame");
  });
  after(async () => {
    session?.stop();
    await disconnect();
    await browser?.close();
  });

  const step = () => page.evaluate(() => Number(document.querySelector(".nf-world")?.getAttribute("data-step") ?? -1));
  const shot = async (label: string) => decodeScreenshot(await page.locator(`canvas[aria-label='${label}']`).screenshot());

  const stateText = async () => (await page.locator(".nf-state-text").textContent()) ?? "";

  test("a live session says so, with the keys and how to focus the viewer", async () => {
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-state") === "live");
    assert.equal(await stateText(), "● live — arrow keys move, space eats");
    assert.equal(await page.locator("button.nf-stop").isDisabled(), false);
    const help = (await page.locator(".nf-help").textContent()) ?? "";
    assert.match(help, /← ↑ → ↓ or W A S D move · Space jumps \/ eats · R resets/);
    // playwright's page has the focus; without it the line says to click the picture first
    assert.match(help, /Keys go to the world/);
    assert.equal(await page.locator(".nf-step").textContent(), "step 0");
  });

  test("keys in → actions to the world → frames out, with ground truth side by side", async () => {
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-step") === "0");
    assert.equal(await page.locator(".nf-title").first().textContent(), "scripted room");
    await page.locator(".nf-play").focus();
    for (const k of ["ArrowRight", "ArrowRight", "s", "d", " "]) await page.keyboard.press(k);
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-step") === "5", null, { timeout: 10000 });
    assert.deepEqual(world.actions, ["right", "right", "down", "right", "space"]);
    const m = await shot("model frame"), t = await shot("ground truth frame");
    const s = m.w / 8;
    assert.ok(Number.isInteger(s) && s > 1, "nearest-neighbour upscaled");
    assert.deepEqual(pixel(m, Math.floor(3.5 * s), Math.floor(1.5 * s)), [255, 255, 255]);
    assert.deepEqual(pixel(m, Math.floor(0.5 * s), Math.floor(0.5 * s)), [0, 0, 0]);
    assert.deepEqual(pixel(t, Math.floor(3.5 * s), Math.floor(1.5 * s)), [0, 255, 0]);
    assert.match(await page.locator(".nf-world > .nf-status").textContent() ?? "", /step 5 · space · \d+ fps/);
    assert.equal(await page.locator(".nf-step").textContent(), "step 5");
  });

  test("R resets; buttons work too", async () => {
    await page.keyboard.press("r");
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-step") === "0");
    await page.locator("button[aria-label^='down']").click();
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-step") === "1");
    assert.equal(await step(), 1);
    const m = await shot("model frame"), s = m.w / 8;
    assert.deepEqual(pixel(m, Math.floor(0.5 * s), Math.floor(1.5 * s)), [255, 255, 255]);
  });

  test("the stage shows heatmaps sent from the kernel", async () => {
    const v = new Float32Array(4 * 4); v[6] = 1;
    showInWorldViewer(await heatmapBundle({ data: v, shape: [4, 4] }, { title: "attention on stage" }));
    await page.waitForSelector(".nf-show canvas[data-layer='0']", { timeout: 10000 });
    assert.equal(await page.locator(".nf-show .nf-title").textContent(), "attention on stage");
  });

  test("a script's session.handle() shows its frame in the viewer too", async () => {
    const before = await step();
    await session.handle({ type: "action", action: "right" });
    await page.waitForFunction((n) => document.querySelector(".nf-world")?.getAttribute("data-step") === String(n), before + 1);
    assert.equal(await page.locator(".nf-step").textContent(), `step ${before + 1}`);
  });

  test("Stop: the button sends stop, the kernel's session ends, the viewer says stopped and sends no more keys", async () => {
    const n = world.actions.length;
    await page.locator("button.nf-stop").click();
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-state") === "stopped", null, { timeout: 10000 });
    assert.deepEqual(fromWebview.at(-1), { command: "stop" });
    assert.equal(session.live, false);
    assert.match(await stateText(), /^■ stopped by the Stop button — run the play cell again to play$/);
    assert.equal(await page.locator("button.nf-stop").isDisabled(), true);
    await page.locator(".nf-play").focus();
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("r");
    assert.equal(world.actions.length, n, "no step after stop");
    assert.deepEqual(fromWebview.at(-1), { command: "stop" }, "keys after stop are not sent");
    assert.match((await page.locator(".nf-help").textContent()) ?? "", /This session is stopped: run the play cell again/);
    await assert.rejects(session.handle({ type: "action", action: "left" }), /this session is stopped/);
  });

  test("a new playWorld makes the viewer live again; session.stop() from a cell stops it", async () => {
    session = await playWorld(world, { title: "second session" });
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-state") === "live");
    assert.equal(await page.locator(".nf-title").first().textContent(), "second session");
    await page.locator(".nf-play").focus();
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-step") === "1");
    session.stop();
    await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-state") === "stopped");
    assert.match(await stateText(), /stopped by session\.stop\(\)/);
  });
});
