import { test } from "node:test";
import assert from "node:assert/strict";
import { INTERACT_TARGET_PREFIX } from "../kernel/shared/payloads";
import { parseInteractMessage, routeInteractMessage } from "./interactMessages";

const target = `${INTERACT_TARGET_PREFIX}123-abc-1`;

function kernel(state = "idle") {
  const sent: [string, unknown][] = [];
  return { sent, state, sendComm: (t: string, d: unknown) => { sent.push([t, d]); } };
}

test("a control message reaches the notebook's kernel as the comm message { values } on its target", () => {
  const k = kernel();
  assert.equal(routeInteractMessage({ type: "interact", target, values: { scale: 2.5, sampler: "ddim" } }, k), undefined);
  assert.deepEqual(k.sent, [[target, { values: { scale: 2.5, sampler: "ddim" } }]]);
});

test("other messages, other targets and bad values are dropped with a reason", () => {
  const k = kernel();
  assert.match(routeInteractMessage({ type: "action", target, values: {} }, k)!, /unknown type "action"/);
  assert.match(routeInteractMessage({ type: "interact", target: "worldViewer", values: {} }, k)!, /"worldViewer" is not an interact target/);
  assert.match(routeInteractMessage({ type: "interact", target, values: { a: { b: 1 } } }, k)!, /value of "a" is not a string or finite number/);
  assert.match(routeInteractMessage({ type: "interact", target, values: { a: "x".repeat(5000) } }, k)!, /bytes, limit 4096/);
  assert.match(routeInteractMessage("hello", k)!, /expected an object, got string/);
  assert.deepEqual(k.sent, []);
});

test("without a running kernel nothing is sent and the reason says to run the cell again", () => {
  assert.match(routeInteractMessage({ type: "interact", target, values: { a: 1 } }, undefined)!, /no running nextframe kernel.*run the cell again/);
  const stopped = kernel("stopped");
  assert.match(routeInteractMessage({ type: "interact", target, values: { a: 1 } }, stopped)!, /no running nextframe kernel/);
  assert.deepEqual(stopped.sent, []);
  assert.deepEqual(parseInteractMessage({ type: "interact", target, values: { n: 3 }, extra: 1 }), { ok: true, value: { type: "interact", target, values: { n: 3 } } });
});
