/**
 * The wire format between the kernel-side display helpers (kernel/nextframe/display/*.ts) and the
 * browser renderer (media/renderer) / World Viewer (media/worldViewer).
 *
 * This file holds types and constants only — no Node and no DOM — so both sides import it.
 * Binary data travels as base64 PNG (lossless, deflate-compressed: toy-world frames shrink 10–50×),
 * never as JSON number arrays, so a saved .ipynb stays small.
 */

export const MIME = {
  frames: "application/vnd.nextframe.frames+json",
  heatmap: "application/vnd.nextframe.heatmap+json",
  tokens: "application/vnd.nextframe.tokens+json",
  chart: "application/vnd.nextframe.chart+json",
  table: "application/vnd.nextframe.table+json",
  patches: "application/vnd.nextframe.patches+json",
  scorecard: "application/vnd.nextframe.scorecard+json",
  interact: "application/vnd.nextframe.interact+json",
} as const;
export type NextframeMime = (typeof MIME)[keyof typeof MIME];
export const NEXTFRAME_MIMES: readonly NextframeMime[] = Object.values(MIME);

/** Every payload names its format version so old notebooks can be told apart later. */
export const PAYLOAD_VERSION = 1;

/**
 * A stack of equally sized 8-bit images stored as ONE PNG "sheet", `cols` images per sheet row: image i sits
 * at x = (i mod cols)·w, y = ⌊i / cols⌋·h. channels 1 = grayscale, 3 = RGB. `png` is base64. The browser
 * decodes it natively (createImageBitmap) and draws frames as sub-rectangles.
 */
export interface ImageStack {
  count: number;
  h: number;
  w: number;
  channels: 1 | 3;
  /** images per sheet row (default 1) */
  cols?: number;
  png: string;
}

/** A message the renderer shows instead of a view when the input was bad (a cell never stays blank). */
export interface ErrorPayload {
  version: number;
  error: string;
}

export interface Video {
  title?: string;
  frames: ImageStack;
}

/** application/vnd.nextframe.frames+json — one video or a grid of videos played in sync. */
export interface FramesPayload {
  version: number;
  title?: string;
  fps: number;
  loop: boolean;
  videos: Video[];
  /** one labelled row per video (title as the row label, a player and a strip of frames) instead of side by side */
  rows?: boolean;
  /** e.g. "downsampled from 1024×1024 to 256×256 to keep the output small" */
  notes?: string[];
}

/**
 * application/vnd.nextframe.heatmap+json — L layers × H heads of Q×K maps.
 * Values are quantized to `depth` bits between vmin and vmax:  value = vmin + q / (2^depth − 1) · (vmax − vmin).
 * Map m = l·H + h sits on the grayscale PNG sheet `png` at x = (m mod cols)·K, y = ⌊m / cols⌋·Q.
 */
export interface HeatmapPayload {
  version: number;
  title?: string;
  layers: number[];   // original layer index of each stored layer (after selection)
  heads: number[];    // original head index of each stored head
  q: number;
  k: number;
  depth: 8 | 16;
  /** maps per sheet row */
  cols: number;
  vmin: number;
  vmax: number;
  png: string;
  queryIndex?: number;
  xLabels?: string[]; // one per key
  yLabels?: string[]; // one per query
  xTitle?: string;
  yTitle?: string;
  colorscale?: "viridis" | "magma" | "gray";
  /** title of the colour bar (what a value is, e.g. "attention weight"); default "value" */
  valueTitle?: string;
  /**
   * For maps over 96 per side: each map max-pooled by f to q×k (8-bit levels, same vmin/vmax, same grid
   * layout), so the small multiples paint without decoding the full maps first.
   */
  thumbs?: { f: number; q: number; k: number; cols: number; png: string };
  notes?: string[];
}

/** application/vnd.nextframe.tokens+json — a strip of tokens coloured by a value (loss, attention…). */
export interface TokensPayload {
  version: number;
  title?: string;
  tokens: string[];
  values: (number | null)[];
  vmin: number;
  vmax: number;
  valueLabel?: string;
  colorscale?: "viridis" | "magma" | "gray";
  notes?: string[];
}

export interface ChartSeries {
  name: string;
  x: number[];
  y: number[];
}

/** application/vnd.nextframe.chart+json — line chart; updated in place through a display handle. */
export interface ChartPayload {
  version: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
  series: ChartSeries[];
  notes?: string[];
}

export type TableCell = string | number | boolean | null;

/** application/vnd.nextframe.table+json */
export interface TablePayload {
  version: number;
  title?: string;
  columns: string[];
  rows: TableCell[][];
  notes?: string[];
}

/** How far a measurement supports one of the article's claims. */
export const VERDICTS = ["shown", "partly", "not at this scale", "contradicted"] as const;
/** A scorecard verdict: shown, partly, not at this scale, or contradicted. */
export type Verdict = (typeof VERDICTS)[number];
/** A symbol per verdict, so a scorecard reads without colour (HTML fallback, text/plain, the course README). */
export const VERDICT_SYMBOL: Record<Verdict, string> = { shown: "✓", partly: "◐", "not at this scale": "○", contradicted: "✗" };

/** One row of a scorecard: the article's claim, what was measured, what it was compared with, the verdict. */
export interface ScorecardRow {
  claim: string;
  measured: string;
  baseline: string;
  verdict: Verdict;
  note?: string;
}

/** application/vnd.nextframe.scorecard+json — the rows are data, so the course README is generated from them. */
export interface ScorecardPayload {
  version: number;
  title?: string;
  rows: ScorecardRow[];
}

/**
 * application/vnd.nextframe.patches+json — an image cut into ph×pw patches (grid gh×gw), with optional
 * attention: either one value per patch (length gh·gw) or one row per query patch (N×N, N = gh·gw),
 * in which case clicking a patch shows the attention from that patch.
 */
export interface PatchesPayload {
  version: number;
  title?: string;
  image: ImageStack; // count 1
  patch: [number, number];
  grid: [number, number];
  attention?: {
    queries: number; // 1 or gh·gw
    /** base64 of uint8 levels, queries × (gh·gw) row-major: value = vmin + level / 255 · (vmax − vmin) */
    levels: string;
    vmin: number;
    vmax: number;
    queryIndex: number;
  };
  notes?: string[];
}

// --------------------------------------------------------------------------------------------
// World Viewer messages (extension ⇄ panel and kernel ⇄ extension via comm target "worldViewer")
// --------------------------------------------------------------------------------------------

export const WORLD_VIEWER_TARGET = "worldViewer";

export const WORLD_ACTIONS = ["up", "down", "left", "right", "space", "noop"] as const;
export type WorldAction = (typeof WORLD_ACTIONS)[number];

/**
 * A play session's state: "live" answers the panel's keys; "stopped" no longer does (the viewer's Stop button,
 * `session.stop()`, a newer playWorld, or the kernel going away). `message` says why, for the viewer to show.
 */
export type WorldSessionState = "live" | "stopped";

/** kernel → extension → panel */
export type WorldViewerToPanel =
  | { type: "frame"; frame: ImageStack; truth?: ImageStack; step: number; title?: string; action?: WorldAction }
  | { type: "show"; mime: NextframeMime; payload: unknown }
  | { type: "error"; message: string }
  /**
   * The session's status. The field is not called `state`: Jupyter clients (nbclient) read a comm message's
   * `state` field as ipywidgets state and fail on anything else.
   */
  | { type: "state"; status: WorldSessionState; steps: number; title?: string; message?: string };

/** panel → extension → kernel ("sync": a panel that just opened asks for the live session's state and frame) */
export type WorldViewerToKernel =
  | { type: "action"; action: WorldAction }
  | { type: "reset" }
  | { type: "stop" }
  | { type: "sync" };

/** extension → World Viewer webview (typed {command} messages) */
export type PanelInbound =
  | { command: "frame"; frame: ImageStack; truth?: ImageStack; step: number; title?: string; action?: WorldAction }
  | { command: "show"; mime: NextframeMime; payload: unknown }
  | { command: "error"; message: string }
  | { command: "state"; state: WorldSessionState; steps: number; title?: string; message?: string };

/** World Viewer webview → extension */
export type PanelOutbound =
  | { command: "ready" }
  | { command: "action"; action: WorldAction }
  | { command: "reset" }
  | { command: "stop" };

/** Kernel comm message → webview message (the extension forwards after validating). */
export function toPanelMessage(m: WorldViewerToPanel): PanelInbound {
  switch (m.type) {
    case "frame": {
      const { type: _t, ...rest } = m;
      return { command: "frame", ...rest };
    }
    case "show": return { command: "show", mime: m.mime, payload: m.payload };
    case "error": return { command: "error", message: m.message };
    case "state": {
      const { type: _t, status, ...rest } = m;
      return { command: "state", state: status, ...rest };
    }
  }
}

// ---- live controls: interact(fn, controls) ------------------------------------------------------------

/** Comm targets of interact() outputs start with this; the extension forwards renderer messages only to them. */
export const INTERACT_TARGET_PREFIX = "nextframe.interact.";

/** A slider: min ≤ value ≤ max on the grid min + k·step. */
export interface InteractSlider { kind: "slider"; name: string; label: string; min: number; max: number; step: number; value: number }
/** A choice list (a <select>). */
export interface InteractChoice { kind: "choice"; name: string; label: string; options: (string | number)[]; value: string | number }
export type InteractControl = InteractSlider | InteractChoice;
export type InteractValues = Record<string, string | number>;

/**
 * application/vnd.nextframe.interact+json — controls and the output of `fn(values)`. `output` is the one part of
 * fn's bundle the renderer draws: a nextframe view (its MIME type and payload), image/png (base64), image/svg+xml,
 * text/html or text/plain. `fnError` is set when fn threw (output then shows the error's text); not `error`, which
 * every view uses for an ErrorPayload (a bad input, shown instead of the view).
 */
export interface InteractPayload {
  version: number;
  /** comm target (INTERACT_TARGET_PREFIX + id) that receives `{ values }` */
  target: string;
  controls: InteractControl[];
  /** the values `output` was computed for */
  values: InteractValues;
  output: { mime: string; data: unknown };
  fnError?: string;
}

/** Renderer → extension (VS Code renderer messaging): a control moved. The kernel's handler receives `{ values }`. */
export interface InteractMessage { type: "interact"; target: string; values: InteractValues }
