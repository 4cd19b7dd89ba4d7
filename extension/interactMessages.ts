/**
 * Messages from the nextframe renderer's interact() controls (VS Code renderer messaging) to the kernel of the
 * notebook they came from. Pure (no vscode import), so it is unit tested: only `{ type: "interact", target,
 * values }` with a target under INTERACT_TARGET_PREFIX and flat string/number values, small, is forwarded, as the
 * comm message `{ values }` the library's handler reads.
 */
import { INTERACT_TARGET_PREFIX, type InteractMessage } from "../kernel/shared/payloads";

/** A control message is a few names and numbers; anything bigger is not ours. */
export const MAX_INTERACT_MESSAGE_BYTES = 4096;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseInteractMessage(m: unknown): Parsed<InteractMessage> {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { ok: false, reason: `expected an object, got ${m === null ? "null" : typeof m}` };
  let size: number;
  try { size = JSON.stringify(m).length; } catch { return { ok: false, reason: "message is not JSON" }; }
  if (size > MAX_INTERACT_MESSAGE_BYTES) return { ok: false, reason: `message is ${size} bytes, limit ${MAX_INTERACT_MESSAGE_BYTES}` };
  const { type, target, values } = m as Record<string, unknown>;
  if (type !== "interact") return { ok: false, reason: `unknown type ${JSON.stringify(type)}` };
  if (typeof target !== "string" || !target.startsWith(INTERACT_TARGET_PREFIX)) return { ok: false, reason: `target ${JSON.stringify(target)} is not an interact target` };
  if (typeof values !== "object" || values === null || Array.isArray(values)) return { ok: false, reason: "values must be an object" };
  const clean: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) clean[k] = v;
    else return { ok: false, reason: `value of ${JSON.stringify(k)} is not a string or finite number` };
  }
  return { ok: true, value: { type: "interact", target, values: clean } };
}

/** The kernel side that a message goes to: the notebook's kernel client, if one runs. */
export interface CommSink { readonly state: string; sendComm(target: string, data: unknown): void }

/**
 * Forward one renderer message to `kernel` (the kernel of the notebook whose output sent it). Returns undefined
 * when sent, or why it was not (for the kernel log).
 */
export function routeInteractMessage(message: unknown, kernel: CommSink | undefined): string | undefined {
  const p = parseInteractMessage(message);
  if (!p.ok) return `renderer message dropped: ${p.reason}`;
  if (!kernel || kernel.state === "stopped") return `interact: no running nextframe kernel for ${p.value.target}; run the cell again`;
  kernel.sendComm(p.value.target, { values: p.value.values });
  return undefined;
}
