/**
 * nextframe nn — Module tree (PyTorch-style state-dict keys), layers and initialisers.
 *
 * class Block extends Module { attn = new Linear(d, 3 * d); norm = new LayerNorm(d); forward(x) {...} }
 * model.namedParameters() → [["attn.weight", Parameter], ...]; model.stateDict(); model.loadStateDict(sd).
 */
export * from "./module.js";
export * from "./layers.js";
export * as init from "./init.js";
