/**
 * Parameter and compute counts for DiT and spatial–temporal DiT blocks, counted the way the DiT paper counts
 * "Gflops": multiply-accumulates (MACs) of the matrix products of one forward pass for one sample
 * (fvcore-style; elementwise ops, LayerNorm and softmax are not counted).
 *
 * Letters: T tokens, D hidden, L depth, p patch, C in channels, F frames, S spatial tokens per frame.
 */
import { ditConfig, type DiTArch, type DiTConfig, type DiTName } from "./dit";
import { NextframeError } from "../engine/errors";

/** A model's trainable parameters and forward multiply-accumulates for one sample, in total, as the paper's Gflops and per part. */
export interface Complexity {
  params: number;              // trainable parameters (pos_embed is a fixed buffer, not counted)
  macs: number;                // multiply-accumulates of one forward pass, batch 1
  gflops: number;              // macs / 1e9 — the paper's "Gflops"
  breakdown: Record<string, number>; // macs per part
}

/** One transformer block's MACs for T tokens of width D with attention over `pairs` (query, key) pairs. */
function blockMacs(tokens: number, D: number, mlpRatio: number, attnPairs: number): { linear: number; attention: number } {
  const hiddenMlp = Math.trunc(D * mlpRatio);
  const linear = tokens * D * 3 * D       // qkv
    + tokens * D * D                      // proj
    + tokens * D * hiddenMlp * 2;         // fc1, fc2
  const attention = attnPairs * D * 2;    // q·kᵀ and probs·v, summed over heads
  return { linear, attention };
}

/** Parameters and forward Gflops of a DiT at its input size (DiT paper Table 4 counts 32×32×4 latents). */
export function ditComplexity(
  config: DiTName | string | DiTArch | DiTConfig,
  overrides: Partial<DiTConfig> = {},
): Complexity {
  const cfg = ditConfig(typeof config === "string" ? config : { ...config }, overrides);
  const { depth: L, hiddenSize: D, patchSize: p, inChannels: C, mlpRatio, numClasses } = cfg;
  const outC = cfg.learnSigma ? 2 * C : C;
  const T = (cfg.inputSize / p) ** 2;
  const freq = 256; // TimestepEmbedder.frequency_embedding_size
  const hiddenMlp = Math.trunc(D * mlpRatio);

  const xEmbed = { params: p * p * C * D + D, macs: T * p * p * C * D };
  const tEmbed = { params: freq * D + D + D * D + D, macs: freq * D + D * D };
  const useCfgEmbedding = cfg.classDropoutProb > 0 ? 1 : 0;
  const yEmbed = { params: (numClasses + useCfgEmbedding) * D, macs: 0 };
  const blockParams = 3 * D * D + 3 * D + D * D + D + D * hiddenMlp + hiddenMlp + hiddenMlp * D + D + 6 * D * D + 6 * D;
  const b = blockMacs(T, D, mlpRatio, T * T);
  const adaLN = 6 * D * D; // per sample, not per token
  const final = {
    params: 2 * D * D + 2 * D + D * p * p * outC + p * p * outC,
    macs: 2 * D * D + T * D * p * p * outC,
  };
  const breakdown = {
    x_embedder: xEmbed.macs,
    t_embedder: tEmbed.macs,
    "blocks.linear": L * b.linear,
    "blocks.attention": L * b.attention,
    "blocks.adaLN": L * adaLN,
    final_layer: final.macs,
  };
  const macs = Object.values(breakdown).reduce((a, v) => a + v, 0);
  const params = xEmbed.params + tEmbed.params + yEmbed.params + L * blockParams + final.params;
  return { params, macs, gflops: macs / 1e9, breakdown };
}

/** How attention is laid out over a video of F frames × S spatial tokens. */
export type SpaceTimeAttention = "factorized" | "full";

/** The video transformer spaceTimeMacs counts: frames, spatial tokens per frame, width, depth, MLP ratio and causal time. */
export interface STComplexityOptions {
  frames: number;        // F
  spatialTokens: number; // S per frame
  hiddenSize: number;    // D
  depth?: number;        // blocks (default 1)
  mlpRatio?: number;     // default 4
  causal?: boolean;      // causal in time: frame f attends to frames ≤ f only (unmasked pairs counted)
}

/**
 * MACs of spatial–temporal transformer blocks (without adaLN and embedders).
 * - full: one attention over all F·S tokens — (F·S)² pairs.
 * - factorized (STDiT / Latte / ViViT model 3): spatial attention inside each frame (F·S² pairs) then temporal
 *   attention at each spatial position (S·F² pairs), each with its own qkv/proj, then one MLP.
 * With `causal`, the time axis only counts pairs (f, f') with f' ≤ f: F(F+1)/2 instead of F².
 */
export function spaceTimeMacs(kind: SpaceTimeAttention, o: STComplexityOptions): { macs: number; linear: number; attention: number } {
  const { frames: F, spatialTokens: S, hiddenSize: D } = o;
  const L = o.depth ?? 1, mlpRatio = o.mlpRatio ?? 4;
  const N = F * S;
  const timePairs = o.causal ? (F * (F + 1)) / 2 : F * F;
  let linear: number, attention: number;
  if (kind === "full") {
    const b = blockMacs(N, D, mlpRatio, S * S * timePairs);
    linear = b.linear; attention = b.attention;
  } else if (kind === "factorized") {
    const spatial = blockMacs(N, D, 0, F * S * S);
    const temporal = blockMacs(N, D, 0, S * timePairs);
    const mlp = N * D * Math.trunc(D * mlpRatio) * 2;
    linear = spatial.linear + temporal.linear + mlp;
    attention = spatial.attention + temporal.attention;
  } else {
    throw new NextframeError(`spaceTimeMacs: unknown attention kind "${String(kind)}"; expected "factorized" or "full"`);
  }
  return { macs: L * (linear + attention), linear: L * linear, attention: L * attention };
}
