// The worlds' generator (sfc32) lives in ../random (the library's one random module). This path is kept only while
// metrics/play.ts, course/textToVideo.ts, course/worldModelTraining.ts and kernel/train/data.ts still import it;
// delete it once they import ../random.
export { Rng, hashSeed } from "../random/index";
