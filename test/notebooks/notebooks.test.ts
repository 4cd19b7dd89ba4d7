/**
 * Executes every chapter notebook (notebooks/NN-*.ipynb) top to bottom, headless, through the REAL kernel child
 * process — dist/kernel/main.js, the one VS Code forks (`npm test` builds it first) — and fails on any error
 * output (error, stderr, a view's error payload). The fresh run's claims must satisfy the chapter's relations.
 * Each chapter runs with notebooks/solutions/NN-name.nb put in place of its exercise cells (every check claims 1).
 * As committed, with its exercises unsolved (every check claims 0), each chapter runs through Jupyter's own client in
 * jupyter.test.ts, which checks the same errors and relations; where Jupyter is not installed, it runs here instead,
 * so every machine runs both versions once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { KERNEL_MAIN } from "./kernel";
import { listNotebooks, runNotebook, solutionsFile } from "./run";
import { chapterKey, readNotebook, withSolutions } from "./notebook";
import { checkRelations, exerciseChecks, notebookClaims } from "./relations";
import { jupyterMissing } from "../jupyter/kernelspecFixture";

const notebooks = listNotebooks();
/** jupyter.test.ts runs the committed (unsolved) chapters unless Jupyter is missing; then they run here. */
const unsolvedHere = jupyterMissing(["nbconvert", "nbclient"]) !== false;

test("the kernel is built", () => {
  assert.ok(existsSync(KERNEL_MAIN), `${KERNEL_MAIN} is missing; run npm run build`);
});

for (const file of notebooks) {
  const name = path.basename(file);
  if (unsolvedHere) test(`${name} as committed (exercises unsolved) runs top to bottom in the real kernel without error output`, { timeout: 10 * 60_000 }, async () => {
    const r = await runNotebook(file);
    assert.deepEqual(r.errors, [], `${name}: error outputs`);
    const claims = notebookClaims(r.notebook);
    assert.deepEqual(checkRelations(chapterKey(name)!, claims), [], `${name}: claims of the fresh run`);
    const checks = exerciseChecks(claims);
    assert.ok(checks.length > 0, `${name}: no exercise check ran (checkExercise claims exercise_<name>_ok)`);
    assert.deepEqual(checks.filter(([, v]) => v !== 0), [], `${name}: exercises ship unsolved, so every check is 0`);
  });

  test(`${name} with its solutions runs top to bottom in the real kernel: no error output, every exercise check passes`, { timeout: 10 * 60_000 }, async () => {
    const solved = withSolutions(readNotebook(file), readFileSync(solutionsFile(file), "utf8"), path.basename(solutionsFile(file)));
    const r = await runNotebook(file, { nb: solved });
    assert.deepEqual(r.errors, [], `${name} with solutions: error outputs`);
    const claims = notebookClaims(r.notebook);
    assert.deepEqual(checkRelations(chapterKey(name)!, claims), [], `${name} with solutions: claims of the fresh run`);
    const checks = exerciseChecks(claims);
    assert.ok(checks.length > 0, `${name}: no exercise check ran`);
    assert.deepEqual(checks.filter(([, v]) => v !== 1), [], `${name} with solutions: exercise checks that did not pass`);
  });
}

