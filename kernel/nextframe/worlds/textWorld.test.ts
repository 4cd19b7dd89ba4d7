import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkContinuation, datasetProbeLabels, episodePrefix, generateTextEpisode, generateTextWorldDataset, ngramBaselines,
  probeClasses, probeLabels, textWorldBaselines, episodeLogProb, textWorldOracleLoss,
  replayTextWorld, textWorldConfig, validContinuationRate,
} from "./textWorld";
import { bpeTokenizer, charTokenizer, wordTokenizer } from "./tokenizer";
import { Generator, hashSeed } from "../engine/generator.js";

test("rng: deterministic, seeds give different streams, uniform-ish", () => {
  const a = new Generator(7), b = new Generator(7), c = new Generator(8);
  const xs = Array.from({ length: 1000 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.uniform()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.uniform()));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notEqual(hashSeed(1, "train", 0), hashSeed(1, "val", 0));
});

test("generated episodes are lawful, deterministic by seed, and parse to the same state", () => {
  const cfg = { width: 4, height: 3, steps: 60 };
  for (let s = 0; s < 50; s++) {
    const ep = generateTextEpisode(s, cfg);
    assert.equal(ep, generateTextEpisode(s, cfg));
    const r = replayTextWorld(ep, cfg);
    assert.equal(r.sentences.length, 60);
    assert.ok(r.sentences.every((x) => x.legal), r.sentences.find((x) => !x.legal)?.reason);
    // Agent always inside the room after the header.
    const D = r.stateDim;
    for (let w = 4; w < r.words.length; w++) {
      const x = r.states[w * D], y = r.states[w * D + 1];
      assert.ok(x >= 0 && x < 4 && y >= 0 && y < 3);
    }
  }
  assert.notEqual(generateTextEpisode(1, cfg), generateTextEpisode(2, cfg));
  assert.ok(/agent picks up \w+ \./.test(Array.from({ length: 20 }, (_, s) => generateTextEpisode(s)).join(" ")), "pickups happen");
});

test("replay tracks hidden state word by word", () => {
  const ep = "agent at 1 1 . key at 1 0 . agent moves north . agent picks up key . agent moves east . agent drops key .";
  const cfg = { width: 3, height: 3, objects: ["key"] };
  const r = replayTextWorld(ep, cfg);
  const D = r.stateDim;
  const st = (wordIdx: number) => Array.from(r.states.subarray(wordIdx * D, wordIdx * D + D));
  assert.deepEqual(st(0), [-1, -1, -1, -1]); // "agent" of the header: nothing known yet
  assert.deepEqual(st(3), [1, 1, 0, -1]); // after "agent at 1 1"
  assert.deepEqual(st(8), [1, 1, 0, 1]); // after "key at 1 0"
  assert.deepEqual(st(11), [1, 1, 0, 1]); // "moves": direction not known yet
  assert.deepEqual(st(12), [1, 0, 0, 1]); // "north"
  assert.deepEqual(st(17), [1, 0, 1, -1]); // "key" in "picks up key"
  assert.deepEqual(st(r.words.length - 1), [2, 0, 0, 2]);
  const labels = probeLabels(ep, "agentY", "word", cfg);
  assert.equal(labels.length, r.words.length);
  assert.equal(labels[12], 0);
  const chars = probeLabels(ep, "agentCell", "char", cfg);
  assert.equal(chars.length, ep.length);
  const northEnd = ep.indexOf("north") + 4;
  assert.equal(chars[northEnd - 1], 4); // still (1,1) until the word is complete
  assert.equal(chars[northEnd], 1); // (1,0)
  assert.equal(probeLabels(ep, "cell:key", "word", cfg)[17], 9); // held → class width*height
  assert.equal(probeClasses("cell:key", cfg), 10);
});

test("validity checker: legal and illegal continuations", () => {
  const cfg = { width: 3, height: 3, objects: ["key", "ball"] };
  const prefix = "agent at 0 0 . key at 2 2 . ball at 0 1 .";
  const good = checkContinuation(prefix, " agent moves south . agent picks up ball . agent moves east . agent drops ball .", cfg);
  assert.deepEqual([good.total, good.legal, good.rate], [4, 4, 1]);
  const bad = checkContinuation(prefix, " agent moves north . agent picks up key . agent drops key . agent flies . agent moves east", cfg);
  assert.equal(bad.total, 4); // the trailing incomplete sentence is not counted
  assert.equal(bad.legal, 0);
  assert.match(bad.errors[0], /leaves the 3×3 room/);
  assert.match(bad.errors[1], /key is not on the agent's cell/);
  assert.match(bad.errors[2], /does not hold key/);
  assert.match(bad.errors[3], /malformed/);
  const pooled = validContinuationRate([good, bad]);
  assert.equal(pooled.rate, 0.5);
  // Continuation starting mid-word (char-level sampling) is judged on the completed sentence.
  const mid = checkContinuation(prefix + " agent moves so", "uth .", cfg);
  assert.deepEqual([mid.total, mid.legal], [1, 1]);
});

test("bad config names the field", () => {
  assert.throws(() => textWorldConfig({ width: -1 }), /width must be an integer in \[1, 10\], got -1/);
  assert.throws(() => textWorldConfig({ objects: ["key", "key"] }), /"key" appears twice/);
  assert.throws(() => textWorldConfig({ objects: ["north"] }), /grammar word/);
  assert.throws(() => textWorldConfig({ pickupProb: 2 }), /pickupProb/);
  assert.throws(() => generateTextWorldDataset({ seed: 1, numTrain: -3, numVal: 1 }), /numTrain/);
});

test("dataset: reproducible by seed, disjoint splits, baselines ordered", () => {
  const a = generateTextWorldDataset({ seed: 3, numTrain: 200, numVal: 40 });
  const b = generateTextWorldDataset({ seed: 3, numTrain: 200, numVal: 40 });
  assert.deepEqual(a, b);
  const c = generateTextWorldDataset({ seed: 4, numTrain: 200, numVal: 40 });
  assert.notDeepEqual(a.train, c.train);
  // Growing the training set does not change validation.
  assert.deepEqual(generateTextWorldDataset({ seed: 3, numTrain: 10, numVal: 40 }).val, a.val);
  const trainSet = new Set(a.train);
  assert.ok(a.val.filter((v) => trainSet.has(v)).length === 0);

  for (const tok of [charTokenizer(a.train), wordTokenizer(a.train)]) {
    const tr = tok.encode(a.train.join("\n"));
    const va = tok.encode(a.val.join("\n"));
    assert.equal(tok.decode(va), a.val.join("\n"));
    const base = ngramBaselines(tr, va, tok.vocabSize);
    assert.ok(base.bigram < base.unigram && base.unigram < base.uniform, JSON.stringify(base));
    assert.ok(base.bigram > 0);
  }
  assert.throws(() => ngramBaselines([0, 5], [0, 1], 3), /train\[1\] = 5/);
});

test("tokenizers: char/word round trip and errors; BPE loads offline", async () => {
  const ch = charTokenizer("agent moves north .");
  assert.equal(ch.decode(ch.encode("agent moves north .")), "agent moves north .");
  assert.throws(() => ch.encode("agent!"), /character "!" at position 5/);
  assert.throws(() => ch.decode([999]), /ids\[0\] = 999/);
  const w = wordTokenizer(["agent moves north .", "agent drops key ."]);
  assert.equal(w.decode(w.encode("agent moves north .\nagent drops key .")), "agent moves north .\nagent drops key .");
  assert.equal(w.encode("agent moves north .").length, 4);
  assert.throws(() => w.encode("agent flies"), /word "flies" \(word 1\)/);
  const bpe = await bpeTokenizer("gpt2");
  const ids = bpe.encode("agent picks up key .");
  assert.deepEqual(Array.from(bpe.encode("hello world")), [31373, 995]); // GPT-2 ids from tiktoken
  assert.equal(bpe.decode(ids), "agent picks up key .");
  assert.deepEqual(bpe.pieces("hello world"), ["hello", " world"]);
});

test("dataset-level labels align with the tokenizers; prefixes cut at sentence ends", () => {
  const ds = generateTextWorldDataset({ seed: 8, numTrain: 5, numVal: 0 });
  const text = ds.train.join("\n");
  for (const level of ["char", "word"] as const) {
    const tok = level === "char" ? charTokenizer(text) : wordTokenizer(text);
    const ids = tok.encode(text);
    const labels = datasetProbeLabels(ds.train, "agentCell", level);
    assert.equal(labels.length, ids.length);
    const nl = tok.encode("\n")[0];
    ids.forEach((id, i) => { if (id === nl) assert.equal(labels[i], -1); });
    assert.ok(labels.filter((l) => l >= 0).length > ids.length * 0.8);
  }
  const ep = ds.train[0];
  const header = episodePrefix(ep, 0);
  assert.ok(header.endsWith(" .") && !/moves|picks|drops/.test(header) && ep.startsWith(header));
  assert.equal(replayTextWorld(header).sentences.length, 0);
  const p2 = episodePrefix(ep, 2);
  assert.ok(p2.endsWith(" ."));
  assert.equal(replayTextWorld(p2).sentences.length, 2);
  assert.equal(checkContinuation(p2, ep.slice(p2.length)).rate, 1);
  assert.throws(() => episodePrefix(ep, 1000), /has 24 actions, asked for 1000/);
  const base = textWorldBaselines(generateTextWorldDataset({ seed: 8, numTrain: 50, numVal: 10 }), wordTokenizer(text));
  assert.ok(base.bigram < base.unigram);
});

test("episodeLogProb matches the generator's empirical frequencies; oracle loss is below the bigram", () => {
  const cfg = { width: 2, height: 2, objects: ["key"], steps: 2, pickupProb: 0.6, dropProb: 0.3 };
  const N = 20000;
  const counts = new Map<string, number>();
  for (let s = 0; s < N; s++) {
    const ep = generateTextEpisode(s, cfg);
    counts.set(ep, (counts.get(ep) ?? 0) + 1);
  }
  let mass = 0;
  for (const [ep, k] of counts) {
    const p = Math.exp(episodeLogProb(ep, cfg));
    mass += p;
    const f = k / N;
    assert.ok(Math.abs(f - p) < 5 * Math.sqrt((p * (1 - p)) / N) + 1e-3, `${ep}: frequency ${f} vs probability ${p}`);
  }
  assert.ok(Math.abs(mass - 1) < 0.01, `observed episodes should carry (almost) all probability, got ${mass}`);
  assert.equal(episodeLogProb("agent at 0 0 . key at 1 1 . agent moves north .", cfg), -Infinity);

  const ds = generateTextWorldDataset({ seed: 2, numTrain: 300, numVal: 60 });
  const tok = wordTokenizer(ds.train.concat(ds.val));
  const oracle = textWorldOracleLoss(ds.val, tok, ds.config);
  const base = textWorldBaselines(ds, tok);
  assert.ok(oracle.natsPerToken > 0 && oracle.natsPerToken < base.bigram, `oracle ${oracle.natsPerToken} vs bigram ${base.bigram}`);
});
