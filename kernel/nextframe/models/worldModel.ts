/**
 * A next-frame diffusion world model: given the latents of the last K frames and the player's action, a
 * spatial–temporal DiT (STDiT blocks from stdit.ts, causal in time) denoises the latent of frame K+1.
 * Rolled out autoregressively it simulates the world for any number of frames (Sora report: "video generation
 * models as world simulators"; GameNGen, Valevski et al. 2024, https://arxiv.org/abs/2408.14837, is the same
 * recipe for a game engine; DIAMOND, Alonso et al. 2024, https://arxiv.org/abs/2405.12399, for Atari).
 *
 *   latents z_{t-K+1..t} (clean) ─┐
 *   noisy z_{t+1} at step τ ──────┼─▶ [patchify → + pos → STDiT blocks (spatial, causal temporal, MLP)] ─▶ ẑ_{t+1} (x₀)
 *   τ, action a_t ────────────────┘                     adaLN-Zero conditioning c = emb(τ) + emb(a_t)
 *
 * Frames enter as latents of the autoencoder (autoencoder.ts). The model predicts x₀ (the clean latent),
 * which keeps few-step DDIM (1–4 steps, diffusion/) usable for play mode.
 *
 * Shape letters: N batch, F = K + 1 frames in the window, C latent channels, H/W latent size, p patch size,
 * S = (H/p)·(W/p) spatial tokens per frame, T = F·S tokens, D hidden size.
 */
import { F, Tensor, cat, compile, tensor, type CompiledFunction } from "../engine/index.js";
import { NormalRng } from "../diffusion/rng";
import { Embedding, Linear, Module, ModuleList, Parameter } from "../nn/index.js";
import { get3dSincosPosEmbed } from "../patches/posEmbed";
import { patchify3dOp, unpatchify3dOp } from "../patches/ops";
import { FinalLayer, TimestepEmbedder, ditInit, modulate } from "./dit";
import { STDiTBlock } from "./stdit";
import { createDiffusion, type GaussianDiffusion } from "../diffusion/index";
import { Action, NUM_ACTIONS } from "../worlds/videoWorld";
import type { Autoencoder } from "./autoencoder";
import { framesToTensor, tensorDataToFrames } from "./autoencoder";

//################################################################################
//                                   Config                                      #
//################################################################################

export interface WorldModelConfig {
  /** K: past latent frames the model sees. */
  contextFrames: number;
  latentChannels: number;
  latentSize: number;
  patchSize: number;
  hiddenSize: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  numActions: number;
  /** Diffusion training steps (the sampler respaces them to a few DDIM steps). */
  diffusionSteps: number;
  /** Latents are divided by this before diffusion (≈ their std over the data, as SD's 0.18215). */
  latentScale: number;
  /** Std of the Gaussian noise added to context latents while training (robustness to rollout drift). */
  contextNoise: number;
}

export const WORLD_MODEL_DEFAULTS: WorldModelConfig = {
  contextFrames: 7, latentChannels: 4, latentSize: 8, patchSize: 2, hiddenSize: 96, depth: 4, numHeads: 4, mlpRatio: 4,
  numActions: NUM_ACTIONS, diffusionSteps: 1000, latentScale: 1, contextNoise: 0.05,
};

/** Named sizes; "wm-xs": 8 frames × 4 tokens (4×4 latent patches), 4 blocks of width 96: trains in minutes and plays at ≥ 15 fps on 2 cores. */
export const WORLD_MODEL_CONFIGS = {
  "wm-xs": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, patchSize: 4 },
  "wm-s": { hiddenSize: 128, depth: 6, numHeads: 4, contextFrames: 11, patchSize: 2 },
  // for the 16×16×4 latents of "ae-32-f2": 8×8 latent patches keep 4 tokens per frame
  "wm-xs-16": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 8 },
} as const satisfies Record<string, Partial<WorldModelConfig>>;

export function worldModelConfig(name: keyof typeof WORLD_MODEL_CONFIGS | string | null, overrides: Partial<WorldModelConfig> = {}): WorldModelConfig {
  let base: Partial<WorldModelConfig> = {};
  if (name !== null) {
    const found = (WORLD_MODEL_CONFIGS as Record<string, Partial<WorldModelConfig>>)[name];
    if (!found) throw new Error(`worldModelConfig: unknown config "${name}"; expected one of ${Object.keys(WORLD_MODEL_CONFIGS).join(", ")}`);
    base = found;
  }
  const c: WorldModelConfig = { ...WORLD_MODEL_DEFAULTS, ...base, ...overrides };
  for (const k of ["contextFrames", "latentChannels", "latentSize", "patchSize", "hiddenSize", "depth", "numHeads", "numActions", "diffusionSteps"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`worldModelConfig: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.latentSize % c.patchSize) throw new Error(`worldModelConfig: latentSize ${c.latentSize} is not divisible by patchSize ${c.patchSize}`);
  if (c.hiddenSize % 16 || c.hiddenSize % c.numHeads) throw new Error(`worldModelConfig: hiddenSize ${c.hiddenSize} must be divisible by 16 and by numHeads ${c.numHeads}`);
  if (!(c.latentScale > 0)) throw new Error(`worldModelConfig: latentScale must be > 0, got ${c.latentScale}`);
  return c;
}

//################################################################################
//                                  The model                                    #
//################################################################################


/** The denoiser: STDiT blocks (factorized space/time attention, causal over frames) with action conditioning. */
export class WorldModel extends Module {
  readonly config: WorldModelConfig;
  readonly grid: [number, number, number]; // (F, h, w)
  x_embedder: Linear;
  t_embedder: TimestepEmbedder;
  /** Embedding of the action that produced each frame, added to that frame's tokens and (for the target) to c. */
  a_embedder: Embedding;
  pos_embed: Parameter;
  blocks: ModuleList<STDiTBlock>;
  final_layer: FinalLayer;

  constructor(config: Partial<WorldModelConfig> | string = {}, overrides: Partial<WorldModelConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const cfg = typeof config === "string" ? worldModelConfig(config, overrides) : worldModelConfig(null, { ...config, ...overrides });
    this.config = cfg;
    const D = cfg.hiddenSize, p = cfg.patchSize, Fr = cfg.contextFrames + 1, g = cfg.latentSize / p;
    this.grid = [Fr, g, g];
    this.x_embedder = new Linear(p * p * cfg.latentChannels, D);
    this.t_embedder = new TimestepEmbedder(D);
    this.a_embedder = new Embedding(cfg.numActions, D);
    this.pos_embed = new Parameter(tensor(Float32Array.from(get3dSincosPosEmbed(D, this.grid)), { shape: [1, Fr * g * g, D] }), { requiresGrad: false });
    this.blocks = new ModuleList(Array.from({ length: cfg.depth }, () => new STDiTBlock(D, cfg.numHeads, "factorized", true, cfg.mlpRatio)));
    this.blocks.map((b, i) => {
      b.attn.captureName = `blocks.${i}.attn.spatial`;
      if (b.attn_temp) b.attn_temp.captureName = `blocks.${i}.attn.temporal`;
    });
    this.final_layer = new FinalLayer(D, p, cfg.latentChannels);
    ditInit(this, opts.seed ?? 0);
    // the action table is a small N(0, 0.02) embedding like DiT's label table
    const a = this.a_embedder.weight._value as Float32Array;
    let s = (opts.seed ?? 0) + 17;
    for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = ((s / 4294967296) - 0.5) * 0.04; }
  }

  /** F = K + 1 frames per window. */
  get frames(): number { return this.config.contextFrames + 1; }

  /**
   * x (N, F, C, H, W): K clean context latents then the noisy target latent (all already divided by latentScale);
   * t (N) diffusion step of the target; actions (N, F) int32: actions[:, f] produced frame f (the last one is the
   * player's action now). Returns the predicted clean latents (N, F, C, H, W); only frame F−1 is trained.
   * Causal in time: output frame f depends on input frames ≤ f only (and on t and the last action via c).
   */
  forward(x: Tensor, t: Tensor, actions: Tensor): Tensor {
    const { latentChannels: C, latentSize: H, patchSize: p } = this.config;
    const Fr = this.frames;
    if (x.rank !== 5 || x.shape[1] !== Fr || x.shape[2] !== C || x.shape[3] !== H || x.shape[4] !== H) {
      throw new Error(`WorldModel.forward: x must be (N, ${Fr}, ${C}, ${H}, ${H}), got [${x.shape.join(", ")}]`);
    }
    const N = x.shape[0]!;
    if (actions.rank !== 2 || actions.shape[0] !== N || actions.shape[1] !== Fr) throw new Error(`WorldModel.forward: actions must be (N, F) = [${N}, ${Fr}], got [${actions.shape.join(", ")}]`);
    const [f, h, w] = this.grid;
    const S = h * w, D = this.config.hiddenSize;
    const aEmb = this.a_embedder.forward(actions);                                       // (N, F, D)
    let hdn = this.x_embedder.forward(patchify3dOp(x, 1, p)).add(this.pos_embed);       // (N, T, D)
    hdn = hdn.reshape([N, f, S, D]).add(aEmb.unsqueeze(2)).reshape([N, f * S, D]);      // (N, T, D)
    const c = this.t_embedder.forward(t).add(aEmb.slice(1, Fr - 1, Fr).squeeze(1));     // (N, D)
    for (const block of this.blocks) hdn = block.forward(hdn, c, [f, S]);               // (N, T, D)
    const out = this.final_layer.forward(hdn, c);                                       // (N, T, p·p·C)
    return unpatchify3dOp(out, 1, p, C, this.grid);                                     // (N, F, C, H, W)
  }

  /** The target frame's prediction only: (N, C, H, W). */
  predictNext(x: Tensor, t: Tensor, actions: Tensor): Tensor {
    const Fr = this.frames;
    return this.forward(x, t, actions).slice(1, Fr - 1, Fr).squeeze(1);                 // (N, C, H, W)
  }
}

/** The diffusion the world model trains with: x₀-prediction, cosine schedule, fixed variance (DDIM needs no Σ). */
export function worldModelDiffusion(config: WorldModelConfig, samplingSteps?: number): GaussianDiffusion {
  return createDiffusion({
    diffusionSteps: config.diffusionSteps, noiseSchedule: "squaredcos_cap_v2", predict: "x0", learnSigma: false,
    // [S] = S evenly spaced steps including the last one (DiT's respacing by section counts)
    timestepRespacing: samplingSteps === undefined ? "" : [samplingSteps],
  });
}

//################################################################################
//                         Rollouts: the model as a simulator                    #
//################################################################################

/** Maps the World Viewer's keys to the video world's actions. */
export const VIEWER_ACTIONS: Record<string, Action> = {
  noop: Action.Noop, left: Action.Left, right: Action.Right, up: Action.Up, down: Action.Down, space: Action.JumpEat,
};

export interface SimulatorOptions {
  /** DDIM steps per frame (1–4 for play mode). */
  steps?: number;
  /** Seed of the sampling noise. */
  seed?: number;
  /**
   * Anchor decoding (default true): frame = last observed frame + D(ẑ) − D(z_observed), so the autoencoder's
   * reconstruction error on what does not change cancels and only the predicted change is drawn (like a video
   * codec's P-frames). false: frame = D(ẑ), the plain decode.
   */
  anchored?: boolean;
}

/**
 * A learned simulator: keeps the last K latents, and each `step(action)` samples the next latent with few-step
 * DDIM (one compiled denoiser graph, traced once) and decodes it (one compiled decoder graph).
 */
export class WorldSimulator {
  readonly model: WorldModel;
  readonly ae: Autoencoder;
  readonly steps: number;
  private diffusion: GaussianDiffusion;
  private sample: CompiledFunction<[Tensor, Tensor, Tensor], Tensor>;
  private decode: CompiledFunction<[Tensor], Tensor>;
  private encode: CompiledFunction<[Tensor], Tensor>;
  /** Context latents, scaled: K × (C·H·W). */
  private context: Float32Array[] = [];
  private actions: number[] = [];
  private seed: number;
  readonly anchored: boolean;
  /** Last observed frame (pixels in [-1, 1], (3, H, W)) and its decode D(z). */
  private anchorPixels: Float32Array | null = null;
  private anchorDecoded: Float32Array | null = null;
  /** Frames generated since the last reset. */
  t = 0;

  constructor(model: WorldModel, ae: Autoencoder, opts: SimulatorOptions = {}) {
    if (ae.config.latentChannels !== model.config.latentChannels || ae.latentSize !== model.config.latentSize) {
      throw new Error(`WorldSimulator: autoencoder latents (${ae.latentShape.join("×")}) do not match the world model's (${model.config.latentChannels}×${model.config.latentSize}×${model.config.latentSize})`);
    }
    this.model = model;
    this.ae = ae;
    this.steps = opts.steps ?? 2;
    if (!Number.isInteger(this.steps) || this.steps < 1 || this.steps > model.config.diffusionSteps) throw new Error(`WorldSimulator: steps must be an integer in [1, ${model.config.diffusionSteps}], got ${this.steps}`);
    this.seed = opts.seed ?? 0;
    this.anchored = opts.anchored ?? true;
    this.diffusion = worldModelDiffusion(model.config, this.steps);
    this.sample = compile((ctx: Tensor, noise: Tensor, a: Tensor) => this.sampleGraph(ctx, noise, a));
    this.decode = compile((z: Tensor) => ae.decode(z));
    this.encode = compile((x: Tensor) => ae.encode(x));
  }

  get latentLength(): number { return this.model.config.latentChannels * this.model.config.latentSize ** 2; }

  /** Starts from K ground-truth frames (RGB uint8 (K, H, W, 3)) and the K actions that produced them. */
  async reset(frames: Uint8Array, actions: ArrayLike<number>): Promise<void> {
    const K = this.model.config.contextFrames, size = this.ae.config.imageSize;
    if (frames.length !== K * size * size * 3) throw new Error(`WorldSimulator.reset: expected ${K} frames of ${size}×${size}×3 (${K * size * size * 3} bytes), got ${frames.length}`);
    if (actions.length !== K) throw new Error(`WorldSimulator.reset: expected ${K} actions (one per context frame), got ${actions.length}`);
    const x = framesToTensor(frames, K, size);
    const z = (await (await this.encode(x)).data()) as Float32Array;
    const L = this.latentLength, s = this.model.config.latentScale, P = 3 * size * size;
    this.context = Array.from({ length: K }, (_, k) => z.slice(k * L, (k + 1) * L).map((v) => v / s));
    this.anchorPixels = ((await x.data()) as Float32Array).slice((K - 1) * P, K * P);
    this.anchorDecoded = await this.decodeRaw(this.context[K - 1]!, 1);
    this.actions = Array.from(actions, (a) => checkAction(a, this.model.config.numActions));
    this.t = 0;
  }

  /**
   * The fast path: every DDIM step unrolled into ONE compiled graph (context and actions fed once, x₀ clamped
   * to the latent range at each step), so a frame costs one session.run. Deterministic DDIM (η = 0):
   * ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t),  x_{t−1} = √ᾱ_{t−1} x̂₀ + √(1 − ᾱ_{t−1}) ε̂  (Song et al. 2021, eq. 12).
   */
  private sampleGraph(ctx: Tensor, noise: Tensor, acts: Tensor): Tensor {
    const d = this.diffusion, lim = 1 / this.model.config.latentScale;
    let x = noise;                                                                        // (1, C, H, W)
    for (let i = d.numTimesteps - 1; i >= 0; i--) {
      const ab = d.c.alphasCumprod[i]!, abPrev = d.c.alphasCumprodPrev[i]!;
      const tOrig = tensor(Float32Array.of(d.mapTimesteps(Int32Array.of(i))[0]!), { shape: [1] });
      const win = cat([ctx, x.unsqueeze(1)], 1);                                          // (1, F, C, H, W)
      const x0 = this.model.predictNext(win, tOrig, acts).clamp(-lim, lim);               // (1, C, H, W)
      const eps = x.sub(x0.mul(Math.sqrt(ab))).div(Math.sqrt(1 - ab));
      x = i === 0 ? x0 : x0.mul(Math.sqrt(abPrev)).add(eps.mul(Math.sqrt(1 - abPrev)));
    }
    return x;
  }

  /** Samples the next latent (scaled) for `action` and pushes it into the context. */
  async stepLatent(action: number): Promise<Float32Array> {
    if (this.context.length === 0) throw new Error("WorldSimulator.step: call reset(frames, actions) first");
    const a = checkAction(action, this.model.config.numActions);
    const { latentChannels: C, latentSize: H } = this.model.config;
    const K = this.model.config.contextFrames, L = this.latentLength, Fr = K + 1;
    const acts = tensor(Int32Array.from([...this.actions, a]), { shape: [1, Fr] });
    const ctx = new Float32Array(K * L);
    this.context.forEach((z, k) => ctx.set(z, k * L));
    const noise = new NormalRng(this.seed + 7919 * this.t).randn(L);
    const out = await this.sample(tensor(ctx, { shape: [1, K, C, H, H] }), tensor(noise, { shape: [1, C, H, H] }), acts);
    const sample = ((await out.data()) as Float32Array).slice();
    this.context.shift();
    this.context.push(sample);
    this.actions.shift();
    this.actions.push(a);
    this.t++;
    return sample;
  }

  /** Decoder output (n, 3, size, size) in [-1, 1] for scaled latents. */
  private async decodeRaw(latents: Float32Array, n: number): Promise<Float32Array> {
    const { latentChannels: C, latentSize: H, latentScale: s } = this.model.config;
    const z = latents.map((v) => v * s);
    return (await (await this.decode(tensor(z, { shape: [n, C, H, H] }))).data()) as Float32Array;
  }

  /** Decodes scaled latents (n, C, H, W) to RGB uint8 frames (n, size, size, 3) (anchored unless disabled). */
  async decodeFrames(latents: Float32Array, n: number, opts: { anchored?: boolean } = {}): Promise<Uint8Array> {
    const x = await this.decodeRaw(latents, n);
    if ((opts.anchored ?? this.anchored) && this.anchorPixels && this.anchorDecoded) {
      const P = this.anchorPixels.length;
      for (let i = 0; i < x.length; i++) x[i] = this.anchorPixels[i % P]! + x[i]! - this.anchorDecoded[i % P]!;
    }
    return tensorDataToFrames(x, n, this.ae.config.imageSize);
  }

  /** One frame: RGB uint8 (size, size, 3). */
  async step(action: number): Promise<Uint8Array> {
    return this.decodeFrames(await this.stepLatent(action), 1);
  }

  /** Autoregressive rollout of any length: one frame per action. Returns (n, size, size, 3) RGB uint8. */
  async rollout(actions: ArrayLike<number>): Promise<Uint8Array> {
    const L = this.latentLength;
    const lat = new Float32Array(actions.length * L);
    for (let i = 0; i < actions.length; i++) lat.set(await this.stepLatent(actions[i]!), i * L);
    return actions.length ? this.decodeFrames(lat, actions.length) : new Uint8Array(0);
  }
}

function checkAction(a: number, n: number): number {
  if (!Number.isInteger(a) || a < 0 || a >= n) throw new Error(`world model: action must be an integer in [0, ${n}) (${["noop", "left", "right", "up", "down", "jump/eat"].slice(0, n).join(", ")}), got ${a}`);
  return a;
}

/** A frame as the viewer takes it: RGB uint8 with its (H, W, 3) shape. */
export interface ViewerFrame { data: Uint8Array; shape: [number, number, number] }

/**
 * The simulator as a World Viewer world (display/worldViewer.ts `playWorld`): reset() starts again from the
 * given ground-truth context frames; step(key) maps the viewer's key ("left", "space", ...) to an action.
 */
export function playableWorldModel(sim: WorldSimulator, start: { frames: Uint8Array; actions: ArrayLike<number> }): {
  reset(): Promise<{ frame: ViewerFrame }>;
  step(key: string): Promise<{ frame: ViewerFrame }>;
} {
  const K = sim.model.config.contextFrames, size = sim.ae.config.imageSize, F3 = size * size * 3;
  const shape = (f: Uint8Array): ViewerFrame => ({ data: f, shape: [size, size, 3] }); // (H, W, 3) RGB uint8
  return {
    async reset() {
      await sim.reset(start.frames, start.actions);
      return { frame: shape(start.frames.slice((K - 1) * F3, K * F3)) };
    },
    async step(key: string) {
      const a = VIEWER_ACTIONS[key];
      if (a === undefined) throw new Error(`world model: unknown key "${key}"; expected one of ${Object.keys(VIEWER_ACTIONS).join(", ")}`);
      return { frame: shape(await sim.step(a)) };
    },
  };
}
