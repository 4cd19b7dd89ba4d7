import { test } from "node:test";
import assert from "node:assert/strict";
import { kernelSinkSymbol } from "../../shared/libraryContract";
import { MIME, type ScorecardPayload } from "../../shared/payloads";
import type { KernelSink, MimeBundle } from "./display";
import { claim } from "./claims";
import { scorecard, scorecardBundle, scorecardRow, scorecardsFromOutputs } from "./scorecard";

const ROWS = [
  { claim: "a transformer learns the world's rules", measured: 1.234567, baseline: "bigram: 2.5", verdict: "shown" },
  { claim: "it simulates <physics>", measured: "AUC 0.25", baseline: "chance 0.5", verdict: "contradicted", note: "n = 7 events" },
];

test("scorecardBundle carries the rows as data, with numbers formatted like claims", () => {
  const b = scorecardBundle(ROWS, { title: "Chapter 8" });
  assert.deepEqual(b[MIME.scorecard], {
    version: 1, title: "Chapter 8", rows: [
      { claim: "a transformer learns the world's rules", measured: "1.235", baseline: "bigram: 2.5", verdict: "shown" },
      { claim: "it simulates <physics>", measured: "AUC 0.25", baseline: "chance 0.5", verdict: "contradicted", note: "n = 7 events" },
    ],
  } satisfies ScorecardPayload);
  assert.deepEqual(scorecardsFromOutputs([{ data: b }, { data: { "text/plain": "x" } }, {}]), [b[MIME.scorecard]]);
});

test("the HTML fallback is a plain escaped table whose verdicts read without colour; text/plain says the same", () => {
  const b = scorecardBundle(ROWS, { title: "Chapter 8" });
  const html = String(b["text/html"]);
  assert.match(html, /^<table class="nextframe-scorecard"><caption>Chapter 8<\/caption><thead><tr><th>claim<\/th><th>measured<\/th><th>baseline<\/th><th>verdict<\/th>/);
  assert.match(html, /<b>✓ shown<\/b>/);
  assert.match(html, /<b>✗ contradicted<\/b>/);
  assert.match(html, /it simulates &lt;physics&gt;<br><small>n = 7 events<\/small>/);
  assert.doesNotMatch(html, /style=|color/);
  assert.equal(b["text/plain"], "Chapter 8\n✓ shown: a transformer learns the world's rules — measured 1.235; baseline bigram: 2.5\n" +
    "✗ contradicted: it simulates <physics> — measured AUC 0.25; baseline chance 0.5 (n = 7 events)");
  assert.match(String(scorecardBundle([{ ...ROWS[0], verdict: "partly" }, { ...ROWS[0], verdict: "not at this scale" }])["text/html"]),
    /◐ partly.*○ not at this scale/);
});

test("bad input is an error that names what is allowed", () => {
  assert.throws(() => scorecardBundle([{ ...ROWS[0], verdict: "proven" }]),
    /scorecard row 1: verdict must be one of "shown", "partly", "not at this scale", "contradicted"; got "proven"/);
  assert.throws(() => scorecardBundle([ROWS[0], { ...ROWS[1], verdict: undefined }]), /scorecard row 2: verdict must be one of/);
  assert.throws(() => scorecardBundle([{ ...ROWS[0], claim: "" }]), /row 1: "claim" must be a non-empty string/);
  assert.throws(() => scorecardBundle([{ ...ROWS[0], measured: NaN }]), /"measured" must be a non-empty string or a finite number/);
  assert.throws(() => scorecardBundle([{ ...ROWS[0], baselin: "x" }]), /unknown field\(s\) baselin/);
  assert.throws(() => scorecardBundle([]), /non-empty array/);
  assert.throws(() => scorecardBundle(["shown"]), /row 1: must be an object/);
});

test("scorecard() displays the bundle; scorecardRow takes its numbers from recorded claims", () => {
  const shown: MimeBundle[] = [];
  const sink: KernelSink = { display: (bundle) => shown.push(bundle), comm: () => undefined };
  (globalThis as Record<symbol, unknown>)[kernelSinkSymbol] = sink;
  try {
    claim("sc_test_model_loss", 0.123456, "GPT loss");
    claim("sc_test_bigram_loss", 2.5);
    claim("sc_test_unigram_loss", 3.25, "baseline: unigram");
    const row = scorecardRow({ claim: "learns the rules", measuredKey: "sc_test_model_loss", baselineKey: "sc_test_bigram_loss", verdict: "shown" });
    assert.deepEqual(row, { claim: "learns the rules", measured: "GPT loss: 0.1235", baseline: "sc_test_bigram_loss: 2.5", verdict: "shown" });
    assert.equal(scorecardRow({ claim: "c", measuredKey: "sc_test_model_loss", baselineKey: "sc_test_unigram_loss", verdict: "shown" }).baseline,
      "unigram: 3.25");
    assert.equal(scorecardRow({ claim: "c", measuredKey: "sc_test_model_loss", baselineKey: "sc_test_bigram_loss", verdict: "partly",
      measuredLabel: "loss", baselineLabel: "bigram", note: "one seed" }).baseline, "bigram: 2.5");
    assert.throws(() => scorecardRow({ claim: "c", measuredKey: "sc_test_nope", baselineKey: "sc_test_bigram_loss", verdict: "shown" }),
      /no claim named "sc_test_nope" has been recorded.*recorded: .*sc_test_model_loss/);
    assert.equal(scorecard([row], { title: "t" }), undefined);
    assert.deepEqual((shown.at(-1)![MIME.scorecard] as ScorecardPayload).rows, [row]);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[kernelSinkSymbol];
  }
});
