// `npm run train -- <name> --engine torch ...`: runs a recipe on PyTorch's distributed engine. Writes a job file
// (the recipe, the model's full TypeScript config, the data folder, the autoencoder), launches torchrun
// (`python3 -m torch.distributed.run ... -m nextframe_torch.train`, the package in kernel/torch) and, when it is
// done, recomputes the card's metrics with the TypeScript evaluation (the same numbers `--eval-only` gives), which also
// proves the checkpoint loads into the TypeScript model unchanged.
import { torchCpuEnv } from "../shared/environment";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkpointsDir, readCard } from "../nextframe/course/checkpoints";
import { worldModelConfig } from "../nextframe/models/worldModel";
import { autoencoderConfig } from "../nextframe/models/autoencoder";
import { gptConfig } from "../nextframe/models/gpt";
import { createHash } from "node:crypto";
import { textToVideoConfig, type TextToVideoConfig } from "../nextframe/models/textToVideo";
import { TRAINING_SHAPES } from "../nextframe/course/textToVideo";
import { writeDataset, writeTextWorld, type TextIndex } from "./data";
import { AUTOENCODER_RECIPE, GPT_TEXTWORLD_RECIPE, TEXT_TO_VIDEO_RECIPE, WORLD_MODEL_MEMORIZER_RECIPE, WORLD_MODEL_MEMORY_RECIPE, WORLD_MODEL_PLAY_RECIPE, WORLD_MODEL_RECIPE, type WorldModelRecipe } from "../nextframe/course/recipes";
import type { TrainOptions } from "./main";

const ROOT = resolve(__dirname, "..", "..");
export const TORCH_PACKAGE_ROOT = join(ROOT, "kernel", "torch");
export const PYTHON = process.env.NEXTFRAME_PYTHON ?? "/usr/bin/python3";

export interface TorchOptions {
  /** Processes per node (one per GPU with cuda). */
  nproc: number;
  device: "cpu" | "cuda";
  nnodes: number;
  nodeRank?: number;
  /** host:port of the rendezvous (node 0) when nnodes > 1. */
  rdzvEndpoint?: string;
  rdzvId: string;
  /** Global batch (split over all processes); default the recipe's. */
  batchSize?: number;
  /** A folder from `npm run data`; default one made (once) under .cache/data/ for the recipe's clips. */
  data?: string;
  /** Start from <out>/<name>.safetensors (a checkpoint of either engine). */
  resume: boolean;
  /** Recompute the card's metrics with the TypeScript evaluation afterwards (default true). */
  eval: boolean;
  saveEvery?: number;
  /** End this run after that step (checkpoint and optimizer state written); `--resume` continues to the last step. */
  stopAt?: number;
  logEvery?: number;
  /** Threads per process (OMP_NUM_THREADS); default the cores divided by the processes. */
  threads?: number;
  /** Programmatic only (tests): options over the recipe's and fields over its config, passed to the trainer as they are (it refuses ones it does not know). */
  recipeOverrides?: Record<string, unknown>;
  configOverrides?: Record<string, unknown>;
  /** Programmatic only: receives torchrun's output (stdout and stderr) instead of this process's stdout and stderr. */
  output?: (text: string) => void;
}

/**
 * A recipe PyTorch trains: its model, settings, data (made once under .cache/data/ unless --data names a folder) and
 * config. `recipe` is the TypeScript recipe object itself (course/recipes.ts), passed whole to the trainer, which
 * refuses any option it does not know (nextframe_torch/train.py Recipe.options).
 */
interface TorchRecipe {
  model: "WorldModel" | "Autoencoder" | "GPT" | "TextToVideoDiT";
  recipe: { readonly dataSeed: number; readonly numTrain: number; readonly seed: number; readonly steps: number; readonly batchSize: number; readonly lr: number };
  needsAutoencoder: boolean;
  /** The default data folder's name and how to write it (`npm run data` with the recipe's seed and size; aeDir: the autoencoder's folder). */
  dataName: string;
  writeData: (dir: string, log: (l: string) => void, aeDir: string) => Promise<unknown>;
  dataHint: string;
  /** The model's full TypeScript config, from the recipe (and the data's index for the GPT's vocabulary). */
  config: (dataDir: string) => Record<string, unknown>;
  /** More of the TypeScript recipe's constants the trainer reads (the text-to-video clip shapes). */
  extra?: Record<string, unknown>;
}

const shardsFor = (clips: number) => Math.min(clips, Math.max(1, Math.ceil(clips / 128)));

const videoData = (seed: number, clips: number, world: "default" | "play" = "default"): Pick<TorchRecipe, "dataName" | "writeData" | "dataHint"> => {
  const name = world === "play" ? "play-world" : "video-world";
  return {
    dataName: `${name}-seed${seed}-train-${clips}`,
    // clips 0 .. clips − 1 of the training split, as videoWorldData makes them (in the recipe's world)
    writeData: (dir, log) => writeDataset({ world: name, clips, shards: shardsFor(clips), out: dir, seed, split: "train", frames: 32, size: 32 }, log),
    dataHint: `npm run data -- ${name} --clips ${clips} --shards K --seed ${seed} --out DIR`,
  };
};

const worldModel = (recipe: WorldModelRecipe): TorchRecipe => ({
  model: "WorldModel", recipe, needsAutoencoder: true, ...videoData(recipe.dataSeed, recipe.numTrain, recipe.world ?? "default"), config: () => ({ ...worldModelConfig(recipe.config) }),
});

const T2V = TEXT_TO_VIDEO_RECIPE;

/** The recipes PyTorch can train, by checkpoint name. */
export const TORCH_RECIPES: Record<string, TorchRecipe> = {
  "world-model": worldModel(WORLD_MODEL_RECIPE),
  "world-model-memory": worldModel(WORLD_MODEL_MEMORY_RECIPE),
  "world-model-memorizer": worldModel(WORLD_MODEL_MEMORIZER_RECIPE),
  "world-model-play": worldModel(WORLD_MODEL_PLAY_RECIPE),
  "text-to-video": {
    model: "TextToVideoDiT", recipe: T2V, needsAutoencoder: true,
    // the clips and the training set textToVideoData makes (recaptioned with the autoencoder beside the checkpoints)
    dataName: `text-to-video-seed${T2V.dataSeed}-${T2V.numTrain}`,
    writeData: (dir, log, aeDir) => writeDataset({ world: "text-to-video", clips: T2V.numTrain, shards: shardsFor(T2V.numTrain), out: dir, seed: T2V.dataSeed, split: "train", frames: 16, size: 32, autoencoder: aeDir }, log),
    dataHint: `npm run data -- text-to-video --clips ${T2V.numTrain} --shards K --seed ${T2V.dataSeed} --autoencoder DIR --out DIR`,
    // the recipe's config overrides (e.g. predict), as kernel/train/text-to-video.ts applies them
    config: () => ({ ...textToVideoConfig(T2V.config, { ...(T2V as { configOverrides?: Partial<TextToVideoConfig> }).configOverrides }) }),
    extra: { textToVideo: { trainingShapes: TRAINING_SHAPES } },
  },
  "autoencoder": {
    model: "Autoencoder", recipe: AUTOENCODER_RECIPE, needsAutoencoder: false, ...videoData(AUTOENCODER_RECIPE.dataSeed, AUTOENCODER_RECIPE.numTrain),
    config: () => ({ ...autoencoderConfig(AUTOENCODER_RECIPE.config, { imageSize: 32 }) }),
  },
  "gpt-textworld": {
    model: "GPT", recipe: GPT_TEXTWORLD_RECIPE, needsAutoencoder: false,
    dataName: `text-world-seed${GPT_TEXTWORLD_RECIPE.dataSeed}-${GPT_TEXTWORLD_RECIPE.numTrain}-${GPT_TEXTWORLD_RECIPE.numVal}`,
    writeData: async (dir, log) => writeTextWorld({ out: dir, seed: GPT_TEXTWORLD_RECIPE.dataSeed, episodes: GPT_TEXTWORLD_RECIPE.numTrain, val: GPT_TEXTWORLD_RECIPE.numVal }, log),
    dataHint: `npm run data -- text-world --episodes ${GPT_TEXTWORLD_RECIPE.numTrain} --val ${GPT_TEXTWORLD_RECIPE.numVal} --seed ${GPT_TEXTWORLD_RECIPE.dataSeed} --out DIR`,
    config: (dir) => {
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as TextIndex;
      if (index.format !== "nextframe-text/1") throw new Error(`train: ${dir} holds ${index.format ?? "no known"} data; gpt-textworld needs npm run data -- text-world`);
      return { ...gptConfig("gpt-textworld", { vocabSize: index.vocab.length, blockSize: index.blockSize }) };
    },
  },
};

/** Why PyTorch cannot run here (no python3 with torch), or null. */
export function torchUnavailable(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PYTHON} cannot import torch and numpy (${(r.stderr || r.error?.message || "").trim().split("\n").pop()}); install them (Debian: apt-get install python3-torch) or set NEXTFRAME_PYTHON`;
}

/** torchrun's arguments for these options (single node: --standalone; several: c10d rendezvous at the endpoint). */
export function torchrunArgs(t: TorchOptions, job: string): string[] {
  const nodes = t.nnodes > 1
    ? ["--nnodes", String(t.nnodes), "--rdzv_backend", "c10d", "--rdzv_endpoint", t.rdzvEndpoint!, "--rdzv_id", t.rdzvId, ...(t.nodeRank !== undefined ? ["--node_rank", String(t.nodeRank)] : [])]
    : ["--standalone", "--nnodes", "1"];
  // nextframe_torch.launch is torchrun (torch.distributed.run) with a fix for torch 1.13 on Python ≥ 3.11
  return ["-m", "nextframe_torch.launch", ...nodes, "--nproc_per_node", String(t.nproc), "-m", "nextframe_torch.train", "--job", job];
}

export async function trainWithTorch(name: string, o: TrainOptions, t: TorchOptions, evaluate?: (o: TrainOptions) => Promise<void>): Promise<void> {
  const entry = TORCH_RECIPES[name];
  if (!entry) throw new Error(`train: --engine torch has no recipe for "${name}" yet; it trains ${Object.keys(TORCH_RECIPES).join(", ")}`);
  if (t.nnodes > 1 && !t.rdzvEndpoint) throw new Error(`train: --nnodes ${t.nnodes} needs --rdzv-endpoint HOST:PORT (node 0's address, the same on every node)`);
  const missing = torchUnavailable();
  if (missing) throw new Error(`train: --engine torch: ${missing}`);
  if (t.device === "cuda") {
    const r = spawnSync(PYTHON, ["-c", "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"], { encoding: "utf8" });
    const gpus = Number(r.stdout.trim()) || 0;
    if (gpus < t.nproc) throw new Error(`train: --device cuda --nproc ${t.nproc} needs ${t.nproc} GPU${t.nproc > 1 ? "s" : ""}; PyTorch (${PYTHON}) sees ${gpus}${gpus ? "" : " (no CUDA build or no GPU)"}; use --device cpu or fewer processes`);
  }
  const r = { ...entry.recipe, ...t.recipeOverrides } as TorchRecipe["recipe"];
  const out = resolve(o.out ?? checkpointsDir());
  mkdirSync(out, { recursive: true });
  const steps = o.steps ?? r.steps, batchSize = t.batchSize ?? r.batchSize;
  const worldSize = t.nproc * t.nnodes;
  if (batchSize % worldSize) throw new Error(`train: the global batch ${batchSize} does not split over ${worldSize} processes; pass --batch-size a multiple of ${worldSize}`);
  if (entry.needsAutoencoder) {
    for (const f of ["autoencoder.json", "autoencoder.safetensors"]) {
      if (!existsSync(join(out, f))) throw new Error(`train: ${name} needs ${join(out, f)} (npm run train -- autoencoder${o.out ? ` --out ${o.out}` : ""})`);
    }
  }
  // the text-to-video training set depends on the autoencoder that recaptioned it: the default folder names its weights
  const aeTag = entry.model === "TextToVideoDiT" ? `-ae${createHash("sha256").update(readFileSync(join(out, "autoencoder.safetensors"))).digest("hex").slice(0, 12)}` : "";
  const data = resolve(t.data ?? join(ROOT, ".cache", "data", entry.dataName + aeTag));
  const tmp = mkdtempSync(join(tmpdir(), "nf-torch-job-"));
  const jobPath = join(tmp, "job.json");
  const pp = process.env.PYTHONPATH ? `${TORCH_PACKAGE_ROOT}:${process.env.PYTHONPATH}` : TORCH_PACKAGE_ROOT;
  try {
    writeFileSync(jobPath, JSON.stringify({
      name, model: entry.model, config: { ...entry.config(data), ...t.configOverrides }, freshLatentScale: entry.model === "WorldModel" || entry.model === "TextToVideoDiT", recipe: r, steps, batchSize, lr: r.lr, seed: r.seed,
      data, autoencoder: entry.needsAutoencoder ? { card: join(out, "autoencoder.json"), weights: join(out, "autoencoder.safetensors") } : null, out, resume: t.resume,
      device: t.device, saveEvery: t.saveEvery, stopAt: t.stopAt, logEvery: t.logEvery ?? 50, ...entry.extra,
    }, null, 2));
    // the trainer refuses a recipe option or config field it does not know: ask it before writing data or launching
    const check = spawnSync(PYTHON, ["-m", "nextframe_torch.train", "--job", jobPath, "--check"], { encoding: "utf8", env: { ...process.env, PYTHONPATH: pp } });
    if (check.status !== 0) throw new Error(`train: --engine torch cannot train ${name}: ${(check.stderr || check.stdout).trim().split("\n").pop()}`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (!existsSync(join(data, "index.json"))) {
    if (t.data) throw new Error(`train: --data ${t.data} holds no index.json; write it with ${entry.dataHint}`);
    o.log(`writing the recipe's data to ${data}`);
    await entry.writeData(data, o.log, out);
  }
  const threads = t.threads ?? Math.max(1, Math.floor(availableParallelism() / t.nproc));
  const userOmp = process.env.GOMP_SPINCOUNT !== undefined ? { GOMP_SPINCOUNT: process.env.GOMP_SPINCOUNT } : {};
  const args = torchrunArgs(t, jobPath);
  o.log(`torchrun: ${t.nnodes} node${t.nnodes > 1 ? "s" : ""} × ${t.nproc} process${t.nproc > 1 ? "es" : ""} on ${t.device}, global batch ${batchSize}, ${steps} steps, ${threads} thread${threads > 1 ? "s" : ""} per process`);
  const started = Date.now() - 1000;
  try {
    const code = await new Promise<number>((res, rej) => {
      const p = spawn(PYTHON, args, { stdio: t.output ? ["ignore", "pipe", "pipe"] : "inherit", env: { ...process.env, ...torchCpuEnv, ...userOmp, PYTHONPATH: pp, OMP_NUM_THREADS: String(threads) } });
      if (t.output) for (const s of [p.stdout!, p.stderr!]) s.on("data", (b: Buffer) => t.output!(b.toString()));
      p.on("error", rej);
      p.on("close", (c, sig) => res(c ?? (sig ? 128 : 1)));
    });
    if (code !== 0) throw new Error(`train: torchrun exited with status ${code} (its output is above)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // rank 0 wrote the checkpoint on its machine (with c10d, any node can hold it): the launcher there reports and evaluates
  const cardPath = join(out, `${name}.json`);
  const card = existsSync(cardPath) && statSync(cardPath).mtimeMs >= started ? readCard(name, out) : null;
  if (!card || card.host !== hostname()) {
    o.log(`rank 0 ran on another machine (${card?.host ?? "not this one"}); the checkpoint and its card are in ${out} there`);
    return;
  }
  o.log(`${name}: ${card.steps} steps in ${(card.trainSeconds as number).toFixed(1)} s on ${card.worldSize} × ${card.device} (torch ${card.torch}), final loss ${Number(card.finalTrainLoss).toFixed(4)}`);
  if (t.eval && evaluate) {
    o.log(`recomputing the card's metrics with the TypeScript evaluation (--no-eval skips this)`);
    await evaluate({ ...o, out });
  }
}
