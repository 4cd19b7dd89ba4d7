export * from "./io/safetensors";
export * from "./display/display";
export * from "./worlds/random";
export * from "./worlds/textWorld";
export * from "./worlds/tokenizer";
