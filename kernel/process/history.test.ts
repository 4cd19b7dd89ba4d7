// The Jupyter front's input history (history_request): IPython's tail / range / search semantics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { History, globToRegExp } from "./history";

function sample(): History {
  const h = new History();
  h.add(1, "const a = 1;");
  h.add(2, "a + 1");
  h.setOutput(2, "2");
  h.add(3, "console.log(a / 2)");
  h.add(4, "a + 1");
  h.setOutput(4, "2");
  return h;
}

test("tail returns the last n cells, the latest included", () => {
  assert.deepEqual(sample().query({ hist_access_type: "tail", n: 2 }).history, [[0, 3, "console.log(a / 2)"], [0, 4, "a + 1"]]);
  assert.deepEqual(sample().query({ hist_access_type: "tail", n: 0 }).history, []);
});

test("range counts lines from 1, excludes stop, and knows only the current session", () => {
  const h = sample();
  assert.deepEqual(h.query({ hist_access_type: "range", session: 0, start: 2, stop: 4 }).history, [[0, 2, "a + 1"], [0, 3, "console.log(a / 2)"]]);
  assert.equal(h.query({ hist_access_type: "range", session: 0 }).history.length, 4);
  assert.deepEqual(h.query({ hist_access_type: "range", session: 0, start: -1 }).history, [[0, 4, "a + 1"]]);
  assert.deepEqual(h.query({ hist_access_type: "range", session: -1 }).history, []);
});

test("search matches a glob over whole inputs; unique keeps the latest run of each input; output adds results", () => {
  const h = sample();
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "a*" }).history.map((e) => e[1]), [2, 4]);
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "*a*", unique: true }).history.map((e) => e[1]), [1, 3, 4]);
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "*a*", n: 1 }).history.map((e) => e[1]), [4]);
  assert.deepEqual(h.query({ hist_access_type: "search", pattern: "*/ ?)" }).history.map((e) => e[1]), [3]);
  assert.deepEqual(h.query({ hist_access_type: "tail", n: 1, output: true }).history, [[0, 4, ["a + 1", "2"]]]);
});

test("globs are SQLite's: case-sensitive, classes, regex characters literal", () => {
  assert.ok(globToRegExp("[ab]?(*)").test("b.(x/y)"));
  assert.ok(!globToRegExp("A*").test("a"));
  assert.ok(globToRegExp("[!x]+").test("y+"));
  assert.ok(!globToRegExp("a.b").test("axb"));
});

test("a malformed request is named", () => {
  assert.throws(() => sample().query({ hist_access_type: "all" }), /hist_access_type must be "tail", "range" or "search", got "all"/);
  assert.throws(() => sample().query({ hist_access_type: "tail", n: "3" }), /n must be an integer, got "3"/);
});
