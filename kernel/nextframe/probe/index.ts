export * from "./onnxProbe";
