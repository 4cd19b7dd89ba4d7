// Tokenizers: text → integer ids → text.
//
// The tiny models of chapter 1 use a character- or word-level vocabulary built from the world's logs
// (tens of tokens, so the embedding table stays small). Real GPTs use byte-pair encoding; `bpeTokenizer`
// shows the same text through OpenAI's tiktoken vocabularies (js-tiktoken, ranks shipped inside the npm
// package, so it works offline).

import { Tiktoken } from "js-tiktoken/lite";
import { NextframeError } from "../engine/errors";

/** Turns text into integer token ids and back, with a character, word or byte-pair vocabulary. */
export interface Tokenizer {
  readonly kind: "char" | "word" | "bpe";
  /** id → token string. For BPE this is not materialised (50k+ entries); use `pieces`. */
  readonly vocab: readonly string[];
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /** The token strings a text splits into (for display). */
  pieces(text: string): string[];
}

function checkIds(name: string, ids: ArrayLike<number>, size: number): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (!Number.isInteger(t) || t < 0 || t >= size) throw new NextframeError(`${name}.decode: ids[${i}] = ${t} is not in [0, ${size})`);
  }
}

/**
 * Character-level tokenizer. The vocabulary is the sorted set of characters of `corpus` (or the explicit
 * `alphabet`). Encoding a character outside it throws, naming the character and its position.
 */
export function charTokenizer(corpus: string | string[], opts: { alphabet?: string } = {}): Tokenizer {
  const text = Array.isArray(corpus) ? corpus.join("\n") : corpus;
  const chars = opts.alphabet !== undefined ? [...new Set(opts.alphabet)] : [...new Set(text)].sort();
  if (chars.length === 0) throw new NextframeError("charTokenizer: empty corpus, no characters to build a vocabulary from");
  const index = new Map(chars.map((c, i) => [c, i]));
  return {
    kind: "char",
    vocab: chars,
    vocabSize: chars.length,
    encode(s: string): Int32Array {
      const out = new Int32Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const id = index.get(s[i]);
        if (id === undefined) throw new NextframeError(`charTokenizer.encode: character ${JSON.stringify(s[i])} at position ${i} is not in the vocabulary (${chars.length} chars)`);
        out[i] = id;
      }
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      checkIds("charTokenizer", ids, chars.length);
      let s = "";
      for (let i = 0; i < ids.length; i++) s += chars[ids[i]];
      return s;
    },
    pieces(s: string): string[] {
      return [...s];
    },
  };
}

const NEWLINE = "\n";

function splitWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/\n|[^\s]+/g)) out.push(m[0]);
  return out;
}

/**
 * Word-level tokenizer: words are separated by spaces; a newline is its own token ("\n") so episodes
 * stay apart. Decoding joins words with single spaces, so decode(encode(x)) = x for logs in canonical form.
 */
export function wordTokenizer(corpus: string | string[]): Tokenizer {
  const text = Array.isArray(corpus) ? corpus.join("\n") : corpus;
  const words = [...new Set([NEWLINE, ...splitWords(text)])].sort();
  const index = new Map(words.map((w, i) => [w, i]));
  return {
    kind: "word",
    vocab: words,
    vocabSize: words.length,
    encode(s: string): Int32Array {
      const ws = splitWords(s);
      const out = new Int32Array(ws.length);
      for (let i = 0; i < ws.length; i++) {
        const id = index.get(ws[i]);
        if (id === undefined) throw new NextframeError(`wordTokenizer.encode: word ${JSON.stringify(ws[i])} (word ${i}) is not in the vocabulary (${words.length} words)`);
        out[i] = id;
      }
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      checkIds("wordTokenizer", ids, words.length);
      let s = "";
      let prevWord = false;
      for (let i = 0; i < ids.length; i++) {
        const w = words[ids[i]];
        if (w === NEWLINE) { s += NEWLINE; prevWord = false; continue; }
        if (prevWord) s += " ";
        s += w;
        prevWord = true;
      }
      return s;
    },
    pieces(s: string): string[] {
      return splitWords(s);
    },
  };
}

/** A tiktoken vocabulary: gpt2 (GPT-2/3), cl100k_base (GPT-3.5/4) or o200k_base (GPT-4o). */
export type BpeEncoding = "gpt2" | "cl100k_base" | "o200k_base";

const VOCAB_SIZE: Record<BpeEncoding, number> = { gpt2: 50257, cl100k_base: 100277, o200k_base: 200019 };

/**
 * Byte-pair encoding with a real GPT vocabulary (tiktoken ranks bundled in js-tiktoken; no network).
 * gpt2 is GPT-2/3's vocabulary, cl100k_base GPT-3.5/4's, o200k_base GPT-4o's.
 */
export async function bpeTokenizer(encoding: BpeEncoding = "gpt2"): Promise<Tokenizer> {
  let ranks: { default: ConstructorParameters<typeof Tiktoken>[0] };
  switch (encoding) {
    case "gpt2": ranks = await import("js-tiktoken/ranks/gpt2"); break;
    case "cl100k_base": ranks = await import("js-tiktoken/ranks/cl100k_base"); break;
    case "o200k_base": ranks = await import("js-tiktoken/ranks/o200k_base"); break;
    default: throw new NextframeError(`bpeTokenizer: unknown encoding ${JSON.stringify(encoding)}; choose gpt2, cl100k_base or o200k_base`);
  }
  const enc = new Tiktoken(ranks.default);
  const size = VOCAB_SIZE[encoding];
  return {
    kind: "bpe",
    vocab: [],
    vocabSize: size,
    encode: (s: string) => Int32Array.from(enc.encode(s)),
    decode(ids: ArrayLike<number>): string {
      checkIds("bpeTokenizer", ids, size);
      return enc.decode(Array.from(ids));
    },
    pieces: (s: string) => enc.encode(s).map((t) => enc.decode([t])),
  };
}
