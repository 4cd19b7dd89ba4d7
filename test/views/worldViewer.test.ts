// World Viewer play loop in headless Chromium with a scripted world: keys in → actions → kernel comm handler
// (playWorld) → frames out → pixels on the stage. The message hops are the extension's own validators.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { playWorld, type WorldSession } from "../../kernel/nextframe/display/worldViewer";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { showInWorldViewer } from "../../kernel/nextframe/display/worldViewer";
import { commHandlersSymbol, kernelSinkSymbol } from "../../kernel/nextframe/display/display";
import { toPanelMessage, type WorldAction } from "../../kernel/nextframe/display/payloads";
import { parseKernelMessage, parsePanelMessage, toKernelMessage } from "../../extension/panels/messages";
import { chromiumMissing, decodeScreenshot, ensureMediaBuilt, launch, pixel, worldViewerPage } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

const skip = chromiumMissing();
type G = Record<symbol, unknown>;

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
  const g = globalThis as G;

  /** extension: kernel comm → validate → webview */
  const toWebview = async (data: unknown) => {
    const p = parseKernelMessage(data);
    assert.ok(p.ok, p.ok ? "" : p.reason);
    await page.evaluate((m) => window.postMessage(m, "*"), toPanelMessage(p.value));
  };

  before(async () => {
    ensureMediaBuilt();
    browser = await launch();
    let ready: () => void;
    const isReady = new Promise<void>((r) => { ready = r; });
    page = await worldViewerPage(browser, (m) => {
      // extension: webview → validate → kernel comm target; the handler's reply goes back like the kernel sends it
      const p = parsePanelMessage(m);
      if (!p.ok) return;
      if (p.value.command === "ready") return ready();
      const handler = (g[commHandlersSymbol] as Map<string, (d: unknown) => Promise<unknown>>).get("worldViewer")!;
      void handler(toKernelMessage(p.value)).then(async (reply) => { if (reply !== undefined) await toWebview(reply); });
    });
    await isReady;
    const sent: unknown[] = [];
    g[kernelSinkSymbol] = { display() {}, comm: (_t: string, d: unknown) => { sent.push(d); void toWebview(d); } };
    session = await playWorld(world, { title: "scripted room" });
    assert.equal(sent.length, 1, "playWorld opens the viewer with the first frame");
  });
  after(async () => {
    session?.stop();
    delete g[kernelSinkSymbol];
    await browser?.close();
  });

  const step = () => page.evaluate(() => Number(document.querySelector(".nf-world")?.getAttribute("data-step") ?? -1));
  const shot = async (label: string) => decodeScreenshot(await page.locator(`canvas[aria-label='${label}']`).screenshot());

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
});
