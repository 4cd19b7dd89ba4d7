import { test } from "node:test";
import assert from "node:assert/strict";
import { CLAIM_MIME, claimBundle, claimsFromOutputs, formatClaimValue } from "./claims";

test("claimBundle carries the claim part, html and text", () => {
  const b = claimBundle("ddim_psnr_50", 23.456789, "DDIM, 50 steps");
  assert.deepEqual(b[CLAIM_MIME], { name: "ddim_psnr_50", value: 23.456789, note: "DDIM, 50 steps" });
  assert.equal(b["text/plain"], "ddim_psnr_50 = 23.46  (DDIM, 50 steps)");
  assert.match(String(b["text/html"]), /<code>ddim_psnr_50<\/code>/);
  assert.deepEqual(claimBundle("ok", true)[CLAIM_MIME], { name: "ok", value: 1 });
});

test("claimBundle rejects bad names and values, naming them", () => {
  assert.throws(() => claimBundle("Bad Name", 1), /snake_case.*"Bad Name"/);
  assert.throws(() => claimBundle("x", NaN), /claim "x": value must be a finite number/);
  assert.throws(() => claimBundle("x", Infinity), /finite/);
});

test("claimsFromOutputs reads claims out of nbformat outputs", () => {
  const outs = [{ data: claimBundle("a", 1) }, { data: { "text/plain": "hi" } }, {}, { data: claimBundle("b", 2.5) }];
  assert.deepEqual(claimsFromOutputs(outs).map((c) => [c.name, c.value]), [["a", 1], ["b", 2.5]]);
});

test("formatClaimValue is compact", () => {
  assert.equal(formatClaimValue(1234), "1234");
  assert.equal(formatClaimValue(0.000012345), "1.234e-5");
  assert.equal(formatClaimValue(118.6412), "118.6");
});
