/**
 * Views benchmark (issue 6), in headless Chromium with the real renderer bundle:
 *   - frame player sustained fps, 64 frames of 256×256 RGB played at 60 fps (goal 60)
 *   - time to first paint of a 12-layer × 6-head heatmap grid of 256×256 maps (goal ≤ 300 ms)
 *   - bytes per output for a 64-frame 64×64 video (toy-world-like and worst-case noise), vs raw and vs JSON arrays
 * Prints one JSON object per line. Skips cleanly without /usr/bin/chromium.
 */
import { framesBundle } from "../../kernel/nextframe/display/frames";
import { heatmapBundle } from "../../kernel/nextframe/display/heatmap";
import { chromiumMissing, ensureMediaBuilt, launch, renderBundle, rendererPage } from "../views/harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any;

const out = (o: object) => console.log(JSON.stringify({ bench: "views", ...o }));

/** A toy-world-like clip: textured floor, a moving square, a static occluder. */
function toyVideo(T: number, S: number): Uint8Array {
  const v = new Uint8Array(T * S * S * 3);
  for (let t = 0; t < T; t++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = ((t * S + y) * S + x) * 3;
        const floor = ((x >> 3) + (y >> 3)) % 2 ? 90 : 110;
        let c = [floor, floor, floor + 20];
        const sx = (t * 2) % S, sy = S / 4;
        if (x >= sx && x < sx + S / 8 && y >= sy && y < sy + S / 8) c = [230, 60, 40];
        if (x >= S / 2 && x < S / 2 + S / 10 && y < (3 * S) / 4) c = [40, 140, 60];
        v.set(c, i);
      }
    }
  }
  return v;
}

function noiseVideo(T: number, S: number): Uint8Array {
  const v = new Uint8Array(T * S * S * 3);
  let s = 2463534242; // xorshift32
  for (let i = 0; i < v.length; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; v[i] = s & 255; }
  return v;
}

const PLAYER_PROBE = `async () => {
  const player = document.querySelector("#cell-v .nf-player");
  document.querySelector("#cell-v button[aria-label^='Play']").click();
  await new Promise((res) => setTimeout(res, 500)); // warm-up
  let changes = 0, last = player.getAttribute("data-frame"), frames = 0;
  const t = performance.now();
  await new Promise((res) => {
    const tick = () => {
      frames++;
      const f = player.getAttribute("data-frame");
      if (f !== last) { changes++; last = f; }
      if (performance.now() - t < 3000) requestAnimationFrame(tick); else res();
    };
    requestAnimationFrame(tick);
  });
  const secs = (performance.now() - t) / 1000;
  document.querySelector("#cell-v button[aria-label^='Pause']").click();
  // raw draw cost: step through all frames synchronously
  player.focus();
  const t2 = performance.now();
  for (let i = 0; i < 64; i++) player.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
  const drawMs = (performance.now() - t2) / 64;
  return { fps: changes / secs, rafFps: frames / secs, drawMs };
}`;

const HEATMAP_PROBE = `async (payload) => {
  const t = performance.now();
  const p = window.nfRender("hm", "application/vnd.nextframe.heatmap+json", payload, 1100);
  await p;
  await new Promise((res) => requestAnimationFrame(() => res(null)));
  const first = performance.now() - t;
  const el = document.querySelector("#cell-hm .nf-heatmap");
  while (el.getAttribute("data-plotted") !== "true") await new Promise((res) => setTimeout(res, 10));
  return { first, plotted: performance.now() - t, thumbs: document.querySelectorAll("#cell-hm canvas.nf-thumb").length };
}`;

export async function main(): Promise<void> {
  // ---- bytes per output (no browser needed) ------------------------------------------------------
  for (const [name, data] of [["toy world", toyVideo(64, 64)], ["uniform noise", noiseVideo(64, 64)]] as const) {
    const b = await framesBundle({ data, shape: [64, 64, 64, 3] });
    const total = Buffer.byteLength(JSON.stringify(b));
    const rich = Buffer.byteLength(JSON.stringify(b["application/vnd.nextframe.frames+json"]));
    const png = Buffer.byteLength(b["text/html"] as string); // <img> of the SVG contact sheet (its frames: an embedded PNG)
    const jsonArrays = Buffer.byteLength(JSON.stringify(Array.from(data)));
    out({ case: `bytes/output 64×64×64 RGB ${name}`, bytes: total, rich_bytes: rich, fallback_svg_bytes: png,
      raw_bytes: data.length, peer: "JSON number array of the frames", peer_bytes: jsonArrays, ratio: +(jsonArrays / total).toFixed(2) });
  }

  const skip = chromiumMissing();
  if (skip) {
    out({ case: "player fps / heatmap first paint", skipped: skip });
    return;
  }
  ensureMediaBuilt();
  const browser = await launch();
  try {
    const page = await rendererPage(browser, { width: 1200, height: 1000 });

    // ---- frame player: 64 × 256×256 RGB at 60 fps ---------------------------------------------------
    const big = toyVideo(64, 256);
    const t0 = performance.now();
    const vb = await framesBundle({ data: big, shape: [64, 256, 256, 3] }, { fps: 60 });
    const encodeS = (performance.now() - t0) / 1000;
    const renderMs = await renderBundle(page, "v", vb, 1100);
    // page code as a string: tsx would wrap named inner functions with a helper that does not exist in the page
    const r = (await page.evaluate(`(${PLAYER_PROBE})()`)) as { fps: number; rafFps: number; drawMs: number };
    out({ case: "player 64×256×256 RGB @60", fps: +r.fps.toFixed(1), display_fps: +r.rafFps.toFixed(1), goal_fps: 60,
      draw_ms_per_frame: +r.drawMs.toFixed(2), decode_and_first_paint_ms: +renderMs.toFixed(1), kernel_encode_s: +encodeS.toFixed(3),
      payload_bytes: Buffer.byteLength(JSON.stringify(vb)) });

    // ---- heatmap grid: 12 layers × 6 heads of 256×256 --------------------------------------------------
    const L = 12, H = 6, N = 256, att = new Float32Array(L * H * N * N);
    for (let m = 0; m < L * H; m++) {
      for (let q = 0; q < N; q++) {
        let sum = 0;
        const row = m * N * N + q * N;
        for (let k = 0; k <= q; k++) { const e = Math.exp(-Math.abs(q - k - (m % 7)) / (1 + (m % 5))); att[row + k] = e; sum += e; }
        for (let k = 0; k <= q; k++) att[row + k] /= sum;
      }
    }
    const t1 = performance.now();
    const hb = await heatmapBundle({ data: att, shape: [L, H, N, N] });
    const hEncodeS = (performance.now() - t1) / 1000;
    await page.evaluate((p) => { (window as { __hm?: unknown }).__hm = p; }, hb["application/vnd.nextframe.heatmap+json"]);
    const paint = (await page.evaluate(`(${HEATMAP_PROBE})(window.__hm)`)) as { first: number; plotted: number; thumbs: number };
    out({ case: "heatmap grid 12×6 of 256×256", first_paint_ms: +paint.first.toFixed(1), goal_ms: 300,
      interactive_plot_ms: +paint.plotted.toFixed(1), maps: paint.thumbs, kernel_encode_s: +hEncodeS.toFixed(3),
      payload_bytes: Buffer.byteLength(JSON.stringify(hb)) });
  } finally {
    await browser.close();
  }
}
