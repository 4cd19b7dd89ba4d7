/**
 * Executes every chapter notebook (notebooks/NN-*.ipynb) top to bottom, headless, through the REAL kernel child
 * process — dist/kernel/main.js, the one VS Code forks (`npm test` builds it first) — and fails on any error
 * output (error, stderr, a view's error payload). The fresh run's claims must satisfy the chapter's relations.
 * Each chapter runs twice: as committed, with its exercises unsolved (every exercise check claims 0), and with
 * notebooks/solutions/NN-name.nb put in place of the exercise cells (every check claims 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { KERNEL_MAIN } from "./kernel";
import { listNotebooks, runNotebook, solutionsFile } from "./run";
import { chapterKey, readNotebook, withSolutions } from "./notebook";
import { checkRelations, notebookClaims } from "./relations";
import type { Claim } from "../../kernel/nextframe/display/claims";

const notebooks = listNotebooks();

test("the kernel is built", () => {
  assert.ok(existsSync(KERNEL_MAIN), `${KERNEL_MAIN} is missing; run npm run build`);
});

for (const file of notebooks) {
  const name = path.basename(file);
  test(`${name} runs top to bottom in the real kernel without error output`, { timeout: 10 * 60_000 }, async () => {
    const r = await runNotebook(file);
    assert.deepEqual(r.errors, [], `${name}: error outputs`);
    const claims = notebookClaims(r.notebook);
    assert.deepEqual(checkRelations(chapterKey(name)!, claims), [], `${name}: claims of the fresh run`);
    const checks = exerciseChecks(claims);
    assert.ok(checks.length > 0, `${name}: no exercise check ran (checkExercise claims exercise_<name>_ok)`);
    assert.deepEqual(checks.filter(([, v]) => v !== 0), [], `${name}: exercises ship unsolved, so every check is 0`);
  });

  test(`${name} with its solutions: every exercise check passes`, { timeout: 10 * 60_000 }, async () => {
    const solved = withSolutions(readNotebook(file), readFileSync(solutionsFile(file), "utf8"), path.basename(solutionsFile(file)));
    const r = await runNotebook(file, { nb: solved });
    assert.deepEqual(r.errors, [], `${name} with solutions: error outputs`);
    const checks = exerciseChecks(notebookClaims(r.notebook));
    assert.ok(checks.length > 0, `${name}: no exercise check ran`);
    assert.deepEqual(checks.filter(([, v]) => v !== 1), [], `${name} with solutions: exercise checks that did not pass`);
  });
}

/** [name, value] of every exercise check's claim. */
function exerciseChecks(claims: Map<string, Claim>): [string, number][] {
  return [...claims.values()].filter((c) => /^exercise_[a-z0-9_]+_ok$/.test(c.name)).map((c) => [c.name, c.value]);
}
