import { test } from "node:test";
import assert from "node:assert/strict";
import { currentCellSymbol, kernelSinkSymbol, type KernelSink, type MimeBundle } from "../../shared/libraryContract";
import { CLAIM_MIME, claim, claimBundle, claimsBundle, claimsFromOutputs, formatClaimValue, recordedClaim } from "./claims";
import { display } from "./display";

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

test("claimsFromOutputs reads claims out of nbformat outputs, one or a list per output", () => {
  const outs = [{ data: claimBundle("a", 1) }, { data: { "text/plain": "hi" } }, {},
    { data: claimsBundle([{ name: "b", value: 2.5 }, { name: "c", value: 3, note: "three" }]) }];
  assert.deepEqual(claimsFromOutputs(outs).map((c) => [c.name, c.value]), [["a", 1], ["b", 2.5], ["c", 3]]);
});

test("claimsBundle shows several claims as one table, a row and a text line each", () => {
  const b = claimsBundle([{ name: "x_loss", value: 0.25 }, { name: "y_loss", value: 0.5, note: "baseline" }]);
  assert.deepEqual(b[CLAIM_MIME], { claims: [{ name: "x_loss", value: 0.25 }, { name: "y_loss", value: 0.5, note: "baseline" }] });
  assert.equal((String(b["text/html"]).match(/<tr>/g) ?? []).length, 2);
  assert.equal(b["text/plain"], "x_loss = 0.25\ny_loss = 0.5  (baseline)");
  assert.deepEqual(claimsBundle([{ name: "one", value: 1 }]), claimBundle("one", 1));
  const many = claimsBundle(Array.from({ length: 6 }, (_, i) => ({ name: `m_${i}`, value: i })));
  assert.match(String(many["text/html"]), /^<details class="nextframe-claims"><summary>6 measured values the course checks \(<code>m_0<\/code>, <code>m_1<\/code>, <code>m_2<\/code>, …\)<\/summary><table/);
  assert.equal((String(many["text/html"]).match(/<tr>/g) ?? []).length, 6);
  assert.throws(() => claimsBundle([{ name: "ok", value: 1 }, { name: "bad", value: NaN }]), /claim "bad"/);
});

test("in a kernel, a cell's consecutive claims share one output; another output or another cell starts a new one", () => {
  const shown: { b: MimeBundle; id: string; update: boolean }[] = [];
  const sink: KernelSink = { display: (b, id, update) => shown.push({ b, id, update: !!update }), comm: () => undefined };
  let cell: number | undefined = 1;
  const g = globalThis as Record<symbol, unknown>;
  g[kernelSinkSymbol] = sink;
  g[currentCellSymbol] = () => cell;
  try {
    claim("a_one", 1);
    claim("a_two", 2, "second");
    claim("a_one", 1.5); // a re-claimed name replaces its row, in place
    display.text("a picture");
    claim("a_three", 3);
    cell = 2;
    claim("b_one", 4);
    cell = undefined; // outside any cell (a timer of the kernel's own): every claim on its own
    claim("c_one", 5);
    claim("c_two", 6);
  } finally {
    delete g[kernelSinkSymbol];
    delete g[currentCellSymbol];
  }
  const ids = [...new Set(shown.map((s) => s.id))];
  assert.equal(ids.length, 6, "a-group, picture, a_three, b_one, c_one, c_two");
  const first = shown.filter((s) => s.id === ids[0]);
  assert.deepEqual(first.map((s) => s.update), [false, true, true]);
  assert.deepEqual(claimsFromOutputs([{ data: first.at(-1)!.b }]), [{ name: "a_one", value: 1.5 }, { name: "a_two", value: 2, note: "second" }]);
  assert.ok(shown.filter((s) => s.id !== ids[0]).every((s) => !s.update), "later claims start outputs of their own");
  assert.equal(recordedClaim("a_one").value, 1.5);
});

test("formatClaimValue is compact", () => {
  assert.equal(formatClaimValue(1234), "1234");
  assert.equal(formatClaimValue(0.000012345), "1.234e-5");
  assert.equal(formatClaimValue(118.6412), "118.6");
});
