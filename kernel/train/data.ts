// `npm run data -- <world> --clips N --shards K --out DIR [--seed S] [--split train|val] [--frames F] [--size S] [--workers W]`:
// writes one of the course's generated datasets as sharded .npy files plus a JSON index, so that another engine (the
// PyTorch package in kernel/torch, which opens them with numpy.load(..., mmap_mode="r")) trains on exactly the clips
// the TypeScript trainer generates for the same seed. Shards are generated in parallel worker threads.
//
//   video-world  clips of videoWorldData (the world model's and autoencoder's data): per shard
//                <split>-<k>.frames.npy   uint8   (n, T, S, S, 3)  RGB frames
//                <split>-<k>.actions.npy  uint8   (n, T)           actions[t] turns frame t into frame t + 1
//                <split>-<k>.objects.npy  float32 (n, T, O, 13)    ground truth per object (OBJECT_FIELDS; NaN pads)
//                <split>-<k>.camera.npy   float32 (n, T, 3)        cameraX, bites, maxBites per frame
//                <split>-<k>.captions.npy int32   (n, 32)          the carried caption's tokens + 1 (0 pads; all 0 = none),
//                                                                  as a caption-conditioned world model reads them
//                <split>-<k>.meta.json    seeds, captions (carried / rich / poor), attributes, objects' kinds and colours
// Clip i of a split has seed hashSeed(seed, split, i), as in generateVideoDataset, so any shard can be made alone.
//
//   play-world   the same files for the playable world (course/videoData.ts PLAY_WORLD: agent radius 0.6, 0.3 a step;
//                world-model-play's data): videoWorldData({ world: PLAY_WORLD })'s clips, the same seeds
//
//   text-to-video  the text-to-video model's data (course/textToVideo.ts textToVideoData): clip i is
//                textToVideoClip(hashSeed(seed, "t2v-train", i)) (16 frames, a quarter panning), in the same shard files;
//                then, in this process, the training set as textToVideoData makes it with the autoencoder (--autoencoder
//                DIR, default notebooks/checkpoints): clips showing a held-out (ball colour, agent motion) pair dropped,
//                poor and missing captions recaptioned from the nearest rich clip (mean latent, cosine), clips whose
//                borrowed caption says a held-out pair dropped too:
//                train_mask.npy     uint8 (N,)     1 = a training clip
//                train_captions.npy int32 (N, 32)  the caption it trains with (tokens + 1; 0 rows for dropped clips)
//                recaptioned.npy    uint8 (N,)     1 = the caption was borrowed from a neighbour
//                train_captions.json the captions as text; the index's `textToVideo` has the counts and the
//                autoencoder's sha256 (the recaptioning depends on it)
//
//   text-world   the GPT's token streams of textWorldData (`--episodes N --val M`, default the gpt-textworld recipe's;
//                one process: the word vocabulary spans the whole corpus): train.npy / val.npy int32 token ids,
//                train_starts.npy / val_starts.npy int32 offsets of each episode, and the vocabulary in the index
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { generateVideoClip, type VideoClip } from "../nextframe/worlds/videoWorld";
import { hashSeed } from "../nextframe/engine/generator.js";
import { textWorldData } from "../nextframe/course/tinyGpt";
import { CAPTION_LENGTH, captionTokenizer, encodeCaptions } from "../nextframe/models/worldModel";
import { WORLDS as VIDEO_WORLDS } from "../nextframe/course/videoData";
import { heldoutCombo, textToVideoClip } from "../nextframe/course/textToVideo";
import { parseCaption } from "../nextframe/course/captionAgreement";
import { encodeClips } from "../nextframe/course/autoencoder";
import { checkpointsDir, loadAutoencoder } from "../nextframe/course/checkpoints";
import { captionWordF1, nearestNeighbourRecaption } from "../nextframe/metrics/recaption";

/** The options videoWorldData passes for every clip (a test checks both give the same clips). */
export const VIDEO_WORLD_CLIP_OPTIONS = { policy: "random", captionMix: { rich: 0.5, poor: 0.25 } } as const;
/** Columns of objects.npy, in order. */
export const OBJECT_FIELDS = ["id", "x", "y", "z", "vx", "vy", "vz", "radius", "exists", "screenX", "screenY", "screenRadius", "visiblePixels"] as const;
export const WORLDS = ["video-world", "play-world", "text-to-video", "text-world"] as const;
/** The video world's parameters each clip world uses (course/videoData.ts WORLDS, by the name a recipe's `world` gives). */
export const CLIP_WORLDS = { "video-world": "default", "play-world": "play", "text-to-video": "default" } as const;
type ClipWorld = keyof typeof CLIP_WORLDS;

export interface DataOptions {
  world: (typeof WORLDS)[number];
  clips: number;
  shards: number;
  out: string;
  seed: number;
  split: "train" | "val";
  frames: number;
  size: number;
  workers?: number;
  /** text-world: training and validation episodes. */
  episodes?: number;
  val?: number;
  /** text-to-video: the folder with autoencoder.json/.safetensors the recaptioning encodes with (default notebooks/checkpoints). */
  autoencoder?: string;
}

interface ArraySpec { file: string; dtype: string; shape: number[] }
export interface ShardEntry { start: number; count: number; arrays: Record<string, ArraySpec>; meta: string }
export interface DataIndex {
  format: "nextframe-shards/1";
  world: string; seed: number; split: string; clips: number; frames: number; size: number;
  /** The video world's parameters (course/videoData.ts WORLDS): "default" or "play" (a recipe's `world`). */
  videoWorld: "default" | "play";
  clipOptions: typeof VIDEO_WORLD_CLIP_OPTIONS;
  objectFields: readonly string[];
  /** The caption tokenizer's vocabulary size (a caption-conditioned world model's captionVocab). */
  captionVocab: number;
  shards: ShardEntry[];
  /** text-to-video: the training set (TextToVideoTraining). */
  textToVideo?: TextToVideoTraining;
}

/** What textToVideoData makes of the clips: which train, with which caption (the arrays' files and the counts). */
export interface TextToVideoTraining {
  arrays: { trainMask: ArraySpec; trainCaptions: ArraySpec; recaptioned: ArraySpec };
  captionsFile: string;
  /** Training clips, clips dropped for held-out combinations, recaptioned training clips, and the recaptions' exact share and word F1 against the true rich captions. */
  clips: number; droppedHeldout: number; recaptioned: number; recaptionExact: number; recaptionF1: number;
  /** sha256 of the autoencoder weights the recaptioning encoded with. */
  autoencoderSha256: string;
}

// ───────────────────────────── .npy (format 1.0) ─────────────────────────────

type NpyData = Uint8Array | Float32Array | Int32Array;

/** Writes an .npy file atomically: magic, version 1.0, a header dict padded to 64 bytes, the C-order data. */
export function writeNpy(path: string, data: NpyData, shape: number[]): ArraySpec {
  const descr = data instanceof Uint8Array ? "|u1" : data instanceof Int32Array ? "<i4" : "<f4";
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`writeNpy: ${path}: shape [${shape}] holds ${n} values, the data has ${data.length}`);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from("NUMPY"), 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, pre);
    writeSync(fd, Buffer.from(header, "latin1"));
    writeSync(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    fsyncSync(fd);
  } finally { closeSync(fd); }
  renameSync(tmp, path);
  return { file: path.split("/").pop()!, dtype: { "|u1": "uint8", "<i4": "int32", "<f4": "float32" }[descr], shape };
}

/** Reads a uint8 .npy file this module wrote (version 1.0, C order) without copying its data. */
export function readNpyUint8(path: string): { data: Uint8Array; shape: number[] } {
  const buf = readFileSync(path);
  const hlen = buf.readUInt16LE(8), header = buf.subarray(10, 10 + hlen).toString("latin1");
  if (!header.includes("'|u1'")) throw new Error(`readNpyUint8: ${path} is not uint8 (${header.trim()})`);
  const shape = header.match(/'shape': \(([^)]*)\)/)![1]!.split(",").map((v) => v.trim()).filter(Boolean).map(Number);
  return { data: new Uint8Array(buf.buffer, buf.byteOffset + 10 + hlen, shape.reduce((a, b) => a * b, 1)), shape };
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1) + "\n");
  renameSync(tmp, path);
}

// ───────────────────────────── one shard ─────────────────────────────

export function videoClipSeed(seed: number, split: string, i: number): number {
  return hashSeed(seed, split, i);
}

/** Clip i of a dataset: videoWorldData's (in the world's parameters) or textToVideoData's. */
export function datasetClip(o: Pick<DataOptions, "world" | "seed" | "split" | "frames" | "size">, i: number): VideoClip {
  if (o.world === "text-to-video") return textToVideoClip(hashSeed(o.seed, "t2v-train", i), o.frames);
  const base = VIDEO_WORLDS[CLIP_WORLDS[o.world as ClipWorld]];
  return generateVideoClip({ ...VIDEO_WORLD_CLIP_OPTIONS, seed: videoClipSeed(o.seed, o.split, i), frames: o.frames, size: o.size, ...(base ? { base } : {}) });
}

/** Generates clips start .. start + count − 1 of the split and writes their files; returns the index entry. */
export function writeVideoShard(o: DataOptions, k: number, start: number, count: number): ShardEntry {
  const { frames: T, size: S } = o;
  const clips: VideoClip[] = [];
  for (let i = start; i < start + count; i++) clips.push(datasetClip(o, i));
  const F3 = S * S * 3, O = Math.max(1, ...clips.map((c) => Math.max(0, ...c.states.map((s) => s.objects.length))));
  const frames = new Uint8Array(count * T * F3), actions = new Uint8Array(count * T);
  const objects = new Float32Array(count * T * O * OBJECT_FIELDS.length).fill(NaN), camera = new Float32Array(count * T * 3);
  clips.forEach((c, j) => {
    frames.set(c.frames, j * T * F3);
    actions.set(c.actions, j * T);
    c.states.forEach((s, t) => {
      camera.set([s.cameraX, s.bites, s.maxBites], (j * T + t) * 3);
      s.objects.forEach((ob, m) => {
        const row = OBJECT_FIELDS.map((f) => (f === "exists" ? (ob.exists ? 1 : 0) : (ob[f] as number)));
        objects.set(row, ((j * T + t) * O + m) * OBJECT_FIELDS.length);
      });
    });
  });
  const base = join(o.out, `${o.split}-${String(k).padStart(5, "0")}`);
  const arrays = {
    frames: writeNpy(`${base}.frames.npy`, frames, [count, T, S, S, 3]),
    actions: writeNpy(`${base}.actions.npy`, actions, [count, T]),
    objects: writeNpy(`${base}.objects.npy`, objects, [count, T, O, OBJECT_FIELDS.length]),
    camera: writeNpy(`${base}.camera.npy`, camera, [count, T, 3]),
    captions: writeNpy(`${base}.captions.npy`, encodeCaptions(captionTokenizer(), clips.map((c) => c.caption)), [count, CAPTION_LENGTH]),
  };
  writeJsonAtomic(`${base}.meta.json`, clips.map((c) => ({
    seed: c.seed, caption: c.caption, captionKind: c.captionKind, captions: c.captions, attributes: c.attributes, violation: c.violation,
    objects: (c.states[0]?.objects ?? []).map((ob) => ({ id: ob.id, kind: ob.kind, color: ob.color })),
  })));
  return { start, count, arrays, meta: `${base.split("/").pop()}.meta.json` };
}

// ───────────────────────────── text world ─────────────────────────────

export interface TextIndex {
  format: "nextframe-text/1";
  world: "text-world"; seed: number; episodes: number; val: number; blockSize: number; vocab: readonly string[];
  arrays: Record<"train" | "val" | "trainStarts" | "valStarts", ArraySpec>;
}

/** Writes textWorldData's token streams (what trainTinyGpt trains on) and `<out>/index.json`. */
export function writeTextWorld(o: { out: string; seed: number; episodes: number; val: number }, log: (l: string) => void = () => {}): TextIndex {
  mkdirSync(o.out, { recursive: true });
  const d = textWorldData({ seed: o.seed, numTrain: o.episodes, numVal: o.val });
  const npy = (name: string, a: Int32Array) => writeNpy(join(o.out, `${name}.npy`), a, [a.length]);
  const index: TextIndex = {
    format: "nextframe-text/1", world: "text-world", seed: o.seed, episodes: o.episodes, val: o.val, blockSize: d.blockSize, vocab: d.tokenizer.vocab,
    arrays: { train: npy("train", d.train), val: npy("val", d.val), trainStarts: npy("train_starts", Int32Array.from(d.trainStarts)), valStarts: npy("val_starts", Int32Array.from(d.valStarts)) },
  };
  writeJsonAtomic(join(o.out, "index.json"), index);
  log(`wrote ${o.episodes} + ${o.val} episodes (${d.train.length} + ${d.val.length} tokens, vocab ${d.tokenizer.vocabSize}) to ${o.out}`);
  return index;
}

// ───────────────────────────── text-to-video: the training set ─────────────────────────────

type ClipMeta = Pick<VideoClip, "caption" | "captionKind" | "captions" | "attributes">;

/**
 * textToVideoData's training set of the clips in `index` (course/textToVideo.ts, step for step: held-out pairs
 * dropped, weak captions recaptioned from the nearest rich clip's mean latent, borrowed held-out pairs dropped), with
 * the autoencoder in `aeDir`; writes its arrays beside the shards. A test checks it equals textToVideoData.
 */
export async function writeTextToVideoTraining(out: string, index: DataIndex, aeDir: string, log: (l: string) => void = () => {}): Promise<TextToVideoTraining> {
  const ae = loadAutoencoder(aeDir);
  const N = index.clips, T = index.frames, S = index.size;
  const clips: (ClipMeta & { frames: Uint8Array; numFrames: number; size: number })[] = [];
  for (const sh of index.shards) {
    const frames = readNpyUint8(join(out, sh.arrays.frames!.file)).data;
    const meta = JSON.parse(readFileSync(join(out, sh.meta), "utf8")) as ClipMeta[];
    meta.forEach((m, j) => clips.push({ ...m, frames: frames.subarray(j * T * S * S * 3, (j + 1) * T * S * S * 3), numFrames: T, size: S }));
  }
  const keptIdx = clips.map((_, i) => i).filter((i) => !heldoutCombo(clips[i]!.attributes));
  let dropped = N - keptIdx.length;
  const kept = keptIdx.map((i) => clips[i]!);
  const raw = await encodeClips(ae, kept as unknown as VideoClip[]);
  const L = ae.latentShape.reduce((a, b) => a * b, 1);
  const X = new Float32Array(kept.length * L);
  kept.forEach((c, i) => { const z = raw[i]!; for (let t = 0; t < c.numFrames; t++) for (let k = 0; k < L; k++) X[i * L + k] += z[t * L + k]! / c.numFrames; });
  const rec = nearestNeighbourRecaption(X, L, kept.map((c) => c.caption), { isWeak: (_c, i) => kept[i]!.captionKind !== "rich" });
  const mask = new Uint8Array(N), borrowedOf = new Uint8Array(N), captions: (string | null)[] = new Array(N).fill(null);
  let exact = 0, f1 = 0, nRec = 0, nTrain = 0;
  kept.forEach((c, i) => {
    const cap = rec.captions[i]!;
    const borrowed = c.captionKind !== "rich";
    if (borrowed && heldoutCombo(parseCaption(cap))) { dropped++; return; }
    const n = keptIdx[i]!;
    mask[n] = 1; captions[n] = cap; borrowedOf[n] = borrowed ? 1 : 0; nTrain++;
    if (borrowed) { nRec++; exact += cap === c.captions.rich ? 1 : 0; f1 += captionWordF1(cap, c.captions.rich); }
  });
  const t: TextToVideoTraining = {
    arrays: {
      trainMask: writeNpy(join(out, "train_mask.npy"), mask, [N]),
      trainCaptions: writeNpy(join(out, "train_captions.npy"), encodeCaptions(captionTokenizer(), captions), [N, CAPTION_LENGTH]),
      recaptioned: writeNpy(join(out, "recaptioned.npy"), borrowedOf, [N]),
    },
    captionsFile: "train_captions.json",
    clips: nTrain, droppedHeldout: dropped, recaptioned: nRec, recaptionExact: nRec ? exact / nRec : 0, recaptionF1: nRec ? f1 / nRec : 0,
    autoencoderSha256: createHash("sha256").update(readFileSync(join(aeDir, "autoencoder.safetensors"))).digest("hex"),
  };
  writeJsonAtomic(join(out, t.captionsFile), captions);
  log(`text-to-video training set: ${nTrain} of ${N} clips (${dropped} dropped for held-out combinations, ${nRec} recaptioned: exact ${t.recaptionExact.toFixed(3)}, word F1 ${t.recaptionF1.toFixed(3)})`);
  return t;
}

// ───────────────────────────── the whole dataset, in workers ─────────────────────────────

/** Writes every shard (in parallel worker threads) and then the index `<out>/index.json`; returns the index. */
export async function writeDataset(o: DataOptions, log: (l: string) => void = () => {}): Promise<DataIndex> {
  for (const k of ["clips", "shards", "frames", "size"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`data: --${k} must be a positive integer, got ${o[k]}`);
  }
  if (o.shards > o.clips) throw new Error(`data: --shards (${o.shards}) cannot exceed --clips (${o.clips})`);
  if (!(o.world in CLIP_WORLDS)) throw new Error(`data: writeDataset writes clip shards (${Object.keys(CLIP_WORLDS).join(", ")}), got "${o.world}" (text-world: writeTextWorld)`);
  if (o.world === "text-to-video" && (o.split !== "train" || o.size !== 32)) throw new Error(`data: text-to-video writes the training split at 32×32 (textToVideoClip), got --split ${o.split} --size ${o.size}`);
  mkdirSync(o.out, { recursive: true });
  const ranges = Array.from({ length: o.shards }, (_, k) => {
    const start = Math.floor((k * o.clips) / o.shards), end = Math.floor(((k + 1) * o.clips) / o.shards);
    return { k, start, count: end - start };
  });
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), o.shards));
  const shards: ShardEntry[] = new Array(o.shards);
  let next = 0;
  const t0 = performance.now();
  const runOne = (): Promise<void> => new Promise((res, rej) => {
    if (next >= ranges.length) return res();
    const r = ranges[next++]!;
    // a worker thread does not inherit tsx's loader: it registers tsx's CommonJS hook, then loads this file
    const w = new Worker(`require("tsx/cjs"); require(${JSON.stringify(__filename)});`, { eval: true, workerData: { o, ...r } });
    w.once("message", (m: ShardEntry) => { shards[r.k] = m; });
    w.once("error", rej);
    w.once("exit", (code) => {
      if (code !== 0 || !shards[r.k]) return rej(new Error(`data: the worker for shard ${r.k} exited with code ${code}`));
      log(`shard ${r.k + 1}/${o.shards}: clips ${r.start}..${r.start + r.count - 1}`);
      runOne().then(res, rej);
    });
  });
  await Promise.all(Array.from({ length: workers }, runOne));
  const index: DataIndex = {
    format: "nextframe-shards/1", world: o.world, seed: o.seed, split: o.split, clips: o.clips, frames: o.frames, size: o.size,
    videoWorld: CLIP_WORLDS[o.world as ClipWorld], clipOptions: VIDEO_WORLD_CLIP_OPTIONS, objectFields: OBJECT_FIELDS, captionVocab: captionTokenizer().vocabSize, shards,
  };
  if (o.world === "text-to-video") index.textToVideo = await writeTextToVideoTraining(o.out, index, resolve(o.autoencoder ?? checkpointsDir()), log);
  writeJsonAtomic(join(o.out, "index.json"), index);
  log(`wrote ${o.clips} clips in ${o.shards} shards to ${o.out} (${workers} workers, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return index;
}

export function parseDataArgs(argv: string[]): DataOptions {
  const world = argv[0] as DataOptions["world"];
  const usage = `usage: npm run data -- video-world|play-world --clips N --shards K --out DIR [--seed S] [--split train|val] [--frames F] [--size S] [--workers W]
       npm run data -- text-to-video --clips N --shards K --out DIR [--seed S] [--frames F] [--autoencoder DIR] [--workers W]
       npm run data -- text-world --out DIR [--episodes N] [--val M] [--seed S]\n  worlds: ${WORLDS.join(", ")}`;
  if (!world || !WORLDS.includes(world)) throw new Error(`${usage}${world ? `\n  unknown world "${world}"` : ""}`);
  const o: Partial<DataOptions> = { world, seed: world === "text-world" ? 1 : world === "text-to-video" ? 33 : 2, split: "train", frames: world === "text-to-video" ? 16 : 32, size: 32 };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n)) throw new Error(`data: ${flag} needs an integer, got ${v === undefined ? "nothing" : `"${v}"`}`);
    return n;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--clips") o.clips = num(a, argv[++i]);
    else if (a === "--shards") o.shards = num(a, argv[++i]);
    else if (a === "--seed") o.seed = num(a, argv[++i]);
    else if (a === "--frames") o.frames = num(a, argv[++i]);
    else if (a === "--size") o.size = num(a, argv[++i]);
    else if (a === "--workers") o.workers = num(a, argv[++i]);
    else if (a === "--episodes") o.episodes = num(a, argv[++i]);
    else if (a === "--val") o.val = num(a, argv[++i]);
    else if (a === "--out") o.out = argv[++i];
    else if (a === "--autoencoder") o.autoencoder = argv[++i];
    else if (a === "--split") {
      const s = argv[++i];
      if (s !== "train" && s !== "val") throw new Error(`data: --split must be train or val, got "${s}"`);
      o.split = s;
    } else throw new Error(`data: unknown option ${a}\n${usage}`);
  }
  if (world === "text-world") {
    if (o.out === undefined) throw new Error(`data: --out is required\n${usage}`);
    for (const k of ["episodes", "val"] as const) if (o[k] !== undefined && o[k]! < 1) throw new Error(`data: --${k} must be ≥ 1, got ${o[k]}`);
    return { ...o, clips: 0, shards: 0, episodes: o.episodes ?? 2000, val: o.val ?? 200, out: resolve(o.out) } as DataOptions;
  }
  for (const k of ["clips", "shards", "out"] as const) if (o[k] === undefined) throw new Error(`data: --${k} is required\n${usage}`);
  if (o.autoencoder !== undefined && world !== "text-to-video") throw new Error(`data: --autoencoder applies only to text-to-video`);
  return { ...o, out: resolve(o.out!) } as DataOptions;
}

if (!isMainThread && workerData?.o) {
  const { o, k, start, count } = workerData as { o: DataOptions; k: number; start: number; count: number };
  parentPort!.postMessage(writeVideoShard(o, k, start, count));
} else if (require.main === module) {
  let opts: DataOptions;
  try { opts = parseDataArgs(process.argv.slice(2)); } catch (e) { console.error((e as Error).message); process.exit(2); }
  const log = (l: string) => console.log(`[data] ${l}`);
  if (opts.world === "text-world") writeTextWorld({ out: opts.out, seed: opts.seed, episodes: opts.episodes!, val: opts.val! }, log);
  else writeDataset(opts, log).catch((e) => { console.error(e instanceof Error ? e.stack : e); process.exit(1); });
}
