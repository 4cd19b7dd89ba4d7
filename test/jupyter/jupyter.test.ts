// The kernel through Jupyter's own tools: `jupyter nbconvert --execute` on fixture.ipynb with the "nextframe"
// kernelspec, then interrupt (SIGINT and interrupt_request) and restart through jupyter_client
// (interrupt_restart.py). Skips with the reason when Debian's jupyter-nbconvert / python3-jupyter-client are
// not installed (.ci/run installs them) or the kernel is not built (npm test builds it first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KERNEL_MAIN, installTempKernelspec, jupyterMissing } from "./kernelspecFixture";

const mainJs = KERNEL_MAIN;
const python = "/usr/bin/python3";
const skip = jupyterMissing(["nbconvert", "nbclient", "jupyter_client"]);

let tmp = "";
let env: NodeJS.ProcessEnv = {};
before(() => {
  if (skip) return;
  let specFile: string;
  // A notebook folder outside the project: nbconvert runs the kernel there.
  ({ tmp, env, specFile } = installTempKernelspec("nextframe-jupyter-"));
  const spec = JSON.parse(fs.readFileSync(specFile, "utf8"));
  assert.equal(spec.display_name, "TypeScript (nextframe)");
  assert.deepEqual(spec.argv.slice(1), [mainJs, "--jupyter", "{connection_file}"]);
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("jupyter nbconvert --execute runs a notebook with the nextframe kernelspec", { skip }, () => {
  fs.copyFileSync(path.join(__dirname, "fixture.ipynb"), path.join(tmp, "fixture.ipynb"));
  const r = spawnSync("jupyter", [
    "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.kernel_name=nextframe",
    "--ExecutePreprocessor.timeout=120", "--output", "out.ipynb", "fixture.ipynb",
  ], { cwd: tmp, env, encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  const nb = JSON.parse(fs.readFileSync(path.join(tmp, "out.ipynb"), "utf8"));
  const outs = nb.cells.map((c: { outputs: Record<string, unknown>[] }) => c.outputs);
  const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v));
  assert.deepEqual(outs[0].map((o: Record<string, unknown>) => [o.output_type, text(o.text)]), [["stream", "hello from the nextframe kernel 20\n"]]);
  assert.equal(outs[1][0].output_type, "execute_result");
  assert.equal(text(outs[1][0].data["text/plain"]), "42");
  // display handle updated in place: nbclient applies update_display_data to the shown output.
  assert.deepEqual(outs[2].map((o: Record<string, unknown>) => o.output_type), ["display_data", "display_data"]);
  assert.equal(text(outs[2][0].data["text/plain"]), "100%");
  assert.equal(text(outs[2][1].data["text/html"]), "<b>rich</b>");
  const err = outs[3][0];
  assert.deepEqual([err.output_type, err.ename, err.evalue], ["error", "RangeError", "expected failure 20"]);
  assert.deepEqual(err.traceback, ["RangeError: expected failure 20", "    at fail (cell:2:9)", "    at cell:4:1"]);
  assert.equal(outs[4][0].evalue, "cell 1:7 - Type 'number' is not assignable to type 'string'.");
});

test("jupyter nbconvert --execute keeps all 20 000 lines a cell prints, and its result", { skip }, () => {
  const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
  const nb = {
    cells: [cell('for (let i = 0; i < 20000; i++) console.log(`line ${i}`);\n"printed"'), cell("1 + 1")],
    metadata: { kernelspec: { name: "nextframe", display_name: "TypeScript (nextframe)", language: "typescript" } },
    nbformat: 4, nbformat_minor: 5,
  };
  fs.writeFileSync(path.join(tmp, "lines.ipynb"), JSON.stringify(nb));
  const r = spawnSync("jupyter", [
    "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=nextframe",
    "--ExecutePreprocessor.timeout=240", "--output", "lines-out.ipynb", "lines.ipynb",
  ], { cwd: tmp, env, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(fs.readFileSync(path.join(tmp, "lines-out.ipynb"), "utf8"));
  const outputs = out.cells[0].outputs as { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }[];
  const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v));
  const printed = outputs.filter((o) => o.output_type === "stream" && o.name === "stdout").map((o) => text(o.text)).join("");
  assert.equal(printed, Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(""), "every line arrives, in order");
  assert.deepEqual(outputs.filter((o) => o.output_type !== "stream").map((o) => [o.output_type, text(o.data?.["text/plain"])]), [["execute_result", "'printed'"]]);
  assert.equal(text(out.cells[1].outputs[0].data["text/plain"]), "2");
});

test("interrupt (SIGINT to the front and interrupt_request), completion and restart through jupyter_client", { skip }, () => {
  const r = spawnSync(python, [path.join(__dirname, "interrupt_restart.py")], { cwd: tmp, env, encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(out.define, "ok");
  for (const k of ["sync_interrupt", "async_interrupt"]) {
    assert.equal(out[k].status, "error", k);
    assert.deepEqual(out[k].errors, ["Interrupted"], k);
    assert.ok(out[k].seconds < 5, `${k} took ${out[k].seconds} s`);
  }
  for (const k of ["after_sync", "after_async"]) assert.equal(out[k][0][1].data["text/plain"], "42", `${k}: state kept`);
  assert.deepEqual(out.complete, ["kept"]);
  assert.equal(out.after_restart[0][1].evalue, "cell 1:1 - Cannot find name 'kept'.");
});
