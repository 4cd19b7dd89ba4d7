// playWorld's session, kernel side: live until stopped (by the panel's stop message, session.stop() or a newer
// playWorld), every change announced to the panel, scripted steps shown in the viewer too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { commHandlersSymbol, kernelSinkSymbol } from "../../shared/libraryContract";
import { playWorld } from "./worldViewer";
import type { WorldAction } from "../../shared/payloads";

type G = Record<symbol, unknown>;
type Msg = { type: string; status?: string; steps?: number; step?: number; message?: string; action?: string; title?: string };

/** A sink that records what the kernel sends, and the comm handler a panel message would reach. */
function kernel() {
  const g = globalThis as G;
  const sent: Msg[] = [];
  g[kernelSinkSymbol] = { display() {}, comm: (_t: string, d: unknown) => sent.push(d as Msg) };
  const handler = () => (g[commHandlersSymbol] as Map<string, (d: unknown) => Promise<Msg | undefined>> | undefined)?.get("worldViewer");
  return { sent, handler, done: () => { delete g[kernelSinkSymbol]; } };
}

function world(delayMs = 0) {
  const actions: WorldAction[] = [];
  const frame = () => ({ data: new Uint8Array(4 * 4 * 3).fill(actions.length), shape: [4, 4, 3] });
  return {
    actions,
    reset: () => frame(),
    async step(a: WorldAction) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      actions.push(a);
      return frame();
    },
  };
}

test("playWorld: live after the cell, until the panel's Stop; then the handler is gone", async () => {
  const k = kernel();
  try {
    const w = world();
    const s = await playWorld(w, { title: "room" });
    assert.deepEqual(k.sent.map((m) => m.type), ["state", "frame"]);
    assert.deepEqual(k.sent[0], { type: "state", status: "live", steps: 0, title: "room" });
    assert.equal(s.live, true);
    // the panel's keys, as the executor delivers them between cells: the reply goes back on the comm
    const r = await k.handler()!({ type: "action", action: "left" });
    assert.deepEqual([r?.type, r?.step, r?.action], ["frame", 1, "left"]);
    // "sync" (a panel that just opened): the state is sent and the last frame is the reply; the world does not step
    k.sent.length = 0;
    const again = await k.handler()!({ type: "sync" });
    assert.deepEqual(k.sent, [{ type: "state", status: "live", steps: 1, title: "room" }]);
    assert.deepEqual([again?.type, again?.step], ["frame", 1]);
    assert.equal(w.actions.length, 1);
    // Stop from the panel
    k.sent.length = 0;
    assert.equal(await k.handler()!({ type: "stop" }), undefined);
    assert.deepEqual(k.sent, [{ type: "state", status: "stopped", steps: 1, title: "room", message: "by the Stop button" }]);
    assert.equal(s.live, false);
    assert.equal(k.handler(), undefined, "no handler after stop");
    await assert.rejects(s.handle({ type: "action", action: "up" }), /this session is stopped; call playWorld again/);
    s.stop(); // again: nothing more is sent
    assert.equal(k.sent.length, 1);
  } finally { k.done(); }
});

test("playWorld: session.handle() shows each scripted step in the viewer; session.stop() says stopped", async () => {
  const k = kernel();
  try {
    const s = await playWorld(world());
    k.sent.length = 0;
    for (const a of ["right", "space"] as const) await s.handle({ type: "action", action: a });
    assert.deepEqual(k.sent.map((m) => [m.type, m.step]), [["frame", 1], ["frame", 2]]);
    assert.equal(s.steps, 2);
    s.stop();
    assert.deepEqual(k.sent.at(-1), { type: "state", status: "stopped", steps: 2, message: "by session.stop()" });
  } finally { k.done(); }
});

test("playWorld: a newer session stops the older one, and a step in flight at stop() is not shown", async () => {
  const k = kernel();
  try {
    const w = world(30);
    const first = await playWorld(w);
    const inFlight = k.handler()!({ type: "action", action: "down" });
    const second = await playWorld(w, { title: "second" }); // waits for the first session's step to finish
    assert.equal(await inFlight, undefined, "the old session's late frame is dropped");
    assert.equal(first.live, false);
    assert.equal(second.live, true);
    const states = k.sent.filter((m) => m.type === "state").map((m) => [m.status, m.message ?? ""]);
    assert.deepEqual(states, [["live", ""], ["stopped", "a newer playWorld session replaced it"], ["live", ""]]);
    const r = await k.handler()!({ type: "action", action: "up" });
    assert.equal(r?.title, "second");
    second.stop();
  } finally { k.done(); }
});

test("playWorld: a world whose reset throws fails the cell; a bad message gets an error reply", async () => {
  const k = kernel();
  try {
    await assert.rejects(playWorld({ reset() { throw new Error("no start frames"); }, step: () => null }), /no start frames/);
    assert.equal(k.handler(), undefined);
    const s = await playWorld(world());
    const r = await k.handler()!({ type: "action", action: "fly" });
    assert.equal(r?.type, "error");
    assert.match(r?.message ?? "", /unknown action "fly"/);
    s.stop();
  } finally { k.done(); }
});
