/**
 * The course's saved notebooks (notebooks/NN-*.ipynb, committed WITH outputs) hold the measured values the
 * chapters claim; this checks the relations between them (test/notebooks/relations.ts) and the course's
 * format rules, without running anything. notebooks.test.ts checks the same relations on a fresh run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { listNotebooks, solutionsFile } from "./run";
import { checkRelations, notebookClaims, RELATIONS } from "./relations";
import { chapterKey, exerciseName, joinSource, readNotebook, withSolutions, type Notebook } from "./notebook";

const notebooks = listNotebooks();

/** The widest code line a chapter may have: VS Code in a 1300 px window shows about 110 characters of a code
 * cell before it needs horizontal scrolling. */
const MAX_CODE_LINE = 110;

/** The code lines of `cells` wider than MAX_CODE_LINE characters, as "code cell C line L (N characters)"; with
 * `exercisesOnly`, those of the exercise cells only, named by the exercise. */
function longCodeLines(cells: Notebook["cells"], exercisesOnly = false): string[] {
  const code = cells.filter((c) => c.cell_type === "code");
  return code.flatMap((c, i) => {
    if (exercisesOnly && !exerciseName(c)) return [];
    const where = exercisesOnly ? `exercise "${exerciseName(c)}"` : `code cell ${i + 1}`;
    return joinSource(c.source).split("\n").flatMap((line, j) => {
      const n = [...line].length;
      return n > MAX_CODE_LINE ? [`${where} line ${j + 1} (${n} characters)`] : [];
    });
  });
}

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

test("the line-width rule names the cell and line of a code line over MAX_CODE_LINE characters", () => {
  const cells: Notebook["cells"] = [
    { id: "a", cell_type: "markdown", source: ["x".repeat(200)], metadata: {} },
    { id: "b", cell_type: "code", source: ["ok\n", "y".repeat(MAX_CODE_LINE)], metadata: {} },
    { id: "c", cell_type: "code", source: ["ok\n", "ok\n", "é".repeat(MAX_CODE_LINE + 1)], metadata: { nextframe: { exercise: "ex" } } },
  ];
  assert.deepEqual(longCodeLines(cells), [`code cell 2 line 3 (${MAX_CODE_LINE + 1} characters)`]);
  assert.deepEqual(longCodeLines(cells, true), [`exercise "ex" line 3 (${MAX_CODE_LINE + 1} characters)`]);
});

for (const file of notebooks) {
  const name = path.basename(file);
  const chapter = chapterKey(name)!;
  const nb = readNotebook(file);

  test(`${name}: saved claims satisfy the chapter's relations`, () => {
    const claims = notebookClaims(nb);
    assert.ok(claims.size > 0, `${name} exposes no claims (use claim(name, value) from "nextframe")`);
    assert.deepEqual(checkRelations(chapter, claims), []);
  });

  test(`${name}: format — kernelspec, saved outputs with fallbacks, exercise, Chinese subtitle, size, line width`, () => {
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
        // VS Code's .ipynb reader takes a list in an output's data for lines of text, so a JSON part that is a list
        // breaks the output in the editor (TypeError: o.endsWith is not a function): JSON parts are objects
        const lists = mimes.filter((m) => /json$/.test(m) && Array.isArray(o.data![m]));
        assert.deepEqual(lists, [], `${name}: code cell ${i + 1} saved a JSON part that is a list, which VS Code cannot read`);
        if (mimes.some((m) => m.startsWith("application/vnd.nextframe.") && m !== "application/vnd.nextframe.claim+json")) {
          assert.ok(mimes.includes("image/png") || mimes.includes("image/svg+xml") || mimes.includes("text/html"), `${name}: code cell ${i + 1}: a nextframe view without a PNG/SVG/HTML fallback (${mimes.join(", ")})`);
        }
      }
    }
    // a workshop lesson: a core chapter (NN-name) has at most 22 cells; no code cell of any notebook (appendices
    // NNx-name included) is longer than 30 lines
    if (/^\d\d-/.test(name)) assert.ok(nb.cells.length <= 22, `${name} has ${nb.cells.length} cells; a core chapter has at most 22 (move investigations to its appendix)`);
    for (const [i, c] of code.entries()) {
      const lines = joinSource(c.source).split("\n").length;
      assert.ok(lines <= 30, `${name}: code cell ${i + 1} has ${lines} lines; keep code cells to 30 lines (split it, or move helpers into the library)`);
    }
    const exercises = nb.cells.flatMap((c, i) => (exerciseName(c) ? [{ name: exerciseName(c)!, i, source: joinSource(c.source) }] : []));
    assert.ok(exercises.length > 0, `${name}: no exercise cell ("// %% exercise NAME" in its source)`);
    for (const ex of exercises) {
      assert.match(ex.source, /\bTODO\b/, `${name}: exercise "${ex.name}" ships solved (no visible TODO)`);
      const check = nb.cells.slice(ex.i + 1).some((c) => c.cell_type === "code" && joinSource(c.source).includes(`checkExercise("${ex.name}"`));
      assert.ok(check, `${name}: exercise "${ex.name}" has no checkExercise("${ex.name}", …) cell after it`);
    }
    assert.ok(existsSync(solutionsFile(file)), `${name}: no solutions file ${path.relative(process.cwd(), solutionsFile(file))}`);
    const solved = withSolutions(nb, readFileSync(solutionsFile(file), "utf8"), path.basename(solutionsFile(file))); // throws on a mismatch
    const wide = [
      ...longCodeLines(nb.cells).map((w) => `chapter ${chapter} (${name}): ${w}`),
      ...longCodeLines(solved.cells, true).map((w) => `chapter ${chapter}'s solution of ${w}`),
    ];
    assert.deepEqual(wide, [], `code lines over ${MAX_CODE_LINE} characters need horizontal scrolling in VS Code`);
    const md = nb.cells.filter((c) => c.cell_type === "markdown").map((c) => joinSource(c.source)).join("\n");
    assert.match(md, /^### .*[\u4e00-\u9fff]/m, `${name}: no Chinese section title as a subtitle (### ...)`);
    assert.ok(statSync(file).size < 1.5 * 1024 * 1024, `${name} is ${(statSync(file).size / 1024).toFixed(0)} KB; keep it under 1.5 MB`);
    assert.ok(!readFileSync(file, "utf8").includes("/work/"), `${name}: saved outputs mention a local path`);
  });
}
