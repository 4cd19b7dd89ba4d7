/**
 * The course through Jupyter's own client: `jupyter nbconvert --execute` runs chapters with the "nextframe"
 * kernelspec (dist/kernel/main.js --jupyter) in a copy outside the project, and the executed notebook must have no
 * error output and satisfy the chapter's relations. Two fast chapters keep `npm test` short; the REAL-kernel IPC
 * path runs every chapter in notebooks.test.ts. Skips with the reason when Debian's jupyter-nbconvert /
 * python3-nbclient are missing (.ci/run installs them) or the kernel is not built.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KERNEL_ENV, ROOT } from "./kernel";
import { installTempKernelspec, jupyterMissing } from "../jupyter/kernelspecFixture";
import { errorsIn } from "./run";
import { checkRelations, notebookClaims } from "./relations";
import type { Notebook } from "./notebook";

const CHAPTERS = ["02-patches.ipynb", "03-space-time.ipynb"];

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

for (const name of CHAPTERS) {
  const file = path.join(ROOT, "notebooks", name);
  test(`${name} executes through jupyter nbconvert with the nextframe kernelspec`, { skip: skip || (!fs.existsSync(file) && `${name} does not exist`), timeout: 10 * 60_000 }, () => {
    fs.copyFileSync(file, path.join(tmp, name));
    const out = `out-${name}`;
    const r = spawnSync("jupyter", [
      "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.timeout=300",
      "--output", out, name,
    ], { cwd: tmp, env, encoding: "utf8", timeout: 8 * 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const nb = JSON.parse(fs.readFileSync(path.join(tmp, out), "utf8")) as Notebook;
    const errors = nb.cells.flatMap((c, i) => errorsIn(c.outputs ?? []).map((e) => `cell ${i + 1}: ${e}`));
    assert.deepEqual(errors, []);
    assert.deepEqual(checkRelations(name.slice(0, 2), notebookClaims(nb)), []);
  });
}
