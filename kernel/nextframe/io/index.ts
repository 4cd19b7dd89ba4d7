/** nextframe io — safetensors files (read, write, check against a state dict), written atomically. */
export * from "./safetensors";
