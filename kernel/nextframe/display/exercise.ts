/**
 * Exercises: the learner writes a piece (a value, a function, a changed parameter) in a cell that ships unsolved
 * (a visible TODO that runs), and the next cell checks it:
 *
 *   // the exercise cell
 *   function myPatchify(x: Tensor): Tensor | undefined {
 *     return undefined; // TODO: reshape and permute x into (N, T, p·p·C)
 *   }
 *   // the check cell
 *   await checkExercise("patchify", {
 *     answer: () => myPatchify(frames),
 *     check: (mine) => maxAbsDiff(mine, patches.patchify2d(...)) < 1e-6 || "your tokens differ from the library's",
 *     hint: "…", solved: "…",
 *   });
 *
 * While the answer is `undefined` the check shows the hint; an answer that throws shows the error (the cell does not
 * fail, so Run All goes on); a right answer shows ✓ and `solved` (e.g. the library's own version). Each check records
 * the claim `exercise_<name>_ok` = 0 or 1, which the course's tests read: the committed notebooks are unsolved (0),
 * and with the solutions injected every check is 1.
 */
import { display } from "./display";
import { CLAIM_MIME, recordClaim } from "./claims";

/** What checkExercise() needs: the learner's answer (or a function computing it), a check, a hint and what to say once solved. */
export interface ExerciseSpec<A> {
  /**
   * The learner's answer, or a function that computes it (called here, so that an error in the learner's code is
   * shown instead of failing the cell). `undefined` means not answered yet.
   */
  answer: A | undefined | (() => A | undefined | Promise<A | undefined>);
  /** Right → true; wrong → false, or a sentence (markdown) saying what is wrong. May throw (shown as wrong). */
  check: (answer: A) => boolean | string | Promise<boolean | string>;
  /** Markdown shown while the exercise is unanswered or wrong. */
  hint: string;
  /** Markdown shown once it is right: what it means, where the library does the same. */
  solved?: string;
}

const NAME = /^[a-z][a-z0-9_]*$/;

function errorLine(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return s.split("\n")[0]!.slice(0, 300);
}

/** `text` as inline code, whatever backticks it holds. */
function code(text: string): string {
  const ticks = "`".repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length)) + 1);
  return `${ticks} ${text} ${ticks}`;
}

/** The verdict of one check as markdown. */
export type ExerciseOutcome = { state: "unanswered" } | { state: "threw"; error: string } | { state: "wrong"; why?: string } | { state: "right" };

export function exerciseMarkdown(name: string, outcome: ExerciseOutcome, hint: string, solved?: string): string {
  const title = `exercise \`${name}\``;
  switch (outcome.state) {
    case "unanswered": return `✎ **Your turn** (${title}): not answered yet — the cell above has a \`TODO\`.\n\n**Hint.** ${hint}`;
    case "threw": return `✗ **Not yet** (${title}): your code threw ${code(outcome.error)}.\n\n**Hint.** ${hint}`;
    case "wrong": return `✗ **Not yet** (${title})${outcome.why ? `: ${outcome.why}` : "."}\n\n**Hint.** ${hint}`;
    case "right": return `✓ **Right** (${title}).${solved ? ` ${solved}` : ""}`;
  }
}

/**
 * Check the learner's answer to exercise `name` (snake_case): shows a hint, what went wrong, or ✓, and records the
 * claim `exercise_<name>_ok` (1 when right). Resolves to nothing, so a cell that ends with it shows no extra result.
 * Never throws for a wrong or failing answer.
 */
export async function checkExercise<A>(name: string, spec: ExerciseSpec<A>): Promise<void> {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`checkExercise: name must be a snake_case identifier like "patchify", got ${JSON.stringify(name)}`);
  }
  if (typeof spec !== "object" || spec === null || typeof spec.check !== "function" || typeof spec.hint !== "string") {
    throw new TypeError(`checkExercise("${name}"): expected { answer, check: (answer) => boolean | string, hint: string, solved?: string }`);
  }
  let outcome: ExerciseOutcome;
  try {
    const answer = typeof spec.answer === "function" ? await (spec.answer as () => A | undefined | Promise<A | undefined>)() : spec.answer;
    if (answer === undefined) outcome = { state: "unanswered" };
    else {
      const verdict = await spec.check(answer);
      outcome = verdict === true ? { state: "right" } : typeof verdict === "string" ? { state: "wrong", why: verdict } : { state: "wrong" };
    }
  } catch (e) {
    outcome = { state: "threw", error: errorLine(e) };
  }
  const ok = outcome.state === "right";
  // one output: the learner reads the box; the course's tests read the claim part it carries
  const c = recordClaim(`exercise_${name}_ok`, ok, ok ? "solved" : outcome.state === "unanswered" ? "not answered yet" : "not solved yet");
  const md = exerciseMarkdown(name, outcome, spec.hint, spec.solved);
  display.bundle({ "text/markdown": md, [CLAIM_MIME]: c, "text/plain": md });
}
