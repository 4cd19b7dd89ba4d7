// Play mode with the shipped playable world model in headless Chromium (issue 32): the World Viewer's keys drive the
// trained model (playableWorldModel → playWorld → the viewer's own page) from the start of each held-out clip whose true
// agent can walk both ways. What a person sees must be what the model computes for the keys they pressed: after R and
// six → (or six ←) the canvas shows, pixel for pixel, the frame a second simulator with the same weights and sampler
// makes for the same keys without a browser, and the → and ← pictures differ where the agent stands. How well the
// model follows the keys (left/right separation, held keys followed) is the card's play metrics, which
// kernel/nextframe/course/cards.test.ts recomputes. The model's frames are read back from the viewer's canvas, not
// from the kernel.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { playWorld, type WorldSession } from "../../kernel/nextframe/display/worldViewer";
import { loadAutoencoder, loadWorldModel, playableWorldModel, readCard, videoWorldData, WORLDS } from "../../kernel/nextframe/course/index";
import { WorldSimulator } from "../../kernel/nextframe/models/worldModel";
import { findAgent, trueFuture } from "../../kernel/nextframe/metrics/play";
import { Action, type VideoClip } from "../../kernel/nextframe/worlds/videoWorld";
import { chromiumMissing, connectedWorldViewer, decodeScreenshot, ensureMediaBuilt, launch, pixel } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

/** The world model play mode ships with (chapter 7's play cell) and how many keys each direction gets. */
const MODEL = "world-model-play", PRESSES = 6, SIZE = 32, F3 = SIZE * SIZE * 3;
const skip = chromiumMissing();

describe("play mode with the trained world model follows the keys (headless Chromium)", { skip, timeout: 10 * 60_000 }, () => {
  let browser: Browser, page: Page, session: WorldSession | undefined, sim: WorldSimulator, twin: WorldSimulator;
  let clips: VideoClip[] = [], K = 0;
  let disconnect = async () => {};

  before(async () => {
    const card = readCard(MODEL), recipe = card.recipe as { dataSeed: number; numVal: number; samplingSteps: number; actionGuidance?: number; contextLevel?: number; world?: "default" | "play" };
    // the sampler play mode ships with: the card's steps, action guidance and context level
    const sampler = { steps: recipe.samplingSteps, actionGuidance: recipe.actionGuidance, contextLevel: recipe.contextLevel };
    sim = new WorldSimulator(loadWorldModel(undefined, MODEL), loadAutoencoder(), sampler);
    // the same weights and sampler, stepped without a browser: what the viewer must show
    twin = new WorldSimulator(loadWorldModel(undefined, MODEL), loadAutoencoder(), sampler);
    K = sim.contextFrames;
    // the held-out clips 16–31 (the play metrics' clips) whose agent the true simulator moves ≥ 3 px both ways
    const val = videoWorldData({ seed: recipe.dataSeed, numTrain: 0, numVal: recipe.numVal, world: WORLDS[recipe.world ?? "default"] }).val.slice(16);
    const agentX = (c: VideoClip, a: Action) => findAgent(trueFuture(c, K - 1, new Array(PRESSES).fill(a)).subarray((PRESSES - 1) * F3), SIZE).x;
    const start = (c: VideoClip) => findAgent(c.frames.subarray((K - 1) * F3, K * F3), SIZE).x;
    clips = val.filter((c) => agentX(c, Action.Right) - start(c) >= 3 && start(c) - agentX(c, Action.Left) >= 3);
    assert.ok(clips.length >= 4, `held-out clips whose agent can walk both ways: ${clips.length}`);
    ensureMediaBuilt();
    browser = await launch();
    ({ page, disconnect } = await connectedWorldViewer(browser));
  });
  after(async () => {
    session?.stop();
    await disconnect();
    await browser?.close();
  });

  /** The model frame as the viewer draws it, sampled back to SIZE × SIZE RGB (it upscales by nearest neighbour). */
  async function shownFrame(): Promise<Uint8Array> {
    const img = decodeScreenshot(await page.locator("canvas[aria-label='model frame']").screenshot());
    const s = img.w / SIZE, out = new Uint8Array(F3);
    assert.ok(Number.isInteger(s) && s >= 1, `the viewer draws the ${SIZE}×${SIZE} frame at an integer scale (${img.w} px wide)`);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) out.set(pixel(img, Math.floor((x + 0.5) * s), Math.floor((y + 0.5) * s)), (y * SIZE + x) * 3);
    return out;
  }
  const atStep = (n: number) => page.waitForFunction((k) => document.querySelector(".nf-world")?.getAttribute("data-step") === String(k), n, { timeout: 60_000 });

  /** R (back to the clip's true context), then the key PRESSES times: the frame the viewer shows. */
  async function hold(key: "ArrowLeft" | "ArrowRight"): Promise<Uint8Array> {
    await page.locator(".nf-play").focus();
    await page.keyboard.press("r");
    await atStep(0);
    for (let i = 0; i < PRESSES; i++) await page.keyboard.press(key);
    await atStep(PRESSES);
    return shownFrame();
  }

  test(`after R and ${PRESSES} × → (or ←) the viewer shows the model's own frame for those keys, and → and ← differ where the agent stands`, async () => {
    const rows: string[] = [];
    let differ = 0, exact = 0, worst = 0;
    for (const clip of clips) {
      session?.stop();
      const frames = clip.frames.slice(0, K * F3), actions = Array.from({ length: K }, (_, k) => (k > 0 ? clip.actions[k - 1]! : 0));
      session = await playWorld(playableWorldModel(sim, { frames, actions }), { title: MODEL });
      await page.waitForFunction(() => document.querySelector(".nf-world")?.getAttribute("data-state") === "live");
      const start = findAgent(frames.subarray((K - 1) * F3), SIZE);
      const right = await hold("ArrowRight"), left = await hold("ArrowLeft");
      // the twin: reset to the clip's context, then the same keys
      const headless = playableWorldModel(twin, { frames, actions });
      const expected = async (key: string) => {
        await headless.reset();
        let f = new Uint8Array(0);
        for (let i = 0; i < PRESSES; i++) f = (await headless.step(key)).frame.data;
        return f;
      };
      const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      const off = Math.max(maxDiff(right, await expected("right")), maxDiff(left, await expected("left")));
      worst = Math.max(worst, off);
      if (off <= 1) exact++;
      // mean |→ picture − ← picture| in a 9 × 9 px window around where the agent stood (0–255)
      let diff = 0, n = 0;
      for (let y = Math.max(0, Math.floor(start.y) - 4); y <= Math.min(SIZE - 1, Math.floor(start.y) + 4); y++) {
        for (let x = Math.max(0, Math.floor(start.x) - 4); x <= Math.min(SIZE - 1, Math.floor(start.x) + 4); x++, n++) {
          for (let ch = 0; ch < 3; ch++) diff += Math.abs(right[(y * SIZE + x) * 3 + ch]! - left[(y * SIZE + x) * 3 + ch]!);
        }
      }
      diff /= 3 * n;
      if (diff >= 5) differ++;
      const r = findAgent(right, SIZE), l = findAgent(left, SIZE);
      rows.push(`start ${start.x.toFixed(1)}: → ${r.x.toFixed(1)}, ← ${l.x.toFixed(1)}, picture difference ${diff.toFixed(1)}, off the twin by ${off}`);
    }
    const detail = rows.join("; ");
    console.log(detail);
    assert.equal(exact, clips.length, `the viewer shows the model's frame for the keys pressed (within 1 of 255) in every clip (worst ${worst}): ${detail}`);
    assert.equal(differ, clips.length, `the → and ← pictures differ (mean ≥ 5 of 255) around the agent in every clip: ${detail}`);
  });
});
