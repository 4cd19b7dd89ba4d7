// `npm run train -- <name> [--steps N] [--out DIR]`: trains one shipped model from scratch with a fixed seed and
// writes notebooks/checkpoints/<name>.safetensors (atomically) + <name>.json (config, data seed, steps, metrics).
// One script per model in this folder; each exports `train(opts)`.
import type { FitProgress } from "../nextframe/optim/index.js";

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

async function main(argv: string[]): Promise<void> {
  const name = argv[0];
  if (!name || !(name in SCRIPTS)) {
    console.error(`usage: npm run train -- <name> [--steps N] [--out DIR] [--eval-only]\n  names: ${Object.keys(SCRIPTS).join(", ")}${name ? `\n  unknown name "${name}"` : ""}`);
    process.exit(2);
  }
  const opts: TrainOptions = { progress: progressPrinter(name), log: (l) => console.log(`[${name}] ${l}`) };
  let evalOnly = false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === "--steps") opts.steps = Number(argv[++i]);
    else if (argv[i] === "--eval-only") evalOnly = true;
    else if (argv[i] === "--out") opts.out = argv[++i];
    else { console.error(`train: unknown option ${argv[i]}`); process.exit(2); }
  }
  if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 1)) { console.error(`train: --steps must be a positive integer`); process.exit(2); }
  const mod = await SCRIPTS[name]!();
  if (evalOnly) {
    if (!mod.evaluate) { console.error(`train: ${name} has no --eval-only`); process.exit(2); }
    await mod.evaluate(opts);
  } else await mod.train(opts);
}

if (require.main === module) {
  // DESIGN §4: big fresh allocations are slow unless glibc keeps freed memory; re-exec with the settings.
  if (!process.env.MALLOC_MMAP_THRESHOLD_) {
    const env = { ...process.env, MALLOC_MMAP_THRESHOLD_: "4294967296", MALLOC_TRIM_THRESHOLD_: "68719476736" };
    const r = require("node:child_process").spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env });
    process.exit(r.status ?? 1);
  }
  main(process.argv.slice(2)).catch((e) => { console.error(e instanceof Error ? e.stack : e); process.exit(1); });
}
