// Chapter 7's memorizer: the memory model's recipe ("wm-xs-16-mem", same seed, steps and learning rate) on only the
// first 8 of its training clips. Does the architecture represent object permanence at all? On clips it has fitted, it
// should bring hidden balls back; on new clips it shows what 8 clips teach as a rule. The card adds the scores on
// its own training clips (re-emergence from true context, long-rollout permanence, next-latent error).
import { WorldSimulator } from "../nextframe/models/worldModel";
import { evaluatePermanence, nextLatentError, reemergenceTest, type videoWorldData } from "../nextframe/course/index";
import { WORLD_MODEL_MEMORIZER_RECIPE } from "../nextframe/course/recipes";
import type { TrainOptions } from "./main";
import { evaluateNamed, trainNamed } from "./world-model";

/** Scores on the clips the model trained on (the card's `trainClips`). */
export async function ownClipsMetrics(sim: WorldSimulator, data: ReturnType<typeof videoWorldData>, o: TrainOptions) {
  const clips = data.train;
  const { rollouts: _r, ...permanence } = await evaluatePermanence(sim, clips);
  const reemergence = await reemergenceTest(sim, clips);
  const nextLatent = await nextLatentError(sim.model, sim.ae, clips);
  o.log(`on its ${clips.length} training clips: re-emergence ${reemergence.model.correct} of ${reemergence.withinContext} (linear ${reemergence.linear.correct}); ` +
    `permanence ${permanence.model.correctRate.toFixed(2)} (copy-last ${permanence.copyLast.correctRate.toFixed(2)}, linear ${permanence.linear.correctRate.toFixed(2)}, ${permanence.events} events); next-latent ratio ${nextLatent.ratio.toFixed(3)}`);
  return { trainClips: { clips: clips.length, permanence, reemergence, nextLatent } };
}

export const train = (o: TrainOptions) => trainNamed(o, "world-model-memorizer", WORLD_MODEL_MEMORIZER_RECIPE, ownClipsMetrics);
export const evaluate = (o: TrainOptions) => evaluateNamed(o, "world-model-memorizer", WORLD_MODEL_MEMORIZER_RECIPE, ownClipsMetrics);
