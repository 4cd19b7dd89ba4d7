/**
 * Sora in miniature: a text-conditioned spacetime DiT that denoises a whole clip at once.
 *
 * The Sora report ("Video generation models as world simulators", 2024) in five steps: a video autoencoder compresses
 * the clip, the latent is cut into **spacetime patches**, a **diffusion transformer** denoises all of them together,
 * the text comes from **recaptioned** training videos, and the user's prompt is **expanded** before generation. This
 * file is the third step, conditioned on the caption:
 *
 *   caption tokens ─▶ text encoder (from scratch, or a frozen GPT's hidden states) ─▶ y_embedder ─┐ (cross-attention keys,
 *                                                                                                   │  and their mean into c)
 *   noisy latents z (N, F, C, H, W) ─▶ patchify (1×p×p) ─▶ + 3D sin-cos(F, H/p, W/p) ─▶ [STDiT block ─▶ cross-attn] × depth ─▶ ẑ₀
 *   diffusion step τ ─▶ t_embedder ─────────────────────────────────────────────────── c (adaLN-Zero) ─┘
 *
 * - Blocks: factorised spatial → temporal attention (stdit.ts; Latte, Open-Sora's STDiT), **not causal**: every frame
 *   sees every other, so the clip is denoised jointly, not frame by frame.
 * - Text: cross-attention after each block (PixArt-α, https://arxiv.org/abs/2310.00426; Open-Sora's STDiT) onto the
 *   caption's token states plus one learned always-visible "null" token, and the masked mean of the token states
 *   added to c. The null caption (CFG) is all padding: only the null token is seen and the mean is 0.
 * - Shapes: the positions are computed from each input's grid, so one set of weights takes 8 or 16 frames and square
 *   or wide latents (the article: "only the small projector changes"; here nothing changes).
 * - Output: x₀ (the clean latent), or v (config.predict; Salimans & Ho 2022, https://arxiv.org/abs/2202.00512, as in Stable Diffusion 2) —
 *   both work with few-step DDIM; classifier-free guidance mixes the outputs for the caption and for ∅ (linear in
 *   the output, so the same mix as mixing x̂₀ at a given x_t).
 *
 * Shape letters: N batch, F frames, C latent channels, H/W latent height/width, p patch size, S = (H/p)(W/p) spatial
 * tokens per frame, T = F·S tokens, L caption tokens, D hidden size, Dt text width.
 */
import { F, Tensor, cat, compile, tensor, type CompiledFunction } from "../engine/index";
import { Embedding, LayerNorm, Linear, Module, ModuleList, Parameter } from "../nn/index";
import { normal_, zeros_ } from "../nn/init";
import { NextframeError } from "../engine/errors";
import { Generator } from "../engine/generator.js";
import { get3dSincosPosEmbed, sincos1d } from "../patches/posEmbed";
import { patchify3dOp, unpatchify3dOp } from "../patches/ops";
import { createDiffusion, type GaussianDiffusion } from "../diffusion/index";
import { Attention, FinalLayer, Mlp, TimestepEmbedder, ditInit } from "./dit";
import { STDiTBlock } from "./stdit";
import { GPT, type GPTConfig } from "./gpt";
import { captionTokenizer, encodeCaptions } from "./worldModel";

//################################################################################
//                                   Config                                      #
//################################################################################

/**
 * Everything a text-to-video DiT needs: latent channels, patch, width, depth, heads, the text encoder and its size,
 * caption dropout, diffusion steps, latent scale and what it predicts.
 */
export interface TextToVideoConfig {
  latentChannels: number;
  patchSize: number;
  hiddenSize: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** "scratch": a small bidirectional transformer trained with the DiT; "gpt": a frozen caption GPT's last hidden states. */
  textEncoder: "scratch" | "gpt";
  /** Caption token ids + 1 (0 = padding): the caption tokenizer's vocabulary + 1. */
  vocabSize: number;
  /** Caption tokens per clip. */
  textLength: number;
  /** Width of the text encoder's states (Dt). */
  textWidth: number;
  /** Layers and heads of the text encoder (the scratch one; for "gpt", the GPT's). */
  textLayers: number;
  textHeads: number;
  /** Share of training clips whose caption is replaced by the null caption (classifier-free guidance). */
  captionDropout: number;
  diffusionSteps: number;
  /** Latents are divided by this before diffusion (≈ their std over the data). */
  latentScale: number;
  /**
   * What the network outputs: "x0" the clean latent; "v" the velocity sqrt(ᾱ)·ε − sqrt(1 − ᾱ)·x₀ (at low noise
   * x̂₀ ≈ x_t, so details pass straight through); "epsilon" the noise.
   */
  predict: "x0" | "v" | "epsilon";
}

/**
 * The fields a named size leaves open: 4 latent channels, patch 4, MLP ratio 4, 32 caption tokens, 4 text heads,
 * caption dropout 0.1, 1000 diffusion steps, latent scale 1, x₀-prediction; with no name, also t2v-xs's size.
 */
export const TEXT_TO_VIDEO_DEFAULTS: TextToVideoConfig = {
  latentChannels: 4, patchSize: 4, hiddenSize: 64, depth: 4, numHeads: 4, mlpRatio: 4,
  textEncoder: "scratch", vocabSize: 0, textLength: 32, textWidth: 64, textLayers: 2, textHeads: 4,
  captionDropout: 0.1, diffusionSteps: 1000, latentScale: 1, predict: "x0",
};

/**
 * Named sizes (the paper-style table): width, depth, heads of the DiT; the text encoder's width and layers.
 *
 *   name        D    depth heads  text Dt × layers   parameters   (16×16×4 latents, p = 4: 16 tokens a frame)
 *   t2v-xs      64   4     4      64 × 2 (scratch)   ≈ 0.63 M     2.5 MB of float32
 *   t2v-s96     96   4     4      64 × 2             ≈ 1.25 M     the text-encoder comparison's size
 *   t2v-s       192  6     6      96 × 2             ≈ 6.9 M
 * The "-gpt" variants take a frozen caption GPT (textLayers × textWidth, same heads) instead of the scratch encoder.
 */
export const TEXT_TO_VIDEO_CONFIGS = {
  "t2v-xs": { hiddenSize: 64, depth: 4, numHeads: 4, textWidth: 64, textLayers: 2 },
  "t2v-xs-gpt": { hiddenSize: 64, depth: 4, numHeads: 4, textWidth: 64, textLayers: 2, textEncoder: "gpt" },
  "t2v-s96": { hiddenSize: 96, depth: 4, numHeads: 4, textWidth: 64, textLayers: 2 },
  "t2v-s96-gpt": { hiddenSize: 96, depth: 4, numHeads: 4, textWidth: 64, textLayers: 2, textEncoder: "gpt" },
  "t2v-s": { hiddenSize: 192, depth: 6, numHeads: 6, textWidth: 96, textLayers: 2 },
} as const satisfies Record<string, Partial<TextToVideoConfig>>;

/**
 * A full config from a table name (or null for the defaults) plus overrides; unknown names list the valid ones and
 * bad sizes, encoders, predictions and caption dropouts are named.
 */
export function textToVideoConfig(name: keyof typeof TEXT_TO_VIDEO_CONFIGS | string | null, overrides: Partial<TextToVideoConfig> = {}): TextToVideoConfig {
  let base: Partial<TextToVideoConfig> = {};
  if (name !== null) {
    const found = (TEXT_TO_VIDEO_CONFIGS as Record<string, Partial<TextToVideoConfig>>)[name];
    if (!found) throw new NextframeError(`textToVideoConfig: unknown config "${name}"; expected one of ${Object.keys(TEXT_TO_VIDEO_CONFIGS).join(", ")}`);
    base = found;
  }
  const cfg: TextToVideoConfig = { ...TEXT_TO_VIDEO_DEFAULTS, vocabSize: captionTokenizer().vocabSize + 1, ...base, ...overrides };
  if (cfg.hiddenSize % 16) throw new NextframeError(`textToVideoConfig: hiddenSize ${cfg.hiddenSize} must be divisible by 16 (3D sin-cos positions)`);
  if (cfg.hiddenSize % cfg.numHeads) throw new NextframeError(`textToVideoConfig: hiddenSize ${cfg.hiddenSize} is not divisible by numHeads ${cfg.numHeads}`);
  if (cfg.textWidth % cfg.textHeads || cfg.textWidth % 2) throw new NextframeError(`textToVideoConfig: textWidth ${cfg.textWidth} must be even and divisible by textHeads ${cfg.textHeads}`);
  if (cfg.textEncoder !== "scratch" && cfg.textEncoder !== "gpt") throw new NextframeError(`textToVideoConfig: textEncoder must be "scratch" or "gpt", got ${JSON.stringify(cfg.textEncoder)}`);
  if (!["x0", "v", "epsilon"].includes(cfg.predict)) throw new NextframeError(`textToVideoConfig: predict must be "x0", "v" or "epsilon", got ${JSON.stringify(cfg.predict)}`);
  if (!(cfg.captionDropout >= 0 && cfg.captionDropout < 1)) throw new NextframeError(`textToVideoConfig: captionDropout must be in [0, 1), got ${cfg.captionDropout}`);
  return cfg;
}

/** The frozen caption GPT's config for a text-to-video config (textEncoder "gpt"). */
export function captionGptConfig(cfg: TextToVideoConfig): GPTConfig {
  return { blockSize: cfg.textLength, vocabSize: cfg.vocabSize, nLayer: cfg.textLayers, nHead: cfg.textHeads, nEmbd: cfg.textWidth, dropout: 0, bias: true };
}

//################################################################################
//                                Text encoders                                  #
//################################################################################

/** Key-padding mask (N, 1, 1, L) bool from (N, L) token ids: true where a token is real. */
function keyMask(tokens: Tensor): Tensor {
  const [N, L] = tokens.shape;
  return tokens.ne(0).reshape([N!, 1, 1, L!]);
}

/** Pre-LN bidirectional transformer layer over caption tokens, padding keys masked. */
class TextLayer extends Module {
  norm1: LayerNorm;
  attn: Attention;
  norm2: LayerNorm;
  mlp: Mlp;
  constructor(width: number, heads: number) {
    super();
    this.norm1 = new LayerNorm(width);
    this.attn = new Attention(width, heads);
    this.attn.captureName = "text.attn";
    this.norm2 = new LayerNorm(width);
    this.mlp = new Mlp(width, 4 * width);
  }
  forward(x: Tensor, mask: Tensor): Tensor {
    x = x.add(this.attn.forward(this.norm1.forward(x), { mask }));
    return x.add(this.mlp.forward(this.norm2.forward(x)));
  }
}

/** The text encoder trained from scratch with the DiT: token + sin-cos position embeddings, bidirectional layers. */
export class ScratchTextEncoder extends Module {
  wte: Embedding;
  layers: ModuleList<TextLayer>;
  ln_f: LayerNorm;
  constructor(readonly cfg: TextToVideoConfig) {
    super();
    this.wte = new Embedding(cfg.vocabSize, cfg.textWidth);
    this.layers = new ModuleList(Array.from({ length: cfg.textLayers }, () => new TextLayer(cfg.textWidth, cfg.textHeads)));
    this.ln_f = new LayerNorm(cfg.textWidth);
  }
  /** tokens (N, L) int32 ids + 1 → (N, L, Dt). */
  forward(tokens: Tensor): Tensor {
    const L = tokens.shape[1]!, Dt = this.cfg.textWidth;
    const pos = tensor(Float32Array.from(sincos1d(Dt, Array.from({ length: L }, (_, i) => i))), { shape: [1, L, Dt] });
    let x = this.wte.forward(tokens).add(pos);
    const mask = keyMask(tokens);
    for (const layer of this.layers) x = layer.forward(x, mask);
    return this.ln_f.forward(x);
  }
}

/**
 * The article's "language model in the middle": a small GPT trained on the captions (next-token prediction, then
 * frozen); its last hidden states (after ln_f) are the caption's token states. Causal, so a token knows only the
 * words before it.
 */
export class GptTextEncoder extends Module {
  gpt: GPT;
  constructor(readonly cfg: TextToVideoConfig) {
    super();
    this.gpt = new GPT(captionGptConfig(cfg));
    this.freeze();
  }
  /** Freezes the GPT's weights (they are trained beforehand, as a language model). */
  freeze(): void { for (const p of this.gpt.parameters()) p.requiresGrad = false; }
  forward(tokens: Tensor): Tensor {
    const { hidden } = this.gpt.forward(tokens);
    return this.gpt.transformer.ln_f.forward(hidden[hidden.length - 1]!);
  }
}

//################################################################################
//                                  The model                                    #
//################################################################################

/** Multi-head cross-attention: queries from the video tokens, keys and values from the caption's token states. */
export class CrossAttention extends Module {
  q: Linear;
  kv: Linear;
  proj: Linear;
  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    this.q = new Linear(dim, dim);
    this.kv = new Linear(dim, 2 * dim);
    this.proj = new Linear(dim, dim);
  }
  /** x (N, T, D), ctx (N, L', D), mask (N, 1, 1, L') bool → (N, T, D). */
  forward(x: Tensor, ctx: Tensor, mask: Tensor): Tensor {
    const [N, T, D] = x.shape as [number, number, number];
    const Lc = ctx.shape[1]!, h = this.numHeads, d = D / h;
    const q = this.q.forward(x).reshape([N, T, h, d]).transpose(1, 2);                              // (N, h, T, d)
    const kv = this.kv.forward(ctx).reshape([N, Lc, 2, h, d]).permute([2, 0, 3, 1, 4]);              // (2, N, h, L', d)
    const k = kv.slice(0, 0, 1).squeeze(0), v = kv.slice(0, 1, 2).squeeze(0);
    const o = F.scaledDotProductAttention(q, k, v, { mask, captureAs: "cross_attn" });              // (N, h, T, d)
    return this.proj.forward(o.transpose(1, 2).reshape([N, T, D]));
  }
}

/** A text-to-video DiT block: the STDiT block (spatial, then temporal attention over all frames, MLP), then cross-attention to the caption. */
export class TextToVideoBlock extends Module {
  st: STDiTBlock;
  cross_attn: CrossAttention;
  constructor(D: number, numHeads: number, mlpRatio: number) {
    super();
    this.st = new STDiTBlock(D, numHeads, "factorized", false, mlpRatio);
    this.cross_attn = new CrossAttention(D, numHeads);
  }
  forward(x: Tensor, c: Tensor, grid: readonly [number, number], text: Tensor, mask: Tensor): Tensor {
    x = this.st.forward(x, c, grid);
    const D = x.shape[2]!;
    return x.add(this.cross_attn.forward(F.layerNorm(x, [D], null, null, 1e-6), text, mask));
  }
}

/** The text-to-video diffusion transformer on autoencoder latents (N, F, C, H, W), any F, H, W (H, W multiples of p). */
export class TextToVideoDiT extends Module {
  readonly config: TextToVideoConfig;
  text_encoder: ScratchTextEncoder | GptTextEncoder;
  x_embedder: Linear;
  t_embedder: TimestepEmbedder;
  /** Projects the caption's token states (Dt) to the DiT's width (D). */
  y_embedder: Linear;
  /** The always-visible null token of cross-attention (what a caption-less clip attends to). */
  y_null: Parameter;
  blocks: ModuleList<TextToVideoBlock>;
  final_layer: FinalLayer;

  constructor(config: keyof typeof TEXT_TO_VIDEO_CONFIGS | string | Partial<TextToVideoConfig> = "t2v-xs", overrides: Partial<TextToVideoConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const cfg = typeof config === "string" ? textToVideoConfig(config, overrides) : textToVideoConfig(null, { ...config, ...overrides });
    this.config = cfg;
    const D = cfg.hiddenSize, p = cfg.patchSize, C = cfg.latentChannels;
    this.text_encoder = cfg.textEncoder === "gpt" ? new GptTextEncoder(cfg) : new ScratchTextEncoder(cfg);
    this.x_embedder = new Linear(p * p * C, D);
    this.t_embedder = new TimestepEmbedder(D);
    this.y_embedder = new Linear(cfg.textWidth, D);
    this.y_null = new Parameter(tensor(new Float32Array(D), { shape: [1, 1, D] }));
    this.blocks = new ModuleList(Array.from({ length: cfg.depth }, () => new TextToVideoBlock(D, cfg.numHeads, cfg.mlpRatio)));
    this.blocks.map((b, i) => {
      b.st.attn.captureName = `blocks.${i}.attn.spatial`;
      b.st.attn_temp!.captureName = `blocks.${i}.attn.temporal`;
    });
    this.final_layer = new FinalLayer(D, p, C);
    const seed = opts.seed ?? 0;
    ditInit(this, seed);          // xavier linears, zero biases, adaLN-Zero (each block starts as the identity)
    const g = new Generator(seed + 101);
    normal_(this.y_null, 0.02, 0, g);
    if (this.text_encoder instanceof ScratchTextEncoder) normal_(this.text_encoder.wte.weight, 0.02, 0, g);
    // cross-attention's output starts at zero, as adaLN-Zero's gates: an untrained model ignores the caption
    this.blocks.map((b) => { zeros_(b.cross_attn.proj.weight); });
    if (this.text_encoder instanceof GptTextEncoder) this.text_encoder.freeze();
  }

  /** (N, L) caption tokens → cross-attention context (N, 1 + L, D) (the null token first), its mask and the pooled caption (N, D). */
  encodeText(tokens: Tensor): { ctx: Tensor; mask: Tensor; pooled: Tensor } {
    const [N, L] = tokens.shape as [number, number];
    const D = this.config.hiddenSize;
    const states = this.y_embedder.forward(this.text_encoder.forward(tokens));                    // (N, L, D)
    const real = tokens.ne(0).cast("float32");                                                     // (N, L)
    const pooled = states.mul(real.unsqueeze(2)).sum(1).div(real.sum(1, true).clamp(1));           // (N, D); 0 for the null caption
    const ctx = cat([this.y_null.expand([N, 1, D]), states], 1);                                   // (N, 1 + L, D)
    const mask = cat([tensor(new Uint8Array(N).fill(1), { dtype: "bool", shape: [N, 1] }), tokens.ne(0)], 1).reshape([N, 1, 1, L + 1]);
    return { ctx, mask, pooled };
  }

  /**
   * x (N, F, C, H, W) noisy latents (already divided by latentScale), t (N) diffusion steps, caption (N, L) int32
   * token ids + 1 (0 = padding; all zeros = the null caption) → x̂₀ (N, F, C, H, W). Every output frame depends on
   * every input frame (joint denoising).
   */
  forward(x: Tensor, t: Tensor, caption: Tensor): Tensor {
    const { latentChannels: C, patchSize: p, hiddenSize: D } = this.config;
    if (x.rank !== 5 || x.shape[2] !== C || x.shape[3]! % p || x.shape[4]! % p) {
      throw new NextframeError(`TextToVideoDiT.forward: x must be (N, F, ${C}, H, W) with H and W multiples of ${p}, got [${x.shape.join(", ")}]`);
    }
    const [N, Fr, , H, W] = x.shape as [number, number, number, number, number];
    if (t.rank !== 1 || t.shape[0] !== N) throw new NextframeError(`TextToVideoDiT.forward: t must be (${N}), got [${t.shape.join(", ")}]`);
    if (caption.rank !== 2 || caption.shape[0] !== N) throw new NextframeError(`TextToVideoDiT.forward: caption must be (N, L) = [${N}, L] int32 token ids + 1, got [${caption.shape.join(", ")}]`);
    const grid: [number, number, number] = [Fr, H / p, W / p], S = grid[1] * grid[2];
    const pos = tensor(Float32Array.from(get3dSincosPosEmbed(D, grid)), { shape: [1, Fr * S, D] });  // from this input's grid
    let hdn = this.x_embedder.forward(patchify3dOp(x, 1, p)).add(pos);                                // (N, T, D)
    const { ctx, mask, pooled } = this.encodeText(caption);
    const c = this.t_embedder.forward(t).add(pooled);                                                 // (N, D)
    for (const block of this.blocks) hdn = block.forward(hdn, c, [Fr, S], ctx, mask);                 // (N, T, D)
    return unpatchify3dOp(this.final_layer.forward(hdn, c), 1, p, C, grid);                           // (N, F, C, H, W)
  }
}

/** The diffusion the model trains and samples with: the config's prediction (x₀, v or ε), cosine schedule, fixed variance; `samplingSteps` DDIM steps (trailing). */
export function textToVideoDiffusion(config: TextToVideoConfig, samplingSteps?: number): GaussianDiffusion {
  return createDiffusion({
    diffusionSteps: config.diffusionSteps, noiseSchedule: "squaredcos_cap_v2", predict: config.predict ?? "x0", learnSigma: false,
    timestepRespacing: samplingSteps === undefined ? "" : `trailing${samplingSteps}`,
  });
}

/** Caption strings → (n, textLength) tokens (ids + 1, 0 = padding); null = the null caption. */
export function captionTokens(config: TextToVideoConfig, captions: readonly (string | null)[]): Int32Array {
  return encodeCaptions(captionTokenizer(), captions, config.textLength);
}

//################################################################################
//                        Sampling: caption → latent clip                        #
//################################################################################

/** Options of sampling a clip from a caption: frames, latent height and width, guidance scale, DDIM steps and seed. */
export interface TextToVideoSampleOptions {
  /** Frames (any ≥ 1; trained on 8 and 16). */
  frames?: number;
  /** Latent height and width (multiples of the patch size; the course's 32×32 frames have 16×16 latents). */
  latentHeight?: number;
  latentWidth?: number;
  /** Classifier-free guidance scale s: x̂₀ = x̂₀(∅) + s·(x̂₀(caption) − x̂₀(∅)); 0 = unconditional, 1 = plain conditional. */
  guidance?: number;
  /** DDIM steps. */
  steps?: number;
  /** Seed of the starting noise (one per clip: seed, seed + 1, …). */
  seed?: number;
}

/** The shipped sampler settings (the bench and the chapter use these; = TEXT_TO_VIDEO_RECIPE.sampling), picked on validation captions (evaluationClips seed 35), not the card's. */
export const TEXT_TO_VIDEO_SAMPLING = { steps: 20, guidance: 2, frames: 16 } as const;

/**
 * Generates latent clips (n, F, C, h, w) (scaled back by latentScale: ready for the autoencoder's decoder) for n
 * captions with DDIM and classifier-free guidance; the caption and the null caption run as one batch of 2n.
 */
export class TextToVideoSampler {
  private fwd: CompiledFunction<[Tensor, Tensor, Tensor], Tensor>;
  constructor(readonly model: TextToVideoDiT) {
    this.fwd = compile((x: Tensor, t: Tensor, y: Tensor) => model.forward(x, t, y), { freeze: true });
  }

  async sample(captions: readonly (string | null)[], opts: TextToVideoSampleOptions = {}): Promise<{ latents: Float32Array; shape: [number, number, number, number, number] }> {
    const cfg = this.model.config;
    const n = captions.length;
    if (n === 0) throw new NextframeError("TextToVideoSampler.sample: needs at least one caption");
    const Fr = opts.frames ?? TEXT_TO_VIDEO_SAMPLING.frames, h = opts.latentHeight ?? 16, w = opts.latentWidth ?? 16;
    const s = opts.guidance ?? TEXT_TO_VIDEO_SAMPLING.guidance, steps = opts.steps ?? TEXT_TO_VIDEO_SAMPLING.steps;
    for (const [k, v] of [["latentHeight", h], ["latentWidth", w]] as const) {
      if (!Number.isInteger(v) || v < cfg.patchSize || v % cfg.patchSize) throw new NextframeError(`TextToVideoSampler: ${k} must be a positive multiple of the patch size ${cfg.patchSize}, got ${v}`);
    }
    if (!Number.isInteger(Fr) || Fr < 1) throw new NextframeError(`TextToVideoSampler: frames must be a positive integer, got ${Fr}`);
    if (!(s >= 0 && Number.isFinite(s))) throw new NextframeError(`TextToVideoSampler: guidance must be a finite number ≥ 0, got ${s}`);
    const C = cfg.latentChannels, L = cfg.textLength, per = Fr * C * h * w;
    const cond = captionTokens(cfg, captions);
    const both = new Int32Array(2 * n * L);
    both.set(cond);                                                                // first n: the captions, last n: ∅
    const shape: [number, number, number, number, number] = [n, Fr, C, h, w];
    const seed = opts.seed ?? 0;
    const noise = new Float32Array(n * per);
    for (let i = 0; i < n; i++) noise.set(new Generator(seed + i).randn(per), i * per);
    const d = textToVideoDiffusion(cfg, steps);
    const yBoth = tensor(both, { dtype: "int32", shape: [2 * n, L] });
    const out = await d.ddimSampleLoop(async (x, _shape, t) => {
      const x2 = new Float32Array(2 * n * per);
      x2.set(x); x2.set(x, n * per);
      const t2 = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) { t2[i] = t[i]!; t2[n + i] = t[i]!; }
      const o = (await (await this.fwd(tensor(x2, { shape: [2 * n, Fr, C, h, w] }), tensor(t2, { shape: [2 * n] }), yBoth)).data()) as Float32Array;
      const guided = new Float32Array(n * per);
      for (let i = 0; i < n * per; i++) { const u = o[n * per + i]!; guided[i] = u + s * (o[i]! - u); }
      return guided;
    }, shape, { noise, clipDenoised: false });
    for (let i = 0; i < out.length; i++) out[i] *= cfg.latentScale;
    return { latents: out, shape };
  }
}
