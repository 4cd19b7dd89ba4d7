// The Jupyter front's message framing and signing, and how it words a dead kernel's reason for Jupyter users.
import { test } from "node:test";
import assert from "node:assert/strict";
import { childCommand, encodeMessage, forJupyter, parseMessage, sign } from "./jupyter";

const header = { msg_id: "m1", session: "s", username: "u", date: "2026-01-01T00:00:00Z", msg_type: "execute_request", version: "5.3" };

test("a message encoded with a key parses back with its identities, and the signature is the spec's HMAC", () => {
  const frames = encodeMessage("secret", [Buffer.from("client-id")], header, {}, { code: "1 + 1" }, { m: 1 });
  const msg = parseMessage(frames, "secret");
  assert.deepEqual(msg.identities.map(String), ["client-id"]);
  assert.deepEqual([msg.header, msg.parent, msg.metadata, msg.content], [header, {}, { m: 1 }, { code: "1 + 1" }]);
  // HMAC-SHA256 over header, parent, metadata, content (the four frames after the signature).
  assert.equal(String(frames[2]), sign("secret", frames.slice(3).map(String)));
  assert.equal(sign("", ["x"]), "");
});

test("a message with a wrong signature or without the delimiter is refused with the reason", () => {
  const frames = encodeMessage("secret", [], header, {}, {});
  assert.throws(() => parseMessage(frames, "other key"), /bad message signature \(HMAC\) — wrong key in the connection file\?/);
  assert.throws(() => parseMessage([Buffer.from("no delimiter")], "secret"), /without the <IDS\|MSG> delimiter/);
});

test("a kernel death's reason names the environment variables, not VS Code's settings", () => {
  const why = "the kernel exited (signal SIGABRT: out of memory — the JavaScript heap reached its limit of 400 MB; raise the " +
    "setting nextframe.kernel.memoryLimitMb (--max-old-space-size) or keep less in JavaScript arrays and objects) and was restarted";
  const o = forJupyter({ kind: "error", ename: "KernelExited", evalue: why, traceback: [why] });
  assert.match(o.evalue, /raise NEXTFRAME_MEMORY_LIMIT_MB in the Jupyter server's environment or kernel.json's env \(--max-old-space-size\)/);
  assert.doesNotMatch(o.evalue + o.traceback.join(""), /nextframe\.kernel\./);
  const rss = forJupyter({ kind: "error", ename: "KernelExited", evalue: "raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB", traceback: [] });
  assert.equal(rss.evalue, "raise NEXTFRAME_RSS_LIMIT_MB");
  const stopped = forJupyter({ kind: "error", ename: "MemoryLimit", evalue: "or raise nextframe.kernel.rssLimitMb / NEXTFRAME_RSS_LIMIT_MB", traceback: [] });
  assert.equal(stopped.evalue, "or raise NEXTFRAME_RSS_LIMIT_MB");
  const other = { kind: "error" as const, ename: "Error", evalue: "nextframe.kernel.memoryLimitMb", traceback: [] };
  assert.equal(forJupyter(other), other, "a cell's own errors are left alone");
});

test("the child starts under setpriv's parent-death signal when setpriv exists, else as plain node", () => {
  assert.deepEqual(childCommand(["--import", "tsx"], "/usr/bin/node", "/usr/bin/setpriv"), {
    execPath: "/usr/bin/setpriv", execArgv: ["--pdeathsig", "SIGKILL", "--", "/usr/bin/node", "--import", "tsx"],
  });
  assert.deepEqual(childCommand([], "/usr/bin/node", null), { execPath: "/usr/bin/node", execArgv: [] });
});
