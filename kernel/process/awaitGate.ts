/**
 * The await gate: every `await x` in a cell (and in the local .ts files it imports) is compiled as
 * `await __nextframe_cell__.gate(x)`. The gate passes x's outcome through unless the cell whose code awaits was
 * interrupted meanwhile; then the await never resumes. Timers of an interrupted cell never fire (cellScope.ts)
 * and the library checks after its own native awaits, but a cell's own loop can await anything else
 * (`fs.promises`, `fetch`, a child process): without the gate, `for (;;) { await fs.promises.stat(f); n++ }` would
 * go on in the background after the interrupt. Never resuming (rather than throwing) keeps the cell's catch and
 * finally blocks from running after the person stopped it, as the library does.
 *
 * The transformer runs in TypeScript's `before` stage, so the emitted source map still points the awaited
 * expression at its place in the cell (the call around it is synthesized and maps nowhere).
 */
import { currentScope } from "./cellScope";

type Ts = typeof import("@tslab/typescript-for-tslab");
type SourceFile = import("@tslab/typescript-for-tslab").SourceFile;
type Node = import("@tslab/typescript-for-tslab").Node;

/** The cell-global object through which compiled cells reach the gate (the executor defines it). */
export const gateObject = "__nextframe_cell__";

const never = new Promise<never>(() => {});

/** `x`'s outcome, or a promise that never settles once the calling cell's scope is interrupted. */
export function awaitGate<T>(x: T): T | Promise<Awaited<T>> {
  const scope = currentScope();
  if (!scope) return x;
  if (scope.interrupted) return never;
  return Promise.resolve(x).then(
    (v) => (scope.interrupted ? never : v),
    (e: unknown) => (scope.interrupted ? never : Promise.reject(e)),
  );
}

/** A `before` transformer that routes every await expression through the gate (`for await` is left alone). */
export function awaitGateTransformer(ts: Ts, skip: (sf: SourceFile) => boolean): import("@tslab/typescript-for-tslab").TransformerFactory<SourceFile> {
  return (context) => {
    const f = context.factory;
    const visit = (node: Node): Node => {
      if (ts.isAwaitExpression(node)) {
        const inner = ts.visitNode(node.expression, visit) as import("@tslab/typescript-for-tslab").Expression;
        const gated = f.createCallExpression(
          f.createPropertyAccessExpression(f.createIdentifier(gateObject), "gate"), undefined, [inner]);
        return f.updateAwaitExpression(node, gated);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (sf) => (skip(sf) ? sf : (ts.visitNode(sf, visit) as SourceFile));
  };
}
