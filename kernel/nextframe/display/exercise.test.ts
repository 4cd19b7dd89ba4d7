import { test } from "node:test";
import assert from "node:assert/strict";
import { kernelSinkSymbol } from "../../shared/libraryContract";
import type { KernelSink, MimeBundle } from "./display";
import { CLAIM_MIME, type Claim } from "./claims";
import { checkExercise } from "./exercise";

/** Runs `f` with a kernel sink and returns the markdown and the claim that the check showed. */
async function shownBy(f: () => Promise<void>): Promise<{ markdown: string; claim: Claim }> {
  const shown: MimeBundle[] = [];
  const sink: KernelSink = { display: (b) => shown.push(b), comm: () => undefined };
  (globalThis as Record<symbol, unknown>)[kernelSinkSymbol] = sink;
  try {
    await f();
    const markdown = shown.map((b) => b["text/markdown"]).filter((m) => typeof m === "string").join("\n");
    const claim = shown.map((b) => b[CLAIM_MIME] as Claim | undefined).find((c) => c)!;
    return { markdown, claim };
  } finally {
    delete (globalThis as Record<symbol, unknown>)[kernelSinkSymbol];
  }
}

const spec = { hint: "the sum of the two", solved: "The library adds the same way." };

test("an unanswered exercise shows its hint and claims 0", async () => {
  const r = await shownBy(() => checkExercise("add", { ...spec, answer: () => undefined, check: (x: number) => x === 5 }));
  assert.match(r.markdown, /Your turn.*not answered yet[\s\S]*Hint.*the sum of the two/);
  assert.deepEqual(r.claim, { name: "exercise_add_ok", value: 0, note: "not answered yet" });
});

test("a right answer shows ✓ and what it means, and claims 1", async () => {
  const r = await shownBy(() => checkExercise("add", { ...spec, answer: 5, check: (x: number) => x === 5 }));
  assert.match(r.markdown, /✓ \*\*Right\*\*.*The library adds the same way/);
  assert.doesNotMatch(r.markdown, /Hint/);
  assert.equal(r.claim.value, 1);
});

test("a wrong answer says why; an answer whose code throws shows the error instead of failing the cell", async () => {
  const wrong = await shownBy(() => checkExercise("add", { ...spec, answer: 4, check: (x: number) => x === 5 || `${x} is one short` }));
  assert.match(wrong.markdown, /✗ \*\*Not yet\*\*.*4 is one short[\s\S]*Hint/);
  assert.equal(wrong.claim.value, 0);
  const threw = await shownBy(() => checkExercise("add", {
    ...spec, answer: (): number => { throw new RangeError("index 9 out of range"); }, check: () => true,
  }));
  assert.equal(threw.claim.value, 0);
  assert.match(threw.markdown, /your code threw ` RangeError: index 9 out of range `/);
  const checkThrew = await shownBy(() => checkExercise("add", { ...spec, answer: 3, check: () => { throw new Error("shape (2, 3) vs (3, 2)"); } }));
  assert.match(checkThrew.markdown, /threw ` Error: shape \(2, 3\) vs \(3, 2\) `/);
});

test("async answers and checks are awaited", async () => {
  const r = await shownBy(() => checkExercise("add", { ...spec, answer: async () => 5, check: async (x: number) => x === 5 }));
  assert.equal(r.claim.value, 1);
});

test("a bad name or spec is a clear error", async () => {
  await assert.rejects(() => checkExercise("Bad name", { ...spec, answer: 1, check: () => true }), /snake_case.*"Bad name"/);
  await assert.rejects(() => checkExercise("x", { answer: 1 } as never), /expected \{ answer, check/);
});
