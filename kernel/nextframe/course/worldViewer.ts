// The chapter-7 world model in VS Code's World Viewer: the viewer's keys mapped to the video world's actions, and
// a WorldSimulator wrapped as a world that display's playWorld can drive.

import { Action, replayClip, type VideoClip, type VideoWorld } from "../worlds/videoWorld";
import type { WorldSimulator } from "../models/worldModel";
import { NextframeError } from "../engine/errors";

/** Maps the World Viewer's keys to the video world's actions. */
export const VIEWER_ACTIONS: Record<string, Action> = {
  noop: Action.Noop, left: Action.Left, right: Action.Right, up: Action.Up, down: Action.Down, space: Action.JumpEat,
};

/** A frame as the viewer takes it: RGB uint8 with its (H, W, 3) shape. */
export interface ViewerFrame { data: Uint8Array; shape: [number, number, number] }

/**
 * The simulator as a World Viewer world (display/worldViewer.ts `playWorld`): reset() starts again from the
 * given ground-truth context frames; step(key) maps the viewer's key ("left", "space", ...) to an action. With
 * `start.clip`, the clip the context frames come from, each frame also carries the ground truth: the clip's own world
 * from its last context frame, stepped with the same keys (the viewer shows it beside the model's).
 */
export function playableWorldModel(sim: WorldSimulator, start: { frames: Uint8Array; actions: ArrayLike<number>; clip?: VideoClip }): {
  reset(): Promise<{ frame: ViewerFrame; truth?: ViewerFrame }>;
  step(key: string): Promise<{ frame: ViewerFrame; truth?: ViewerFrame }>;
} {
  const K = sim.model.config.contextFrames, size = sim.ae.config.imageSize, F3 = size * size * 3;
  const shape = (f: Uint8Array): ViewerFrame => ({ data: f, shape: [size, size, 3] }); // (H, W, 3) RGB uint8
  const clip = start.clip;
  if (clip) {
    const same = clip.size === size && clip.frames.length >= K * F3 && start.frames.length === K * F3 &&
      Buffer.from(clip.frames.buffer, clip.frames.byteOffset, K * F3).equals(Buffer.from(start.frames.buffer, start.frames.byteOffset, K * F3));
    if (!same) {
      throw new NextframeError(`playableWorldModel: start.frames must be the first ${K} frames of start.clip at ${size}×${size} ` +
        `(the ground truth continues that clip); got ${start.frames.length / F3} frames and a ${clip.size}×${clip.size} clip that ${clip.frames.length >= K * F3 ? "starts differently" : "is shorter"}`);
    }
  }
  let truth: VideoWorld | null = null;
  const truthFrame = () => (truth ? { truth: shape(truth.render(size).rgb) } : {});
  return {
    async reset() {
      await sim.reset(start.frames, start.actions);
      truth = clip ? replayClip(clip, K - 1) : null;
      return { frame: shape(start.frames.slice((K - 1) * F3, K * F3)), ...truthFrame() };
    },
    async step(key: string) {
      const a = VIEWER_ACTIONS[key];
      if (a === undefined) throw new NextframeError(`world model: unknown key "${key}"; expected one of ${Object.keys(VIEWER_ACTIONS).join(", ")}`);
      const frame = shape(await sim.step(a));
      truth?.step(a);
      return { frame, ...truthFrame() };
    },
  };
}
