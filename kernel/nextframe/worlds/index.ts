/**
 * nextframe worlds — the simulated worlds the course measures models on: a grid room that writes text logs
 * (textWorld), a 3-D room rendered to video clips with actions, captions and ground truth (videoWorld), the
 * tokenizers that turn their text into ids. Clips and episodes draw from the library's Generator, each from a named
 * sub-seed (hashSeed), so any one of them can be made alone.
 */
export * from "./tokenizer";
export * from "./textWorld";
export * from "./videoWorld";
