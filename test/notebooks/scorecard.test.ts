/**
 * The course-wide scorecard in notebooks/README.md is what test/notebooks/scorecard.ts generates from the chapters'
 * saved scorecard outputs (regenerate with `npm run notebooks:run`); chapters without a scorecard yet are counted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { scorecardBundle } from "../../kernel/nextframe/display/scorecard";
import type { Notebook } from "./notebook";
import { listNotebooks, NOTEBOOKS_DIR } from "./run";
import { courseScorecard, MAX_ROW_CHARS, readmeScorecard, SCORECARD_BEGIN, SCORECARD_END, withScorecard } from "./scorecard";

const README = path.join(NOTEBOOKS_DIR, "README.md");

function fakeNotebook(rows: unknown[] | null): Notebook {
  const cell = (outputs: Notebook["cells"][number]["outputs"]) => ({ id: "x", cell_type: "code" as const, source: "", metadata: {}, outputs });
  return {
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [cell([{ output_type: "stream", name: "stdout", text: "hi" }]),
      cell(rows ? [{ output_type: "display_data", data: scorecardBundle(rows) }] : [])],
  };
}

test("notebooks/README.md's course-wide scorecard matches the chapters' saved scorecards (npm run notebooks:run regenerates it)", (t) => {
  const files = listNotebooks();
  const card = courseScorecard(files);
  t.diagnostic(`${files.length - card.missing.length} of ${files.length} chapters have a scorecard (${card.rows} rows); ` +
    `skipped, no scorecard yet: ${card.missing.join(", ") || "none"}`);
  const saved = readmeScorecard(readFileSync(README, "utf8"));
  assert.ok(saved !== undefined, `notebooks/README.md has no ${SCORECARD_BEGIN} … ${SCORECARD_END} section; run npm run notebooks:run`);
  assert.equal(saved, card.body, "notebooks/README.md's scorecard is stale: run npm run notebooks:run (or renderReadmeScorecard in test/notebooks/scorecard.ts)");
  for (const line of saved.split("\n").filter((l) => /^\| \d\d[a-z]? \|/.test(l))) assert.ok([...line].length <= MAX_ROW_CHARS, `row over ${MAX_ROW_CHARS} characters: ${line}`);
});

test("the generator: chapter first, rows of at most 200 characters, verdict symbols, chapters without a scorecard counted", () => {
  const long = "a very long measured description ".repeat(10);
  const nbs: Record<string, Notebook> = {
    "01-a.ipynb": fakeNotebook([{ claim: "tokens | words", measured: 1.5, baseline: "unigram: 2", verdict: "shown" }]),
    "02-b.ipynb": fakeNotebook(null),
    "03-c.ipynb": fakeNotebook([{ claim: "physics", measured: long, baseline: `${long}: 0.25`, verdict: "not at this scale" },
      { claim: "memory", measured: "0.1", baseline: "copy-last: 0.2", verdict: "contradicted" }]),
  };
  const card = courseScorecard(Object.keys(nbs), (f) => nbs[f]);
  const rows = card.body.split("\n").filter((l) => /^\| \d\d[a-z]? \|/.test(l));
  assert.deepEqual(card.missing, ["02-b.ipynb"]);
  assert.equal(card.rows, 3);
  assert.equal(rows[0], "| 01 | tokens \\| words | 1.5 | unigram: 2 | ✓ shown |");
  assert.match(rows[1], /^\| 03 \| physics \| a very long .*… \| a very long .*…: 0\.25 \| ○ not at this scale \|$/);
  assert.equal(rows[2], "| 03 | memory | 0.1 | copy-last: 0.2 | ✗ contradicted |");
  for (const r of rows) assert.ok([...r].length <= MAX_ROW_CHARS, `${[...r].length} characters: ${r}`);
  assert.match(card.body, /1 of 3 chapters have no scorecard yet: 02\./);
  assert.match(courseScorecard(["02-b.ipynb"], (f) => nbs[f]).body, /^### Scorecard of the article's claims\n\n1 of 1 chapters have no scorecard yet: 02\./);
});

test("the markers go right after the course map once; later runs replace only the section; a stale section is told apart", () => {
  const readme = "# Course\n\n## Map\n\n<!-- chapters:begin -->\n| table |\n<!-- chapters:end -->\n\n## Conventions\n";
  const once = withScorecard(readme, "card v1");
  assert.equal(once, "# Course\n\n## Map\n\n<!-- chapters:begin -->\n| table |\n<!-- chapters:end -->\n\n" +
    `${SCORECARD_BEGIN}\ncard v1\n${SCORECARD_END}\n\n## Conventions\n`);
  assert.equal(readmeScorecard(once), "card v1");
  const twice = withScorecard(once, "card v2");
  assert.equal(twice, once.replace("card v1", "card v2"));
  assert.notEqual(readmeScorecard(once), "card v2");
  assert.equal(readmeScorecard(readme), undefined);
});
