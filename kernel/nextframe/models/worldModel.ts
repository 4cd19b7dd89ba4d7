/**
 * A next-frame diffusion world model: given the latents of the last K frames and the player's action, a
 * spatial–temporal DiT (STDiT blocks from stdit.ts, causal in time) denoises the latent of frame K+1.
 * Rolled out autoregressively it simulates the world for any number of frames (Sora report: "video generation
 * models as world simulators"; GameNGen, Valevski et al. 2024, https://arxiv.org/abs/2408.14837, is the same
 * recipe for a game engine; DIAMOND, Alonso et al. 2024, https://arxiv.org/abs/2405.12399, for Atari).
 *
 *   latents z_{t-K+1..t} (clean) ─┐
 *   noisy z_{t+1} at step τ ──────┼─▶ [patchify → + pos → STDiT blocks (spatial, causal temporal, MLP)] ─▶ ẑ_{t+1} (x₀)
 *   τ, action a_t, caption ───────┘                     adaLN-Zero conditioning c = emb(τ) + emb(a_t) [+ emb(caption)]
 *
 * Frames enter as latents of the autoencoder (autoencoder.ts). The model predicts x₀ (the clean latent),
 * which keeps few-step DDIM (1–4 steps, diffusion/) usable for play mode. With `residual` (config option) it
 * predicts x₀ as the last context latent plus a change, ẑ_{t+1} = z_t + Δ: the adaLN-Zero final layer starts
 * at Δ = 0, so an untrained model IS the copy-last-frame baseline and training can only learn what moves (as in
 * residual video diffusion, Yang et al. 2022, https://arxiv.org/abs/2203.09481, and a video codec's P-frames).
 * With `localPath` a small convolution per action adds the local, linear part of the change (a ball keeps moving
 * the way it moved) beside the transformer, which learns it only slowly (chapter 7 measures both).
 *
 * With `memoryFrames` the window also holds a few older frames (say 10 to 24 steps back) before the K recent ones.
 *
 * Shape letters: N batch, F = M + K + 1 frames in the window (M memory frames, usually 0), C latent channels,
 * H/W latent size, p patch size, S = (H/p)·(W/p) spatial tokens per frame, T = F·S tokens, D hidden size.
 */
import { F, Tensor, capture, cat, compile, tensor, withCapture, type CompiledFunction } from "../engine/index.js";
import { NextframeError } from "../engine/errors";
import { Generator } from "../engine/generator.js";
import { halt, shouldHalt } from "../engine/interrupt";
import { Conv2d, Embedding, Linear, Module, ModuleList, Parameter } from "../nn/index.js";
import { zeros_ } from "../nn/init.js";
import { get3dSincosPosEmbed } from "../patches/posEmbed";
import { patchify3dOp, unpatchify3dOp } from "../patches/ops";
import { FinalLayer, TimestepEmbedder, ditInit } from "./dit";
import { STDiTBlock } from "./stdit";
import type { SpaceTimeAttention } from "./flops";
import { createDiffusion, type GaussianDiffusion } from "../diffusion/index";
import { ACTION_NAMES, Action, NUM_ACTIONS, captionCorpus } from "../worlds/videoWorld";
import { wordTokenizer, type Tokenizer } from "../worlds/tokenizer";
import type { Autoencoder } from "./autoencoder";
import { framesToTensor, tensorDataToFrames } from "./autoencoder";

//################################################################################
//                                   Config                                      #
//################################################################################

/**
 * Everything a world model needs: context frames, latent size, patch, width, depth, heads, actions, diffusion steps,
 * latent scale, context noise (fixed or in levels), residual/local paths, memory frames and captions.
 */
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
  /**
   * Std of the Gaussian noise added to the older context latents while training (robustness to rollout drift, as
   * in GameNGen's noise augmentation). The shipped configs use 0: a ball moves about 0.2 latent pixels a frame, and
   * noise of 0.05 on the scaled latents hides the frame-to-frame differences that carry its velocity. Measured with the
   * shipped recipe, 0.05 → 0: next-latent error 0.68 → 0.56 of copy-last's (0.02: 0.60), a ball 4 frames on 1.66 →
   * 1.52 px off (copy-last 1.81). The price is drift under one action repeated: after 8 "left" or "right" moves the
   * agent is lost in 14 of 22 of chapter 8's counterfactual rollouts against 7 of 22 with 0.05 (0.02: 15).
   */
  contextNoise: number;
  /**
   * With `residual`: the largest std of Gaussian noise put on the LAST context latent while training (each window draws
   * its level uniformly in [0, lastContextNoise]; 0 = always clean, as the shipped course models). A residual model adds
   * its change to that latent, so trained on clean ones it copies whatever its own last frame got wrong; trained on
   * noisy ones the change also removes what does not belong, and a rollout recovers from its own drift (GameNGen's
   * noise augmentation, Valevski et al. 2024, applied to the frame the change starts from).
   */
  lastContextNoise: number;
  /** Predict x₀ = last context latent + Δ (true) or x₀ directly (false). */
  residual: boolean;
  /**
   * Where the diffusion's noise lives. 0: the noisy target is √ᾱ·z_{t+1} + √(1−ᾱ)·ε, noise on the scale of the latent
   * itself (std 1), so even the least noisy sampling steps drown the small frame-to-frame change and a model learns to
   * ignore its noisy input (a deterministic regressor of the mean next latent). > 0 (with `residual`): diffusion runs
   * on the change, the noisy target is z_t + √ᾱ·(z_{t+1} − z_t) + √(1−ᾱ)·deltaStd·ε, so the noise levels span the
   * scale of the change (EDM's σ_data; Karras et al. 2022, DIAMOND) and a few DDIM steps draw a sample of it rather
   * than its mean. The value is about the std of the change of the scaled latents on the training clips.
   */
  deltaStd: number;
  /**
   * With `residual`: a local path beside the transformer, one 3×3 convolution per action of the last latent and its
   * last two changes (the current action's is used; zero-initialised, trained with the rest), added to Δ. Local
   * motion is a linear rule over latent neighbourhoods (chapter 7's local linear baseline): the convolution learns it
   * directly, the transformer the rest. Per action, because the agent's next move is the action's, not its last one's.
   * It sees the older frames with the same context noise as the transformer in training.
   */
  localPath: boolean;
  /**
   * Caption conditioning: size of the caption token vocabulary (0 = none). Tokens are ids + 1 (0 pads); the
   * caption is the mean of its token embeddings, added to c; an all-pad caption is the null caption (CFG).
   */
  captionVocab: number;
  /**
   * How the blocks attend: "factorized" (spatial inside each frame, then temporal at each position; STDiT, the
   * default) or "full" (one attention over all frames' tokens, causal over frames; Sora's spacetime patches).
   */
  attention: SpaceTimeAttention;
  /**
   * A sparse long memory: older frames the model also sees, as offsets before the target frame (integers greater
   * than contextFrames; [24, 18] = the frames 24 and 18 steps back). They enter the window oldest first, before the
   * K recent frames, with their true times in the temporal position embedding. A ball that went behind the tree
   * 15 frames ago is out of a 7-frame window but in its memory. Before the clip (or simulator) start they repeat
   * the oldest frame there is. [] = none.
   */
  memoryFrames: readonly number[];
  /**
   * GameNGen's noise-level conditioning (Valevski et al. 2024, section 3.2.1): the number of discrete context-noise
   * levels (0 = off, else ≥ 2). In training each window draws a level b uniformly from 0 … contextNoiseLevels − 1 and
   * EVERY context frame gets Gaussian noise of std contextNoiseMax·b/(contextNoiseLevels − 1) (level 0 is clean); the
   * model is told b through a learned embedding added to c, so it knows how far to trust its context: a clean context
   * is followed closely, a noisy one is corrected toward frames the world draws. The sampler says which level its
   * context has (SimulatorOptions.contextLevel). Replaces contextNoise and lastContextNoise (both must be 0).
   */
  contextNoiseLevels: number;
  /** With contextNoiseLevels: the context noise's std at the highest level (scaled latent units; GameNGen uses 0.7). */
  contextNoiseMax: number;
}

/**
 * The fields a named size leaves open (with no name, the whole config): 7 context frames of 8×8×4 latents, patch 2,
 * width 96, depth 4, 4 heads, 1000 diffusion steps, context noise 0.05, factorised attention, no residual path,
 * memory, captions or context-noise levels.
 */
export const WORLD_MODEL_DEFAULTS: WorldModelConfig = {
  contextFrames: 7, latentChannels: 4, latentSize: 8, patchSize: 2, hiddenSize: 96, depth: 4, numHeads: 4, mlpRatio: 4,
  numActions: NUM_ACTIONS, diffusionSteps: 1000, latentScale: 1, contextNoise: 0.05, lastContextNoise: 0, residual: false, deltaStd: 0, localPath: false, captionVocab: 0,
  attention: "factorized", memoryFrames: [], contextNoiseLevels: 0, contextNoiseMax: 0,
};

/**
 * Named sizes. "wm-xs": 8 frames × 4 tokens (4×4 latent patches of the 8×8×4 "ae-32" latents), 4 blocks of width 96:
 * trains in minutes and plays at ≥ 15 fps on 2 cores. "wm-xs-16" (the shipped model): 16 tokens a frame on the 16×16×4
 * "ae-32-f2" latents, predicting the change from the last frame (residual), with a local path beside the transformer,
 * trained on clean context frames (contextNoise 0).
 * "wm-xs-16-mem": the same plus four memory frames 10 to 24 steps back, where most balls behind the tree were last seen.
 * "wm-play" (issue 32, the playable model): "wm-xs-16" with the diffusion on the change from the last latent
 * (deltaStd 0.1: the rms change of the scaled latents between frames of the playable world is 0.06, sparse, larger
 * where something moves), and GameNGen's noise augmentation of the context frames (the older ones 0.05, the last one,
 * which the change is added to, a level drawn up to 0.05), so its own slightly wrong frames look like training inputs.
 * Measured with 4000 steps each (validation clips 32–59, 1 DDIM step, action guidance 4): last-frame noise up to
 * 0.05 → 0.2 → 0.4: palette at step 64 0.59 → 0.89 → 0.90, agent still there at step 64 in 2 → 10 → 7 of 12 clips,
 * held key followed in 9 → 11 → 3 of 19 rollouts. 0.2 keeps the world far better over 64 keys, but in the World
 * Viewer test (test/views/playModel.test.ts) its agent was lost after 6 held presses in 5 of the 8 rollouts (1 step,
 * guidance 4; 4 of 8 with 2 steps, guidance 2) and it separated left from right in 3 of chapter 8's 9 clips against
 * 0.05's 6, so that model kept 0.05.
 * "wm-play-lv3" / "wm-play-lv7" (issue 32, measured, not shipped): "wm-play" with GameNGen's context-noise
 * levels instead of its fixed context noise — 10 levels, every context frame noised at the window's level, up to 0.3 or
 * 0.7, the level told to the model (contextNoiseLevels). Card metrics (held-out clips 16–31, left/right on 0–11; 2 DDIM
 * steps, action guidance 2, a clean context), 4000 steps each on 1 thread (3331 s / 3306 s, two runs side by side on a
 * 2-core machine at load 5–14):
 *   held key followed  12/21 (wm-play) → 5/21 (lv3) → 16/21 (lv7); agent error after 8 moves ÷ copy-last's 0.75 → 0.97
 *   (14 of 21 lost) → 0.58 (5 lost); left/right 6/9 → 2/9 → 4/9; palette at step 64 0.707 → 0.868 → 0.905; agent at step
 *   64 in 1 → 4 → 6 of 15 clips; PSNR above copy-last at h = 1–2 → 1–8 → 1–5.
 * Level 0.3 draws sharper short rollouts but loses the agent under a held key; 0.7 keeps the world's colours and the
 * agent longest and follows the most keys. The sampler's level (validation clips 32–47, left/right 48–59, lv7, 2 steps):
 * level 0 follows 7/19, left/right 4/8, palette 0.914, agent at 64 7/12, PSNR 0–0.22 dB below copy-last; level 1 with
 * its noise 8/19, 3/8, 0.923, 5/12, up to 0.9 dB below; level 2 with noise 5/19, 2/8, 0.950, 5/12; level 3 told without
 * noise 5/19, 3/8, 0.971, 4/12, up to 1.5 dB below; guidance 3 at level 1 9/19, 5/8, 0.912, 4/12; guidance 3 at level
 * 0 9/19, 5/8, 0.899, 7/12, 0.23–0.35 dB below (wm-play at its 2 steps, guidance 2 on the same clips: 7/19, 4/8, 0.719,
 * 1/12, 0.22–1.25 dB below). A level > 0 keeps the colours (to 0.97 when told, not added) at the cost of keys and
 * short-horizon PSNR. All of these are one training run each under the library's former tensor generator. Retrained
 * under the one generator at seeds 3 and 4 (notebooks/checkpoints/world-model-play.tried.json), wm-play follows 7 and 8
 * of 21 held keys and separates 1 of 9, lv7 6 and 6, 1 and 0 of 9, with lv7 still keeping colours and the agent longer
 * (palette at 64 0.86–0.88 vs 0.68–0.69): the seed moves the key-following metrics as much as any variant did.
 * Trained 8000 steps instead of 4000 (seeds 3 and 4, 1320 s each on 1 thread), wm-play follows 9 and 6 of 21, separates
 * 2 and 1 of 9 and keeps the colours (0.83, 0.82) and the agent (9 and 2 of 15) better: the shipped recipe since.
 * More noise helped, fewer noisy windows hurt: lv7 with half its windows at level 0 (a one-off run, 4000 steps, 1051 s on
 * 1 thread at load 2–5) followed 3/21, lost 14 of 21 agents, separated 0/9, palette at 64 0.759, agent at 64 3/15.
 * Levels up to 1.0 (a one-off run, 716 s on 1 thread at load ~2) keep the colours best (palette at 64 0.920, agent at 64
 * 5/15, 5 of 21 lost) but follow 3/21 keys, separate 3/9 and stay 0.08–0.5 dB below copy-last's PSNR: 0.7 is the best
 * maximum tried. One training seed per variant.
 */
export const WORLD_MODEL_CONFIGS = {
  "wm-xs": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, patchSize: 4 },
  "wm-s": { hiddenSize: 128, depth: 6, numHeads: 4, contextFrames: 11, patchSize: 2 },
  "wm-xs-16": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 4, residual: true, localPath: true, contextNoise: 0 },
  "wm-xs-16-mem": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 4, residual: true, localPath: true, contextNoise: 0, memoryFrames: [24, 18, 14, 10] },
  "wm-play": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 4, residual: true, localPath: true, contextNoise: 0.05, lastContextNoise: 0.05, deltaStd: 0.1 },
  "wm-play-lv3": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 4, residual: true, localPath: true, contextNoise: 0, lastContextNoise: 0, deltaStd: 0.1, contextNoiseLevels: 10, contextNoiseMax: 0.3 },
  "wm-play-lv7": { hiddenSize: 96, depth: 4, numHeads: 4, contextFrames: 7, latentSize: 16, patchSize: 4, residual: true, localPath: true, contextNoise: 0, lastContextNoise: 0, deltaStd: 0.1, contextNoiseLevels: 10, contextNoiseMax: 0.7 },
} as const satisfies Record<string, Partial<WorldModelConfig>>;

/**
 * A full config from a table name (or null for the defaults) plus overrides; unknown names list the valid ones and
 * bad values are named.
 */
export function worldModelConfig(name: keyof typeof WORLD_MODEL_CONFIGS | string | null, overrides: Partial<WorldModelConfig> = {}): WorldModelConfig {
  let base: Partial<WorldModelConfig> = {};
  if (name !== null) {
    const found = (WORLD_MODEL_CONFIGS as Record<string, Partial<WorldModelConfig>>)[name];
    if (!found) throw new NextframeError(`worldModelConfig: unknown config "${name}"; expected one of ${Object.keys(WORLD_MODEL_CONFIGS).join(", ")}`);
    base = found;
  }
  const c: WorldModelConfig = { ...WORLD_MODEL_DEFAULTS, ...base, ...overrides };
  for (const k of ["contextFrames", "latentChannels", "latentSize", "patchSize", "hiddenSize", "depth", "numHeads", "numActions", "diffusionSteps"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new NextframeError(`worldModelConfig: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.latentSize % c.patchSize) throw new NextframeError(`worldModelConfig: latentSize ${c.latentSize} is not divisible by patchSize ${c.patchSize}`);
  if (c.hiddenSize % 16 || c.hiddenSize % c.numHeads) throw new NextframeError(`worldModelConfig: hiddenSize ${c.hiddenSize} must be divisible by 16 and by numHeads ${c.numHeads}`);
  if (!Number.isInteger(c.captionVocab) || c.captionVocab < 0) throw new NextframeError(`worldModelConfig: captionVocab must be an integer ≥ 0 (0 = no captions), got ${c.captionVocab}`);
  if (c.attention !== "factorized" && c.attention !== "full") throw new NextframeError(`worldModelConfig: attention must be "factorized" or "full", got "${String(c.attention)}"`);
  if (!(c.latentScale > 0)) throw new NextframeError(`worldModelConfig: latentScale must be > 0, got ${c.latentScale}`);
  if (!Array.isArray(c.memoryFrames) || c.memoryFrames.some((o) => !Number.isInteger(o) || o <= c.contextFrames) || new Set(c.memoryFrames).size !== c.memoryFrames.length) {
    throw new NextframeError(`worldModelConfig: memoryFrames must be distinct integer offsets greater than contextFrames (${c.contextFrames}), got ${JSON.stringify(c.memoryFrames)}`);
  }
  c.memoryFrames = [...c.memoryFrames].sort((a, b) => b - a);
  if (!(c.lastContextNoise >= 0) || (c.lastContextNoise > 0 && !c.residual)) throw new NextframeError(`worldModelConfig: lastContextNoise must be ≥ 0, and > 0 only with residual: true, got ${c.lastContextNoise} with residual ${c.residual}`);
  if (!(c.deltaStd >= 0) || (c.deltaStd > 0 && !c.residual)) throw new NextframeError(`worldModelConfig: deltaStd must be ≥ 0, and > 0 only with residual: true (diffusion on the change from the last latent), got ${c.deltaStd} with residual ${c.residual}`);
  if (!Number.isInteger(c.contextNoiseLevels) || c.contextNoiseLevels < 0 || c.contextNoiseLevels === 1) throw new NextframeError(`worldModelConfig: contextNoiseLevels must be 0 (off) or an integer ≥ 2, got ${c.contextNoiseLevels}`);
  if (c.contextNoiseLevels > 0 && (!(c.contextNoiseMax > 0) || c.contextNoise !== 0 || c.lastContextNoise !== 0)) {
    throw new NextframeError(`worldModelConfig: contextNoiseLevels needs contextNoiseMax > 0 and replaces contextNoise and lastContextNoise (set both to 0), got contextNoiseMax ${c.contextNoiseMax}, contextNoise ${c.contextNoise}, lastContextNoise ${c.lastContextNoise}`);
  }
  if (c.localPath && (!c.residual || c.contextFrames < 3)) throw new NextframeError(`worldModelConfig: localPath needs residual: true and contextFrames ≥ 3 (it adds to Δ from the last three latents), got residual ${c.residual}, contextFrames ${c.contextFrames}`);
  return c;
}

/**
 * Where each input frame of the window sits: its offset before the target frame, oldest first — the memory frames,
 * then the K recent ones (K, …, 1). The window is these frames plus the target (offset 0).
 */
export function contextOffsets(config: WorldModelConfig): number[] {
  return [...config.memoryFrames, ...Array.from({ length: config.contextFrames }, (_, k) => config.contextFrames - k)];
}

/**
 * The frames of a window for target frame `target` of a clip (or of the simulator's history): the contextOffsets
 * frames, then the target. Memory frames that would fall before frame 0 repeat frame 0. One rule for training windows,
 * evaluation and the simulator.
 */
export function windowFrameIndices(config: WorldModelConfig, target: number): number[] {
  return [...contextOffsets(config).map((o) => Math.max(0, target - o)), target];
}

/** Frames of history the model reads before a target: K, or its oldest memory offset when that is farther. */
export function historyFrames(config: WorldModelConfig): number {
  return Math.max(config.contextFrames, ...config.memoryFrames);
}

/**
 * The noisy target a world model reads at a diffusion step with coefficients √ᾱ = sa, √(1−ᾱ) = s1 (q_sample): from the
 * clean next latent `next`, the last context latent `last` and standard normal noise, written into out[o ..]. With
 * config.deltaStd > 0 the diffusion runs on the change from `last` (see WorldModelConfig.deltaStd); else on the latent.
 * One rule for training batches, the evaluations that noise a true latent, and (sa = 0, s1 = 1) the sampler's start.
 */
export function noisyNextLatent(config: WorldModelConfig, next: ArrayLike<number>, last: ArrayLike<number>, sa: number, s1: number, normal: () => number, out: Float32Array, o = 0): void {
  const d = config.deltaStd;
  if (d > 0) for (let i = 0; i < next.length; i++) out[o + i] = last[i]! + sa * (next[i]! - last[i]!) + s1 * d * normal();
  else for (let i = 0; i < next.length; i++) out[o + i] = sa * next[i]! + s1 * normal();
}

/** The context noise's std at level `level` (WorldModelConfig.contextNoiseLevels): contextNoiseMax·level/(levels − 1). */
export function contextLevelStd(config: WorldModelConfig, level: number): number {
  const n = config.contextNoiseLevels;
  if (n === 0) throw new NextframeError("contextLevelStd: this world model has no context-noise levels (config.contextNoiseLevels = 0)");
  if (!Number.isInteger(level) || level < 0 || level >= n) throw new NextframeError(`contextLevelStd: level must be an integer in [0, ${n}), got ${level}`);
  return (config.contextNoiseMax * level) / (n - 1);
}

/** Caption tokens per clip (the longest caption of the video world has 27 words; longer ones are cut). */
export const CAPTION_LENGTH = 32;

let captionTok: Tokenizer | null = null;

/** The word tokenizer of the video world's captions (a fixed vocabulary: every word its caption grammar uses), built once. */
export function captionTokenizer(): Tokenizer {
  return (captionTok ??= wordTokenizer(captionCorpus()));
}

/** Captions → (n, length) int32 token ids + 1, 0-padded; null (a missing caption) → all padding, the null caption. */
export function encodeCaptions(tok: Tokenizer, captions: readonly (string | null)[], length = CAPTION_LENGTH): Int32Array {
  const out = new Int32Array(captions.length * length);
  captions.forEach((c, i) => {
    if (c === null) return;
    const ids = tok.encode(c);
    for (let k = 0; k < Math.min(length, ids.length); k++) out[i * length + k] = ids[k]! + 1;
  });
  return out;
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
  /** Caption token embeddings (row 0 = padding), only when config.captionVocab > 0. */
  c_embedder?: Embedding;
  pos_embed: Parameter;
  blocks: ModuleList<STDiTBlock>;
  final_layer: FinalLayer;
  /** The local path (config.localPath): 3×3 conv of [z_t, z_t − z_{t−1}, z_{t−1} − z_{t−2}] → C channels per action, added to Δ. */
  local_conv?: Conv2d;
  /** Embedding of the context's noise level (config.contextNoiseLevels > 0), added to c. */
  n_embedder?: Embedding;

  constructor(config: Partial<WorldModelConfig> | string = {}, overrides: Partial<WorldModelConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const cfg = typeof config === "string" ? worldModelConfig(config, overrides) : worldModelConfig(null, { ...config, ...overrides });
    this.config = cfg;
    const D = cfg.hiddenSize, p = cfg.patchSize, Fr = cfg.memoryFrames.length + cfg.contextFrames + 1, g = cfg.latentSize / p;
    this.grid = [Fr, g, g];
    const span = historyFrames(cfg), times = [...contextOffsets(cfg).map((o) => span - o), span];   // 0, 1, …, K without memory
    this.x_embedder = new Linear(p * p * cfg.latentChannels, D);
    this.t_embedder = new TimestepEmbedder(D);
    this.a_embedder = new Embedding(cfg.numActions, D);
    if (cfg.captionVocab > 0) this.c_embedder = new Embedding(cfg.captionVocab + 1, D);
    this.pos_embed = new Parameter(tensor(Float32Array.from(get3dSincosPosEmbed(D, this.grid, times)), { shape: [1, Fr * g * g, D] }), { requiresGrad: false });
    this.blocks = new ModuleList(Array.from({ length: cfg.depth }, () => new STDiTBlock(D, cfg.numHeads, cfg.attention, true, cfg.mlpRatio)));
    this.blocks.map((b, i) => {
      b.attn.captureName = cfg.attention === "factorized" ? `blocks.${i}.attn.spatial` : `blocks.${i}.attn`;
      if (b.attn_temp) b.attn_temp.captureName = `blocks.${i}.attn.temporal`;
    });
    this.final_layer = new FinalLayer(D, p, cfg.latentChannels);
    if (cfg.localPath) this.local_conv = new Conv2d(3 * cfg.latentChannels, cfg.numActions * cfg.latentChannels, 3, { padding: 1 });
    if (cfg.contextNoiseLevels > 0) this.n_embedder = new Embedding(cfg.contextNoiseLevels, D);
    ditInit(this, opts.seed ?? 0);
    // zero-initialised like adaLN-Zero's final layer: an untrained model is still copy-last
    if (this.local_conv) { zeros_(this.local_conv.weight); zeros_(this.local_conv.bias!); }
    // the action (and caption) tables are small uniform(±0.02) embeddings like DiT's label table
    let s = (opts.seed ?? 0) + 17;
    for (const table of [this.a_embedder, this.c_embedder, this.n_embedder]) {
      if (!table) continue;
      const e = table.weight._value as Float32Array;
      for (let i = 0; i < e.length; i++) { s = (s * 1103515245 + 12345) >>> 0; e[i] = ((s / 4294967296) - 0.5) * 0.04; }
    }
  }

  /** F = M + K + 1 frames per window (memory, recent context, target). */
  get frames(): number { return this.config.memoryFrames.length + this.config.contextFrames + 1; }

  /**
   * x (N, F, C, H, W): the M memory and K recent context latents (contextOffsets order), then the noisy target
   * latent (all already divided by latentScale); t (N) diffusion step of the target; actions (N, F) int32: actions[:, f] produced frame f (the last one is the
   * player's action now); caption (N, L) int32 token ids + 1, 0 = padding (only with config.captionVocab > 0;
   * omitted = the null caption); level (N) int32: the context's noise level (only with config.contextNoiseLevels > 0;
   * omitted = level 0, a clean context). Returns the network output (N, F, C, H, W); only frame F−1 is trained.
   * Causal in time: output frame f depends on input frames ≤ f only (and on t, the last action, the caption and the
   * context's noise level via c).
   */
  forward(x: Tensor, t: Tensor, actions: Tensor, caption?: Tensor, level?: Tensor): Tensor {
    const { latentChannels: C, latentSize: H, patchSize: p } = this.config;
    const Fr = this.frames;
    if (x.rank !== 5 || x.shape[1] !== Fr || x.shape[2] !== C || x.shape[3] !== H || x.shape[4] !== H) {
      throw new NextframeError(`WorldModel.forward: x must be (N, ${Fr}, ${C}, ${H}, ${H}), got [${x.shape.join(", ")}]`);
    }
    const N = x.shape[0]!;
    if (actions.rank !== 2 || actions.shape[0] !== N || actions.shape[1] !== Fr) throw new NextframeError(`WorldModel.forward: actions must be (N, F) = [${N}, ${Fr}], got [${actions.shape.join(", ")}]`);
    const [f, h, w] = this.grid;
    const S = h * w, D = this.config.hiddenSize;
    const aEmb = this.a_embedder.forward(actions);                                       // (N, F, D)
    let hdn = this.x_embedder.forward(patchify3dOp(x, 1, p)).add(this.pos_embed);       // (N, T, D)
    hdn = hdn.reshape([N, f, S, D]).add(aEmb.unsqueeze(2)).reshape([N, f * S, D]);      // (N, T, D)
    let c = this.t_embedder.forward(t).add(aEmb.slice(1, Fr - 1, Fr).squeeze(1));       // (N, D)
    if (caption) c = c.add(this.captionEmbedding(caption, N));                          // (N, D)
    if (this.n_embedder) c = c.add(this.n_embedder.forward(level ?? tensor(new Int32Array(N), { shape: [N] })));  // (N, D)
    else if (level) throw new NextframeError("WorldModel: a context noise level was given but this model has none (config.contextNoiseLevels = 0)");
    this.blocks.map((block, i) => { hdn = capture(`blocks.${i}`, block.forward(hdn, c, [f, S])); }); // (N, T, D), capturable
    const out = this.final_layer.forward(hdn, c);                                       // (N, T, p·p·C)
    return unpatchify3dOp(out, 1, p, C, this.grid);                                     // (N, F, C, H, W)
  }

  /**
   * What the model "thinks" about each frame: block `layer`'s output tokens (default: the last block) for the
   * context frames of x (N, K, C, H, W) (scaled latents) and their actions (N, K + 1), as (N, K, S·D). Causal in
   * time, so frame k's tokens depend on frames ≤ k only; the target slot is filled with zeros at the noisiest step.
   * Memory slots (config.memoryFrames) repeat the first frame, as before a clip's start.
   */
  hiddenStates(ctx: Tensor, actions: Tensor, layer = this.config.depth - 1): Tensor {
    const { contextFrames: K, latentChannels: C, latentSize: H, hiddenSize: D, diffusionSteps } = this.config;
    if (ctx.rank !== 5 || ctx.shape[1] !== K) throw new NextframeError(`WorldModel.hiddenStates: ctx must be (N, ${K}, ${C}, ${H}, ${H}), got [${ctx.shape.join(", ")}]`);
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.depth) throw new NextframeError(`WorldModel.hiddenStates: layer must be in [0, ${this.config.depth}), got ${layer}`);
    const N = ctx.shape[0]!, [, h, w] = this.grid, M = this.config.memoryFrames.length;
    const first = (v: Tensor) => Array.from({ length: M }, () => v.slice(1, 0, 1));
    // the target slot at the noisiest step without its noise: 0, or the last latent when the diffusion is on the change
    const target = this.config.deltaStd > 0 ? ctx.slice(1, K - 1, K) : tensor(new Float32Array(N * C * H * H), { shape: [N, 1, C, H, H] });
    const x = cat([...first(ctx), ctx, target], 1);
    const acts = M ? cat([...first(actions), actions], 1) : actions;
    const t = tensor(new Float32Array(N).fill(diffusionSteps - 1), { shape: [N] });
    const { captured } = withCapture(() => this.forward(x, t, acts));
    return captured.get(`blocks.${layer}`)!.reshape([N, M + K + 1, h * w * D]).slice(1, M, M + K);   // (N, K, S·D)
  }

  /** Mean embedding of each caption's non-padding tokens: (N, L) → (N, D); all padding → 0 (the null caption). */
  captionEmbedding(caption: Tensor, N: number): Tensor {
    if (!this.c_embedder) throw new NextframeError("WorldModel: this model has no caption conditioning (config.captionVocab = 0); leave the caption out or build it with captionVocab > 0");
    if (caption.rank !== 2 || caption.shape[0] !== N) throw new NextframeError(`WorldModel: caption must be (N, L) = [${N}, L] int32 token ids + 1, got [${caption.shape.join(", ")}]`);
    const mask = caption.ne(0).cast("float32");                                         // (N, L)
    const sum = this.c_embedder.forward(caption).mul(mask.unsqueeze(2)).sum(1);          // (N, D)
    return sum.div(mask.sum(1, true).clamp(1));                                          // (N, D)
  }

  /** The target frame's x₀ prediction only: (N, C, H, W); with `residual`, the last context latent plus Δ. */
  predictNext(x: Tensor, t: Tensor, actions: Tensor, caption?: Tensor, level?: Tensor): Tensor {
    const Fr = this.frames;
    let out = this.forward(x, t, actions, caption, level).slice(1, Fr - 1, Fr).squeeze(1); // (N, C, H, W)
    if (!this.config.residual) return out;
    const z = (f: number) => x.slice(1, f, f + 1).squeeze(1);                            // (N, C, H, W)
    const zt = z(Fr - 2);
    if (this.local_conv) {
      const { numActions: A, latentChannels: C, latentSize: H } = this.config, N = x.shape[0]!;
      const z1 = z(Fr - 3), z2 = z(Fr - 4);
      const perAction = this.local_conv.forward(cat([zt, zt.sub(z1), z1.sub(z2)], 1)).reshape([N, A, C, H, H]);
      const eye = tensor(Float32Array.from({ length: A * A }, (_, i) => (i % (A + 1) === 0 ? 1 : 0)), { shape: [A, A] });
      const now = F.embedding(actions.slice(1, Fr - 1, Fr).squeeze(1), eye).reshape([N, A, 1, 1, 1]); // one-hot a_t
      out = out.add(perAction.mul(now).sum(1));                                           // Δ += local rule of a_t
    }
    return zt.add(out);                                                                  // z_t + Δ
  }
}

/** The diffusion the world model trains with: x₀-prediction, cosine schedule, fixed variance (DDIM needs no Σ). */
export function worldModelDiffusion(config: WorldModelConfig, samplingSteps?: number): GaussianDiffusion {
  return createDiffusion({
    diffusionSteps: config.diffusionSteps, noiseSchedule: "squaredcos_cap_v2", predict: "x0", learnSigma: false,
    // S steps counted down from t = T−1, so a single step starts from pure noise and returns E[x₀ | context]
    // (DiT's section counts would put one step at t = 0, where the model sees the clean-ish input it lacks)
    timestepRespacing: samplingSteps === undefined ? "" : `trailing${samplingSteps}`,
  });
}

//################################################################################
//                         Rollouts: the model as a simulator                    #
//################################################################################

/**
 * Options of the world simulator's sampler: DDIM steps, seed, caption, anchored decoding, the change's scale, action
 * guidance, and the context-noise level told to the model (and whether its noise is added).
 */
export interface SimulatorOptions {
  /** DDIM steps per frame (default 1: the x₀-prediction from pure noise, E[next latent | past, action]; 2–4 draw sharper samples). */
  steps?: number;
  /** Seed of the sampling noise. */
  seed?: number;
  /** The caption the world model is conditioned on (models with captionVocab > 0); null / omitted = the null caption. */
  caption?: string | null;
  /**
   * Anchor decoding (default true): frame = last observed frame + D(ẑ) − D(z_observed), so the autoencoder's
   * reconstruction error on what does not change cancels and only the predicted change is drawn (like a video
   * codec's P-frames). false: frame = D(ẑ), the plain decode.
   */
  anchored?: boolean;
  /**
   * Multiplies the predicted change before it is drawn: x̂₀ ← z_t + s·(x̂₀ − z_t), z_t the last latent (default 1: the
   * model as trained). A model fitted by squared error shrinks a change it is unsure of toward "no change" (chapter 7:
   * the least-squares gain of the next change on the last is about 0.57); s > 1 undoes some of that shrinkage, so an
   * uncertain event is drawn more fully (a hidden ball comes back instead of a ghost), and so is every error, which
   * compounds over a long rollout. 0 copies the last frame.
   */
  changeScale?: number;
  /**
   * Action guidance (default 0: off): x̂₀ ← x̂₀(a) + g·(x̂₀(a) − x̂₀(noop)), classifier-free guidance (Ho & Salimans 2022)
   * with "no key pressed" as the reference. Only what the key changes is amplified: where the two predictions agree (the
   * balls, the room) nothing moves, so unlike changeScale it does not amplify the model's other errors. A model fitted by
   * squared error draws a held key's move short (it shrinks a change it is unsure of); g > 0 draws it fuller. Costs a
   * second denoiser pass per step (one batch of two). No effect when the key is noop.
   */
  actionGuidance?: number;
  /**
   * For models with context-noise levels (WorldModelConfig.contextNoiseLevels): the level the sampler tells the model its
   * context has (default 0: clean). A level > 0 asks the model to treat its context as that noisy and correct it, so a
   * rollout's own drift is pulled back toward frames the world draws (GameNGen controls this level at inference).
   */
  contextLevel?: number;
  /**
   * With contextLevel > 0: also put that level's Gaussian noise on the context frames before each step (default true,
   * as in training; GameNGen's "added noise"). false tells the model the level without adding noise.
   */
  contextLevelNoise?: boolean;
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
  private sample: CompiledFunction<[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor>;
  /** (1, CAPTION_LENGTH) caption tokens fed to the denoiser (all padding when there is no caption). */
  private captionTokens: Tensor;
  private decode: CompiledFunction<[Tensor], Tensor>;
  private encode: CompiledFunction<[Tensor], Tensor>;
  /** The latest latents, scaled, oldest first: up to historyFrames × (C·H·W) (K, or the memory's reach). */
  private history: Float32Array[] = [];
  /** The action that produced each frame of `history`. */
  private actions: number[] = [];
  private seed: number;
  readonly anchored: boolean;
  /** SimulatorOptions.changeScale. */
  readonly changeScale: number;
  /** SimulatorOptions.actionGuidance. */
  readonly actionGuidance: number;
  /** SimulatorOptions.contextLevel (0 for models without context-noise levels). */
  readonly contextLevel: number;
  /** The std of the noise put on the context before each step: contextLevel's, or 0 (SimulatorOptions.contextLevelNoise). */
  readonly contextLevelStd: number;
  /** Last observed frame (pixels in [-1, 1], (3, H, W)) and its decode D(z). */
  private anchorPixels: Float32Array | null = null;
  private anchorDecoded: Float32Array | null = null;
  /** Frames generated since the last reset. */
  t = 0;

  constructor(model: WorldModel, ae: Autoencoder, opts: SimulatorOptions = {}) {
    if (ae.config.latentChannels !== model.config.latentChannels || ae.latentSize !== model.config.latentSize) {
      throw new NextframeError(`WorldSimulator: autoencoder latents (${ae.latentShape.join("×")}) do not match the world model's (${model.config.latentChannels}×${model.config.latentSize}×${model.config.latentSize})`);
    }
    this.model = model;
    this.ae = ae;
    this.steps = opts.steps ?? 1;
    if (!Number.isInteger(this.steps) || this.steps < 1 || this.steps > model.config.diffusionSteps) throw new NextframeError(`WorldSimulator: steps must be an integer in [1, ${model.config.diffusionSteps}], got ${this.steps}`);
    this.seed = opts.seed ?? 0;
    this.anchored = opts.anchored ?? true;
    this.changeScale = opts.changeScale ?? 1;
    if (!Number.isFinite(this.changeScale) || this.changeScale < 0) throw new NextframeError(`WorldSimulator: changeScale must be a finite number ≥ 0 (1 = the model as trained), got ${opts.changeScale}`);
    this.actionGuidance = opts.actionGuidance ?? 0;
    if (!Number.isFinite(this.actionGuidance) || this.actionGuidance < 0) throw new NextframeError(`WorldSimulator: actionGuidance must be a finite number ≥ 0 (0 = off), got ${opts.actionGuidance}`);
    this.contextLevel = opts.contextLevel ?? 0;
    if (model.config.contextNoiseLevels === 0 && this.contextLevel !== 0) throw new NextframeError(`WorldSimulator: contextLevel ${opts.contextLevel} was given but this world model has no context-noise levels (config.contextNoiseLevels = 0)`);
    if (model.config.contextNoiseLevels > 0 && (!Number.isInteger(this.contextLevel) || this.contextLevel < 0 || this.contextLevel >= model.config.contextNoiseLevels)) {
      throw new NextframeError(`WorldSimulator: contextLevel must be an integer in [0, ${model.config.contextNoiseLevels}), got ${opts.contextLevel}`);
    }
    this.contextLevelStd = this.contextLevel > 0 && (opts.contextLevelNoise ?? true) ? contextLevelStd(model.config, this.contextLevel) : 0;
    this.diffusion = worldModelDiffusion(model.config, this.steps);
    if (opts.caption != null && model.config.captionVocab === 0) throw new NextframeError("WorldSimulator: a caption was given but this world model has no caption conditioning (config.captionVocab = 0)");
    this.captionTokens = tensor(encodeCaptions(captionTokenizer(), [opts.caption ?? null]), { shape: [1, CAPTION_LENGTH] });
    this.sample = compile((ctx: Tensor, noise: Tensor, a: Tensor, cap: Tensor, level: Tensor) => this.sampleGraph(ctx, noise, a, cap, level));
    this.decode = compile((z: Tensor) => ae.decode(z));
    this.encode = compile((x: Tensor) => ae.encode(x));
  }

  get latentLength(): number { return this.model.config.latentChannels * this.model.config.latentSize ** 2; }
  /** K: the fewest true frames reset() takes (the recent context). */
  get contextFrames(): number { return this.model.config.contextFrames; }
  /** The most true frames reset() uses: K, or as far back as the model's memory frames reach. */
  get historyFrames(): number { return historyFrames(this.model.config); }

  /**
   * Starts from n ground-truth frames (RGB uint8 (n, H, W, 3)), K ≤ n ≤ historyFrames, and the n actions that
   * produced them. Frames before the first one given read as the first one (the model's memory frames, if any).
   */
  async reset(frames: Uint8Array, actions: ArrayLike<number>): Promise<void> {
    const K = this.model.config.contextFrames, Hmax = this.historyFrames, size = this.ae.config.imageSize, P3 = size * size * 3;
    const n = frames.length / P3;
    if (!Number.isInteger(n) || n < K || n > Hmax) throw new NextframeError(`WorldSimulator.reset: expected ${K === Hmax ? K : `${K} to ${Hmax}`} frames of ${size}×${size}×3 (${K * P3}${K === Hmax ? "" : ` to ${Hmax * P3}`} bytes), got ${frames.length} bytes`);
    if (actions.length !== n) throw new NextframeError(`WorldSimulator.reset: expected ${n} actions (one per context frame), got ${actions.length}`);
    const x = framesToTensor(frames, n, size);
    const z = (await (await this.encode(x)).data()) as Float32Array;
    const L = this.latentLength, s = this.model.config.latentScale, P = 3 * size * size;
    this.history = Array.from({ length: n }, (_, k) => z.slice(k * L, (k + 1) * L).map((v) => v / s));
    this.anchorPixels = ((await x.data()) as Float32Array).slice((n - 1) * P, n * P);
    this.anchorDecoded = await this.decodeRaw(this.history[n - 1]!, 1);
    this.actions = Array.from(actions, (a) => checkAction(a, this.model.config.numActions));
    this.t = 0;
  }

  /**
   * The fast path: every DDIM step unrolled into ONE compiled graph (context and actions fed once, x₀ clamped
   * to the latent range at each step), so a frame costs one session.run. Deterministic DDIM (η = 0) on the diffusion
   * variable y (the latent, or with config.deltaStd its change from z_t over deltaStd; each frame starts from fresh
   * noise, so a few steps draw a sample):
   * ε̂ = (y_t − √ᾱ_t ŷ₀)/√(1 − ᾱ_t),  y_{t−1} = √ᾱ_{t−1} ŷ₀ + √(1 − ᾱ_{t−1}) ε̂  (Song et al. 2021, eq. 12).
   */
  private sampleGraph(ctx: Tensor, noise: Tensor, acts: Tensor, caption: Tensor, level: Tensor): Tensor {
    const cap = this.model.config.captionVocab > 0 ? caption : undefined;
    const lvl = this.model.config.contextNoiseLevels > 0 ? level : undefined;
    const d = this.diffusion, lim = 1 / this.model.config.latentScale, s = this.changeScale;
    const last = ctx.shape[1]! - 1, zt = ctx.slice(1, last, last + 1).squeeze(1);         // (1, C, H, W)
    // the diffusion variable y = (x − centre) / scale: the latent itself, or its change from z_t (config.deltaStd)
    const onChange = this.model.config.deltaStd > 0, scale = onChange ? this.model.config.deltaStd : 1;
    // action guidance: the same window with the current key replaced by noop (the earlier frames' actions kept)
    const g = this.actionGuidance, Fr = acts.shape[1]!;
    const noopActs = g > 0 ? cat([acts.slice(1, 0, Fr - 1), tensor(Int32Array.of(Action.Noop), { shape: [1, 1] })], 1) : acts;
    const toY = (v: Tensor) => (onChange ? v.sub(zt).div(scale) : v), fromY = (y: Tensor) => (onChange ? zt.add(y.mul(scale)) : y);
    let y = noise;                                                                        // (1, C, H, W), pure noise
    for (let i = d.numTimesteps - 1; i >= 0; i--) {
      const ab = d.c.alphasCumprod[i]!, abPrev = d.c.alphasCumprodPrev[i]!;
      const tOrig = tensor(Float32Array.of(d.mapTimesteps(Int32Array.of(i))[0]!), { shape: [1] });
      const win = cat([ctx, fromY(y).unsqueeze(1)], 1);                                   // (1, F, C, H, W)
      let x0: Tensor;
      if (g > 0) {                                                                        // the key and noop in one batch of two
        const both = this.model.predictNext(cat([win, win], 0), cat([tOrig, tOrig], 0), cat([acts, noopActs], 0), cap ? cat([cap, cap], 0) : undefined, lvl ? cat([lvl, lvl], 0) : undefined);
        const withKey = both.slice(0, 0, 1), noKey = both.slice(0, 1, 2);                 // (1, C, H, W) each
        x0 = withKey.add(withKey.sub(noKey).mul(g));                                      // x̂₀(a) + g·(x̂₀(a) − x̂₀(noop))
      } else x0 = this.model.predictNext(win, tOrig, acts, cap, lvl);                     // (1, C, H, W)
      if (s !== 1) x0 = zt.add(x0.sub(zt).mul(s));                                        // z_t + s·Δ
      const y0 = toY(x0.clamp(-lim, lim));
      const eps = y.sub(y0.mul(Math.sqrt(ab))).div(Math.sqrt(1 - ab));
      y = i === 0 ? y0 : y0.mul(Math.sqrt(abPrev)).add(eps.mul(Math.sqrt(1 - abPrev)));
    }
    return fromY(y);
  }

  /** Samples the next latent (scaled) for `action` and pushes it into the history. */
  async stepLatent(action: number): Promise<Float32Array> {
    if (this.history.length === 0) throw new NextframeError("WorldSimulator.step: call reset(frames, actions) first");
    const a = checkAction(action, this.model.config.numActions);
    const { latentChannels: C, latentSize: H } = this.model.config;
    const L = this.latentLength, idx = windowFrameIndices(this.model.config, this.history.length).slice(0, -1), Fr = idx.length + 1;
    const acts = tensor(Int32Array.from([...idx.map((i) => this.actions[i]!), a]), { shape: [1, Fr] });
    const ctx = new Float32Array((Fr - 1) * L);
    idx.forEach((i, k) => ctx.set(this.history[i]!, k * L));
    const noise = new Generator(this.seed + 7919 * this.t).randn(L);
    if (this.contextLevelStd > 0) {                                                       // the level's noise on the context
      const cn = new Generator(this.seed + 7919 * this.t + 104729).randn(ctx.length);
      for (let i = 0; i < ctx.length; i++) ctx[i] = ctx[i]! + this.contextLevelStd * cn[i]!;
    }
    const level = tensor(Int32Array.of(this.contextLevel), { shape: [1] });
    const out = await this.sample(tensor(ctx, { shape: [1, Fr - 1, C, H, H] }), tensor(noise, { shape: [1, C, H, H] }), acts, this.captionTokens, level);
    const sample = ((await out.data()) as Float32Array).slice();
    this.history.push(sample);
    this.actions.push(a);
    if (this.history.length > this.historyFrames) { this.history.shift(); this.actions.shift(); }
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
    if ((opts.anchored ?? this.anchored) && this.anchorPixels && this.anchorDecoded) anchorDecoded(x, this.anchorPixels, this.anchorDecoded);
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
    for (let i = 0; i < actions.length; i++) {
      // an interrupted cell's rollout stops here for good (engine/interrupt.ts: the promise never settles)
      if (shouldHalt()) return halt(`WorldSimulator.rollout: interrupted before frame ${i + 1} of ${actions.length}; the ${i} frames made so far are in the simulator's history`);
      lat.set(await this.stepLatent(actions[i]!), i * L);
    }
    return actions.length ? this.decodeFrames(lat, actions.length) : new Uint8Array(0);
  }
}

/**
 * Anchor decoding, in place: each decoded frame x (pixels in [-1, 1]) becomes last observed frame + x − D(z_last), so
 * the autoencoder's error on what does not change cancels (WorldSimulator, localLinearRollout).
 */
export function anchorDecoded(x: Float32Array, anchorPixels: Float32Array, anchorDecode: Float32Array): void {
  const P = anchorPixels.length;
  for (let i = 0; i < x.length; i++) x[i] = anchorPixels[i % P]! + x[i]! - anchorDecode[i % P]!;
}

function checkAction(a: number, n: number): number {
  if (!Number.isInteger(a) || a < 0 || a >= n) throw new NextframeError(`world model: action must be an integer in [0, ${n}) (${ACTION_NAMES.slice(0, n).join(", ")}), got ${a}`);
  return a;
}
