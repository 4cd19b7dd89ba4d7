/**
 * nextframe metrics — measurements with no model inside: image error and rollout curves (psnr, ssim, copy-last and
 * linear-extrapolation baselines), object permanence in predicted frames, play metrics of a learned simulator (does it
 * follow the keys, keep the world's colours, keep the agent; play.ts), linear probes (a ridge or softmax
 * readout of a representation, scored on held-out groups), caption recaptioning scores, and error bars for small
 * samples (bootstrap and Wilson intervals; intervals.ts).
 */
export * from "./image";
export * from "./permanence";
export * from "./linearProbe";
export * from "./recaption";
export * from "./play";
export * from "./intervals";
