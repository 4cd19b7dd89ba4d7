export * from "./io/safetensors";
