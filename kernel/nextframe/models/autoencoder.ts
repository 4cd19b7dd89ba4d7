/**
 * A small convolutional autoencoder: the "visual encoder network" that compresses frames into a latent grid
 * (Sora report: "we train a network that reduces the dimensionality of visual data"), in the spirit of the
 * Stable Diffusion VAE (Rombach et al. 2022, https://arxiv.org/abs/2112.10752) but deterministic and tiny.
 * The world model (worldModel.ts) predicts in this latent space.
 *
 *   frame (N, 3, 32, 32) in [-1, 1] ──encoder──▶ z (N, 4, 8, 8) in (-1, 1) ──decoder──▶ frame (N, 3, 32, 32)
 *
 * Shape letters: N batch, C channels, H/W frame size, h/w latent size (H/f, W/f), f downsampling factor,
 * zc latent channels.
 */
import { Module, Conv2d, ConvTranspose2d } from "../nn/index.js";
import { F, Generator, Tensor, tensor } from "../engine/index.js";
import { NextframeError } from "../engine/errors.js";

//################################################################################
//                                   Config                                      #
//################################################################################

/** An autoencoder's size: frame side, input and latent channels, the two stages' widths and the downsampling factor. */
export interface AutoencoderConfig {
  /** Frame side (square frames, as the video world renders). */
  imageSize: number;
  inChannels: number;
  /** Latent channels per latent pixel. */
  latentChannels: number;
  /** Channels after the first and second stage. */
  hidden: readonly [number, number];
  /** Spatial downsampling factor f: 4 (two stride-2 stages) or 2 (one). */
  downsample: 2 | 4;
}

/**
 * Named sizes. "ae-32": 32×32×3 (3072 values) → 8×8×4 (256 values), 12× compression; "ae-32-f2": → 16×16×4
 * (1024 values), 3×: less compression, but reconstructions sharp enough (≈ 35 dB) that a latent world model
 * is not capped below the copy-last-frame baseline on these scenes, where little changes between frames.
 */
export const AUTOENCODER_CONFIGS = {
  "ae-32": { imageSize: 32, inChannels: 3, latentChannels: 4, hidden: [32, 64], downsample: 4 },
  "ae-32-f2": { imageSize: 32, inChannels: 3, latentChannels: 4, hidden: [48, 64], downsample: 2 },
  "ae-64": { imageSize: 64, inChannels: 3, latentChannels: 4, hidden: [32, 64], downsample: 4 },
} as const satisfies Record<string, AutoencoderConfig>;

/** A named size in AUTOENCODER_CONFIGS ("ae-32", "ae-32-f2", "ae-64"). */
export type AutoencoderName = keyof typeof AUTOENCODER_CONFIGS;

/** A full config from a table name plus overrides; unknown names and unknown fields list the valid ones. */
export function autoencoderConfig(name: AutoencoderName | string, overrides: Partial<AutoencoderConfig> = {}): AutoencoderConfig {
  const base = (AUTOENCODER_CONFIGS as Record<string, AutoencoderConfig>)[name];
  if (!base) throw new NextframeError(`autoencoderConfig: unknown config "${name}"; expected one of ${Object.keys(AUTOENCODER_CONFIGS).join(", ")}`);
  for (const k of Object.keys(overrides)) {
    if (!(k in base)) {
      throw new NextframeError(`autoencoderConfig: unknown field "${k}"; an autoencoder config has ${Object.keys(base).join(", ")}` +
        (k === "seed" ? ` (the seed is the third argument: new Autoencoder(config, overrides, { seed }))` : ""));
    }
  }
  const c: AutoencoderConfig = { ...base, hidden: [...base.hidden] as [number, number], ...overrides };
  if (c.downsample !== 2 && c.downsample !== 4) throw new NextframeError(`autoencoderConfig: downsample must be 2 or 4, got ${c.downsample}`);
  if (!Number.isInteger(c.imageSize) || c.imageSize < 4 || c.imageSize % c.downsample !== 0) throw new NextframeError(`autoencoderConfig: imageSize must be a multiple of ${c.downsample} (the downsampling factor), got ${c.imageSize}`);
  for (const k of ["inChannels", "latentChannels"] as const) if (!Number.isInteger(c[k]) || c[k] < 1) throw new NextframeError(`autoencoderConfig: ${k} must be a positive integer, got ${c[k]}`);
  return c;
}

//################################################################################
//                                    Layers                                     #
//################################################################################

/**
 * f = 4: conv(4, s2) → conv(4, s2) → conv(3) → tanh; f = 2: conv(4, s2) → conv(3) → conv(3) → tanh.
 * (N, C, H, W) → (N, zc, H/f, W/f).
 */
export class Encoder extends Module {
  conv_in: Conv2d;
  down: Conv2d;
  conv_out: Conv2d;
  constructor(c: AutoencoderConfig, generator?: Generator) {
    super();
    this.conv_in = new Conv2d(c.inChannels, c.hidden[0], 4, { stride: 2, padding: 1, generator });
    this.down = c.downsample === 4
      ? new Conv2d(c.hidden[0], c.hidden[1], 4, { stride: 2, padding: 1, generator })
      : new Conv2d(c.hidden[0], c.hidden[1], 3, { padding: 1, generator });
    this.conv_out = new Conv2d(c.hidden[1], c.latentChannels, 3, { padding: 1, generator });
  }
  forward(x: Tensor): Tensor {
    let h = F.silu(this.conv_in.forward(x));  // (N, c0, H/2, W/2)
    h = F.silu(this.down.forward(h));          // (N, c1, H/f, W/f)
    return F.tanh(this.conv_out.forward(h));   // (N, zc, h, w), bounded so the diffusion model sees a fixed range
  }
}

/** f = 4: conv(3) → convT(4, s2) → convT(4, s2); f = 2: conv(3) → conv(3) → convT(4, s2). (N, zc, h, w) → (N, C, H, W). */
export class Decoder extends Module {
  conv_in: Conv2d;
  up: ConvTranspose2d | Conv2d;
  conv_out: ConvTranspose2d;
  constructor(c: AutoencoderConfig, generator?: Generator) {
    super();
    this.conv_in = new Conv2d(c.latentChannels, c.hidden[1], 3, { padding: 1, generator });
    this.up = c.downsample === 4
      ? new ConvTranspose2d(c.hidden[1], c.hidden[0], 4, { stride: 2, padding: 1, generator })
      : new Conv2d(c.hidden[1], c.hidden[0], 3, { padding: 1, generator });
    this.conv_out = new ConvTranspose2d(c.hidden[0], c.inChannels, 4, { stride: 2, padding: 1, generator });
  }
  forward(z: Tensor): Tensor {
    let h = F.silu(this.conv_in.forward(z));   // (N, c1, h, w)
    h = F.silu(this.up.forward(h));            // (N, c0, H/2, W/2)
    return this.conv_out.forward(h);           // (N, C, H, W), ≈ [-1, 1]
  }
}

//################################################################################
//                                 Autoencoder                                   #
//################################################################################

export class Autoencoder extends Module {
  encoder: Encoder;
  decoder: Decoder;
  readonly config: AutoencoderConfig;
  /**
   * `new Autoencoder("ae-32-f2", { imageSize: 64 }, { seed: 1 })`: a name from AUTOENCODER_CONFIGS or a config
   * object (its base named by `name`, default "ae-32"; a checkpoint card's full config works as is), plus
   * overrides, like DiT. With a seed the weights are drawn from their own generator: the same as
   * `manualSeed(seed)` before construction, without touching the global one. Without a seed they come from the
   * global generator (torch's default init).
   */
  constructor(config: AutoencoderName | string | (Partial<AutoencoderConfig> & { name?: string }) = "ae-32",
    overrides: Partial<AutoencoderConfig> = {}, opts: { seed?: number } = {}) {
    super();
    const { name, ...rest } = typeof config === "string" ? { name: config } : config;
    this.config = autoencoderConfig(name ?? "ae-32", { ...rest, ...overrides });
    const generator = opts.seed === undefined ? undefined : new Generator(opts.seed);
    this.encoder = new Encoder(this.config, generator);
    this.decoder = new Decoder(this.config, generator);
  }
  /** Latent grid side (imageSize / f). */
  get latentSize(): number { return this.config.imageSize / this.config.downsample; }
  /** (zc, h, w) of one latent frame. */
  get latentShape(): [number, number, number] { return [this.config.latentChannels, this.latentSize, this.latentSize]; }
  encode(x: Tensor): Tensor { return this.encoder.forward(x); }   // (N, zc, h, w)
  decode(z: Tensor): Tensor { return this.decoder.forward(z); }   // (N, C, H, W)
  /** Reconstruction and its mean squared error (training loss, frames in [-1, 1]). */
  forward(x: Tensor): { recon: Tensor; loss: Tensor } {
    const recon = this.decode(this.encode(x));
    return { recon, loss: F.mseLoss(recon, x) };
  }
}

//################################################################################
//                         Frames ⇄ model tensors (host side)                     #
//################################################################################

/** RGB uint8 frames (T, H, W, 3) → float32 (T, 3, H, W) in [-1, 1]. */
export function framesToTensor(frames: Uint8Array, count: number, size: number): Tensor {
  const F3 = size * size * 3;
  if (frames.length < count * F3) throw new NextframeError(`framesToTensor: need ${count} frames of ${size}×${size}×3 = ${count * F3} bytes, got ${frames.length}`);
  const out = new Float32Array(count * F3);
  const hw = size * size;
  for (let t = 0; t < count; t++) for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) {
    out[t * F3 + c * hw + p] = frames[t * F3 + p * 3 + c]! / 127.5 - 1;
  }
  return tensor(out, { shape: [count, 3, size, size] });
}

/** float (T, 3, H, W) in [-1, 1] → RGB uint8 (T, H, W, 3), clamped. */
export function tensorDataToFrames(data: Float32Array, count: number, size: number): Uint8Array {
  const F3 = size * size * 3, hw = size * size;
  const out = new Uint8Array(count * F3);
  for (let t = 0; t < count; t++) for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) {
    const v = Math.round((data[t * F3 + c * hw + p]! + 1) * 127.5);
    out[t * F3 + p * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}
