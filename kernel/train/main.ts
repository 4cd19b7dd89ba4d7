// `npm run train -- <name> [--steps N] [--out DIR]`: trains one shipped model from scratch with a fixed seed and
// writes notebooks/checkpoints/<name>.safetensors (atomically) + <name>.json (config, data seed, steps, metrics).
// One script per model in this folder; each exports `train(opts)`.
// `--engine torch` trains the same recipe with PyTorch (torchrun, DistributedDataParallel; torch.ts) and writes the
// same checkpoint and card.
import { reexecWithAllocatorEnv } from "../shared/environment";
import type { FitProgress } from "../nextframe/optim/index.js";
import type { TorchOptions } from "./torch";

export interface TrainOptions {
  /** Override the script's step count (tests and quick runs). */
  steps?: number;
  /** Checkpoint folder (default notebooks/checkpoints). */
  out?: string;
  progress: (p: FitProgress, extra?: string) => void;
  log: (line: string) => void;
}

const SCRIPTS: Record<string, () => Promise<{ train: (o: TrainOptions) => Promise<void>; evaluate?: (o: TrainOptions) => Promise<void> }>> = {
  "gpt-textworld": () => import("./gpt-textworld"),
  "autoencoder": () => import("./autoencoder"),
  "world-model": () => import("./world-model"),
  "world-model-memory": () => import("./world-model-memory"),
  "world-model-memorizer": () => import("./world-model-memorizer"),
  "text-to-video": () => import("./text-to-video"),
  "world-model-play": () => import("./world-model-play"),
};

/** One fixed log format: `[name] step 120/600  loss 0.4710  3.2 it/s  eta 2m31s`. */
export function progressPrinter(name: string): (p: FitProgress, extra?: string) => void {
  const tty = process.stdout.isTTY;
  return (p, extra) => {
    const eta = `${Math.floor(p.etaS / 60)}m${String(Math.round(p.etaS % 60)).padStart(2, "0")}s`;
    const line = `[${name}] step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${p.stepsPerSec.toFixed(2)} it/s  eta ${eta}${extra ? "  " + extra : ""}`;
    if (tty) process.stdout.write(`\r${line}\x1b[K${p.done ? "\n" : ""}`);
    else if (p.done || p.step % 50 === 0) console.log(line);
  };
}

export const USAGE = `usage: npm run train -- <name> [--steps N] [--out DIR] [--eval-only]
       npm run train -- <name> --engine torch [--nproc N] [--device cpu|cuda] [--batch-size B] [--resume] [--data DIR]
                       [--nnodes N --node-rank R --rdzv-endpoint HOST:PORT [--rdzv-id ID]] [--threads T] [--save-every S] [--stop-at S] [--no-eval]`;

export interface TrainArgs { name: string; steps?: number; out?: string; evalOnly: boolean; engine: "ts" | "torch"; torch: TorchOptions }

/** Parses the command line; throws an Error naming the bad option and what it expects. */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const name = argv[0];
  if (!name || !(name in SCRIPTS)) throw new Error(`${USAGE}\n  names: ${Object.keys(SCRIPTS).join(", ")}${name ? `\n  unknown name "${name}"` : ""}`);
  const a: TrainArgs = { name, evalOnly: false, engine: "ts", torch: { nproc: 1, device: "cpu", nnodes: 1, rdzvId: "nextframe", resume: false, eval: true } };
  const torchOnly: string[] = [];
  const int = (flag: string, v: string | undefined, min = 1) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`train: ${flag} must be an integer ≥ ${min}, got ${v === undefined ? "nothing" : `"${v}"`}`);
    return n;
  };
  const str = (flag: string, v: string | undefined) => {
    if (v === undefined || v.startsWith("--")) throw new Error(`train: ${flag} needs a value`);
    return v;
  };
  for (let i = 1; i < argv.length; i++) {
    const f = argv[i]!;
    if (f === "--steps") a.steps = int(f, argv[++i]);
    else if (f === "--eval-only") a.evalOnly = true;
    else if (f === "--out") a.out = str(f, argv[++i]);
    else if (f === "--engine") {
      const e = argv[++i];
      if (e !== "ts" && e !== "torch") throw new Error(`train: --engine must be ts or torch, got ${e === undefined ? "nothing" : `"${e}"`}`);
      a.engine = e;
    } else {
      torchOnly.push(f);
      if (f === "--nproc") a.torch.nproc = int(f, argv[++i]);
      else if (f === "--nnodes") a.torch.nnodes = int(f, argv[++i]);
      else if (f === "--node-rank") a.torch.nodeRank = int(f, argv[++i], 0);
      else if (f === "--rdzv-endpoint") a.torch.rdzvEndpoint = str(f, argv[++i]);
      else if (f === "--rdzv-id") a.torch.rdzvId = str(f, argv[++i]);
      else if (f === "--batch-size") a.torch.batchSize = int(f, argv[++i]);
      else if (f === "--data") a.torch.data = str(f, argv[++i]);
      else if (f === "--threads") a.torch.threads = int(f, argv[++i]);
      else if (f === "--save-every") a.torch.saveEvery = int(f, argv[++i]);
      else if (f === "--log-every") a.torch.logEvery = int(f, argv[++i]);
      else if (f === "--stop-at") a.torch.stopAt = int(f, argv[++i]);
      else if (f === "--resume") a.torch.resume = true;
      else if (f === "--no-eval") a.torch.eval = false;
      else if (f === "--device") {
        const d = argv[++i];
        if (d !== "cpu" && d !== "cuda") throw new Error(`train: --device must be cpu or cuda, got ${d === undefined ? "nothing" : `"${d}"`}`);
        a.torch.device = d;
      } else throw new Error(`train: unknown option ${f}\n${USAGE}`);
    }
  }
  if (a.engine === "ts" && torchOnly.length) throw new Error(`train: ${torchOnly.join(", ")} ${torchOnly.length > 1 ? "apply" : "applies"} only with --engine torch`);
  if (a.engine === "torch" && a.evalOnly) throw new Error(`train: --eval-only runs the TypeScript evaluation; drop --engine torch`);
  return a;
}

async function main(argv: string[]): Promise<void> {
  let args: TrainArgs;
  try { args = parseTrainArgs(argv); } catch (e) { console.error((e as Error).message); process.exit(2); }
  const name = args.name;
  const opts: TrainOptions = { progress: progressPrinter(name), log: (l) => console.log(`[${name}] ${l}`), steps: args.steps, out: args.out };
  const mod = await SCRIPTS[name]!();
  if (args.engine === "torch") {
    const { trainWithTorch } = await import("./torch");
    await trainWithTorch(name, opts, args.torch, mod.evaluate);
  } else if (args.evalOnly) {
    if (!mod.evaluate) { console.error(`train: ${name} has no --eval-only`); process.exit(2); }
    await mod.evaluate(opts);
  } else await mod.train(opts);
}

if (require.main === module) {
  reexecWithAllocatorEnv();
  // a usage error ("train: ...") prints its message alone; anything else its stack
  main(process.argv.slice(2)).catch((e) => { console.error(e instanceof Error ? (e.message.startsWith("train: ") ? e.message : e.stack) : e); process.exit(1); });
}
