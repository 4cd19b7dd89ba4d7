/**
 * The course's saved notebooks (notebooks/NN-*.ipynb, committed WITH outputs) hold the measured values the
 * chapters claim; this checks the relations between them (test/notebooks/relations.ts) and the course's
 * format rules, without running anything. notebooks.test.ts checks the same relations on a fresh run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { listNotebooks } from "./run";
import { checkRelations, notebookClaims, RELATIONS } from "./relations";
import { joinSource, readNotebook } from "./notebook";

const notebooks = listNotebooks();

test("the course has chapter notebooks", () => {
  assert.ok(notebooks.length > 0, "no notebooks/NN-*.ipynb found");
});

test("a chapter with no relations fails instead of passing silently", () => {
  const claims = new Map([["anything", { name: "anything", value: 1 }]]);
  assert.deepEqual(checkRelations("99", claims), ["99: the chapter has no relations (add the relations its claims must satisfy to RELATIONS in test/notebooks/relations.ts)"]);
  RELATIONS["98"] = [];
  try {
    assert.equal(checkRelations("98", claims).length, 1);
  } finally {
    delete RELATIONS["98"];
  }
});

for (const file of notebooks) {
  const name = path.basename(file);
  const chapter = name.slice(0, 2);
  const nb = readNotebook(file);

  test(`${name}: saved claims satisfy the chapter's relations`, () => {
    const claims = notebookClaims(nb);
    assert.ok(claims.size > 0, `${name} exposes no claims (use claim(name, value) from "nextframe")`);
    assert.deepEqual(checkRelations(chapter, claims), []);
  });

  test(`${name}: format — kernelspec, saved outputs with fallbacks, exercise, Chinese subtitle, size`, () => {
    assert.equal(nb.nbformat, 4);
    const ks = nb.metadata.kernelspec as { name: string; display_name: string; language: string };
    assert.deepEqual(ks, { name: "nextframe", display_name: "TypeScript (nextframe)", language: "typescript" });
    assert.equal((nb.metadata.language_info as { name: string }).name, "typescript");
    const code = nb.cells.filter((c) => c.cell_type === "code");
    for (const [i, c] of code.entries()) {
      assert.equal(typeof c.execution_count, "number", `${name}: code cell ${i + 1} has no saved execution (run npm run notebooks:run)`);
      for (const o of c.outputs ?? []) {
        assert.notEqual(o.output_type, "error", `${name}: code cell ${i + 1} saved an error output`);
        const mimes = Object.keys(o.data ?? {});
        if (mimes.some((m) => m.startsWith("application/vnd.nextframe.") && m !== "application/vnd.nextframe.claim+json")) {
          assert.ok(mimes.includes("image/png") || mimes.includes("image/svg+xml") || mimes.includes("text/html"), `${name}: code cell ${i + 1}: a nextframe view without a PNG/SVG/HTML fallback (${mimes.join(", ")})`);
        }
      }
    }
    const exercise = nb.cells.findIndex((c) => (c.metadata.tags as string[] | undefined)?.includes("exercise"));
    assert.ok(exercise >= 0, `${name}: no cell tagged "exercise"`);
    const check = nb.cells.slice(exercise + 1).find((c) => c.cell_type === "code");
    assert.ok(check && /✓/.test(joinSource(check.source)), `${name}: the exercise has no check cell (✓ / hint) after it`);
    const md = nb.cells.filter((c) => c.cell_type === "markdown").map((c) => joinSource(c.source)).join("\n");
    assert.match(md, /^### .*[\u4e00-\u9fff]/m, `${name}: no Chinese section title as a subtitle (### ...)`);
    assert.ok(statSync(file).size < 1.5 * 1024 * 1024, `${name} is ${(statSync(file).size / 1024).toFixed(0)} KB; keep it under 1.5 MB`);
    assert.ok(!readFileSync(file, "utf8").includes("/work/"), `${name}: saved outputs mention a local path`);
  });
}
