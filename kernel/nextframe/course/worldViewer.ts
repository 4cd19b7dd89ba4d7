// The chapter-7 world model in VS Code's World Viewer: the viewer's keys mapped to the video world's actions, and
// a WorldSimulator wrapped as a world that display's playWorld can drive.

import { Action } from "../worlds/videoWorld";
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
 * given ground-truth context frames; step(key) maps the viewer's key ("left", "space", ...) to an action.
 */
export function playableWorldModel(sim: WorldSimulator, start: { frames: Uint8Array; actions: ArrayLike<number> }): {
  reset(): Promise<{ frame: ViewerFrame }>;
  step(key: string): Promise<{ frame: ViewerFrame }>;
} {
  const K = sim.model.config.contextFrames, size = sim.ae.config.imageSize, F3 = size * size * 3;
  const shape = (f: Uint8Array): ViewerFrame => ({ data: f, shape: [size, size, 3] }); // (H, W, 3) RGB uint8
  return {
    async reset() {
      await sim.reset(start.frames, start.actions);
      return { frame: shape(start.frames.slice((K - 1) * F3, K * F3)) };
    },
    async step(key: string) {
      const a = VIEWER_ACTIONS[key];
      if (a === undefined) throw new NextframeError(`world model: unknown key "${key}"; expected one of ${Object.keys(VIEWER_ACTIONS).join(", ")}`);
      return { frame: shape(await sim.step(a)) };
    },
  };
}
