// The generator lives in ../random (the library's one random module). This path is kept only while
// models/textToVideo.ts, course/textToVideo.ts and course/worldModelTraining.ts still import it; delete it once
// they import ../random.
export { Generator, globalGenerator, manualSeed } from "../random/index.js";
