export * from "./io/safetensors";
export * from "./display/display";
