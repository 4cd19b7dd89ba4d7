// NormalRng lives in ../random (the library's one random module). This path is kept only while models/worldModel.ts
// and models/textToVideo.ts still import it; delete it once they import ../random.
export { NormalRng } from "../random/index";
