/** application/vnd.nextframe.frames+json → the frame player (one video, or a synced grid of videos). */
import type { FramesPayload } from "../../kernel/shared/payloads";
import { loadFrames } from "../shared/decode";
import { header } from "../shared/dom";
import { FramePlayer } from "../shared/player";

export async function renderFrames(p: FramesPayload, root: HTMLElement, signal: AbortSignal): Promise<FramePlayer | undefined> {
  if (!Array.isArray(p.videos) || p.videos.length === 0) throw new Error("frames: payload has no videos");
  const fps = Number.isFinite(p.fps) && p.fps > 0 ? Math.min(p.fps, 240) : 8;
  const videos = await Promise.all(p.videos.map(async (v, i) => ({
    title: typeof v.title === "string" ? v.title : undefined,
    frames: await loadFrames(v.frames, `frames.videos[${i}]`),
  })));
  if (signal.aborted) return undefined;
  const h = header(typeof p.title === "string" ? p.title : undefined, Array.isArray(p.notes) ? p.notes.map(String) : undefined);
  if (h) root.appendChild(h);
  const player = new FramePlayer(root, videos, { fps, loop: p.loop !== false, rows: p.rows === true });
  signal.addEventListener("abort", () => player.dispose());
  return player;
}
