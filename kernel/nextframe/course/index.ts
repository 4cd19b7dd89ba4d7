/**
 * nextframe course: what exists to serve the eight chapters — the checkpoints and how they are trained (recipes,
 * one source of truth for `npm run train` and the notebooks), the chapters' datasets, and their experiments and
 * baselines. The library outside this folder never imports it.
 */
export * from "./recipes";
export * from "./checkpoints";
export * from "./tinyGpt";
export * from "./videoData";
export * from "./autoencoder";
export * from "./worldModelTraining";
export * from "./rollouts";
export * from "./permanence";
export * from "./motion";
export * from "./depthProbe";
export * from "./surprise";
export * from "./recaption";
export * from "./worldViewer";
export * from "./captionAgreement";
export * from "./textToVideo";
