/**
 * STDiT — a DiT over spacetime patches with attention over space and over time.
 * Factorised ("spatial then temporal") blocks follow Latte (Ma et al. 2024, https://arxiv.org/abs/2401.03048)
 * and Open-Sora's STDiT (https://github.com/hpcaitech/Open-Sora, models/stdit/stdit.py); full spacetime
 * attention (every token attends to every token) is kept for comparison, as ViViT's model 1 vs model 3
 * (https://arxiv.org/abs/2103.15691). `causal` masks attention to future frames, for next-frame prediction.
 *
 * Shape letters: N batch, F frames (after tubelets: f), S spatial tokens per frame, T = f·S tokens, D hidden.
 */
import { F, Tensor, chunk, tensor } from "../engine/index";
import { Linear, Module, ModuleList, Parameter, Sequential, SiLU } from "../nn/index";
import { get3dSincosPosEmbed } from "../patches/posEmbed";
import { patchify3dOp, unpatchify3dOp } from "../patches/ops";
import { Attention, FinalLayer, LabelEmbedder, Mlp, TimestepEmbedder, ditInit, modulate } from "./dit";
import { spaceTimeMacs, type SpaceTimeAttention } from "./flops";
import { NextframeError } from "../engine/errors";

//################################################################################
//                                 STDiT Configs                                 #
//################################################################################

/** Everything an STDiT needs: the video's frames, size and channels, patch and tubelet, width, depth, heads, attention layout, causal time and labels. */
export interface STDiTConfig {
  frames: number;          // F
  inputSize: number;       // H = W
  inChannels: number;      // C
  patchSize: number;       // p
  tubelet: number;         // pt frames per token (1 = per-frame patches)
  hiddenSize: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  attention: SpaceTimeAttention;
  causal: boolean;         // frame f attends only to frames ≤ f
  numClasses: number;      // labels (e.g. actions or captions ids); null class = numClasses
  classDropoutProb: number;
  learnSigma: boolean;
}

/** The STDiT fields a named size leaves open: 8 frames of a 16×16×4 latent, patch 2, factorised attention, not causal, 10 labels. */
export const STDIT_DEFAULTS = {
  frames: 8, inputSize: 16, inChannels: 4, patchSize: 2, tubelet: 1, mlpRatio: 4, attention: "factorized",
  causal: false, numClasses: 10, classDropoutProb: 0.1, learnSigma: false,
} as const satisfies Partial<STDiTConfig>;

/** Small sizes that train on a laptop CPU; width/depth/heads follow DiT's S row scaled down. */
export const STDIT_CONFIGS = {
  "STDiT-XS/2": { hiddenSize: 128, depth: 4, numHeads: 4, patchSize: 2 },
  "STDiT-XS/4": { hiddenSize: 128, depth: 4, numHeads: 4, patchSize: 4 },
  "STDiT-S/2": { hiddenSize: 384, depth: 12, numHeads: 6, patchSize: 2 },
  "STDiT-S/4": { hiddenSize: 384, depth: 12, numHeads: 6, patchSize: 4 },
} as const satisfies Record<string, Partial<STDiTConfig>>;

/** A named size in STDIT_CONFIGS ("STDiT-XS/2" … "STDiT-S/4"). */
export type STDiTName = keyof typeof STDIT_CONFIGS;

/** A full config from a table name (or a partial config) plus overrides; unknown names list the valid ones and bad sizes are named. */
export function stditConfig(name: STDiTName | string | Partial<STDiTConfig>, overrides: Partial<STDiTConfig> = {}): STDiTConfig {
  let base: Partial<STDiTConfig>;
  if (typeof name === "string") {
    const found = (STDIT_CONFIGS as Record<string, Partial<STDiTConfig>>)[name];
    if (!found) throw new NextframeError(`stditConfig: unknown config "${name}"; expected one of ${Object.keys(STDIT_CONFIGS).join(", ")}`);
    base = found;
  } else base = name;
  const cfg = { ...STDIT_DEFAULTS, ...base, ...overrides } as STDiTConfig;
  for (const k of ["hiddenSize", "depth", "numHeads"] as const) if (!cfg[k]) throw new NextframeError(`stditConfig: ${k} is required`);
  if (cfg.hiddenSize % cfg.numHeads) throw new NextframeError(`stditConfig: hiddenSize ${cfg.hiddenSize} is not divisible by numHeads ${cfg.numHeads}`);
  if (cfg.hiddenSize % 16) throw new NextframeError(`stditConfig: hiddenSize ${cfg.hiddenSize} must be divisible by 16 for the 3D sin-cos embedding`);
  if (cfg.inputSize % cfg.patchSize) throw new NextframeError(`stditConfig: inputSize ${cfg.inputSize} is not divisible by patchSize ${cfg.patchSize}`);
  if (cfg.frames % cfg.tubelet) throw new NextframeError(`stditConfig: ${cfg.frames} frames are not divisible by the tubelet length ${cfg.tubelet}`);
  if (cfg.attention !== "factorized" && cfg.attention !== "full") throw new NextframeError(`stditConfig: attention must be "factorized" or "full", got "${String(cfg.attention)}"`);
  return cfg;
}

/** Forward MACs of the transformer blocks (plus embedders) for one sample — factorized vs full attention. */
export function stditComplexity(config: STDiTConfig): { macs: number; gflops: number; attentionMacs: number } {
  const f = config.frames / config.tubelet, S = (config.inputSize / config.patchSize) ** 2, D = config.hiddenSize;
  const blocks = spaceTimeMacs(config.attention, { frames: f, spatialTokens: S, hiddenSize: D, depth: config.depth, mlpRatio: config.mlpRatio, causal: config.causal });
  const tokenIn = config.tubelet * config.patchSize ** 2 * config.inChannels;
  const outC = config.learnSigma ? 2 * config.inChannels : config.inChannels;
  const nChunks = config.attention === "factorized" ? 9 : 6;
  const macs = blocks.macs + f * S * tokenIn * D + 256 * D + D * D + config.depth * nChunks * D * D + 2 * D * D
    + f * S * D * config.tubelet * config.patchSize ** 2 * outC;
  return { macs, gflops: macs / 1e9, attentionMacs: blocks.attention };
}

//################################################################################
//                                  STDiT Blocks                                 #
//################################################################################

/** Bool (T, T) mask for full spacetime attention, causal over frames: token (f, s) sees (f', s') iff f' ≤ f. */
function blockCausalMask(f: number, S: number): Tensor {
  const T = f * S, m = new Uint8Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[i * T + j] = Math.floor(j / S) <= Math.floor(i / S) ? 1 : 0;
  return tensor(m, { dtype: "bool", shape: [T, T] });
}

/**
 * A spatial–temporal block with adaLN-Zero. factorized: spatial attention inside each frame, then temporal
 * attention at each spatial position, then the MLP (9 modulation chunks). full: one attention over all f·S
 * tokens, then the MLP (6 chunks, exactly a DiT block on the flattened video).
 */
export class STDiTBlock extends Module {
  attn: Attention;
  attn_temp: Attention | null;
  mlp: Mlp;
  adaLN_modulation: Sequential;

  constructor(readonly hiddenSize: number, numHeads: number, readonly kind: SpaceTimeAttention, readonly causal: boolean, mlpRatio = 4) {
    super();
    this.attn = new Attention(hiddenSize, numHeads);
    this.attn_temp = kind === "factorized" ? new Attention(hiddenSize, numHeads) : null;
    this.mlp = new Mlp(hiddenSize, Math.trunc(hiddenSize * mlpRatio));
    this.adaLN_modulation = new Sequential(new SiLU(), new Linear(hiddenSize, (kind === "factorized" ? 9 : 6) * hiddenSize));
  }

  /** x: (N, f·S, D), c: (N, D), grid (f, S) → (N, f·S, D). */
  forward(x: Tensor, c: Tensor, grid: readonly [number, number]): Tensor {
    const [N, T, D] = x.shape;
    const [f, S] = grid;
    const norm = (t: Tensor) => F.layerNorm(t, [D], null, null, 1e-6);
    const g = (t: Tensor) => t.unsqueeze(1);                                        // (N, 1, D)
    const mods = chunk(this.adaLN_modulation.forward(c), this.kind === "factorized" ? 9 : 6, -1);
    if (this.kind === "full") {
      const [sh1, sc1, g1, sh2, sc2, g2] = mods;
      const mask = this.causal ? blockCausalMask(f, S) : null;
      x = x.add(g(g1).mul(this.attn.forward(modulate(norm(x), sh1, sc1), { mask })));   // (N, T, D)
      return x.add(g(g2).mul(this.mlp.forward(modulate(norm(x), sh2, sc2))));
    }
    const [shS, scS, gS, shT, scT, gT, shM, scM, gM] = mods;
    // spatial: attend within each frame
    const hs = modulate(norm(x), shS, scS).reshape([N * f, S, D]);                  // (N·f, S, D)
    x = x.add(g(gS).mul(this.attn.forward(hs).reshape([N, T, D])));                 // (N, T, D)
    // temporal: attend across frames at each spatial position
    const ht = modulate(norm(x), shT, scT).reshape([N, f, S, D]).transpose(1, 2).reshape([N * S, f, D]); // (N·S, f, D)
    const ot = this.attn_temp!.forward(ht, { causal: this.causal }).reshape([N, S, f, D]).transpose(1, 2).reshape([N, T, D]);
    x = x.add(g(gT).mul(ot));
    return x.add(g(gM).mul(this.mlp.forward(modulate(norm(x), shM, scM))));         // (N, T, D)
  }
}


class TubeletEmbed extends Module {
  proj: Linear;
  constructor(inDim: number, D: number) { super(); this.proj = new Linear(inDim, D); }
  forward(tokens: Tensor): Tensor { return this.proj.forward(tokens); }
}

/** Spatial–temporal diffusion transformer on video latents (N, F, C, H, W). */
export class STDiT extends Module {
  readonly config: STDiTConfig;
  readonly outChannels: number;
  readonly grid: [number, number, number]; // (f, h, w)
  x_embedder: TubeletEmbed;
  t_embedder: TimestepEmbedder;
  y_embedder: LabelEmbedder;
  pos_embed: Parameter;
  blocks: ModuleList<STDiTBlock>;
  final_layer: FinalLayer;

  constructor(config: STDiTName | string | Partial<STDiTConfig>, overrides: Partial<STDiTConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const cfg = stditConfig(config, overrides);
    this.config = cfg;
    this.outChannels = cfg.learnSigma ? 2 * cfg.inChannels : cfg.inChannels;
    const D = cfg.hiddenSize, p = cfg.patchSize, pt = cfg.tubelet;
    this.grid = [cfg.frames / pt, cfg.inputSize / p, cfg.inputSize / p];
    this.x_embedder = new TubeletEmbed(pt * p * p * cfg.inChannels, D);
    this.t_embedder = new TimestepEmbedder(D);
    this.y_embedder = new LabelEmbedder(cfg.numClasses, D, cfg.classDropoutProb);
    const T = this.grid[0] * this.grid[1] * this.grid[2];
    this.pos_embed = new Parameter(tensor(Float32Array.from(get3dSincosPosEmbed(D, this.grid)), { shape: [1, T, D] }), { requiresGrad: false });
    this.blocks = new ModuleList(Array.from({ length: cfg.depth }, () => new STDiTBlock(D, cfg.numHeads, cfg.attention, cfg.causal, cfg.mlpRatio)));
    this.blocks.map((b, i) => {
      b.attn.captureName = cfg.attention === "factorized" ? `blocks.${i}.attn.spatial` : `blocks.${i}.attn`;
      if (b.attn_temp) b.attn_temp.captureName = `blocks.${i}.attn.temporal`;
    });
    this.final_layer = new FinalLayer(D, 1, pt * p * p * this.outChannels)  // one output vector per tubelet;
    ditInit(this, opts.seed ?? 0);
  }

  /** x (N, F, C, H, W), t (N), y (N) → (N, F, outC, H, W). */
  forward(x: Tensor, t: Tensor, y: Tensor): Tensor {
    const { frames, inChannels: C, inputSize: S, patchSize: p, tubelet: pt } = this.config;
    if (x.rank !== 5 || x.shape[1] !== frames || x.shape[2] !== C || x.shape[3] !== S || x.shape[4] !== S) {
      throw new NextframeError(`STDiT.forward: x must be (N, ${frames}, ${C}, ${S}, ${S}), got [${x.shape.join(", ")}]`);
    }
    const [f, h, w] = this.grid;
    let hdn = this.x_embedder.forward(patchify3dOp(x, pt, p)).add(this.pos_embed);      // (N, T, D)
    const c = this.t_embedder.forward(t).add(this.y_embedder.forward(y));               // (N, D)
    for (const block of this.blocks) hdn = block.forward(hdn, c, [f, h * w]);           // (N, T, D)
    const out = this.final_layer.forward(hdn, c);                                       // (N, T, pt·p·p·outC)
    return unpatchify3dOp(out, pt, p, this.outChannels, this.grid);                     // (N, F, outC, H, W)
  }

  complexity(): ReturnType<typeof stditComplexity> { return stditComplexity(this.config); }
}
