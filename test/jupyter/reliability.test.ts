// The Jupyter kernel under stress, through Jupyter's own client (jupyter_client, reliability.py drives it): no lost
// output, a kernel death shown on the cell that caused it, memory limits from the environment, and the protocol
// details of stop_on_error, error replies, history and is_complete. Skips with the reason when Debian's
// python3-jupyter-client is missing (.ci/run installs it) or the kernel is not built (npm test builds it first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { installTempKernelspec, jupyterMissing } from "./kernelspecFixture";

const skip = jupyterMissing(["jupyter_client"]);

let tmp = "";
let env: NodeJS.ProcessEnv = {};
before(() => {
  if (skip) return;
  // The limits come from the test's environment, not from kernel.json (the spec pins none unless installed so).
  ({ tmp, env } = installTempKernelspec("nextframe-jupyter-rel-", { NEXTFRAME_MEMORY_LIMIT_MB: "", NEXTFRAME_RSS_LIMIT_MB: "" }));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  status: string; ename: string | null; evalue: string | null; traceback: string[] | null;
  types: string[]; last: string; stdout: string; errors: [string, string][]; results: string[]; streams: number;
}

type HistoryReply = { status: string; history: unknown[][]; evalue?: string };
interface ProtocolOut {
  queued: { status: string; ename?: string; evalue?: string; traceback?: string[] }[];
  after_abort: Run; no_stop: string[]; after_no_stop: Run; silent: Run; clear: [string, string | boolean][];
  tail: HistoryReply; range: HistoryReply; search: HistoryReply; search_output: HistoryReply; history_bad: HistoryReply;
  is_complete: { status: string; indent?: string }[];
  complete: { matches: string[]; cursor_start: number; cursor_end: number };
  inspect: { data: Record<string, string> };
  comm_reply: [string, string, unknown] | null;
  comm_info: { status: string; comms: Record<string, unknown> };
}

/** Runs one scenario of reliability.py in a fresh kernel; returns its JSON. */
function scenario<T = Record<string, Run>>(name: string, extraEnv: NodeJS.ProcessEnv = {}): T {
  const r = spawnSync("/usr/bin/python3", [path.join(__dirname, "reliability.py"), name], {
    cwd: tmp, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 360_000, maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `reliability.py ${name} exited ${r.status} ${r.signal ?? ""}:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

test("100 000 printed lines all arrive, then the result, then idle; 30 MB is truncated with a note", { skip, timeout: 600_000 }, () => {
  const out = scenario<{ lines: number; complete: boolean; flood: Run; big: Run; big_chars: number; big_stderr: string; after: Run }>("flood");
  assert.equal(out.lines, 100_000);
  assert.ok(out.complete, "the lines arrive in order, none missing");
  assert.equal(out.flood.status, "ok");
  assert.deepEqual(out.flood.results, ["'done'"]);
  assert.equal(out.flood.types.at(-1), "execute_result", `the result comes after every line: ${out.flood.types.join(", ")}`);
  assert.equal(out.flood.last, "status:idle");
  assert.ok(out.flood.streams < 1000, `stream text is coalesced (${out.flood.streams} messages for 100 000 lines)`);
  // 30 000 lines of 1000 characters: the kernel keeps the first 10 MB and says how much it dropped.
  assert.ok(out.big_chars < 15e6 && out.big_chars > 1e6, `printed ${out.big_chars} characters of 30 MB`);
  assert.match(out.big_stderr, /output truncated: .* dropped/);
  assert.deepEqual(out.big.results, ["'big done'"]);
  assert.equal(out.big.last, "status:idle");
  assert.deepEqual(out.after.results, ["2"]);
});

test("a kernel that dies under a cell (process.exit, SIGKILL) says why on that cell and restarts", { skip, timeout: 600_000 }, () => {
  const out = scenario<Record<string, Run> & { pid1: string[]; pid2: string[]; idle_death: [string, string, boolean][] }>("death");
  // What the cell printed before process.exit arrives, then the error naming the exit code.
  assert.equal(out.exit3.stdout, "line 1\nline 2\n");
  assert.deepEqual(out.exit3.types, ["execute_input", "stream", "error"]);
  assert.equal(out.exit3.errors[0][0], "KernelExited");
  assert.match(out.exit3.errors[0][1], /the kernel exited \(code 3\b.*restarted/);
  assert.deepEqual([out.exit3.status, out.exit3.ename, out.exit3.evalue], ["error", "KernelExited", out.exit3.errors[0][1]]);
  assert.equal(out.exit3.last, "status:idle");
  // The next cell runs on a fresh kernel: a new process, earlier state gone.
  assert.notDeepEqual(out.pid2, out.pid1);
  assert.equal(out.after_exit.evalue, "cell 1:8 - Cannot find name 'kept'.");
  assert.equal(out.sigkill.stdout, "before the kill\n");
  assert.match(out.sigkill.evalue ?? "", /signal SIGKILL/);
  assert.deepEqual(out.after_kill.results, ["42"]);
  // Dying while no cell runs (a timer's process.exit): the error goes to the last cell.
  assert.equal(out.idle_death.length, 1);
  assert.equal(out.idle_death[0][0], "KernelExited");
  assert.match(out.idle_death[0][1], /code 5\b.*while no cell was running/);
  assert.ok(out.idle_death[0][2], "reported on the cell that armed the timer");
  assert.deepEqual(out.after_idle_death.results, ["'alive'"]);
});

test("NEXTFRAME_MEMORY_LIMIT_MB and NEXTFRAME_RSS_LIMIT_MB reach the kernel; a cell that fills the heap gets an out-of-memory error naming the limit", { skip, timeout: 600_000 }, () => {
  const out = scenario<Record<string, Run> & { settings: string[] }>("oom", { OOM_LIMIT_MB: "400" });
  assert.deepEqual(out.settings, ["'--max-old-space-size=400 / 64000'"]);
  assert.equal(out.oom.stdout, "filling\n");
  assert.equal(out.oom.status, "error");
  assert.equal(out.oom.ename, "KernelExited");
  assert.match(out.oom.evalue ?? "", /out of memory/);
  assert.match(out.oom.evalue ?? "", /400 MB/);
  // Jupyter users change the limit through the environment variable, not VS Code's setting.
  assert.match(out.oom.evalue ?? "", /NEXTFRAME_MEMORY_LIMIT_MB/);
  assert.doesNotMatch(out.oom.evalue ?? "", /nextframe\.kernel\./);
  assert.equal(out.after.evalue, "cell 1:8 - Cannot find name 'hog'.");
});

test("stop_on_error aborts queued cells; error replies carry the real error; clear_output, history, is_complete, complete, inspect, comms", { skip, timeout: 600_000 }, () => {
  const out = scenario<ProtocolOut>("protocol");
  const [failed, ...aborted] = out.queued;
  assert.equal(failed.status, "error");
  assert.deepEqual([failed.ename, failed.evalue], ["RangeError", "first failure"]);
  assert.deepEqual(failed.traceback, ["RangeError: first failure", "    at fail (cell:2:25)", "    at cell:3:1"]);
  assert.deepEqual(aborted, [{ status: "aborted" }, { status: "aborted" }]);
  assert.deepEqual(out.after_abort.results, ["0"], "the aborted cells did not run; a later request runs");
  assert.deepEqual(out.no_stop, ["error", "ok"], "stop_on_error: false lets the next cell run");
  assert.deepEqual(out.after_no_stop.results, ["100"]);
  assert.deepEqual(out.silent.types, [], "a silent execution shows no result");
  assert.deepEqual(out.clear, [["stream", "before\n"], ["clear_output", true], ["stream", "after\n"]]);
  // History: the cells that ran (aborted ones did not), by execution count.
  assert.deepEqual(out.tail, { status: "ok", history: [[0, 4, "ran += 100;"], [0, 5, "ran"]] });
  assert.deepEqual(out.range.history.map((h) => h[1]), [1, 2]);
  assert.deepEqual(out.search.history, [[0, 4, "ran += 100;"], [0, 5, "ran"]]);
  assert.deepEqual(out.search_output.history, [[0, 2, ["ran", "0"]], [0, 5, ["ran", "100"]]]);
  assert.equal(out.history_bad.status, "error");
  assert.match(out.history_bad.evalue ?? "", /hist_access_type must be "tail", "range" or "search", got "everything"/);
  assert.deepEqual(out.is_complete, [{ status: "incomplete", indent: "  " }, { status: "complete" }]);
  assert.deepEqual(out.complete.matches.slice(0, 1), ["ran"]);
  assert.deepEqual([out.complete.cursor_start, out.complete.cursor_end], [0, 2]);
  assert.deepEqual(out.inspect.data, { "text/plain": "let ran: number" });
  assert.deepEqual(out.comm_reply, ["comm_msg", "c1", { got: { a: 1 } }]);
  assert.deepEqual(out.comm_info, { status: "ok", comms: { c1: { target_name: "echo" } } });
});

test("kernel_info is answered while the kernel child still starts and while a cell runs synchronous code", { skip, timeout: 600_000 }, () => {
  const out = scenario<{ starting: string[]; busy: string[] }>("responsive");
  assert.deepEqual(out.starting, ["kernel_info_reply", "execute_reply"]);
  // The cell loops for 4 s; kernel_info, sent 0.5 s into it, comes back before the cell's reply.
  assert.deepEqual(out.busy, ["kernel_info_reply", "execute_reply"]);
});

test("the kernel child does not outlive a front killed with SIGKILL, even while a cell loops", { skip, timeout: 600_000 }, () => {
  const out = scenario<{ distinct: boolean; child_before: string; child_after: string }>("orphan");
  assert.ok(out.distinct, "cells run in a child of the front");
  assert.equal(out.child_before, "R", "the cell is running");
  assert.ok(["gone", "Z"].includes(out.child_after), `the child is still running (state ${out.child_after})`);
});
