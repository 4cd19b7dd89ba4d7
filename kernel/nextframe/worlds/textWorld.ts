// Text world: a grid room with hidden state that only shows itself through a text log.
//
// Chapter 1's claim (ChatGPT is a world model behind a text interface; cf. Othello-GPT, Li et al. 2023,
// https://arxiv.org/abs/2210.13382): a model that predicts the next token of these logs well must track the
// hidden state — where the agent stands and what it carries — because only that state says which moves are legal.
//
// An episode is one line:
//   agent at 2 3 . key at 0 1 . apple at 4 4 . ball at 1 0 . agent moves north . agent picks up key . agent drops key .
// The header places the agent and every object; after that only actions are logged. North is y − 1, west is x − 1.
// Legal actions: a move that stays inside the room; "picks up X" when the hands are empty and X lies on the
// agent's cell; "drops X" when the agent holds X (it lands on the agent's cell).
//
// Ground truth: `replayTextWorld` parses any log and gives the hidden state after every word, so probe labels,
// the validity checker and the generator share one definition of the rules.

import { Generator, hashSeed } from "../engine/generator.js";
import { NextframeError } from "../engine/errors";

// ───────────────────────────── config ─────────────────────────────

/** A text world: room size, object names, episode length and how often the agent picks up and drops things. */
export interface TextWorldConfig {
  /** Room width in cells (1..10: coordinates are written as one digit). */
  width: number;
  /** Room height in cells (1..10). */
  height: number;
  /** Object names (single lowercase words, distinct, not grammar words). */
  objects: string[];
  /** Actions per episode. */
  steps: number;
  /** Probability the agent picks up an object when it can (else it moves). */
  pickupProb: number;
  /** Probability the agent drops what it holds on a step (else it moves). */
  dropProb: number;
}

/** The default text world: a 5×5 room, a key, an apple and a ball, 24 actions an episode. */
export const DEFAULT_TEXT_WORLD: TextWorldConfig = {
  width: 5,
  height: 5,
  objects: ["key", "apple", "ball"],
  steps: 24, // ~100 words: an episode fits a 128-token word-level context with its header
  pickupProb: 0.7,
  dropProb: 0.15,
};

/** The four move directions, as they are written in the log. */
export const DIRECTIONS = ["north", "south", "east", "west"] as const;
/** A move direction: north, south, east or west. */
export type Direction = (typeof DIRECTIONS)[number];
const DX: Record<Direction, number> = { north: 0, south: 0, east: 1, west: -1 };
const DY: Record<Direction, number> = { north: -1, south: 1, east: 0, west: 0 };
const GRAMMAR_WORDS = ["agent", "at", "moves", "picks", "up", "drops", ".", ...DIRECTIONS];

/** Validate a partial config against the defaults; errors name the field. */
export function textWorldConfig(partial: Partial<TextWorldConfig> = {}): TextWorldConfig {
  const c: TextWorldConfig = { ...DEFAULT_TEXT_WORLD, ...partial, objects: [...(partial.objects ?? DEFAULT_TEXT_WORLD.objects)] };
  const intIn = (field: keyof TextWorldConfig, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new NextframeError(`textWorld: ${field} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  intIn("width", c.width, 1, 10);
  intIn("height", c.height, 1, 10);
  intIn("steps", c.steps, 0, 100000);
  for (const f of ["pickupProb", "dropProb"] as const) {
    if (!(c[f] >= 0 && c[f] <= 1)) throw new NextframeError(`textWorld: ${f} must be a probability in [0, 1], got ${c[f]}`);
  }
  const seen = new Set<string>();
  for (const o of c.objects) {
    if (!/^[a-z]+$/.test(o)) throw new NextframeError(`textWorld: objects must be lowercase words, got ${JSON.stringify(o)}`);
    if (GRAMMAR_WORDS.includes(o)) throw new NextframeError(`textWorld: object name "${o}" is a grammar word`);
    if (seen.has(o)) throw new NextframeError(`textWorld: objects must be distinct, "${o}" appears twice`);
    seen.add(o);
  }
  return c;
}

// ───────────────────────────── state ─────────────────────────────

/**
 * Hidden state, packed: [agentX, agentY, held, cell(obj0), cell(obj1), ...].
 * held = 0 for empty hands, k + 1 when holding object k; cell = y·width + x, or −1 while held.
 * Every entry is −1 until the header has made it known.
 */
export type PackedState = Int16Array;

// Indices into a PackedState (object k's cell is at STATE_OBJECTS + k).
const STATE_AGENT_X = 0;
const STATE_AGENT_Y = 1;
const STATE_HELD = 2;
const STATE_OBJECTS = 3;

/** One word of a replayed log and where it sits in the text. */
export interface ReplayWord {
  word: string;
  /** Char offset of the word in the text. */
  start: number;
  end: number;
}

/** What replayTextWorld reads from a log: its words, the hidden state after each word and every action sentence with its legality. */
export interface TextWorldReplay {
  words: ReplayWord[];
  /** State after each word: (numWords, 3 + numObjects), row-major. */
  states: Int16Array;
  stateDim: number;
  /** Action sentences after the header, in order, with legality. */
  sentences: { text: string; start: number; end: number; legal: boolean; reason?: string }[];
}

// ───────────────────────────── generator ─────────────────────────────

/** Generate one episode's log from a seed. */
export function generateTextEpisode(seed: number, config: Partial<TextWorldConfig> = {}): string {
  const c = textWorldConfig(config);
  const rng = new Generator(seed);
  const n = c.objects.length;
  let ax = rng.int(c.width), ay = rng.int(c.height);
  let held = -1;
  const ox = c.objects.map(() => rng.int(c.width));
  const oy = c.objects.map(() => rng.int(c.height));
  const parts: string[] = [`agent at ${ax} ${ay} .`];
  for (let k = 0; k < n; k++) parts.push(`${c.objects[k]} at ${ox[k]} ${oy[k]} .`);
  for (let s = 0; s < c.steps; s++) {
    const here: number[] = [];
    if (held < 0) for (let k = 0; k < n; k++) if (ox[k] === ax && oy[k] === ay) here.push(k);
    if (here.length > 0 && rng.chance(c.pickupProb)) {
      const k = rng.pick(here);
      held = k;
      parts.push(`agent picks up ${c.objects[k]} .`);
      continue;
    }
    if (held >= 0 && rng.chance(c.dropProb)) {
      ox[held] = ax;
      oy[held] = ay;
      parts.push(`agent drops ${c.objects[held]} .`);
      held = -1;
      continue;
    }
    const legal = DIRECTIONS.filter((d) => inRoom(c, ax + DX[d], ay + DY[d]));
    if (legal.length === 0) {
      // A 1×1 room: nothing can move; the agent can only pick up and drop.
      if (held >= 0) { ox[held] = ax; oy[held] = ay; parts.push(`agent drops ${c.objects[held]} .`); held = -1; }
      else if (here.length > 0) { held = here[0]; parts.push(`agent picks up ${c.objects[held]} .`); }
      else break;
      continue;
    }
    const d = rng.pick(legal);
    ax += DX[d];
    ay += DY[d];
    parts.push(`agent moves ${d} .`);
  }
  return parts.join(" ");
}

function inRoom(c: TextWorldConfig, x: number, y: number): boolean {
  return x >= 0 && y >= 0 && x < c.width && y < c.height;
}

// ───────────────────────────── replay (the rules, once) ─────────────────────────────

/**
 * Parse a log (one episode; text after a newline is ignored) and give the hidden state after every word
 * and the legality of every complete action sentence. An illegal or malformed sentence is reported and
 * not applied, so later sentences are judged from the last lawful state.
 */
export function replayTextWorld(text: string, config: Partial<TextWorldConfig> = {}): TextWorldReplay {
  const c = textWorldConfig(config);
  const nl = text.indexOf("\n");
  if (nl >= 0) text = text.slice(0, nl);
  const words: ReplayWord[] = [];
  for (const m of text.matchAll(/\S+/g)) words.push({ word: m[0], start: m.index!, end: m.index! + m[0].length });
  const n = c.objects.length;
  const stateDim = STATE_OBJECTS + n;
  const states = new Int16Array(words.length * stateDim).fill(-1);
  const cur = new Int16Array(stateDim).fill(-1);
  const sentences: TextWorldReplay["sentences"] = [];
  const objIndex = new Map(c.objects.map((o, k) => [o, k]));
  const digit = (w: string, max: number) => (/^\d$/.test(w) && Number(w) < max ? Number(w) : -1);

  let i = 0;
  const flushState = (upto: number) => {
    for (; i < upto && i < words.length; i++) states.set(cur, i * stateDim);
  };
  // Group words into sentences ending with ".".
  let s0 = 0;
  let headerDone = false;
  for (let w = 0; w < words.length; w++) {
    if (words[w].word !== ".") continue;
    const sw = words.slice(s0, w).map((x) => x.word);
    const start = words[s0]?.start ?? words[w].start;
    const end = words[w].end;
    const sentenceText = text.slice(start, end);
    s0 = w + 1;
    // Header sentences: "<name> at X Y ."
    if (!headerDone && sw.length === 4 && sw[1] === "at" && (sw[0] === "agent" || objIndex.has(sw[0]))) {
      const x = digit(sw[2], c.width), y = digit(sw[3], c.height);
      if (x >= 0 && y >= 0) {
        // State becomes known at the y-coordinate word.
        flushState(w - 1);
        if (sw[0] === "agent") { cur[STATE_AGENT_X] = x; cur[STATE_AGENT_Y] = y; cur[STATE_HELD] = 0; }
        else cur[STATE_OBJECTS + objIndex.get(sw[0])!] = y * c.width + x;
        flushState(w + 1);
        continue;
      }
    }
    headerDone = true;
    let legal = false;
    let reason: string | undefined;
    let changeAt = w; // word index where the change becomes determined
    const ax = cur[STATE_AGENT_X], ay = cur[STATE_AGENT_Y];
    if (ax < 0) reason = "agent position unknown (no header)";
    else if (sw[0] !== "agent") reason = `sentence must start with "agent", got "${sw[0] ?? ""}"`;
    else if (sw.length === 3 && sw[1] === "moves" && (DIRECTIONS as readonly string[]).includes(sw[2])) {
      const d = sw[2] as Direction;
      const nx = ax + DX[d], ny = ay + DY[d];
      if (inRoom(c, nx, ny)) {
        legal = true;
        changeAt = w - 1;
        flushState(changeAt);
        cur[STATE_AGENT_X] = nx;
        cur[STATE_AGENT_Y] = ny;
      } else reason = `moving ${d} from (${ax}, ${ay}) leaves the ${c.width}×${c.height} room`;
    } else if (sw.length === 4 && sw[1] === "picks" && sw[2] === "up" && objIndex.has(sw[3])) {
      const k = objIndex.get(sw[3])!;
      if (cur[STATE_HELD] !== 0) reason = `hands are full (holding ${c.objects[cur[STATE_HELD] - 1]})`;
      else if (cur[STATE_OBJECTS + k] !== ay * c.width + ax) reason = `${sw[3]} is not on the agent's cell`;
      else {
        legal = true;
        changeAt = w - 1;
        flushState(changeAt);
        cur[STATE_HELD] = k + 1;
        cur[STATE_OBJECTS + k] = -1;
      }
    } else if (sw.length === 3 && sw[1] === "drops" && objIndex.has(sw[2])) {
      const k = objIndex.get(sw[2])!;
      if (cur[STATE_HELD] !== k + 1) reason = `agent does not hold ${sw[2]}`;
      else {
        legal = true;
        changeAt = w - 1;
        flushState(changeAt);
        cur[STATE_HELD] = 0;
        cur[STATE_OBJECTS + k] = ay * c.width + ax;
      }
    } else reason = `malformed sentence "${sw.join(" ")} ."`;
    flushState(w + 1);
    sentences.push({ text: sentenceText, start, end, legal, ...(reason ? { reason } : {}) });
  }
  flushState(words.length);
  return { words, states, stateDim, sentences };
}

// ───────────────────────────── validity of continuations ─────────────────────────────

/** How many of a continuation's action sentences are legal, and why the others are not. */
export interface ContinuationCheck {
  /** Complete action sentences that end inside the continuation. */
  total: number;
  legal: number;
  /** legal / total (NaN when total is 0). */
  rate: number;
  /** Reasons of the illegal ones. */
  errors: string[];
}

/**
 * Judge a model's continuation of a log prefix: every complete sentence whose final "." lies in the
 * continuation is checked against the hidden state implied by everything before it.
 */
export function checkContinuation(prefix: string, continuation: string, config: Partial<TextWorldConfig> = {}): ContinuationCheck {
  const text = prefix + continuation;
  const r = replayTextWorld(text, config);
  let total = 0, legal = 0;
  const errors: string[] = [];
  for (const s of r.sentences) {
    if (s.end <= prefix.length) continue;
    total++;
    if (s.legal) legal++;
    else errors.push(`"${s.text}": ${s.reason}`);
  }
  return { total, legal, rate: total ? legal / total : NaN, errors };
}

/** Pool many continuation checks into one legal-move rate. */
export function validContinuationRate(checks: ContinuationCheck[]): { total: number; legal: number; rate: number } {
  let total = 0, legal = 0;
  for (const c of checks) { total += c.total; legal += c.legal; }
  return { total, legal, rate: total ? legal / total : NaN };
}

// ───────────────────────────── dataset ─────────────────────────────

/** Train and validation episodes generated from one seed and config. */
export interface TextWorldDataset {
  config: TextWorldConfig;
  seed: number;
  train: string[];
  val: string[];
}

/**
 * Train and validation episodes from one seed. Episode i of a split uses seed hashSeed(seed, split, i),
 * so the splits are disjoint streams and growing numTrain never changes the validation set.
 */
export function generateTextWorldDataset(opts: { seed: number; numTrain: number; numVal: number; config?: Partial<TextWorldConfig> }): TextWorldDataset {
  const config = textWorldConfig(opts.config);
  for (const f of ["numTrain", "numVal"] as const) {
    if (!Number.isInteger(opts[f]) || opts[f] < 0) throw new NextframeError(`generateTextWorldDataset: ${f} must be a non-negative integer, got ${opts[f]}`);
  }
  const train = Array.from({ length: opts.numTrain }, (_, i) => generateTextEpisode(hashSeed(opts.seed, "train", i), config));
  const val = Array.from({ length: opts.numVal }, (_, i) => generateTextEpisode(hashSeed(opts.seed, "val", i), config));
  return { config, seed: opts.seed, train, val };
}

/** A hidden-state quantity a linear probe can be asked to read: the agent's x, y or cell, what it holds, or an object's cell. */
export type TextProbeTarget = "agentX" | "agentY" | "agentCell" | "held" | `cell:${string}`;

/** Number of classes of a probe target (labels are 0..classes−1; −1 marks "unknown yet"). */
export function probeClasses(target: TextProbeTarget, config: Partial<TextWorldConfig> = {}): number {
  const c = textWorldConfig(config);
  switch (target) {
    case "agentX": return c.width;
    case "agentY": return c.height;
    case "agentCell": return c.width * c.height;
    case "held": return c.objects.length + 1;
    default: return c.width * c.height + 1; // object cell, or "held" (last class)
  }
}

/**
 * Ground-truth hidden state per character of an episode (for char-level models) or per word (word-level):
 * the label at a position is the state once that token has been read. Unknown (before the header) is −1.
 */
export function probeLabels(episode: string, target: TextProbeTarget, level: "char" | "word", config: Partial<TextWorldConfig> = {}): Int32Array {
  const c = textWorldConfig(config);
  const r = replayTextWorld(episode, c);
  const D = r.stateDim;
  const value = (wi: number): number => {
    const s = r.states.subarray(wi * D, wi * D + D);
    switch (target) {
      case "agentX": return s[STATE_AGENT_X];
      case "agentY": return s[STATE_AGENT_Y];
      case "agentCell": return s[STATE_AGENT_X] < 0 ? -1 : s[STATE_AGENT_Y] * c.width + s[STATE_AGENT_X];
      case "held": return s[STATE_HELD];
      default: {
        const k = c.objects.indexOf(target.slice(5));
        if (k < 0) throw new NextframeError(`probeLabels: unknown target "${target}"; objects are ${c.objects.join(", ")}`);
        if (s[STATE_HELD] < 0) return -1;
        const cell = s[STATE_OBJECTS + k];
        return cell < 0 ? c.width * c.height : cell;
      }
    }
  };
  if (level === "word") {
    // Word-level tokenization of a single episode line (see wordTokenizer): one label per word.
    return Int32Array.from(r.words, (_, i) => value(i));
  }
  const line = episode.includes("\n") ? episode.slice(0, episode.indexOf("\n")) : episode;
  const out = new Int32Array(line.length).fill(-1);
  let wi = -1;
  for (let ch = 0; ch < line.length; ch++) {
    while (wi + 1 < r.words.length && r.words[wi + 1].end - 1 <= ch) wi++;
    // The label is known once the word's last character has been read (spaces carry the previous word's state).
    out[ch] = wi >= 0 ? value(wi) : -1;
  }
  return out;
}

// ───────────────────────────── n-gram baselines ─────────────────────────────

/** Validation losses (nats/token) of unigram and bigram models and of the uniform guess, the baselines a GPT must beat. */
export interface NgramBaselines {
  /** Cross-entropy of the validation tokens, nats/token. */
  unigram: number;
  bigram: number;
  /** log(vocabSize): a model that knows nothing. */
  uniform: number;
}

/**
 * Unigram and bigram language-model losses (nats/token) fitted on train tokens and measured on validation
 * tokens, with add-α smoothing so unseen events cost a finite amount. A GPT must beat these to show it
 * models more than token frequencies.
 */
export function ngramBaselines(train: ArrayLike<number>, val: ArrayLike<number>, vocabSize: number, alpha = 0.01): NgramBaselines {
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new NextframeError(`ngramBaselines: vocabSize must be a positive integer, got ${vocabSize}`);
  if (val.length < 2) throw new NextframeError(`ngramBaselines: need at least 2 validation tokens, got ${val.length}`);
  const V = vocabSize;
  const check = (a: ArrayLike<number>, name: string) => {
    for (let i = 0; i < a.length; i++) {
      if (!(a[i] >= 0 && a[i] < V && Number.isInteger(a[i]))) throw new NextframeError(`ngramBaselines: ${name}[${i}] = ${a[i]} is not a token id in [0, ${V})`);
    }
  };
  check(train, "train");
  check(val, "val");
  const uni = new Float64Array(V);
  const bi = new Float64Array(V * V);
  const ctx = new Float64Array(V);
  for (let i = 0; i < train.length; i++) {
    uni[train[i]]++;
    if (i > 0) { bi[train[i - 1] * V + train[i]]++; ctx[train[i - 1]]++; }
  }
  let nllU = 0, nllB = 0;
  const nTrain = train.length;
  // Score every validation token after the first (the bigram needs a previous token; unigram uses the same set).
  for (let i = 1; i < val.length; i++) {
    const t = val[i], p = val[i - 1];
    nllU -= Math.log((uni[t] + alpha) / (nTrain + alpha * V));
    nllB -= Math.log((bi[p * V + t] + alpha) / (ctx[p] + alpha * V));
  }
  const n = val.length - 1;
  return { unigram: nllU / n, bigram: nllB / n, uniform: Math.log(V) };
}

/**
 * Probe labels for many episodes joined with "\n" — aligned with `tokenizer.encode(episodes.join("\n"))`
 * for the char- or word-level tokenizer. Newline positions get −1 (no state).
 */
export function datasetProbeLabels(episodes: readonly string[], target: TextProbeTarget, level: "char" | "word", config: Partial<TextWorldConfig> = {}): Int32Array {
  const parts: Int32Array[] = [];
  let total = 0;
  episodes.forEach((ep, i) => {
    if (ep.includes("\n")) throw new NextframeError(`datasetProbeLabels: episode ${i} contains a newline; pass one episode per entry`);
    if (i > 0) { parts.push(Int32Array.of(-1)); total++; }
    const l = probeLabels(ep, target, level, config);
    parts.push(l);
    total += l.length;
  });
  const out = new Int32Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** The header plus the first `numActions` action sentences of an episode: a prompt for continuation tests. */
export function episodePrefix(episode: string, numActions: number, config: Partial<TextWorldConfig> = {}): string {
  if (!Number.isInteger(numActions) || numActions < 0) throw new NextframeError(`episodePrefix: numActions must be a non-negative integer, got ${numActions}`);
  const r = replayTextWorld(episode, config);
  if (numActions === 0) {
    // End of the header: the last "." before the first action sentence.
    const firstAction = r.sentences[0];
    if (!firstAction) return episode.trimEnd();
    return episode.slice(0, firstAction.start).trimEnd();
  }
  if (numActions > r.sentences.length) throw new NextframeError(`episodePrefix: episode has ${r.sentences.length} actions, asked for ${numActions}`);
  return episode.slice(0, r.sentences[numActions - 1].end);
}

/** Unigram/bigram/uniform baselines of a dataset under a tokenizer (train fits, val scores). */
export function textWorldBaselines(dataset: TextWorldDataset, tokenizer: { encode(s: string): Int32Array; vocabSize: number }, alpha = 0.01): NgramBaselines {
  return ngramBaselines(tokenizer.encode(dataset.train.join("\n")), tokenizer.encode(dataset.val.join("\n")), tokenizer.vocabSize, alpha);
}

// ───────────────────────────── the entropy floor ─────────────────────────────

/**
 * Log-probability (nats) of an episode under the generator itself: header coordinates are uniform, and
 * each action has the policy's probability given the hidden state (pick up with pickupProb when an object
 * lies here, drop with dropProb when holding, else a uniform legal move). −Infinity for an illegal episode.
 */
export function episodeLogProb(episode: string, config: Partial<TextWorldConfig> = {}): number {
  const c = textWorldConfig(config);
  const r = replayTextWorld(episode, c);
  const D = r.stateDim;
  const headerSentences = 1 + c.objects.length;
  let lp = -headerSentences * (Math.log(c.width) + Math.log(c.height));
  const wordAt = new Map(r.words.map((w, i) => [w.start, i]));
  for (const s of r.sentences) {
    if (!s.legal) return -Infinity;
    const wi = wordAt.get(s.start)!;
    const st = r.states.subarray((wi - 1) * D, wi * D);
    const ax = st[STATE_AGENT_X], ay = st[STATE_AGENT_Y], held = st[STATE_HELD];
    const here: number[] = [];
    if (held === 0) for (let k = 0; k < c.objects.length; k++) if (st[STATE_OBJECTS + k] === ay * c.width + ax) here.push(k);
    const legal = DIRECTIONS.filter((d) => inRoom(c, ax + DX[d], ay + DY[d])).length;
    const pPick = here.length ? c.pickupProb : 0;
    const pDrop = held > 0 ? c.dropProb : 0;
    const verb = s.text.split(/\s+/)[1];
    let p: number;
    if (legal === 0) p = 1; // a 1×1 room: the only possible action is forced
    else if (verb === "picks") p = pPick / here.length;
    else if (verb === "drops") p = pDrop;
    else p = (1 - pPick - pDrop) / legal;
    lp += Math.log(p);
  }
  return lp;
}

/**
 * The lowest cross-entropy any model can reach on these episodes (nats/token under `tokenizer`), for a
 * model that sees each whole episode: −Σ log P(episode) / number of predicted tokens of the joined stream.
 * Everything else in a log (grammar, episode length) is deterministic, so this is the policy's entropy.
 * A GPT whose context is shorter than an episode cannot reach it (the header scrolls out of view).
 */
export function textWorldOracleLoss(episodes: readonly string[], tokenizer: { encode(s: string): Int32Array }, config: Partial<TextWorldConfig> = {}): { natsPerToken: number; totalNats: number; tokens: number } {
  if (episodes.length === 0) throw new NextframeError("textWorldOracleLoss: no episodes");
  let total = 0;
  for (const ep of episodes) total -= episodeLogProb(ep, config);
  const tokens = tokenizer.encode(episodes.join("\n")).length - 1;
  return { natsPerToken: total / tokens, totalNats: total, tokens };
}
