/**
 * DiT — Scalable Diffusion Models with Transformers (Peebles & Xie, 2023), https://arxiv.org/abs/2212.09748
 * Reference implementation: https://github.com/facebookresearch/DiT/blob/main/models.py
 *
 * Shape letters: N batch, C latent channels, H/W latent height/width, p patch size, T tokens (= H·W/p²),
 * D hidden size, h heads.
 */
import { F, Generator, Tensor, cat, chunk, compile, tensor, zeros } from "../engine/index";
import { Conv2d, Embedding, Linear, Module, ModuleList, Parameter, Sequential, SiLU } from "../nn/index";
import { normal_, uniform_, zeros_ } from "../nn/init";
import { get2dSincosPosEmbed } from "../patches/posEmbed";
import { packedAttentionMask, packedPosEmbed, unpackImages, type Packed } from "../patches/pack";
import { unpatchifyOp } from "../patches/ops";
import type { DenoiseFn } from "../diffusion/gaussianDiffusion";
import { NextframeError } from "../engine/errors";

//################################################################################
//                               DiT Configs                                     #
//################################################################################

/** The four numbers that name a DiT architecture (paper Table 1) plus the patch size. */
export interface DiTArch {
  depth: number;
  hiddenSize: number;
  patchSize: number;
  numHeads: number;
}

/** Everything a DiT needs; `ditConfig(name, overrides)` fills the defaults of models.py's `DiT.__init__`. */
export interface DiTConfig extends DiTArch {
  inputSize: number;        // latent side: 256×256 image → 32×32 VAE latent
  inChannels: number;       // SD VAE latent has 4 channels
  mlpRatio: number;
  classDropoutProb: number; // label dropout for classifier-free guidance
  numClasses: number;       // ImageNet; the embedding table has one more row, the null class
  learnSigma: boolean;      // output 2C channels: ε and the interpolation value v for Σ (improved DDPM)
}

/** The DiT fields a paper name leaves open, at models.py's defaults: a 32×32×4 latent (256×256 ImageNet), MLP ratio 4, label dropout 0.1, 1000 classes, learned Σ. */
export const DIT_DEFAULTS = {
  inputSize: 32, inChannels: 4, mlpRatio: 4.0, classDropoutProb: 0.1, numClasses: 1000, learnSigma: true,
} as const satisfies Omit<DiTConfig, keyof DiTArch>;

/** The paper's twelve configurations, keyed by the paper's names (models.py `DiT_models`). */
export const DIT_CONFIGS = {
  "DiT-XL/2": { depth: 28, hiddenSize: 1152, patchSize: 2, numHeads: 16 },
  "DiT-XL/4": { depth: 28, hiddenSize: 1152, patchSize: 4, numHeads: 16 },
  "DiT-XL/8": { depth: 28, hiddenSize: 1152, patchSize: 8, numHeads: 16 },
  "DiT-L/2": { depth: 24, hiddenSize: 1024, patchSize: 2, numHeads: 16 },
  "DiT-L/4": { depth: 24, hiddenSize: 1024, patchSize: 4, numHeads: 16 },
  "DiT-L/8": { depth: 24, hiddenSize: 1024, patchSize: 8, numHeads: 16 },
  "DiT-B/2": { depth: 12, hiddenSize: 768, patchSize: 2, numHeads: 12 },
  "DiT-B/4": { depth: 12, hiddenSize: 768, patchSize: 4, numHeads: 12 },
  "DiT-B/8": { depth: 12, hiddenSize: 768, patchSize: 8, numHeads: 12 },
  "DiT-S/2": { depth: 12, hiddenSize: 384, patchSize: 2, numHeads: 6 },
  "DiT-S/4": { depth: 12, hiddenSize: 384, patchSize: 4, numHeads: 6 },
  "DiT-S/8": { depth: 12, hiddenSize: 384, patchSize: 8, numHeads: 6 },
} as const satisfies Record<string, DiTArch>;

/** One of the paper's twelve configuration names ("DiT-XL/2" … "DiT-S/8"). */
export type DiTName = keyof typeof DIT_CONFIGS;

/** A full config from a paper name (or an explicit architecture) plus overrides; unknown names list the valid ones. */
export function ditConfig(name: DiTName | string | DiTArch, overrides: Partial<DiTConfig> = {}): DiTConfig {
  let arch: DiTArch;
  if (typeof name === "string") {
    const found = (DIT_CONFIGS as Record<string, DiTArch>)[name];
    if (!found) {
      throw new NextframeError(`ditConfig: unknown config "${name}"; expected one of ${Object.keys(DIT_CONFIGS).join(", ")}`);
    }
    arch = found;
  } else {
    arch = name;
  }
  const cfg: DiTConfig = { ...DIT_DEFAULTS, ...arch, ...overrides };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new NextframeError(`ditConfig: hiddenSize ${cfg.hiddenSize} is not divisible by numHeads ${cfg.numHeads}`);
  }
  if (cfg.inputSize % cfg.patchSize !== 0) {
    throw new NextframeError(`ditConfig: inputSize ${cfg.inputSize} is not divisible by patchSize ${cfg.patchSize}`);
  }
  if (cfg.hiddenSize % 4 !== 0) {
    throw new NextframeError(`ditConfig: hiddenSize ${cfg.hiddenSize} must be divisible by 4 for the 2D sin-cos embedding`);
  }
  return cfg;
}

//################################################################################
//               Embedding Layers for Timesteps and Class Labels                 #
//################################################################################

/** x · (1 + scale) + shift, with (N, D) conditioning broadcast over tokens or per-token (N, T, D) conditioning. */
export function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  const s = scale.rank === 2 ? scale.unsqueeze(1) : scale;   // (N, 1, D) | (N, T, D)
  const b = shift.rank === 2 ? shift.unsqueeze(1) : shift;
  return x.mul(s.add(1)).add(b);
}

/** Embeds scalar timesteps into vector representations (sinusoidal frequencies + MLP). */
export class TimestepEmbedder extends Module {
  mlp: Sequential;
  constructor(hiddenSize: number, readonly frequencyEmbeddingSize = 256) {
    super();
    this.mlp = new Sequential(new Linear(frequencyEmbeddingSize, hiddenSize), new SiLU(), new Linear(hiddenSize, hiddenSize));
  }

  /**
   * Sinusoidal timestep embeddings (ADM / GLIDE): [cos(t·f), sin(t·f)], f_i = exp(−ln(maxPeriod)·i/half).
   * t: (N) float or int, possibly fractional → (N, dim).
   */
  static timestepEmbedding(t: Tensor, dim: number, maxPeriod = 10000): Tensor {
    const half = Math.floor(dim / 2);
    const freqs = new Float32Array(half);
    for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(maxPeriod) * i) / half);
    const args = t.cast("float32").unsqueeze(1).mul(tensor(freqs, { shape: [1, half] }));  // (N, half)
    let emb = cat([args.cos(), args.sin()], -1);                                            // (N, 2·half)
    if (dim % 2) emb = cat([emb, zeros([t.shape[0], 1])], -1);
    return emb;
  }

  forward(t: Tensor): Tensor {
    return this.mlp.forward(TimestepEmbedder.timestepEmbedding(t, this.frequencyEmbeddingSize)); // (N, D)
  }
}

/** Embeds class labels; the extra row `numClasses` is the null label used for classifier-free guidance. */
export class LabelEmbedder extends Module {
  embedding_table: Embedding;
  constructor(readonly numClasses: number, hiddenSize: number, readonly dropoutProb: number) {
    super();
    const useCfgEmbedding = dropoutProb > 0 ? 1 : 0;
    this.embedding_table = new Embedding(numClasses + useCfgEmbedding, hiddenSize);
  }

  /** Label dropout for CFG training, done on the host: each label becomes the null class with probability p. */
  tokenDrop(labels: Int32Array, seed: number, forceDropIds?: ArrayLike<number>): Int32Array {
    const rng = new Generator(seed);
    return labels.map((l, i) => {
      const drop = forceDropIds ? forceDropIds[i] === 1 : rng.uniform() < this.dropoutProb;
      return drop ? this.numClasses : l;
    });
  }

  forward(labels: Tensor): Tensor {
    return F.embedding(labels, this.embedding_table.weight); // (N, D)
  }
}

//################################################################################
//                                 Core DiT Model                                #
//################################################################################

/** Image to patch embedding: a stride-p convolution (timm PatchEmbed), flattened to tokens. */
export class PatchEmbed extends Module {
  proj: Conv2d;
  constructor(readonly patchSize: number, inChannels: number, embedDim: number) {
    super();
    this.proj = new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize });
  }
  forward(x: Tensor): Tensor {
    const y = this.proj.forward(x);                       // (N, D, H/p, W/p)
    return y.flatten(2).transpose(1, 2);                  // (N, T, D)
  }
  /** The same map on already patchified tokens (N, T, p·p·C in DiT's (p, q, c) order) — used for packed sequences. */
  forwardTokens(tokens: Tensor): Tensor {
    const w = this.proj.weight;                           // (D, C, p, p)
    const [D, C, p] = w.shape;
    const wt = w.permute([0, 2, 3, 1]).reshape([D, p * p * C]); // (D, p·p·C) in (p, q, c) order
    return F.linear(tokens, wt, this.proj.bias);          // (N, T, D)
  }
}

/** Multi-head self-attention (timm Attention, qkv_bias); probabilities captured as `<name>` on request. */
export class Attention extends Module {
  qkv: Linear;
  proj: Linear;
  captureName = "attn";
  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    this.qkv = new Linear(dim, dim * 3);
    this.proj = new Linear(dim, dim);
  }
  forward(x: Tensor, opts: { mask?: Tensor | null; causal?: boolean } = {}): Tensor {
    const [B, N, C] = x.shape;
    const h = this.numHeads, d = C / h;
    const qkv = this.qkv.forward(x).reshape([B, N, 3, h, d]).permute([2, 0, 3, 1, 4]); // (3, B, h, N, d)
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0));     // (B, h, N, d)
    const o = F.scaledDotProductAttention(q, k, v, { mask: opts.mask, causal: opts.causal, captureAs: this.captureName }); // (B, h, N, d)
    return this.proj.forward(o.transpose(1, 2).reshape([B, N, C]));                 // (B, N, C)
  }
}

/** The transformer MLP: fc1 → GELU (tanh approximation, as DiT) → fc2. */
export class Mlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(inFeatures: number, hiddenFeatures: number) {
    super();
    this.fc1 = new Linear(inFeatures, hiddenFeatures);
    this.fc2 = new Linear(hiddenFeatures, inFeatures);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(F.gelu(this.fc1.forward(x), "tanh"));
  }
}

/** A DiT block with adaptive layer norm zero (adaLN-Zero) conditioning. */
export class DiTBlock extends Module {
  attn: Attention;
  mlp: Mlp;
  adaLN_modulation: Sequential;
  constructor(readonly hiddenSize: number, numHeads: number, mlpRatio = 4.0) {
    super();
    this.attn = new Attention(hiddenSize, numHeads);
    this.mlp = new Mlp(hiddenSize, Math.trunc(hiddenSize * mlpRatio));
    this.adaLN_modulation = new Sequential(new SiLU(), new Linear(hiddenSize, 6 * hiddenSize));
  }
  forward(x: Tensor, c: Tensor, opts: { mask?: Tensor | null } = {}): Tensor {
    const D = this.hiddenSize;
    const mod = this.adaLN_modulation.forward(c);                                 // (N, 6D) | (N, T, 6D)
    const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = chunk(mod, 6, -1);
    const gate = (g: Tensor) => (g.rank === 2 ? g.unsqueeze(1) : g);              // (N, 1, D) | (N, T, D)
    const norm = (t: Tensor) => F.layerNorm(t, [D], null, null, 1e-6);           // elementwise_affine=False
    x = x.add(gate(gateMsa).mul(this.attn.forward(modulate(norm(x), shiftMsa, scaleMsa), opts)));
    x = x.add(gate(gateMlp).mul(this.mlp.forward(modulate(norm(x), shiftMlp, scaleMlp))));
    return x;                                                                      // (N, T, D)
  }
}

/** The final layer of DiT: adaLN-modulated norm, then a linear map to p·p·outC per token. */
export class FinalLayer extends Module {
  linear: Linear;
  adaLN_modulation: Sequential;
  constructor(readonly hiddenSize: number, patchSize: number, outChannels: number) {
    super();
    this.linear = new Linear(hiddenSize, patchSize * patchSize * outChannels);
    this.adaLN_modulation = new Sequential(new SiLU(), new Linear(hiddenSize, 2 * hiddenSize));
  }
  forward(x: Tensor, c: Tensor): Tensor {
    const [shift, scale] = chunk(this.adaLN_modulation.forward(c), 2, -1);
    x = modulate(F.layerNorm(x, [this.hiddenSize], null, null, 1e-6), shift, scale);
    return this.linear.forward(x);                                                // (N, T, p·p·outC)
  }
}

/** Diffusion model with a Transformer backbone. */
export class DiT extends Module {
  readonly config: DiTConfig;
  readonly outChannels: number;
  x_embedder: PatchEmbed;
  t_embedder: TimestepEmbedder;
  y_embedder: LabelEmbedder;
  pos_embed: Parameter;   // fixed 2D sin-cos buffer (requires_grad=False in the reference)
  blocks: ModuleList<DiTBlock>;
  final_layer: FinalLayer;

  constructor(config: DiTName | string | DiTArch | DiTConfig, overrides: Partial<DiTConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const cfg = ditConfig(typeof config === "string" ? config : { ...config }, overrides);
    this.config = cfg;
    this.outChannels = cfg.learnSigma ? cfg.inChannels * 2 : cfg.inChannels;
    const D = cfg.hiddenSize;
    this.x_embedder = new PatchEmbed(cfg.patchSize, cfg.inChannels, D);
    this.t_embedder = new TimestepEmbedder(D);
    this.y_embedder = new LabelEmbedder(cfg.numClasses, D, cfg.classDropoutProb);
    const grid = cfg.inputSize / cfg.patchSize;
    this.pos_embed = new Parameter(tensor(Float32Array.from(get2dSincosPosEmbed(D, grid)), { shape: [1, grid * grid, D] }), { requiresGrad: false });
    this.blocks = new ModuleList(Array.from({ length: cfg.depth }, () => new DiTBlock(D, cfg.numHeads, cfg.mlpRatio)));
    this.blocks.map((b, i) => { b.attn.captureName = `blocks.${i}.attn`; });
    this.final_layer = new FinalLayer(D, cfg.patchSize, this.outChannels);
    this.initializeWeights(opts.seed ?? 0);
  }

  /** DiT's initialize_weights (see `ditInit`). */
  initializeWeights(seed = 0): void {
    ditInit(this, seed);
  }

  /** (N, T, p·p·outC) → (N, outC, H, W) as graph ops (patches/ops); a square grid unless `grid` says otherwise. */
  unpatchify(x: Tensor, grid?: readonly [number, number]): Tensor {
    const T = x.shape[1]!, side = Math.round(Math.sqrt(T));
    return unpatchifyOp(x, this.config.patchSize, this.outChannels, grid ?? [side, side]);
  }

  private checkInputs(x: Tensor, t: Tensor, y: Tensor): void {
    const { inChannels: C, inputSize: S, numClasses } = this.config;
    if (x.rank !== 4 || x.shape[1] !== C || x.shape[2] !== S || x.shape[3] !== S) {
      throw new NextframeError(`DiT.forward: x must be (N, ${C}, ${S}, ${S}), got [${x.shape.join(", ")}]`);
    }
    const N = x.shape[0];
    if (t.rank !== 1 || t.shape[0] !== N) throw new NextframeError(`DiT.forward: t must be (${N}), got [${t.shape.join(", ")}]`);
    if (y.rank !== 1 || y.shape[0] !== N) throw new NextframeError(`DiT.forward: y must be (${N}), got [${y.shape.join(", ")}]`);
    if (y.dtype !== "int32" && y.dtype !== "int64") throw new NextframeError(`DiT.forward: y must hold integer labels, got ${y.dtype}`);
    if (y.isConcrete) {
      const labels = y._value as ArrayLike<number | bigint>;
      const limit = numClasses + (this.config.classDropoutProb > 0 ? 1 : 0);
      for (let i = 0; i < labels.length; i++) {
        const l = Number(labels[i]);
        if (!(l >= 0 && l < limit)) throw new NextframeError(`DiT.forward: label ${l} out of range [0, ${limit - 1}] (${numClasses} classes${limit > numClasses ? ` + null class ${numClasses}` : ""})`);
      }
    }
  }

  /**
   * Forward pass of DiT.
   * x: (N, C, H, W) latents, t: (N) diffusion timesteps, y: (N) class labels → (N, outC, H, W).
   */
  forward(x: Tensor, t: Tensor, y: Tensor): Tensor {
    this.checkInputs(x, t, y);
    let h = this.x_embedder.forward(x).add(this.pos_embed);     // (N, T, D)
    const c = this.t_embedder.forward(t).add(this.y_embedder.forward(y)); // (N, D)
    for (const block of this.blocks) h = block.forward(h, c);  // (N, T, D)
    h = this.final_layer.forward(h, c);                          // (N, T, p·p·outC)
    return this.unpatchify(h);                                   // (N, outC, H, W)
  }

  /**
   * NaViT-style packed forward: images of any sizes (multiples of p) in one sequence with a block-diagonal
   * mask and per-image positions; each image has its own t and y. Returns per-image outputs (outC, H, W).
   */
  forwardPacked(packed: Packed, t: ArrayLike<number>, y: ArrayLike<number>): { output: Tensor; images: (out: Float32Array) => { data: Float32Array; shape: [number, number, number] }[] } {
    const D = this.config.hiddenSize, L = packed.shape[0];
    const nImg = packed.segments.length;
    if (t.length !== nImg || y.length !== nImg) throw new NextframeError(`DiT.forwardPacked: ${nImg} images but ${t.length} timesteps and ${y.length} labels`);
    if (packed.shape[1] !== this.config.patchSize ** 2 * this.config.inChannels) {
      throw new NextframeError(`DiT.forwardPacked: tokens have width ${packed.shape[1]}, this DiT expects p·p·C = ${this.config.patchSize ** 2 * this.config.inChannels}`);
    }
    const tokens = tensor(packed.tokens, { shape: [1, L, packed.shape[1]] });
    const pos = tensor(packedPosEmbed(packed, D), { shape: [1, L, D] });
    let h = this.x_embedder.forwardTokens(tokens).add(pos);                      // (1, L, D)
    // per-token conditioning: each token carries its image's t and y (padding uses image 0's)
    const tokT = Float32Array.from(packed.imageIds, (k) => t[Math.max(k, 0)]);
    const tokY = Int32Array.from(packed.imageIds, (k) => y[Math.max(k, 0)]);
    const c = this.t_embedder.forward(tensor(tokT, { shape: [L] }))
      .add(this.y_embedder.forward(tensor(tokY, { dtype: "int32", shape: [L] }))).unsqueeze(0); // (1, L, D)
    const mask = tensor(packedAttentionMask(packed.imageIds), { dtype: "bool", shape: [1, 1, L, L] });
    for (const block of this.blocks) h = block.forward(h, c, { mask });        // (1, L, D)
    const out = this.final_layer.forward(h, c);                                 // (1, L, p·p·outC)
    return {
      output: out,
      images: (data) => unpackImages(data, packed, this.outChannels).map((im) => ({ data: im.data, shape: [...im.shape] as [number, number, number] })),
    };
  }

  /**
   * Classifier-free guidance in one batched call (DiT's forward_with_cfg): the first half of the batch holds
   * the conditional labels, the second half the null labels; ε is guided on the first C channels.
   */
  forwardWithCfg(x: Tensor, t: Tensor, y: Tensor, cfgScale: number): Tensor {
    const N = x.shape[0];
    const half = x.slice(0, 0, N / 2);
    const combined = cat([half, half], 0);
    const out = this.forward(combined, t, y);                                   // (N, outC, H, W)
    const C = this.config.inChannels;
    const eps = out.slice(1, 0, C), rest = out.slice(1, C);
    const [condEps, uncondEps] = chunk(eps, 2, 0);
    const halfEps = uncondEps.add(condEps.sub(uncondEps).mul(cfgScale));
    return cat([cat([halfEps, halfEps], 0), rest], 1);
  }
}

/**
 * DiT's initialize_weights, by parameter name, for any DiT-shaped module (DiT, STDiT):
 * xavier-uniform linear weights and zero biases; the patch-embedding conv initialised like a linear on its
 * (D, C·p·p) view; N(0, 0.02) label table and timestep MLP; and adaLN-Zero — every `adaLN_modulation`
 * output layer and the final linear start at zero, so each block is the identity and the model predicts 0.
 */
export function ditInit(model: Module, seed = 0): void {
  const gen = new Generator(seed);
  const params = model.namedParameters();
  for (const [name, p] of params) {
    if (name === "pos_embed") continue;
    if (name.endsWith(".bias")) { zeros_(p); continue; }
    if (name === "y_embedder.embedding_table.weight" || /^t_embedder\.mlp\.[02]\.weight$/.test(name)) {
      normal_(p, 0.02, 0, gen);
      continue;
    }
    if (name.endsWith(".weight") && p.rank >= 2) {
      const fanOut = p.shape[0], fanIn = p.size / fanOut;   // conv (D, C, p, p) as a (D, C·p·p) linear
      const a = Math.sqrt(6 / (fanIn + fanOut));            // xavier-uniform bound
      uniform_(p, -a, a, gen);
    }
  }
  for (const [name, p] of params) {
    if (/(^|\.)adaLN_modulation\.1\.(weight|bias)$/.test(name) || /^final_layer\.linear\.(weight|bias)$/.test(name)) zeros_(p);
  }
}

/**
 * A sampler-ready denoiser for a DiT: one compiled graph (traced once per batch size), timesteps as float32,
 * labels as int32; without labels the null class is used (unconditional). The weights are baked into the graph
 * (`compile(..., { freeze: true })`: onnxruntime pre-packs them once); training the model afterwards (new
 * parameter data) makes the next call rebuild the graph. `autocast: "float16"` runs the matrix products in half
 * precision (compile's option; for a GPU device, where it reads half the bytes).
 */
export function ditDenoiser(model: DiT, opts: { autocast?: "float16" } = {}): DenoiseFn {
  const fwd = compile((x: Tensor, t: Tensor, y: Tensor) => model.forward(x, t, y), { freeze: true, autocast: opts.autocast });
  return async (x, shape, t, y) => {
    const N = shape[0];
    const labels = y ?? new Int32Array(N).fill(model.config.numClasses);
    const out = await fwd(tensor(x, { shape: [...shape] }), tensor(Float32Array.from(t), { shape: [N] }), tensor(labels, { dtype: "int32", shape: [N] }));
    return (await out.data()) as Float32Array;
  };
}
