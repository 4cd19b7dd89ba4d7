/**
 * The input history of one Jupyter session, for history_request (the console's up-arrow, `%history`-like
 * tools). Jupyter's messaging spec leaves the storage to the kernel; IPython keeps a SQLite database across
 * sessions, this kernel keeps only the cells of the running front process (a kernel that died and restarted
 * under the same front keeps its history; a restart from Jupyter starts a new one). The replies follow IPython's
 * shapes: entries `[session, line, input]`, or `[session, line, [input, output]]` with `output`, where session
 * 0 is the current session, line is the cell's execution count and output is the text/plain of its result.
 */

export interface HistoryEntry { line: number; input: string; output: string | null }

export type HistoryItem = [number, number, string] | [number, number, [string, string | null]];

/** The fields of a history_request's content that this kernel reads (spec: messaging.html#history). */
export interface HistoryQuery {
  hist_access_type?: unknown;
  output?: unknown;
  session?: unknown;
  start?: unknown;
  stop?: unknown;
  n?: unknown;
  pattern?: unknown;
  unique?: unknown;
}

/**
 * SQLite GLOB (what IPython's history search uses) as a regular expression: `*` any run of characters, `?` one
 * character, `[...]` a class (`[^...]` or `[!...]` negated), everything else literal and case-sensitive.
 * Hand-written because minimatch and picomatch give `/` a meaning, and cells are full of slashes.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negate = body[0] === "^" || body[0] === "!";
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function intOr(v: unknown, fallback: number | null, what: string): number | null {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`history_request: ${what} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

export class History {
  private readonly entries: HistoryEntry[] = [];

  /** Record a cell that ran with store_history (line = its execution count). */
  add(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  /** The text/plain of the cell's result, for requests with output=true. */
  setOutput(line: number, output: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].line === line) {
        this.entries[i].output = output;
        return;
      }
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** The reply content for a history_request; bad fields throw errors that say what was expected. */
  query(q: HistoryQuery): { status: "ok"; history: HistoryItem[] } {
    const output = Boolean(q.output);
    const item = (e: HistoryEntry): HistoryItem => (output ? [0, e.line, [e.input, e.output]] : [0, e.line, e.input]);
    switch (q.hist_access_type) {
      case "tail": {
        const n = intOr(q.n, 10, "n")!;
        return { status: "ok", history: n <= 0 ? [] : this.entries.slice(-n).map(item) };
      }
      case "range": {
        // Only the current session is kept: any other session (IPython: negative = earlier, positive = by number)
        // has no cells here.
        const session = intOr(q.session, 0, "session");
        if (session !== 0) return { status: "ok", history: [] };
        // IPython's ranges count lines from 1, negative from the end, stop excluded (null: to the end).
        const last = this.entries.length ? this.entries[this.entries.length - 1].line : 0;
        let start = intOr(q.start, 1, "start")!;
        let stop = intOr(q.stop, null, "stop");
        if (start < 0) start += last + 1;
        if (stop !== null && stop < 0) stop += last + 1;
        return { status: "ok", history: this.entries.filter((e) => e.line >= start && (stop === null || e.line < stop)).map(item) };
      }
      case "search": {
        const pattern = q.pattern === undefined || q.pattern === null ? "*" : q.pattern;
        if (typeof pattern !== "string") throw new Error(`history_request: pattern must be a glob string, got ${JSON.stringify(pattern)}`);
        const re = globToRegExp(pattern);
        let hits = this.entries.filter((e) => re.test(e.input));
        // unique keeps the latest run of each distinct input, in the order of those latest runs.
        if (q.unique) {
          const seen = new Set<string>();
          hits = hits.reverse().filter((e) => !seen.has(e.input) && seen.add(e.input)).reverse();
        }
        const n = intOr(q.n, null, "n");
        if (n !== null) hits = n <= 0 ? [] : hits.slice(-n);
        return { status: "ok", history: hits.map(item) };
      }
      default:
        throw new Error(`history_request: hist_access_type must be "tail", "range" or "search", got ${JSON.stringify(q.hist_access_type)}`);
    }
  }
}
