/**
 * Full definition of a GPT Language Model, all of it in this single file.
 *
 * GPT-2: Radford et al. 2019, "Language Models are Unsupervised Multitask Learners".
 * Reference implementation: karpathy/nanoGPT model.py (https://github.com/karpathy/nanoGPT/blob/master/model.py);
 * parameter names copy the GPT-2 checkpoint (transformer.wte, transformer.h.0.attn.c_attn, ...), so a
 * state dict maps one to one.
 *
 * Shape letters: B batch, T sequence length (≤ blockSize), C embedding size (nEmbd), nh heads, hs head size
 * (C / nh), V vocabulary size, L layers.
 */
import { Module, Parameter, Linear, Embedding, LayerNorm, ModuleList } from "../nn/index.js";
import { normal_, zeros_ } from "../nn/init.js";
import { F, Tensor, compile, tensor, type CompiledFunction } from "../engine/index.js";
import { Generator } from "../engine/generator.js";
import { NextframeError } from "../engine/errors.js";

//################################################################################
//                               Building blocks                                 #
//################################################################################

/** Multi-head masked self-attention (Vaswani et al. 2017), all heads in one c_attn projection. */
export class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  constructor(readonly config: GPTConfig, readonly layer: number) {
    super();
    if (config.nEmbd % config.nHead !== 0) {
      throw new NextframeError(`CausalSelfAttention: nEmbd (${config.nEmbd}) must be divisible by nHead (${config.nHead})`);
    }
    // key, query, value projections for all heads, but in a batch
    this.c_attn = new Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    // output projection
    this.c_proj = new Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
  }
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.config.nHead, hs = C / nh;
    const qkv = this.c_attn.forward(x);                                      // (B, T, 3C)
    const heads = (t: Tensor) => t.reshape([B, T, nh, hs]).transpose(1, 2);  // (B, nh, T, hs)
    const q = heads(qkv.slice(2, 0, C));
    const k = heads(qkv.slice(2, C, 2 * C));
    const v = heads(qkv.slice(2, 2 * C, 3 * C));
    // causal self-attention; the probabilities (B, nh, T, T) are captured as "h.{i}.attn" for heatmaps
    const y = F.scaledDotProductAttention(q, k, v, { causal: true, captureAs: `h.${this.layer}.attn` }); // (B, nh, T, hs)
    return this.c_proj.forward(y.transpose(1, 2).reshape([B, T, C]));        // (B, T, C)
  }
}

/** Position-wise feed-forward network, 4× wider, GELU. */
export class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;
  constructor(config: GPTConfig) {
    super();
    this.c_fc = new Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.c_proj = new Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
  }
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(F.gelu(this.c_fc.forward(x), "tanh")); // (B, T, C)
  }
}

/** Pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x)). */
export class Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;
  constructor(config: GPTConfig, layer: number) {
    super();
    this.ln_1 = new LayerNorm(config.nEmbd, { bias: config.bias });
    this.attn = new CausalSelfAttention(config, layer);
    this.ln_2 = new LayerNorm(config.nEmbd, { bias: config.bias });
    this.mlp = new MLP(config);
  }
  forward(x: Tensor): Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x))); // (B, T, C)
    return x.add(this.mlp.forward(this.ln_2.forward(x))); // (B, T, C)
  }
}

//################################################################################
//                                   Config                                      #
//################################################################################

/** A GPT's size, as nanoGPT's GPTConfig: context length, vocabulary, layers, heads, width, dropout and bias. */
export interface GPTConfig {
  blockSize: number;
  /** GPT-2's 50257 is padded up to 50304 (nearest multiple of 64) for speed; the tiny worlds use tens of tokens. */
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Kept for nanoGPT parity; the tiny models train without dropout. */
  dropout: number;
  /** True: bias in Linears and LayerNorms, like GPT-2. False: a bit better and faster. */
  bias: boolean;
}

/** nanoGPT's GPTConfig defaults: GPT-2 small (12 layers, 12 heads, width 768, context 1024, vocabulary 50304). */
export const GPT_DEFAULTS: GPTConfig = {
  blockSize: 1024, vocabSize: 50304, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0.0, bias: true,
};

/** Named sizes: GPT-2's four (nanoGPT from_pretrained) and the tiny text-world model chapter 1 trains. */
export const GPT_CONFIGS = {
  "gpt2": { nLayer: 12, nHead: 12, nEmbd: 768 },          // 124M params
  "gpt2-medium": { nLayer: 24, nHead: 16, nEmbd: 1024 },  // 350M params
  "gpt2-large": { nLayer: 36, nHead: 20, nEmbd: 1280 },   // 774M params
  "gpt2-xl": { nLayer: 48, nHead: 25, nEmbd: 1600 },      // 1558M params
  // a grid-room episode is ~100 words: a 128-token context holds one whole episode
  "gpt-textworld": { nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 128, bias: true },
} as const satisfies Record<string, Partial<GPTConfig>>;

/** A named size in GPT_CONFIGS: GPT-2's four or the text world's "gpt-textworld". */
export type GPTName = keyof typeof GPT_CONFIGS;

/**
 * A full config from a table name (or a partial config; null = GPT_DEFAULTS) plus overrides; unknown names list
 * the valid ones, bad or unknown fields are named.
 */
export function gptConfig(name: GPTName | string | Partial<GPTConfig> | null, overrides: Partial<GPTConfig> = {}): GPTConfig {
  let base: Partial<GPTConfig> = {};
  if (typeof name === "string") {
    const found = (GPT_CONFIGS as Record<string, Partial<GPTConfig>>)[name];
    if (!found) throw new NextframeError(`gptConfig: unknown config "${name}"; expected one of ${Object.keys(GPT_CONFIGS).join(", ")}`);
    base = found;
  } else if (name !== null) {
    base = name;
  }
  for (const k of [...Object.keys(base), ...Object.keys(overrides)]) {
    if (!(k in GPT_DEFAULTS)) {
      throw new NextframeError(`gptConfig: unknown field "${k}"; a GPT config has ${Object.keys(GPT_DEFAULTS).join(", ")}` +
        (k === "seed" ? ` (the seed is the third argument: new GPT(config, overrides, { seed }))` : ""));
    }
  }
  const c: GPTConfig = { ...GPT_DEFAULTS, ...base, ...overrides };
  for (const k of ["blockSize", "vocabSize", "nLayer", "nHead", "nEmbd"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new NextframeError(`gptConfig: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new NextframeError(`gptConfig: nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new NextframeError(`gptConfig: dropout must be in [0, 1), got ${c.dropout}`);
  return c;
}

//################################################################################
//                                     GPT                                       #
//################################################################################

/** The transformer trunk, named like GPT-2's `transformer` (wte, wpe, h, ln_f). */
class Transformer extends Module {
  wte: Embedding;
  wpe: Embedding;
  h: ModuleList<Block>;
  ln_f: LayerNorm;
  constructor(config: GPTConfig) {
    super();
    this.wte = new Embedding(config.vocabSize, config.nEmbd);
    this.wpe = new Embedding(config.blockSize, config.nEmbd);
    this.h = new ModuleList(Array.from({ length: config.nLayer }, (_, i) => new Block(config, i)));
    this.ln_f = new LayerNorm(config.nEmbd, { bias: config.bias });
  }
}

/** What GPT.forward returns: the logits, the loss when targets were given, and the residual stream after each block. */
export interface GPTOutput {
  /** (B, T, V), or (B, 1, V) for the last position only when `lastOnly`. */
  logits: Tensor;
  /** Mean cross-entropy (nats/token) when targets were given. */
  loss?: Tensor;
  /** Residual stream (B, T, C): index 0 after the embeddings, index i after block i (length L + 1). */
  hidden: Tensor[];
}

export class GPT extends Module {
  transformer: Transformer;
  readonly config: GPTConfig;
  private _compiled: CompiledFunction<[Tensor], Tensor> | null = null;

  /**
   * `new GPT("gpt-textworld", { vocabSize: 18 }, { seed: 7 })`: a name from GPT_CONFIGS (or a config object)
   * plus overrides, like DiT; the weights are drawn from `seed` (default 1337) with nanoGPT's init.
   */
  constructor(config: GPTName | string | Partial<GPTConfig>, overrides: Partial<GPTConfig> = {}, opts: { seed?: number } = {}) {
    super();
    this.config = gptConfig(config, overrides);
    this.transformer = new Transformer(this.config);
    this.initializeWeights(new Generator(opts.seed ?? 1337));
  }

  /** lm_head shares its weight with wte (weight tying, Press & Wolf 2017): the head is wteᵀ. */
  get lm_head_weight(): Parameter { return this.transformer.wte.weight; }

  private initializeWeights(g: Generator): void {
    // nanoGPT _init_weights: N(0, 0.02) for Linear and Embedding weights, zero biases;
    // residual projections (c_proj) scaled by 1/√(2L), per GPT-2.
    const std = 0.02;
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith(".bias")) zeros_(p);
      else if (name.includes("ln_")) continue;
      else if (name.endsWith("c_proj.weight")) normal_(p, std / Math.sqrt(2 * this.config.nLayer), 0, g);
      else normal_(p, std, 0, g);
    }
  }

  /**
   * idx (B, T) int32 token ids; targets (B, T) int32 (−1 would be invalid: use only real tokens).
   * Attention probabilities are captured as "h.{i}.attn" (B, nh, T, T) under withCapture.
   */
  forward(idx: Tensor, targets?: Tensor | null, opts: { lastOnly?: boolean } = {}): GPTOutput {
    const [B, T] = idx.shape as [number, number];
    if (idx.rank !== 2) throw new NextframeError(`GPT.forward: idx must be (B, T) token ids, got shape [${idx.shape}]`);
    if (T > this.config.blockSize) throw new NextframeError(`GPT.forward: cannot forward sequence of length ${T}, block size is only ${this.config.blockSize}`);
    const pos = tensor(Int32Array.from({ length: T }, (_, i) => i), { shape: [T] });
    const tokEmb = this.transformer.wte.forward(idx);                 // (B, T, C)
    const posEmb = this.transformer.wpe.forward(pos);                 // (T, C)
    let x = tokEmb.add(posEmb);                                       // (B, T, C)
    const hidden = [x];
    for (const block of this.transformer.h) {
      x = block.forward(x);                                           // (B, T, C)
      hidden.push(x);
    }
    x = this.transformer.ln_f.forward(x);                             // (B, T, C)
    if (opts.lastOnly) x = x.slice(1, T - 1, T);                      // (B, 1, C)
    const logits = F.linear(x, this.lm_head_weight);                 // (B, T, V)
    const out: GPTOutput = { logits, hidden };
    if (targets) {
      if (targets.shape[0] !== B || targets.shape[1] !== T) throw new NextframeError(`GPT.forward: targets must be (B, T) = [${B}, ${T}], got [${targets.shape}]`);
      out.loss = F.crossEntropy(logits, targets);
    }
    return out;
  }

  /**
   * Take a conditioning sequence of token ids and complete it maxNewTokens times, feeding predictions back.
   * The context is right-padded to blockSize so one compiled graph serves every step (causal attention keeps
   * padding from affecting earlier positions). temperature 0 = greedy; topK keeps the k most likely tokens.
   */
  async generate(idx: ArrayLike<number>, maxNewTokens: number, opts: { temperature?: number; topK?: number; seed?: number; stopToken?: number } = {}): Promise<number[]> {
    const temperature = opts.temperature ?? 1.0;
    const { blockSize, vocabSize: V } = this.config;
    const rng = new Generator(opts.seed ?? 0);
    const seq = Array.from(idx);
    if (seq.length === 0) throw new NextframeError("GPT.generate: needs at least one conditioning token");
    this._compiled ??= compile((x: Tensor) => this.forward(x).logits);
    for (let n = 0; n < maxNewTokens; n++) {
      // if the sequence context is growing too long we must crop it at blockSize
      const ctx = seq.slice(-blockSize);
      const buf = new Int32Array(blockSize);
      buf.set(ctx);
      const logits = (await (await this._compiled(tensor(buf, { shape: [1, blockSize] }))).data()) as Float32Array;
      const row = logits.subarray((ctx.length - 1) * V, ctx.length * V);
      const next = sampleLogits(row, temperature, opts.topK, rng);
      seq.push(next);
      if (opts.stopToken !== undefined && next === opts.stopToken) break;
    }
    return seq;
  }
}

/** Samples one id from logits with temperature and optional top-k (temperature 0: argmax). */
function sampleLogits(logits: ArrayLike<number>, temperature: number, topK: number | undefined, rng: Generator): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature <= 0) return best;
  let cutoff = -Infinity;
  if (topK !== undefined && topK < V) cutoff = [...Array.from(logits)].sort((a, b) => b - a)[topK - 1]!;
  const p = new Float64Array(V);
  let s = 0;
  for (let i = 0; i < V; i++) {
    p[i] = logits[i]! < cutoff ? 0 : Math.exp((logits[i]! - logits[best]!) / temperature);
    s += p[i]!;
  }
  let u = rng.uniform() * s;
  for (let i = 0; i < V; i++) { u -= p[i]!; if (u <= 0) return i; }
  return best;
}
