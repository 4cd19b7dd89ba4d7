// Stream batching of the Jupyter front: few messages, nothing lost, order kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StreamBatcher } from "./streamBatcher";

type Sent = [string, string, string];

function collect(opts = {}) {
  const sent: Sent[] = [];
  const b = new StreamBatcher<string>((parent, name, text) => sent.push([parent, name, text]), opts);
  return { b, sent };
}

test("many small writes of one cell go out as one message after the interval", async () => {
  const { b, sent } = collect({ intervalMs: 20 });
  for (let i = 0; i < 1000; i++) b.write("cell1", "stdout", `${i}\n`);
  assert.equal(sent.length, 0);
  const t0 = Date.now();
  while (sent.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
  assert.equal(sent.length, 1);
  assert.equal(sent[0][2], Array.from({ length: 1000 }, (_, i) => `${i}\n`).join(""));
});

test("text is published at the size threshold without waiting for the timer", () => {
  const { b, sent } = collect({ intervalMs: 60_000, maxChars: 100 });
  for (let i = 0; i < 25; i++) b.write("c", "stdout", "abcdefghi\n");
  assert.deepEqual(sent.map((s) => s[2].length), [100, 100]);
  b.flush();
  assert.deepEqual(sent.map((s) => s[2].length), [100, 100, 50]);
});

test("another stream or another cell flushes the pending text first, so the order is kept", () => {
  const { b, sent } = collect({ intervalMs: 60_000 });
  b.write("c1", "stdout", "a");
  b.write("c1", "stdout", "b");
  b.write("c1", "stderr", "E");
  b.write("c1", "stdout", "c");
  b.write("c2", "stdout", "d");
  b.flush();
  b.flush();
  assert.deepEqual(sent, [["c1", "stdout", "ab"], ["c1", "stderr", "E"], ["c1", "stdout", "c"], ["c2", "stdout", "d"]]);
});
