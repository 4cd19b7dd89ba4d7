export * from "./patchify";
export * from "./posEmbed";
export * from "./pack";
export * from "./ops";
