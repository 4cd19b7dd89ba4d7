/**
 * The same data on both engines: `npm run data` (kernel/train/data.ts, shards made in worker threads) writes clips
 * that the PyTorch side (nextframe_torch.data) reads back by memory map, and they are exactly the clips
 * videoWorldData (what the TypeScript trainers use) generates for the same seed: frames byte for byte, actions,
 * carried captions and ground truth.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { videoWorldData } from "../nextframe/course/index";
import { captionTokenizer, encodeCaptions } from "../nextframe/models/worldModel";
import { parseDataArgs } from "../train/data";
import { requireTorch, runPython, skipWithoutTorch } from "./torchEnv";

const ROOT = join(__dirname, "..", "..");

test("npm run data writes videoWorldData's clips, and PyTorch reads them back by memory map", { skip: skipWithoutTorch() }, () => {
  requireTorch();
  const dir = mkdtempSync(join(tmpdir(), "nf-data-"));
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "kernel/train/data.ts"), "video-world", "--clips", "5", "--shards", "2", "--seed", "2", "--out", dir],
      { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    assert.equal(index.shards.length, 2);
    assert.deepEqual(index.shards.map((s: { count: number }) => s.count), [2, 3]);
    assert.equal(index.captionVocab, captionTokenizer().vocabSize);
    const rows = runPython("nextframe_torch.data", ["summary", dir]).trim().split("\n").map((l) => JSON.parse(l));
    const clips = videoWorldData({ seed: 2, numTrain: 5, numVal: 0 }).train;
    assert.equal(rows.length, clips.length);
    rows.forEach((row, i) => {
      const c = clips[i]!;
      assert.equal(row.mapped, true, `clip ${i}: not a view of a memory-mapped file`);
      assert.equal(row.seed, c.seed, `clip ${i}: seed`);
      assert.deepEqual(row.shape, [c.numFrames, c.size, c.size, 3]);
      assert.equal(row.frames, createHash("sha256").update(c.frames).digest("hex"), `clip ${i}: frames differ`);
      assert.deepEqual(row.actions, Array.from(c.actions), `clip ${i}: actions`);
      assert.equal(row.caption, c.caption, `clip ${i}: caption`);
      assert.deepEqual(row.captionTokens, Array.from(encodeCaptions(captionTokenizer(), [c.caption])), `clip ${i}: caption tokens`);
      const last = c.states[c.numFrames - 1]!, ob = last.objects[0]!;
      assert.equal(row.object0[0], ob.id);
      assert.equal(row.object0[1], Math.fround(ob.x), `clip ${i}: ground-truth x`);
      assert.equal(row.object0[10], Math.fround(ob.screenY), `clip ${i}: ground-truth screenY`);
      assert.deepEqual(row.camera, [Math.fround(last.cameraX), last.bites, last.maxBites]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run data names what is wrong with its arguments", () => {
  assert.throws(() => parseDataArgs([]), /usage: npm run data -- video-world\|play-world --clips N[^]*npm run data -- text-to-video --clips N/);
  assert.throws(() => parseDataArgs(["moon-world", "--clips", "2"]), /unknown world "moon-world"/);
  assert.throws(() => parseDataArgs(["video-world", "--clips", "two", "--shards", "1", "--out", "x"]), /--clips needs an integer, got "two"/);
  assert.throws(() => parseDataArgs(["video-world", "--clips", "2", "--out", "x"]), /--shards is required/);
  assert.throws(() => parseDataArgs(["video-world", "--clips", "2", "--shards", "1", "--out", "x", "--split", "test"]), /--split must be train or val, got "test"/);
  assert.throws(() => parseDataArgs(["play-world", "--clips", "2", "--shards", "1", "--out", "x", "--autoencoder", "y"]), /--autoencoder applies only to text-to-video/);
  // text-to-video's defaults are TEXT_TO_VIDEO_RECIPE's data: seed 33, 16-frame clips
  const t2v = parseDataArgs(["text-to-video", "--clips", "4", "--shards", "1", "--out", "x"]);
  assert.deepEqual([t2v.seed, t2v.frames, t2v.size, t2v.split], [33, 16, 32, "train"]);
});
