/**
 * nextframe models — one namespace per architecture, each with its module's own names (as the reference code
 * names them): `models.gpt` (nanoGPT: GPT, Block, MLP, CausalSelfAttention), `models.dit` (DiT's models.py: DiT,
 * DiTBlock, Attention, Mlp, …), `models.stdit` (spatial-temporal DiT), `models.autoencoder`, `models.worldModel`
 * (the next-frame world model and its simulator), `models.textToVideo` (the text-to-video spacetime DiT) and `models.flops` (compute counts).
 */
export * as gpt from "./gpt";
export * as dit from "./dit";
export * as stdit from "./stdit";
export * as autoencoder from "./autoencoder";
export * as worldModel from "./worldModel";
export * as textToVideo from "./textToVideo";
export * as flops from "./flops";
