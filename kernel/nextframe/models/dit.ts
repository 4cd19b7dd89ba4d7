/**
 * DiT — Scalable Diffusion Models with Transformers (Peebles & Xie, 2023), https://arxiv.org/abs/2212.09748
 * Reference implementation: https://github.com/facebookresearch/DiT/blob/main/models.py
 *
 * Shape letters: N batch, C latent channels, H/W latent height/width, p patch size, T tokens (= H·W/p²),
 * D hidden size, h heads.
 */

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

export type DiTName = keyof typeof DIT_CONFIGS;

/** A full config from a paper name (or an explicit architecture) plus overrides; unknown names list the valid ones. */
export function ditConfig(name: DiTName | string | DiTArch, overrides: Partial<DiTConfig> = {}): DiTConfig {
  let arch: DiTArch;
  if (typeof name === "string") {
    const found = (DIT_CONFIGS as Record<string, DiTArch>)[name];
    if (!found) {
      throw new Error(`ditConfig: unknown config "${name}"; expected one of ${Object.keys(DIT_CONFIGS).join(", ")}`);
    }
    arch = found;
  } else {
    arch = name;
  }
  const cfg: DiTConfig = { ...DIT_DEFAULTS, ...arch, ...overrides };
  if (cfg.hiddenSize % cfg.numHeads !== 0) {
    throw new Error(`ditConfig: hiddenSize ${cfg.hiddenSize} is not divisible by numHeads ${cfg.numHeads}`);
  }
  if (cfg.inputSize % cfg.patchSize !== 0) {
    throw new Error(`ditConfig: inputSize ${cfg.inputSize} is not divisible by patchSize ${cfg.patchSize}`);
  }
  if (cfg.hiddenSize % 4 !== 0) {
    throw new Error(`ditConfig: hiddenSize ${cfg.hiddenSize} must be divisible by 4 for the 2D sin-cos embedding`);
  }
  return cfg;
}
