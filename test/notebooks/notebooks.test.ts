/**
 * Executes every chapter notebook (notebooks/NN-*.ipynb) top to bottom, headless, through the REAL kernel child
 * process — dist/kernel/main.js, the one VS Code forks (`npm test` builds it first) — and fails on any error
 * output (error, stderr, a view's error payload). The fresh run's claims must satisfy the chapter's relations.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { KERNEL_MAIN } from "./kernel";
import { listNotebooks, runNotebook } from "./run";
import { checkRelations, notebookClaims } from "./relations";

const notebooks = listNotebooks();

test("the kernel is built", () => {
  assert.ok(existsSync(KERNEL_MAIN), `${KERNEL_MAIN} is missing; run npm run build`);
});

for (const file of notebooks) {
  const name = path.basename(file);
  test(`${name} runs top to bottom in the real kernel without error output`, { timeout: 10 * 60_000 }, async () => {
    const r = await runNotebook(file);
    assert.deepEqual(r.errors, [], `${name}: error outputs`);
    assert.deepEqual(checkRelations(name.slice(0, 2), notebookClaims(r.notebook)), [], `${name}: claims of the fresh run`);
  });
}
