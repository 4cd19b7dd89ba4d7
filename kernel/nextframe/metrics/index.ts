/**
 * nextframe metrics — measurements with no model inside: image error and rollout curves (psnr, ssim, copy-last and
 * linear-extrapolation baselines), object permanence in predicted frames, linear probes (a ridge or softmax
 * readout of a representation, scored on held-out groups), and caption recaptioning scores.
 */
export * from "./image";
export * from "./permanence";
export * from "./linearProbe";
export * from "./recaption";
