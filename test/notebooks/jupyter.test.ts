/**
 * The course through Jupyter's own client: `jupyter nbconvert --execute` runs every chapter (notebooks/NN-*.ipynb)
 * with the "nextframe" kernelspec (dist/kernel/main.js --jupyter, installed into a throw-away prefix), one
 * nbconvert per chapter so a chapter that kills its kernel fails alone. The kernel runs in the notebooks' own
 * folder, as when a learner opens the course in Jupyter (the shipped checkpoints are found from there), and the
 * executed copy is written to a temp folder, never over the committed notebook. Every code cell must have been
 * executed, no output may be an error (error, stderr, a view's error payload), and the chapter's measured claims
 * must satisfy its relations — the same checks as the IPC path in notebooks.test.ts — and, as the notebooks are
 * committed with their exercises unsolved, every exercise check must claim 0 (notebooks.test.ts runs the solved ones). Skips with the reason when
 * Debian's jupyter-nbconvert / python3-nbclient are missing (.ci/run installs them) or the kernel is not built.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KERNEL_ENV } from "./kernel";
import { installTempKernelspec, jupyterMissing } from "../jupyter/kernelspecFixture";
import { errorsIn, listNotebooks, NOTEBOOKS_DIR } from "./run";
import { checkRelations, exerciseChecks, notebookClaims } from "./relations";
import { chapterKey, joinSource, type Notebook } from "./notebook";

const chapters = listNotebooks();

const skip = jupyterMissing(["nbconvert", "nbclient"]);

let tmp = "";
let env: NodeJS.ProcessEnv = {};
before(() => {
  if (skip) return;
  ({ tmp, env } = installTempKernelspec("nextframe-course-", KERNEL_ENV));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the course has chapters for Jupyter to run", () => {
  assert.ok(chapters.length > 0, `no notebooks/NN-*.ipynb in ${NOTEBOOKS_DIR}`);
});

for (const file of chapters) {
  const name = path.basename(file);
  test(`${name} executes through jupyter nbconvert with the nextframe kernelspec`, { skip, timeout: 10 * 60_000 }, (t) => {
    const outDir = path.join(tmp, "out");
    const t0 = performance.now();
    const r = spawnSync("jupyter", [
      "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
      "--ExecutePreprocessor.kernel_name=nextframe", "--ExecutePreprocessor.timeout=300",
      "--output-dir", outDir, name,
    ], { cwd: NOTEBOOKS_DIR, env, encoding: "utf8", timeout: 8 * 60_000 });
    t.diagnostic(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s through nbconvert (kernel start included)`);
    assert.equal(r.status, 0, `jupyter nbconvert ${name} exited ${r.status}${r.signal ? ` (${r.signal})` : ""}:\n${r.stderr}`);
    const nb = JSON.parse(fs.readFileSync(path.join(outDir, name), "utf8")) as Notebook;
    // nbclient skips blank code cells; every other code cell must have run (an execute_reply came back)
    const unexecuted = nb.cells.flatMap((c, i) => (c.cell_type === "code" && joinSource(c.source).trim() !== "" && c.execution_count == null ? [`cell ${i + 1}`] : []));
    assert.deepEqual(unexecuted, [], `${name}: code cells without an execution count`);
    const errors = nb.cells.flatMap((c, i) => errorsIn(c.outputs ?? []).map((e) => `cell ${i + 1}: ${e}`));
    assert.deepEqual(errors, [], `${name}: error outputs`);
    const claims = notebookClaims(nb);
    assert.deepEqual(checkRelations(chapterKey(name)!, claims), [], `${name}: claims of the Jupyter run`);
    const checks = exerciseChecks(claims);
    assert.ok(checks.length > 0, `${name}: no exercise check ran (checkExercise claims exercise_<name>_ok)`);
    assert.deepEqual(checks.filter(([, v]) => v !== 0), [], `${name}: exercises ship unsolved, so every check is 0`);
  });
}
