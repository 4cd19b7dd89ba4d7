import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTableRows, numericColumns } from "./tableFormat";

const column = (...values: (number | string | null)[]) => formatTableRows(values.map((v) => [v]), 1).map((r) => r[0]);

test("a column within two orders of magnitude shares one precision: three significant digits of its largest value", () => {
  assert.deepEqual(column(0.2, 0, 0.5714285, 0.0666667), ["0.200", "0.000", "0.571", "0.067"]);
  assert.deepEqual(column(-1.1047, 0.30914, -0.042109, 0.16364), ["-1.10", "0.31", "-0.04", "0.16"]);
  assert.deepEqual(column(138.37, 45.127), ["138", "45"]);
  assert.deepEqual(column(0.0049937, 0.026641), ["0.0050", "0.0266"]);
  assert.deepEqual(column(0.3, 0.1, 0.25), ["0.30", "0.10", "0.25"]);
  assert.deepEqual(column(0.3, 0.1), ["0.3", "0.1"]); // no zeros every value ends with
  assert.deepEqual(column(7.5), ["7.5"]);
});

test("integers stay as they are; a column spanning more than 100× keeps four significant digits a value", () => {
  assert.deepEqual(column(2, 16, 2048), ["2", "16", "2048"]);
  assert.deepEqual(column(0.96995, 0.0033002, 0.00010604, 1), ["0.9699", "0.0033", "0.000106", "1"]);
  assert.deepEqual(column(118.62, 0.35797), ["118.6", "0.358"]);
});

test("nothing non-zero is shown as 0; NaN, infinities, text and empty cells are kept", () => {
  assert.deepEqual(column(0.00099, 0.0000099), ["0.001", "9.9e-6"]); // four decimals at most
  assert.deepEqual(column(-0.0000099, 0.00099), ["-9.9e-6", "0.001"]);
  assert.deepEqual(column(0.25, Number.NaN, Number.POSITIVE_INFINITY, null, "n/a"), ["0.25", "NaN", "∞", "", "n/a"]);
});

test("each column is formatted on its own", () => {
  assert.deepEqual(formatTableRows([["a", 0.5, 3], ["b", 0.25, 4]], 3), [["a", "0.50", "3"], ["b", "0.25", "4"]]);
});

test("a column of numbers and value-like text is numeric (aligned right); names and notes are not", () => {
  const rows = [["model", 0.5, "7/21", null], ["copy-last", "—", "0/21", 3], ["target", "≥ 0.9", "≥ 5 of 6", ""]];
  assert.deepEqual(numericColumns(rows, 4), [false, true, true, true]);
  assert.deepEqual(numericColumns([["a", 1], ["b", "—"]], 2), [false, true]); // half numbers: numeric
  assert.deepEqual(numericColumns([[null], [""]], 1), [false]); // empty: not numeric
  // fewer numbers than text, but all the text stands for values (targets, dashes, counts, ranges): numeric
  assert.deepEqual(numericColumns([[131], ["—"], [72], ["—"], ["≥ 30"]], 1), [true]);
  assert.deepEqual(numericColumns([["7/21"], ["12 / 21"], ["≥ 5 of 6"], ["0.00 – 0.22"], ["-1.5e-3"], ["40 %"]], 1), [true]);
  // labels and notes that merely start with a digit, or "n/a" beside a number: not numeric
  assert.deepEqual(numericColumns([["2 steps, guidance 2"], ["4 steps"], [3]], 1), [false]);
  assert.deepEqual(numericColumns([[1], ["n/a"], ["n/a"]], 1), [false]);
});
