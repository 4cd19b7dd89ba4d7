// Tests against the real kernel child process, driven by the extension's own KernelClient.
// The kernel runs from source (tsx), so these tests never see a stale build; `import "nextframe"` needs the
// built library (npm run build:kernel), which `npm test` builds first.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelClient, type KernelClientOptions } from "../shared/kernelClient";
import type { CellOutput } from "../shared/protocol";

const root = path.resolve(__dirname, "..", "..");
const tsxLoader = path.join(root, "node_modules", "tsx", "dist", "loader.mjs");
const libBuilt = fs.existsSync(path.join(root, "dist", "nextframe", "index.js")) &&
  fs.existsSync(path.join(root, "dist", "nextframe", "types", "nextframe", "index.d.ts"));
const libOnly = { skip: libBuilt ? false : "dist/nextframe is not built (npm run build:kernel)" };

// A notebook folder outside the project: `nextframe` must resolve without any node_modules there.
const nbDir = fs.mkdtempSync(path.join(os.tmpdir(), "nextframe-kernel-test-"));
fs.writeFileSync(path.join(nbDir, "helper.ts"), "export function twice(n: number): number { return 2 * n; }\n");

let kernel: KernelClient;
const late: { execId: number; output: CellOutput }[] = [];
const logs: string[] = [];

function newKernel(extra: Partial<KernelClientOptions> = {}): KernelClient {
  const k = new KernelClient({
    kernelMain: path.join(root, "kernel", "process", "main.ts"),
    execArgv: ["--import", tsxLoader],
    cwd: nbDir,
    interruptGraceMs: 8000,
    log: (l) => logs.push(l),
    ...extra,
  });
  k.onLateOutput((execId, output) => late.push({ execId, output }));
  return k;
}

interface Ran { ok: boolean; outputs: CellOutput[]; execId: number; kernelExited?: string; ms: number; arrivals: number[] }

async function run(code: string, k = kernel, onFirstOutput?: () => void): Promise<Ran> {
  const outputs: CellOutput[] = [];
  const arrivals: number[] = [];
  const t0 = Date.now();
  const { execId, done } = k.execute(code, (o) => {
    if (outputs.length === 0) onFirstOutput?.();
    outputs.push(o);
    arrivals.push(Date.now() - t0);
  });
  const r = await done;
  return { ok: r.ok, outputs, execId, kernelExited: r.kernelExited, ms: Date.now() - t0, arrivals };
}

const resultText = (r: Ran) => r.outputs.filter((o) => o.kind === "result").map((o) => (o as { bundle: Record<string, unknown> }).bundle["text/plain"]);
const streamText = (r: Ran, name?: "stdout" | "stderr") =>
  r.outputs.map((o) => (o.kind === "stream" && (!name || o.name === name) ? o.text : "")).join("");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The text/plain result of `code` as a number (for reading counters of earlier cells). */
async function numberOf(code: string, k = kernel): Promise<number> {
  const r = await run(code, k);
  const [t] = resultText(r);
  assert.equal(typeof t, "string", `${code}: ${JSON.stringify(r.outputs)}`);
  return Number(t);
}
const errors = (r: Ran) => r.outputs.filter((o): o is Extract<CellOutput, { kind: "error" }> => o.kind === "error");

async function until<T>(f: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms; kernel log:\n${logs.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  kernel = newKernel();
  await kernel.start();
});
after(async () => {
  await kernel.stop();
  fs.rmSync(nbDir, { recursive: true, force: true });
});

test("types and values carry across cells; the last expression is the result", async () => {
  assert.equal((await run("const a: number = 41;")).ok, true);
  const r = await run("a + 1");
  assert.deepEqual(resultText(r), ["42"]);
  const bad = await run("const s: string = a;");
  assert.equal(bad.ok, false);
  assert.deepEqual(errors(bad).map((e) => e.evalue), ["cell 1:7 - Type 'number' is not assignable to type 'string'."]);
});

test("a type error names the cell's line and column", async () => {
  const r = await run("let n = 1;\n\nconst t: { x: number } = { x: 1 };\nt.y;\n");
  assert.equal(r.ok, false);
  assert.match(errors(r)[0].evalue, /^cell 4:3 - Property 'y' does not exist on type '\{ x: number; \}'\./);
});

test("a runtime error's stack points at the cells' TypeScript lines without kernel frames", async () => {
  const def = await run("interface P { n: number }\n\nfunction explode(p: P): number {\n  if (p.n > 2) throw new RangeError(`too big: ${p.n}`);\n  return p.n;\n}\n");
  assert.equal(def.ok, true);
  const r = await run("const q: P = { n: 1 };\n\nexplode({ n: q.n + 5 });\n");
  assert.equal(r.ok, false);
  const [e] = errors(r);
  assert.equal(e.ename, "RangeError");
  assert.equal(e.evalue, "too big: 6");
  assert.equal(e.traceback[0], "RangeError: too big: 6");
  assert.match(e.traceback[1], new RegExp(`at explode \\(cell\\[${def.execId}\\]:4:`), e.traceback.join("\n"));
  assert.match(e.traceback[2], /at cell:3:1$/, e.traceback.join("\n"));
  assert.equal(e.traceback.length, 3, e.traceback.join("\n"));
  const later = await run("explode({ n: 1 })");
  assert.deepEqual(resultText(later), ["1"], "a function declared in a failed cell stays usable");
  // after an await on the same line, the column still points at the call
  const awaited = await run("const w = await Promise.resolve(4); explode({ n: w + 5 });");
  assert.match(errors(awaited)[0]?.traceback[2] ?? "", /at cell:1:37$/, errors(awaited)[0]?.traceback.join("\n"));
});

test("stdout and stderr stream in order while the cell runs", async () => {
  const r = await run(
    `console.log("a"); console.error("b"); process.stdout.write("c\\n");\n` +
    `const t0 = Date.now(); while (Date.now() - t0 < 1500) {}\nconsole.log("d");`,
  );
  assert.equal(r.ok, true);
  const streams = r.outputs.map((o) => (o.kind === "stream" ? `${o.name}:${o.text}` : o.kind));
  assert.deepEqual(streams, ["stdout:a\n", "stderr:b\n", "stdout:c\n", "stdout:d\n"]);
  assert.ok(r.arrivals[0] < r.ms - 700, `the first line arrived at ${r.arrivals[0]} ms of ${r.ms} ms: not streamed`);
});

test("display handles update in place, also from a later cell; rich last values are awaited", libOnly, async () => {
  const a = await run(`import { display } from "nextframe";\nconst bar = display.text("0%");\nbar.update("50%");`);
  const b = await run(`bar.update("100%");`);
  const [d0, d1] = a.outputs as Extract<CellOutput, { kind: "display" }>[];
  const [d2] = b.outputs as Extract<CellOutput, { kind: "display" }>[];
  assert.deepEqual([d0.bundle["text/plain"], d0.update], ["0%", false]);
  assert.deepEqual([d1.bundle["text/plain"], d1.update, d1.displayId], ["50%", true, d0.displayId]);
  assert.deepEqual([d2.bundle["text/plain"], d2.update, d2.displayId], ["100%", true, d0.displayId]);
  const rich = await run(`({ async [Symbol.for("nextframe.mimeBundle")]() { return { "text/html": "<b>hi</b>" }; } })`);
  const res = rich.outputs.find((o) => o.kind === "result") as Extract<CellOutput, { kind: "result" }>;
  assert.equal(res.bundle["text/html"], "<b>hi</b>");
});

test("tslab's display API works in cells", async () => {
  const r = await run(`import * as tslab from "tslab";\ntslab.display.html("<i>t</i>");\nconst d = tslab.newDisplay();\nd.text("a");\nd.text("b");`);
  assert.equal(r.ok, true, JSON.stringify(r.outputs));
  const ds = r.outputs as Extract<CellOutput, { kind: "display" }>[];
  assert.equal(ds[0].bundle["text/html"], "<i>t</i>");
  assert.deepEqual([ds[1].bundle["text/plain"], ds[2].bundle["text/plain"], ds[2].update, ds[2].displayId], ["a", "b", true, ds[1].displayId]);
});

test("local .ts files import from the notebook's folder", async () => {
  const r = await run(`import { twice } from "./helper";\ntwice(21)`);
  assert.deepEqual(resultText(r), ["42"]);
});

test("interrupt stops a runaway loop and keeps the kernel's state", async () => {
  await run("const kept = 'still here';");
  const t0 = Date.now();
  const running = run("let spins = 0;\nwhile (true) { spins++; }");
  await new Promise((r) => setTimeout(r, 500));
  const tInt = Date.now();
  kernel.interrupt();
  const r = await running;
  const stopMs = Date.now() - tInt;
  assert.equal(r.ok, false);
  assert.equal(errors(r)[0]?.ename, "Interrupted", JSON.stringify(r.outputs));
  assert.equal(r.kernelExited, undefined, "interrupt must not restart the kernel");
  assert.ok(stopMs < 5000, `stopped ${stopMs} ms after the interrupt (goal 2 s; see the kernel benchmark)`);
  assert.deepEqual(resultText(await run("kept")), ["'still here'"]);
  assert.ok(Date.now() - t0 < 20000);
  // A cell waiting on a promise is interrupted too.
  const waiting = run("await new Promise(() => {});");
  await new Promise((r) => setTimeout(r, 300));
  kernel.interrupt();
  const w = await waiting;
  assert.equal(errors(w)[0]?.ename, "Interrupted");
  const k2 = await run("kept");
  assert.deepEqual(resultText(k2), ["'still here'"], JSON.stringify(k2.outputs));
});

test("a SIGINT handled after its interrupt message already stopped the cell does not interrupt the next cell", async () => {
  // KernelClient.interrupt() sends SIGINT, then the message; the kernel may see them in either order. Here the
  // message stops an awaiting cell and the SIGINT lands while the next cell runs.
  const internals = kernel as unknown as { send(m: unknown): void; child: import("node:child_process").ChildProcess };
  const waiting = kernel.execute("await new Promise(() => {});", () => {});
  await new Promise((r) => setTimeout(r, 300));
  internals.send({ type: "interrupt", execId: waiting.execId });
  assert.equal((await waiting.done).ok, false);
  const next = run("await new Promise((r) => setTimeout(r, 1000));\n'next'");
  await new Promise((r) => setTimeout(r, 300));
  internals.child.kill("SIGINT");
  const r = await next;
  assert.deepEqual(resultText(r), ["'next'"], JSON.stringify(r.outputs));
  // and the next interrupt works as before
  const again = run("await new Promise(() => {});");
  await new Promise((r) => setTimeout(r, 300));
  kernel.interrupt();
  assert.equal(errors(await again)[0]?.ename, "Interrupted");
});

test("errors after the cell ended (timers, unhandled rejections) are reported on the last cell", async () => {
  late.length = 0;
  const r = await run(`setTimeout(() => { throw new Error("tick"); }, 50);\nPromise.reject(new Error("lost"));\n1`);
  assert.equal(r.ok, true);
  const seen = await until(() => (late.filter((l) => l.execId === r.execId).length >= 2 ? late : undefined), 5000);
  const texts = seen.filter((l) => l.output.kind === "error").map((l) => (l.output as { traceback: string[] }).traceback[0]);
  assert.ok(texts.includes("Unhandled promise rejection: Error: lost"), texts.join(" | "));
  assert.ok(texts.includes("Uncaught exception: Error: tick"), texts.join(" | "));
  assert.deepEqual(resultText(await run("2")), ["2"], "the kernel survives both");
});

test("completion and hover know earlier cells' declarations", async () => {
  await run("const learningRate: number = 3e-4;\nfunction warmup(steps: number): number { return steps; }");
  const c = await kernel.complete("learningR", 9);
  assert.ok(c, "completion answered");
  assert.equal(c!.entries[0]?.name, "learningRate");
  assert.deepEqual([c!.start, c!.end], [0, 9]);
  const h = await kernel.inspect("warmup(3)", 2);
  assert.match(h?.text ?? "", /function warmup\(steps: number\): number/);
});

test("import { ... } from \"nextframe\" works with its types from a folder without node_modules", libOnly, async () => {
  const ok = await run(`import { display, mimeBundleSymbol } from "nextframe";\ntypeof display.png + " " + String(mimeBundleSymbol)`);
  assert.deepEqual(resultText(ok), ["'function Symbol(nextframe.mimeBundle)'"]);
  const bad = await run(`import { display } from "nextframe";\ndisplay.text(42);`);
  assert.match(errors(bad)[0]?.evalue ?? "", /^cell 2:14 - Argument of type 'number' is not assignable to parameter of type 'string'\./);
});

test("comm messages go both ways", libOnly, async () => {
  const got: [string, unknown][] = [];
  kernel.onComm((t, d) => got.push([t, d]));
  await run(`import { onComm, sendComm } from "nextframe";\nonComm("echo", (d) => ({ echoed: d }));\nsendComm("hello", 1);`);
  kernel.sendComm("echo", { type: "action", action: "left" });
  await until(() => (got.length >= 2 ? got : undefined), 5000);
  assert.deepEqual(got, [["hello", 1], ["echo", { echoed: { type: "action", action: "left" } }]]);
});

test("interact: a cell ending with interact(...) shows its first output on that cell, even when fn takes time", libOnly, async () => {
  const r = await run(`import { interact } from "nextframe";
interact(async ({ n }) => { await new Promise((ok) => setTimeout(ok, 300)); return \`n squared is \${n * n}\`; }, { n: [0, 10, 1, 3] });`);
  const shown = r.outputs.filter((o) => o.kind === "display").map((o) => String((o as { bundle: Record<string, unknown> }).bundle["text/plain"]));
  assert.equal(shown.length, 1, `outputs of the cell: ${JSON.stringify(r.outputs).slice(0, 500)}`);
  assert.match(shown[0]!, /n squared is 9/);
});

test("interact: a control's comm message re-runs fn and updates the same display after the cell ended", libOnly, async () => {
  const r = await run(`import { interact } from "nextframe";\nconst knob = interact(({ scale }) => \`scale is \${scale}\`, { scale: [0, 10, 0.5, 3] });\nawait knob.settled();\nknob.target`);
  const shown = r.outputs.find((o) => o.kind === "display") as Extract<CellOutput, { kind: "display" }>;
  assert.ok(shown, JSON.stringify(r.outputs));
  const payload = (b: Record<string, unknown>) => b["application/vnd.nextframe.interact+json"] as { target: string; output: { data: unknown } };
  assert.equal(payload(shown.bundle).output.data, "scale is 3");
  const target = payload(shown.bundle).target;
  assert.deepEqual(resultText(r), [`'${target}'`]);
  const from = late.length;
  kernel.sendComm(target, { values: { scale: 7.5 } });
  const upd = await until(() => late.slice(from).find((l) => l.output.kind === "display"), 10000);
  assert.equal(upd.execId, r.execId);
  const o = upd.output as Extract<CellOutput, { kind: "display" }>;
  assert.equal(o.update, true);
  assert.equal(o.displayId, shown.displayId);
  assert.equal(payload(o.bundle).output.data, "scale is 7.5");
});

test("process.exit restarts the kernel, the next cell runs, restart clears state", async () => {
  await run("const before = 1;");
  // what the cell printed before exiting arrives first, all of it
  const r = await run("for (let i = 0; i < 5000; i++) console.log(`bye ${i}`);\nprocess.exit(3);\nconsole.log('not reached');");
  assert.equal(r.ok, false);
  assert.equal(r.kernelExited, "code 3");
  assert.deepEqual(streamText(r).split("\n"), [...Array.from({ length: 5000 }, (_, i) => `bye ${i}`), ""]);
  assert.deepEqual(r.outputs.filter((o) => o.kind !== "stream").map((o) => o.kind), ["error"]);
  assert.equal(r.outputs.at(-1)?.kind, "error", "the KernelExited error comes after the text");
  assert.ok(errors(r).some((e) => e.evalue === "the kernel exited (code 3) and was restarted"), JSON.stringify(errors(r)));
  const next = await run("1 + 1");
  assert.deepEqual(resultText(next), ["2"]);
  const gone = await run("before");
  assert.match(errors(gone)[0]?.evalue ?? "", /Cannot find name 'before'/);
  await run("const again = 5;");
  await kernel.restart();
  const cleared = await run("again");
  assert.match(errors(cleared)[0]?.evalue ?? "", /Cannot find name 'again'/);
});

test("shorthand properties and destructuring name earlier cells' variables; export in a cell is allowed", async () => {
  assert.equal((await run("const data = 3;\nlet q = 1, r = 2;\nfunction g() { return 5; }\nexport const ex = 7;")).ok, true);
  assert.deepEqual(resultText(await run("const o = { data }; o")), ["{ data: 3 }"]);
  assert.deepEqual(resultText(await run("const a2 = 1; ({ a2, data, ex, g: g() })")), ["{ a2: 1, data: 3, ex: 7, g: 5 }"]);
  assert.deepEqual(resultText(await run("({ g }).g()")), ["5"]);
  // as an assignment target, with a default that itself names an earlier cell's variable
  assert.deepEqual(resultText(await run("({ q, r = data } = { q: 10 }); [q, r]")), ["[ 10, 3 ]"]);
  assert.deepEqual(resultText(await run("[q, r]")), ["[ 10, 3 ]"]);
  assert.deepEqual(resultText(await run("const { data: d2, ...rest } = { data, z: 1 }; [d2, rest]")), ["[ 3, { z: 1 } ]"]);
  // a shorthand inside a function body is looked up when the function runs
  assert.equal((await run("const pick = () => ({ data, ex });")).ok, true);
  assert.deepEqual(resultText(await run("pick()")), ["{ data: 3, ex: 7 }"]);
  // a type error in an exported declaration still points at the cell's own column
  const bad = await run("export const s2: string = data;");
  assert.deepEqual(errors(bad).map((e) => e.evalue), ["cell 1:14 - Type 'number' is not assignable to type 'string'."]);
});

test("a cell ending in a display call (or a Promise of one) shows the displayed output once and no result", libOnly, async () => {
  assert.equal((await run(`import { display, showTable, lineChart } from "nextframe";`)).ok, true);
  const cases = [
    `display.markdown("*hi*")`,
    `showTable([{ a: 1 }, { a: 2 }])`,
    `await showTable([{ a: 1 }])`,
    `lineChart({ title: "loss" })`,
    `(async () => display.text("later"))()`,
  ];
  for (const code of cases) {
    const r = await run(code);
    assert.equal(r.ok, true, `${code}: ${JSON.stringify(r.outputs)}`);
    assert.deepEqual(r.outputs.map((o) => o.kind), ["display"], `${code}: ${JSON.stringify(r.outputs)}`);
  }
  // a Promise of a plain value shows the value; a rejected one is the cell's error
  assert.deepEqual(resultText(await run("Promise.resolve(41 + 1)")), ["42"]);
  const rej = await run(`Promise.reject(new RangeError("nope"))`);
  assert.equal(rej.ok, false);
  assert.deepEqual(errors(rej).map((e) => [e.ename, e.evalue]), [["RangeError", "nope"]]);
});

/**
 * Starts `code` after a line that prints "started\n", interrupts it `afterMs` after that line arrived (a loaded
 * machine may take seconds to compile a cell), and returns the cell's outcome and how long it took to stop.
 */
async function interruptAfter(code: string, afterMs: number, k = kernel): Promise<{ r: Ran; stopMs: number }> {
  let started = false;
  const running = run(`console.log("started");\n${code}`, k, () => { started = true; });
  await until(() => (started ? true : undefined), 120_000);
  await sleep(afterMs);
  const t0 = Date.now();
  k.interrupt();
  const r = await running;
  return { r, stopMs: Date.now() - t0 };
}

test("interrupt stops a cell that awaits in a loop: its counter stops, the next cell sees the state", async () => {
  await run("const keptA = 'kept';");
  const { r, stopMs } = await interruptAfter("let n = 0;\nfor (;;) { n++; await new Promise((r) => setTimeout(r, 0)); }", 800);
  assert.deepEqual(errors(r).map((e) => e.ename), ["Interrupted"], JSON.stringify(r.outputs));
  assert.equal(r.kernelExited, undefined);
  assert.ok(stopMs < 2000, `stopped ${stopMs} ms after the interrupt`);
  const n1 = await numberOf("n");
  assert.ok(n1 > 0, `the loop ran (n = ${n1})`);
  await sleep(2000);
  assert.equal(await numberOf("n"), n1, "the interrupted loop went on in the background");
  assert.deepEqual(resultText(await run("keptA")), ["'kept'"]);
  // the same with timers/promises and util.promisify(setImmediate)
  const tp = await interruptAfter(
    `import { setTimeout as sleepMs } from "timers/promises";\nimport { promisify } from "util";\n` +
    `let m = 0;\nfor (;;) { m++; await sleepMs(1); await promisify(setImmediate)(); }`, 800);
  assert.deepEqual(errors(tp.r).map((e) => e.ename), ["Interrupted"]);
  const m1 = await numberOf("m");
  await sleep(1000);
  assert.equal(await numberOf("m"), m1, "the timers/promises loop went on");
});

test("interrupt stops a cell's loop over any await (file system here), not only timers", async () => {
  const { r, stopMs } = await interruptAfter(
    `import fs from "fs";\nlet reads = 0;\nfor (;;) {\n  try { await fs.promises.stat("."); reads++; } finally { if (reads < 0) console.log("never"); }\n}`, 800);
  assert.deepEqual(errors(r).map((e) => e.ename), ["Interrupted"], JSON.stringify(r.outputs));
  assert.ok(stopMs < 2000, `stopped ${stopMs} ms after the interrupt`);
  const n1 = await numberOf("reads");
  assert.ok(n1 > 0, "the loop ran");
  await sleep(1000);
  assert.equal(await numberOf("reads"), n1, "the interrupted loop went on reading");
  // a rejection after the interrupt neither resumes the cell's catch nor shows up anywhere
  late.length = 0;
  const rej = await interruptAfter(
    `import { execFile } from "child_process";\nimport { promisify } from "util";\nlet caught = 0;\n` +
    `try { await promisify(execFile)("sh", ["-c", "sleep 1; exit 3"]); } catch { caught++; console.log("caught"); }`, 300);
  assert.deepEqual(errors(rej.r).map((e) => e.ename), ["Interrupted"]);
  await sleep(1500);
  assert.equal(await numberOf("caught"), 0, "the cell's catch ran after the interrupt");
  assert.deepEqual(late.filter((l) => l.execId === rej.r.execId), []);
});

test("a cell that never yields to the event loop is killed after the interrupt's grace, and the cell says so", async () => {
  // `await null` in a loop never leaves the microtask queue: neither SIGINT's handler nor breakOnSigint gets a turn.
  const k = newKernel({ interruptGraceMs: 2000 });
  try {
    const { r } = await interruptAfter("for (;;) { await null; }", 300, k);
    assert.equal(r.ok, false);
    assert.equal(r.kernelExited, "signal SIGKILL, sent by the editor: the cell did not stop within 2 s of the interrupt " +
      "(code that never yields to the event loop, such as a loop of `await null`)");
    assert.deepEqual(resultText(await run("1 + 1", k)), ["2"], "the next cell runs on a new kernel");
  } finally {
    await k.stop();
  }
});

test("an interrupted cell's intervals stop and what it would still print is dropped", async () => {
  late.length = 0;
  const { r } = await interruptAfter("let ticks = 0;\nsetInterval(() => { ticks++; console.log(`tick ${ticks}`); }, 5);\nawait new Promise(() => {});", 500);
  assert.deepEqual(errors(r).map((e) => e.ename), ["Interrupted"]);
  assert.match(streamText(r), /^started\ntick 1\n/, "the ticks printed while it ran arrive");
  const t1 = await numberOf("ticks");
  await sleep(1000);
  assert.equal(await numberOf("ticks"), t1, "the interval went on");
  assert.deepEqual(late.filter((l) => l.execId === r.execId), [], "output arrived after the interrupt");
  // a synchronous loop's interrupt stops the timers it scheduled too
  const sync = await interruptAfter("let ticks2 = 0;\nsetInterval(() => ticks2++, 5);\nsetTimeout(() => console.log('late timer'), 1500);\nwhile (true) {}", 500);
  assert.deepEqual(errors(sync.r).map((e) => e.ename), ["Interrupted"]);
  assert.equal(await numberOf("ticks2"), 0);
  await sleep(1500);
  assert.equal(await numberOf("ticks2"), 0);
  assert.deepEqual(late.filter((l) => l.execId === sync.r.execId), [], "the timeout's text showed up");
  // a cell that is not interrupted keeps its interval after it ends (a live display relies on that)
  await run("let ticks3 = 0;\nconst iv3 = setInterval(() => ticks3++, 5);");
  await sleep(300);
  assert.ok(await numberOf("ticks3") > 0);
  await run("clearInterval(iv3);");
});

test("100 000 printed lines arrive complete and in order, then the result", async () => {
  const r = await run("for (let i = 0; i < 100000; i++) console.log(`line ${i}`);\n'end'");
  assert.equal(r.ok, true);
  const lines = streamText(r, "stdout").split("\n");
  assert.equal(lines.length, 100001);
  const wrong = lines.findIndex((l, i) => i < 100000 && l !== `line ${i}`);
  assert.equal(wrong, -1, `line ${wrong} is ${JSON.stringify(lines[wrong])}`);
  assert.deepEqual(resultText(r), ["'end'"]);
  assert.equal(r.outputs.at(-1)?.kind, "result");
  logs.push(`100 000 lines arrived in ${r.outputs.length - 1} stream messages, ${r.ms} ms`);
});

test("a cell that prints more than the limit is truncated with a note saying how much, and its result arrives", async () => {
  const r = await run("const kLine = 'x'.repeat(1023);\nfor (let i = 0; i < 30 * 1024; i++) console.log(kLine);\n'done'");
  assert.equal(r.ok, true);
  const out = streamText(r, "stdout");
  assert.equal(out.length, 10 * 1048576, "exactly the first 10 MB of whole lines");
  assert.equal(out.split("\n").length - 1, 10 * 1024);
  assert.equal(streamText(r, "stderr"),
    "… output truncated: 20.0 MB (20480 lines) more were dropped; the limit is 10 MB per cell (NEXTFRAME_MAX_CELL_OUTPUT_MB)\n");
  assert.deepEqual(resultText(r), ["'done'"]);
  // the next cell has its own budget
  const next = await run("console.log('fresh'); 1");
  assert.equal(streamText(next), "fresh\n");
});

test("a display whose bundle is still being computed when the cell's code ends lands on that cell", libOnly, async () => {
  const r = await run(`import { display } from "nextframe";
display({ [Symbol.for("nextframe.mimeBundle")]: () => new Promise((ok) => setTimeout(() => ok({ "text/plain": "slow bundle" }), 500)) });
"cell code done"`);
  const shown = r.outputs.filter((o) => o.kind === "display").map((o) => (o as { bundle: Record<string, unknown> }).bundle["text/plain"]);
  assert.deepEqual(shown, ["slow bundle"], `outputs of the cell: ${JSON.stringify(r.outputs)}`);
  assert.deepEqual(resultText(r), ["'cell code done'"]);
});

test("a cell's consecutive claims share one output, updated in place; another output or the next cell starts a new one", libOnly, async () => {
  const displays = (r: Ran) => r.outputs.filter((o): o is Extract<CellOutput, { kind: "display" }> => o.kind === "display");
  const r = await run(`import { claim, display } from "nextframe";\nclaim("k_one", 1);\nclaim("k_two", 2, "two");\ndisplay("between");\nclaim("k_three", 3);`);
  assert.equal(r.ok, true, JSON.stringify(r.outputs));
  const d = displays(r);
  assert.deepEqual(d.map((o) => [o.displayId === d[0].displayId, o.update]), [[true, false], [true, true], [false, false], [false, false]]);
  assert.deepEqual(d[1].bundle["application/vnd.nextframe.claim+json"], { claims: [{ name: "k_one", value: 1 }, { name: "k_two", value: 2, note: "two" }] });
  const next = displays(await run(`import { claim } from "nextframe";\nclaim("k_four", 4);`));
  assert.deepEqual(next.map((o) => [o.displayId === d[3].displayId, o.update]), [[false, false]]);
});

test("clearOutput clears the cell's outputs, in order with the others", libOnly, async () => {
  const r = await run(`import { clearOutput, display } from "nextframe";\nconsole.log("a");\nclearOutput();\nconsole.log("b");\nclearOutput({ wait: true });\ndisplay("c");`);
  assert.equal(r.ok, true, JSON.stringify(r.outputs));
  assert.deepEqual(r.outputs.map((o) => (o.kind === "stream" ? o.text : o.kind === "clear" ? `clear ${o.wait}` : o.kind)),
    ["a\n", "clear false", "b\n", "clear true", "display"]);
});

test("the kernel's death is explained on the cell: a signal, and SIGKILL as the OOM killer's", async () => {
  const r = await run("console.log('going');\nprocess.kill(process.pid, 'SIGKILL');\nawait new Promise(() => {});");
  assert.equal(r.ok, false);
  assert.match(r.kernelExited ?? "", /^signal SIGKILL: killed; .*out-of-memory killer/);
  assert.match(errors(r)[0]?.evalue ?? "", /^the kernel exited \(signal SIGKILL: .*out-of-memory killer.*\) and was restarted$/);
  assert.deepEqual(resultText(await run("6 * 7")), ["42"], "the next cell runs on a new kernel");
});

test("a JavaScript heap out of memory names the heap limit and its setting", async () => {
  const k = newKernel({ memoryLimitMb: 256 });
  try {
    const r = await run("const hoard: number[][] = [];\nfor (;;) hoard.push(Array.from({ length: 1e5 }, (_, i) => i + 0.5));", k);
    assert.equal(r.ok, false);
    assert.match(r.kernelExited ?? "", /out of memory — the JavaScript heap reached its limit of 256 MB; raise the setting nextframe\.kernel\.memoryLimitMb/);
    assert.match(errors(r)[0]?.evalue ?? "", /^the kernel exited \(.*out of memory/);
  } finally {
    await k.stop();
  }
});

test("the memory watchdog stops a cell that fills memory past the limit; the kernel and its state survive", async () => {
  const k = newKernel({ rssLimitMb: 700 });
  try {
    await run("const small = 'kept';", k);
    const base = await numberOf("process.memoryUsage.rss() / 1048576", k);
    assert.ok(base < 550, `the kernel starts at ${base} MB resident: too close to the test's limit`);
    // 1.6 GB, filled page by page: only the watchdog (a thread) sees the memory grow while this loop runs
    const r = await run("const big = new Float32Array(4e8);\nfor (let i = 0; i < big.length; i += 1024) big[i] = 1;\nbig.length", k);
    assert.equal(r.kernelExited, undefined, JSON.stringify(r.outputs));
    const [e] = errors(r);
    assert.equal(e?.ename, "MemoryLimit", JSON.stringify(r.outputs));
    assert.match(e.evalue, /^the cell used more than 0\.68 GB of memory \(resident (\d+\.\d+) GB\); it was stopped to protect the machine\. Free large arrays \(set variables to null\) or raise nextframe\.kernel\.rssLimitMb \/ NEXTFRAME_RSS_LIMIT_MB$/);
    const rssGb = Number(/resident (\d+\.\d+) GB/.exec(e.evalue)![1]);
    assert.ok(rssGb < 1.5, `stopped at ${rssGb} GB: the loop ran to the end`);
    assert.deepEqual(resultText(await run("small", k)), ["'kept'"]);
    assert.deepEqual(resultText(await run("[1, 2].length", k)), ["2"]);
  } finally {
    await k.stop();
  }
});

test("the per-cell output limit from NEXTFRAME_MAX_CELL_OUTPUT_MB, a bad value named", async () => {
  const { outputLimitFromEnv } = await import("./executor");
  assert.equal(outputLimitFromEnv({}), 10 * 1048576);
  assert.equal(outputLimitFromEnv({ NEXTFRAME_MAX_CELL_OUTPUT_MB: "0.5" }), 524288);
  assert.equal(outputLimitFromEnv({ NEXTFRAME_MAX_CELL_OUTPUT_MB: "0" }), 0);
  assert.throws(() => outputLimitFromEnv({ NEXTFRAME_MAX_CELL_OUTPUT_MB: "-1" }),
    /NEXTFRAME_MAX_CELL_OUTPUT_MB must be a number of MB per cell \(0 = no limit\), got "-1"/);
  // a kernel started with a smaller limit applies it
  const k = newKernel({ env: { NEXTFRAME_MAX_CELL_OUTPUT_MB: "0.001" } });
  try {
    const r = await run("for (let i = 0; i < 300; i++) console.log('0123456789');", k);
    assert.equal(streamText(r, "stdout").length, 1045);
    assert.equal(streamText(r, "stderr"), "… output truncated: 2.2 KB (205 lines) more were dropped; the limit is 0.001 MB per cell (NEXTFRAME_MAX_CELL_OUTPUT_MB)\n");
  } finally {
    await k.stop();
  }
});

test("the memory limit, a bad value named; 0 turns the watchdog off", async () => {
  const { availableMemoryMb, rssLimitFromEnv } = await import("./memoryWatchdog");
  assert.ok(availableMemoryMb() > 0 && availableMemoryMb() <= os.totalmem() / 1048576);
  assert.equal(rssLimitFromEnv({}), Math.round(availableMemoryMb() * 0.8));
  assert.equal(rssLimitFromEnv({}, 10000), 8000);
  assert.equal(rssLimitFromEnv({ NEXTFRAME_RSS_LIMIT_MB: "0" }, 10000), 0);
  assert.equal(rssLimitFromEnv({ NEXTFRAME_RSS_LIMIT_MB: "600" }, 10000), 600);
  assert.throws(() => rssLimitFromEnv({ NEXTFRAME_RSS_LIMIT_MB: "lots" }), /NEXTFRAME_RSS_LIMIT_MB must be a number of MB \(0 turns the memory watchdog off\), got "lots"/);
});

test("interrupt stops a library training loop (fit over makeTrainStep); a new step() in the next cell works", { ...libOnly, timeout: 180_000 }, async () => {
  const setup = await run(
    `import { F, manualSeed, nn, optim, tensor, type Tensor } from "nextframe";\nconst { Linear, Module } = nn;\nconst { AdamW, fit, makeTrainStep } = optim;\n` +
    `manualSeed(1);\n` +
    `class Xor extends Module { fc1 = new Linear(2, 16); fc2 = new Linear(16, 1); forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).tanh()); } }\n` +
    `const xorNet = new Xor();\n` +
    `const xs = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), ys = tensor([[0], [1], [1], [0]]);\n` +
    `const trainStep = makeTrainStep(xorNet, (x, y) => F.mseLoss(xorNet.forward(x), y), new AdamW(xorNet.parameters(), { lr: 0.01 }));\n` +
    `let fitSteps = 0;`);
  assert.equal(setup.ok, true, JSON.stringify(setup.outputs));
  const { r, stopMs } = await interruptAfter("await fit({ steps: 1e9, step: async () => { fitSteps++; return trainStep(xs, ys); } });", 2000);
  assert.deepEqual(errors(r).map((e) => e.ename), ["Interrupted"], JSON.stringify(r.outputs));
  assert.ok(stopMs < 2000, `stopped ${stopMs} ms after the interrupt`);
  const s1 = await numberOf("fitSteps");
  const t1 = await numberOf("trainStep.step");
  assert.ok(s1 > 0, "the loop ran");
  assert.ok(t1 === s1 || t1 === s1 - 1, `${t1} steps done of ${s1} started`);
  await sleep(2000);
  assert.equal(await numberOf("fitSteps"), s1, "the interrupted training loop went on");
  assert.equal(await numberOf("trainStep.step"), t1, "the optimizer went on stepping");
  const next = await run("const stepsBefore = trainStep.step;\nconst loss1 = await trainStep(xs, ys);\n[trainStep.step - stepsBefore, Number.isFinite(loss1)]");
  assert.deepEqual(resultText(next), ["[ 1, true ]"], JSON.stringify(next.outputs));
});

test("interrupt stops a DDIM sampling loop; the next cell samples again", { ...libOnly, timeout: 180_000 }, async () => {
  const setup = await run(
    `import { compile, diffusion, tensor, type Tensor } from "nextframe";\nconst { createDiffusion } = diffusion;\n` +
    `const halve = compile((x: Tensor) => x.mul(0.5));\n` +
    `const denoise = async (x: Float32Array, shape: readonly number[]) => (await (await halve(tensor(x).reshape([...shape]))).data()) as Float32Array;\n` +
    `const longDiffusion = createDiffusion({ learnSigma: false, diffusionSteps: 200000 });\n` +
    `let ddimSteps = 0;`);
  assert.equal(setup.ok, true, JSON.stringify(setup.outputs));
  const { r, stopMs } = await interruptAfter("await longDiffusion.ddimSampleLoop(denoise, [1, 4, 8, 8], { seed: 1, onProgress: () => ddimSteps++ });", 2000);
  assert.deepEqual(errors(r).map((e) => e.ename), ["Interrupted"], JSON.stringify(r.outputs));
  assert.ok(stopMs < 2000, `stopped ${stopMs} ms after the interrupt`);
  const d1 = await numberOf("ddimSteps");
  assert.ok(d1 > 0, "the sampler ran");
  await sleep(2000);
  assert.equal(await numberOf("ddimSteps"), d1, "the interrupted sampler went on");
  const again = await run(`const short = createDiffusion({ learnSigma: false, timestepRespacing: "ddim5" });\n` +
    `const sample = await short.ddimSampleLoop(denoise, [1, 4, 8, 8], { seed: 2 });\n[sample.length, sample.every(Number.isFinite)]`);
  assert.deepEqual(resultText(again), ["[ 256, true ]"], JSON.stringify(again.outputs));
});

test("20 executions sent at once run in order; 10 restarts leave no kernel process behind", { timeout: 300_000 }, async () => {
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => run(`console.log("cell ${i}");\n${i}`)));
  rs.forEach((r, i) => {
    assert.equal(streamText(r), `cell ${i}\n`);
    assert.deepEqual(resultText(r), [String(i)]);
  });
  const k = newKernel();
  const pids: number[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      await k.restart();
      pids.push(k.pid!);
    }
    assert.deepEqual(resultText(await run("'alive'", k)), ["'alive'"]);
  } finally {
    await k.stop();
  }
  assert.equal(new Set(pids).size, 10);
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], "kernel processes still running after stop");
});
