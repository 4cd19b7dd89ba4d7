import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cardPlayMetrics, readCard, readTried } from "./checkpoints";
import { PLAY_METRIC_TITLES } from "../metrics/play";

test("cardPlayMetrics: a world model card's play metrics with copy-last's; a card without them is named", () => {
  const play = cardPlayMetrics(readCard("world-model-play"));
  for (const k of Object.keys(PLAY_METRIC_TITLES)) assert.equal(typeof play[k as keyof typeof play], "number", k);
  assert.equal(play.copyLast.action_follow_rate, 0, "copy-last follows no key");
  assert.throws(() => cardPlayMetrics(readCard("autoencoder")), /card "autoencoder" has no metrics\.play/);
});

test("readTried: the shipped records list their variants; a missing or malformed record says what is wrong", () => {
  for (const name of ["world-model-play", "text-to-video"]) {
    const { about, rows } = readTried(name);
    assert.ok(about.length > 20, `${name}: says what the record is about`);
    assert.ok(rows.length >= 2 && rows.every((r) => typeof r.variant === "string" && r.variant.length > 0), name);
  }
  const dir = mkdtempSync(join(tmpdir(), "nf-tried-"));
  try {
    assert.throws(() => readTried("autoencoder", dir), /no record .*autoencoder\.tried\.json/);
    writeFileSync(join(dir, "x.tried.json"), JSON.stringify({ about: "x", variants: [] }));
    assert.throws(() => readTried("x", dir), /has no "rows" list/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
