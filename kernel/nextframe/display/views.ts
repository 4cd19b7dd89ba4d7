/** The display helpers a notebook calls; kernel/nextframe/index.ts re-exports this file. */
export { showFrames, showVideos, framesBundle, videosBundle, type FramesOptions, type FrameLayout, type VideoEntry } from "./frames";
export { showHeatmap, heatmapBundle, type HeatmapOptions } from "./heatmap";
export { showPatches, patchesBundle, type PatchesOptions } from "./patches";
export { showTokens, tokensBundle, type TokensOptions } from "./tokens";
export { lineChart, LineChart, type LineChartOptions } from "./chart";
export { showTable, tableBundle, type TableOptions } from "./table";
export { scorecard, scorecardBundle, scorecardRow, type ScorecardOptions, type ScorecardRowFromClaims } from "./scorecard";
export { playWorld, showInWorldViewer, type PlayableWorld, type WorldStepResult, type PlayWorldOptions, type WorldSession } from "./worldViewer";
export { MIME as NEXTFRAME_MIME } from "../../shared/payloads";
export { type TensorLike } from "./ndarray";
