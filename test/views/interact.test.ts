// interact() in the nextframe renderer (headless Chromium): moving a slider or a choice posts the values through
// renderer messaging, and an update of the same output re-renders the inner view while keeping the controls.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { kernelSinkSymbol, type KernelSink, type MimeBundle } from "../../kernel/shared/libraryContract";
import { MIME, type InteractPayload } from "../../kernel/shared/payloads";
import { interact } from "../../kernel/nextframe/display/interact";
import { tableBundle } from "../../kernel/nextframe/display/table";
import { mimeBundleSymbol } from "../../kernel/nextframe/display/display";
import { chromiumMissing, renderBundle, rendererPageSession } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any;

const skip = chromiumMissing();

/** The bundles an interact() output sends: the first for the defaults, then one per `set`. */
async function interactBundles(steps: Record<string, number | string>[]): Promise<MimeBundle[]> {
  const shown: MimeBundle[] = [];
  const sink: KernelSink = { display: (b) => shown.push(b), comm: () => {} };
  (globalThis as Record<symbol, unknown>)[kernelSinkSymbol] = sink;
  try {
    const h = interact(({ scale, sampler }) => ({
      [mimeBundleSymbol]: () => tableBundle([{ scale, sampler, doubled: scale * 2 }]),
    }), { scale: [0, 10, 0.5, 3], sampler: ["ddpm", "ddim"] });
    await h.settled();
    for (const s of steps) await h.set(s);
    h.close();
  } finally {
    delete (globalThis as Record<symbol, unknown>)[kernelSinkSymbol];
  }
  return shown;
}

describe("interact in the renderer (headless Chromium)", { skip }, () => {
  const session = rendererPageSession();
  let page: Page;
  before(() => { page = session.page(); });

  const cellText = (id: string) => page.locator(`#cell-${id} .nf-interact-output td`).allTextContents();

  test("moving the slider and the choice posts the values; an update re-renders the inner view in place", async () => {
    const [first, second] = await interactBundles([{ scale: 7.5 }]);
    const target = (first[MIME.interact] as InteractPayload).target;
    await renderBundle(page, "ia", first);
    assert.deepEqual(await cellText("ia"), ["3", "ddpm", "6"], "the table for the defaults");
    const slider = page.locator("#cell-ia input.nf-slider");
    assert.equal(await slider.getAttribute("min"), "0");
    assert.equal(await slider.getAttribute("step"), "0.5");
    assert.equal(await slider.inputValue(), "3");
    await page.evaluate(() => { document.querySelector("#cell-ia input.nf-slider").__marked = true; });

    await slider.fill("7.5"); // sets the value and fires input
    const posted = await page.evaluate(() => window.__posted ?? []);
    assert.deepEqual(posted.at(-1), { type: "interact", target, values: { scale: 7.5, sampler: "ddpm" } });
    assert.equal(await page.locator("#cell-ia .nf-interact-status").textContent(), "running…");
    assert.equal(await page.locator("#cell-ia .nf-slider-value").textContent(), "7.5");

    await page.locator("#cell-ia select").selectOption({ label: "ddim" });
    const posted2 = await page.evaluate(() => window.__posted);
    assert.deepEqual(posted2.at(-1), { type: "interact", target, values: { scale: 7.5, sampler: "ddim" } });

    // the kernel's update for scale 7.5 (same output id): the table changes, the controls are the same elements
    await renderBundle(page, "ia", second);
    assert.deepEqual(await cellText("ia"), ["7.5", "ddpm", "15"]);
    assert.equal(await page.evaluate(() => document.querySelector("#cell-ia input.nf-slider").__marked === true), true, "the slider was kept");
    assert.equal(await page.locator("#cell-ia select").inputValue().then((i) => page.locator(`#cell-ia select option[value="${i}"]`).textContent()), "ddim",
      "the user's newer choice stays selected");
    assert.equal(await page.locator("#cell-ia .nf-interact").getAttribute("data-pending"), "true", "still waiting for the ddim run");
    assert.deepEqual((page as Page & { nfErrors: string[] }).nfErrors, []);
  });

  test("an error in fn shows as an error in the output, and HTML output is rebuilt without scripts", async () => {
    const errorPayload: InteractPayload = {
      version: 1, target: "nextframe.interact.t-1", values: { k: 2 }, fnError: "RangeError: k=2 is too big",
      controls: [{ kind: "slider", name: "k", label: "k", min: 0, max: 3, step: 1, value: 2 }],
      output: { mime: "text/plain", data: "interact: fn threw for k = 2 (0…3, step 1): RangeError: k=2 is too big" },
    };
    await renderBundle(page, "ib", { [MIME.interact]: errorPayload });
    assert.match(await page.locator("#cell-ib .nf-interact-output .nf-error").textContent() ?? "", /RangeError: k=2 is too big/);
    const htmlPayload: InteractPayload = { ...errorPayload, target: "nextframe.interact.t-2", fnError: undefined,
      output: { mime: "text/html", data: `<p>ok <b>bold</b><script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"></p>` } };
    await renderBundle(page, "ic", { [MIME.interact]: htmlPayload });
    assert.equal(await page.locator("#cell-ic .nf-interact-output b").textContent(), "bold");
    assert.equal(await page.locator("#cell-ic .nf-interact-output script, #cell-ic .nf-interact-output img").count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });
});
