// A fingerprint of a module's state dict, for tests that pin initial weights across refactors: the first 16 hex
// digits of the sha256 of every entry's name, dtype, shape and bytes, in state-dict order.
import { createHash } from "node:crypto";
import type { Module } from "../kernel/nextframe/nn/module";

export function stateHash(m: Module): string {
  const h = createHash("sha256");
  for (const [k, t] of Object.entries(m.stateDict())) {
    h.update(`${k}:${t.dtype}:${t.shape.join("x")};`);
    h.update(new Uint8Array(t._value!.buffer, t._value!.byteOffset, t._value!.byteLength));
  }
  return h.digest("hex").slice(0, 16);
}
