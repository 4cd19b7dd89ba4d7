/**
 * nextframe worlds — the simulated worlds the course measures models on: a grid room that writes text logs
 * (textWorld), a 3-D room rendered to video clips with actions, captions and ground truth (videoWorld), the
 * tokenizers that turn their text into ids, and the seeded generator they share.
 */
export { Rng, hashSeed } from "../random/index";
export * from "./tokenizer";
export * from "./textWorld";
export * from "./videoWorld";
