/** application/vnd.nextframe.frames+json → the frame player (one video, or a synced grid of videos). */
import type { FramesPayload } from "../../kernel/nextframe/display/payloads";
import { decodeStack } from "../shared/decode";
import { header } from "../shared/dom";
import { FramePlayer } from "../shared/player";

export function renderFrames(p: FramesPayload, root: HTMLElement, signal: AbortSignal): FramePlayer {
  if (!Array.isArray(p.videos) || p.videos.length === 0) throw new Error("frames: payload has no videos");
  const fps = Number.isFinite(p.fps) && p.fps > 0 ? Math.min(p.fps, 240) : 8;
  const videos = p.videos.map((v, i) => ({
    title: typeof v.title === "string" ? v.title : undefined,
    frames: decodeStack(v.frames, `frames.videos[${i}]`),
  }));
  const h = header(typeof p.title === "string" ? p.title : undefined, Array.isArray(p.notes) ? p.notes.map(String) : undefined);
  if (h) root.appendChild(h);
  const player = new FramePlayer(root, videos, { fps, loop: p.loop !== false });
  signal.addEventListener("abort", () => player.dispose());
  return player;
}
