/**
 * Running lazy graphs: collect the pending subgraph behind some tensors, key it by structure, get (or build)
 * its cached session, feed the concrete leaves and store the results in the tensors.
 */
import { ort } from "./session.js";
import { cachedSession } from "./session.js";
import { emitModel } from "./onnx.js";
import type { Tensor } from "./tensor.js";
import { explainRuntimeError, trackedNodes } from "./origin.js";
import type { TypedArray } from "./dtype.js";
import { NextframeError, internal } from "./errors.js";
import { halt, interruptedIn, native, outsideCells, shouldHalt } from "./interrupt.js";

export interface Subgraph {
  /** Leaves in first-visit order: concrete tensors and placeholders. */
  leaves: Tensor[];
  /** Non-leaf tensors in topological order. */
  nodes: Tensor[];
}

export function isLeaf(t: Tensor): boolean {
  return t._value !== null || t._placeholder || t.op === null;
}

/** The subgraph needed to compute `targets`, stopping at leaves (iterative DFS, post-order). */
export function collect(targets: readonly Tensor[]): Subgraph {
  const leaves: Tensor[] = [];
  const nodes: Tensor[] = [];
  const seen = new Set<Tensor>();
  for (const root of targets) {
    if (seen.has(root)) continue;
    const stack: [Tensor, number][] = [[root, 0]];
    seen.add(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [t, i] = top;
      if (isLeaf(t)) { leaves.push(t); stack.pop(); continue; }
      if (i < t.inputs.length) {
        top[1]++;
        const c = t.inputs[i]!;
        if (!seen.has(c)) { seen.add(c); stack.push([c, 0]); }
      } else {
        nodes.push(t);
        stack.pop();
      }
    }
  }
  return { leaves, nodes };
}

/** A string that identifies the graph's structure (ops, attributes, shapes, dtypes, wiring), not its data. */
export function structureKey(inputs: readonly Tensor[], nodes: readonly Tensor[], outputs: readonly Tensor[], extra = ""): string {
  const idx = new Map<Tensor, number>();
  const parts: string[] = [extra];
  for (const t of inputs) { idx.set(t, idx.size); parts.push(`I${t.dtype}[${t.shape}]`); }
  for (const t of nodes) {
    const ins = t.inputs.map((x) => idx.get(x) ?? internal(`input #${x.id} not collected`));
    idx.set(t, idx.size);
    parts.push(`${t.op}${JSON.stringify(t.attrs)}${t.dtype}[${t.shape}](${ins})`);
  }
  parts.push(`O(${outputs.map((t) => idx.get(t))})`);
  return parts.join(";");
}

/**
 * True when the graph computes in float64: a node makes a float64 value, or reads one for anything but a cast
 * (session.ts: such graphs run at basic optimisation, since some of onnxruntime's fusions have float32-only
 * kernels). A float64 input that is only cast to float32 (a learning rate, a timestep) keeps full optimisation.
 */
export function usesFloat64(nodes: readonly Tensor[]): boolean {
  return nodes.some((t) => t.dtype === "float64" || (t.op !== "cast" && t.inputs.some((x) => x.dtype === "float64")));
}

/** Wraps a tensor's data for feeding. */
export function toOrt(t: Tensor, value: TypedArray | null = t._value): ort.Tensor {
  if (value === null) internal(`leaf #${t.id} has no value`);
  return new ort.Tensor(t.dtype, value as any, t.shape as number[]);
}

let tracingDepth = 0;
/** @internal */
export function enterTrace(): void { tracingDepth++; }
/** @internal */
export function exitTrace(): void { tracingDepth--; }
export function isTracing(): boolean { return tracingDepth > 0; }

/** Computes all `targets` in one graph / one session.run and stores their values. */
export async function evaluate(targets: readonly Tensor[]): Promise<void> {
  const pending = [...new Set(targets.filter((t) => t._value === null))];
  if (pending.length === 0) return;
  if (isTracing()) {
    throw new NextframeError("data: cannot read tensor values inside a function being compiled (compile traces the function once; return the tensor instead)");
  }
  const { leaves, nodes } = collect(pending);
  const unbound = leaves.find((l) => l._value === null);
  if (unbound) {
    throw new NextframeError(`data: tensor depends on a placeholder of a compiled function (shape [${unbound.shape}]), which has no value outside compile`);
  }
  const key = structureKey(leaves, nodes, pending);
  const session = await native(cachedSession(key, () => emitModel({ inputs: leaves, nodes, outputs: pending }), usesFloat64(nodes)), "data");
  const feeds: Record<string, ort.Tensor> = {};
  leaves.forEach((l, i) => { feeds[`in_${i}`] = toOrt(l); });
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await outsideCells(() => session.run(feeds));
  } catch (e) {
    // a data-dependent failure (an index out of range): name the library op that made the failing node
    const tracked = trackedNodes(nodes);
    if (tracked.size === 0) throw e;
    const names = new Map<string, Tensor>();
    emitModel({ inputs: leaves, nodes, outputs: pending, nodeOrigins: { tracked, names } }); // the same node names
    throw explainRuntimeError(e, names);
  }
  pending.forEach((t, i) => { t._value = out[`out_${i}`]!.data as TypedArray; });
  // the values are kept (a cache of the graph); an interrupted cell's code then does not resume
  if (shouldHalt()) return halt(interruptedIn("data"));
}
