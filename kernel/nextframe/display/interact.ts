/**
 * interact(fn, controls): a live control. Shows `fn(defaults)`'s output (anything display() can show) with sliders
 * and choice lists drawn by the nextframe renderer; moving a control sends the values over the comm channel
 * (VS Code renderer messaging → the extension → comm target `INTERACT_TARGET_PREFIX + id`), fn runs again and the
 * output is replaced in place. The latest values win: while a run is in flight, only the newest values wait.
 * The bundle's fallback (text/html, text/plain) is the output for the defaults plus a line naming the controls.
 */
import {
  captureDisplays, displayHandleSymbol, hasMimeBundle, isDisplayHandle, onComm, ownDisplay, plainText, toMimeBundle,
  type DisplayHandle, type MimeBundle,
} from "./display";
import { escapeHtml } from "./html";
import {
  INTERACT_TARGET_PREFIX, MIME, PAYLOAD_VERSION,
  type InteractControl, type InteractPayload, type InteractValues,
} from "../../shared/payloads";

/** `[min, max, step]`, `[min, max, step, default]`, or the object form. */
export type SliderSpec =
  | readonly [number, number, number]
  | readonly [number, number, number, number]
  | { min: number; max: number; step?: number; value?: number; label?: string };
/** A choice list: a list of strings, or an object with options (strings or numbers), value and label. */
export type ChoiceSpec = readonly string[] | { options: readonly (string | number)[]; value?: string | number; label?: string };
/** One control of interact(): a slider spec or a choice list. */
export type ControlSpec = SliderSpec | ChoiceSpec;

type ValueOf<S> = S extends readonly string[] ? S[number]
  : S extends { options: readonly (infer O)[] } ? O
  : number;
/** The values interact() passes to fn: a number per slider, the chosen option per choice list. */
export type ControlValues<C> = { [K in keyof C]: ValueOf<C[K]> };

/** The handle interact() returns: the current values, set() to move the controls from code, settled() and close(). */
export interface InteractHandle<C> extends DisplayHandle {
  /** the comm target the renderer's messages go to */
  readonly target: string;
  /** the values of the output shown last */
  readonly values: ControlValues<C>;
  /** Run fn with these values (merged into the current ones) as a moved control would; resolves when shown. */
  set(values: Partial<ControlValues<C>>): Promise<void>;
  /** Resolves when no run is in flight or waiting. */
  settled(): Promise<void>;
  /** Stop listening to the controls (the output stays). */
  close(): void;
}

const SPEC_HELP = "a slider [min, max, step] or [min, max, step, default], { min, max, step, value, label }, " +
  "a list of strings, or { options: [...], value, label }";

function decimals(x: number): number {
  const s = String(x);
  if (s.includes("e-")) return Number(s.split("e-")[1]);
  return s.includes(".") ? s.split(".")[1].length : 0;
}

/** `x` clamped to [min, max] and snapped to min + k·step (rounded to the step's decimals, so 0.1 + 0.2 is 0.3). */
function snap(c: { min: number; max: number; step: number }, x: number): number {
  const k = Math.round((Math.min(c.max, Math.max(c.min, x)) - c.min) / c.step);
  const v = Math.min(c.max, c.min + k * c.step);
  const d = Math.max(decimals(c.step), decimals(c.min));
  return Number(v.toFixed(Math.min(20, d)));
}

function describe(x: unknown): string {
  try { return JSON.stringify(x) ?? String(x); } catch { return String(x); }
}

/** Check one control spec; throws a TypeError that names the control and what was expected. */
export function parseControl(name: string, spec: unknown): InteractControl {
  const bad = (why: string): never => {
    throw new TypeError(`interact: control "${name}" ${why}; expected ${SPEC_HELP}, got ${describe(spec)}`);
  };
  const choice = (options: unknown, value: unknown, label: unknown): InteractControl => {
    if (!Array.isArray(options) || options.length === 0) return bad("needs a non-empty list of options");
    if (!options.every((o) => typeof o === "string" || (typeof o === "number" && Number.isFinite(o)))) return bad("has options that are not strings or finite numbers");
    if (value !== undefined && !options.includes(value)) return bad(`has a default ${describe(value)} that is not one of its options`);
    if (label !== undefined && typeof label !== "string") return bad("has a label that is not a string");
    return { kind: "choice", name, label: (label as string | undefined) ?? name, options: [...options] as (string | number)[], value: (value as string | number | undefined) ?? options[0] };
  };
  const slider = (min: unknown, max: unknown, step: unknown, value: unknown, label: unknown): InteractControl => {
    const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
    if (!num(min) || !num(max)) return bad("needs finite numbers min and max");
    if (!((min as number) < (max as number))) return bad("needs min < max");
    if (step !== undefined && (!num(step) || (step as number) <= 0)) return bad("needs a step > 0");
    if (value !== undefined && (!num(value) || (value as number) < (min as number) || (value as number) > (max as number))) {
      return bad(`has a default ${describe(value)} outside [${min}, ${max}]`);
    }
    if (label !== undefined && typeof label !== "string") return bad("has a label that is not a string");
    const c = { min: min as number, max: max as number, step: (step as number | undefined) ?? ((max as number) - (min as number)) / 100 };
    // without a default: the middle of the range, on the step grid (as ipywidgets does)
    const v = snap(c, (value as number | undefined) ?? (c.min + c.max) / 2);
    return { kind: "slider", name, label: (label as string | undefined) ?? name, ...c, value: v };
  };
  if (Array.isArray(spec)) {
    if (spec.some((x) => typeof x === "string")) return choice(spec, undefined, undefined);
    if (spec.length !== 3 && spec.length !== 4) return bad(`is an array of ${spec.length} numbers`);
    return slider(spec[0], spec[1], spec[2], spec[3], undefined);
  }
  if (typeof spec === "object" && spec !== null) {
    const o = spec as Record<string, unknown>;
    const known = "options" in o ? ["options", "value", "label"] : ["min", "max", "step", "value", "label"];
    const extra = Object.keys(o).filter((k) => !known.includes(k));
    if (extra.length) return bad(`has unknown field${extra.length > 1 ? "s" : ""} ${extra.join(", ")}`);
    return "options" in o ? choice(o.options, o.value, o.label) : slider(o.min, o.max, o.step, o.value, o.label);
  }
  return bad("is not an array or an object");
}

/** The values from a renderer message, checked against the controls: sliders clamped and snapped, bad ones kept as they were. */
export function acceptValues(controls: InteractControl[], current: InteractValues, incoming: unknown): InteractValues {
  const next = { ...current };
  if (typeof incoming !== "object" || incoming === null) return next;
  for (const c of controls) {
    const v = (incoming as Record<string, unknown>)[c.name];
    if (c.kind === "slider") {
      if (typeof v === "number" && Number.isFinite(v)) next[c.name] = snap(c, v);
    } else if ((typeof v === "string" || typeof v === "number") && c.options.includes(v)) next[c.name] = v;
  }
  return next;
}

/** "scale = 3 (0…10, step 0.5), sampler = "ddim" (one of ddpm, ddim)" */
export function describeControls(controls: InteractControl[], values: InteractValues): string {
  return controls.map((c) => c.kind === "slider"
    ? `${c.label} = ${values[c.name]} (${c.min}…${c.max}, step ${c.step})`
    : `${c.label} = ${JSON.stringify(values[c.name])} (one of ${c.options.join(", ")})`).join(", ");
}

/** The part of fn's bundle the renderer draws: a nextframe view first, then a picture, HTML, text. */
function pickOutput(b: MimeBundle): { mime: string; data: unknown } {
  const nf = Object.keys(b).find((k) => k.startsWith("application/vnd.nextframe.") && k !== MIME.interact);
  if (nf) return { mime: nf, data: b[nf] };
  for (const mime of ["image/png", "image/svg+xml", "text/html", "text/markdown"]) {
    if (typeof b[mime] === "string") return { mime, data: b[mime] };
  }
  return { mime: "text/plain", data: String(b["text/plain"] ?? "") };
}

/** The fallback HTML of fn's bundle (what Jupyter or GitHub would show for it). */
function fallbackHtml(b: MimeBundle): string {
  if (typeof b["text/html"] === "string") return b["text/html"];
  if (typeof b["image/png"] === "string") return `<img src="data:image/png;base64,${b["image/png"]}" style="max-width:100%;height:auto" alt="">`;
  if (typeof b["image/svg+xml"] === "string") {
    return `<img src="data:image/svg+xml;base64,${Buffer.from(b["image/svg+xml"], "utf8").toString("base64")}" style="max-width:100%;height:auto" alt="">`;
  }
  return `<pre>${escapeHtml(String(b["text/plain"] ?? ""))}</pre>`;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `error: ${plainText(e)}`;
}

/** The interact bundle for `values`, given fn's bundle or the error it threw. */
export function interactBundle(target: string, controls: InteractControl[], values: InteractValues, inner: MimeBundle | { error: string }): MimeBundle {
  const line = `Controls (live in VS Code with the nextframe renderer): ${describeControls(controls, values)}`;
  if ("error" in inner && typeof inner.error === "string" && Object.keys(inner).length === 1) {
    const msg = `interact: fn threw for ${describeControls(controls, values)}: ${inner.error}`;
    const payload: InteractPayload = { version: PAYLOAD_VERSION, target, controls, values, output: { mime: "text/plain", data: msg }, fnError: inner.error };
    return {
      [MIME.interact]: payload,
      "text/html": `<pre style="color:#c00">${escapeHtml(msg)}</pre><p><em>${escapeHtml(line)}</em></p>`,
      "text/plain": `${msg}\n${line}`,
    };
  }
  const b = inner as MimeBundle;
  const payload: InteractPayload = { version: PAYLOAD_VERSION, target, controls, values, output: pickOutput(b) };
  return {
    [MIME.interact]: payload,
    "text/html": `${fallbackHtml(b)}<p><em>${escapeHtml(line)}</em></p>`,
    "text/plain": `${String(b["text/plain"] ?? "")}\n${line}`,
  };
}

let counter = 0;

/**
 * Show `fn(defaults)` with live controls; moving one re-runs fn and replaces the output in place.
 *
 *     interact(({ scale }) => lineChart({ y: curve(scale) }), { scale: [0, 10, 0.5, 3] })
 *     interact(({ steps, sampler }) => showFrames(sample(steps, sampler)), { steps: [1, 50, 1, 10], sampler: ["ddpm", "ddim"] })
 *
 * fn returns the value to show (a chart, a string, an object), or displays it (`showFrames(...)`, `showTable(...)`,
 * `lineChart(...)`; return or await that call): what it displays is collected into this output, not shown in the
 * cell (with several, the one it returns, else the last). It may be async. An error it throws is shown in the output. Controls: sliders `[min, max, step]` (default: the middle), `[min, max, step, default]` or
 * `{ min, max, step, value, label }`; choices as a list of strings or `{ options, value, label }`.
 */
export function interact<C extends Record<string, ControlSpec>>(fn: (values: ControlValues<C>) => unknown, controls: C): InteractHandle<C> {
  if (typeof fn !== "function") throw new TypeError(`interact: the first argument must be a function of the control values, got ${describe(fn)}`);
  if (typeof controls !== "object" || controls === null || Array.isArray(controls) || Object.keys(controls).length === 0) {
    throw new TypeError(`interact: the second argument must be an object of named controls, e.g. { scale: [0, 10, 0.5] }, got ${describe(controls)}`);
  }
  const specs = Object.entries(controls).map(([name, spec]) => parseControl(name, spec));
  counter += 1;
  const target = `${INTERACT_TARGET_PREFIX}${process.pid}-${Date.now().toString(36)}-${counter}`;
  let values: InteractValues = Object.fromEntries(specs.map((c) => [c.name, c.value]));

  const render = async (v: InteractValues): Promise<MimeBundle> => {
    try {
      // what fn displays (showFrames, showTable, lineChart, …) is collected, not shown in the cell
      const { result, shown } = captureDisplays(() => fn({ ...v } as ControlValues<C>));
      const out = await result;
      let inner: MimeBundle;
      if (hasMimeBundle(out)) inner = await toMimeBundle(out); // a chart (also when lineChart displayed it)
      else if (isDisplayHandle(out) && shown.has(out.id)) inner = await shown.get(out.id)!;
      else if (out === undefined && shown.size > 0) inner = await [...shown.values()].at(-1)!;
      else if (out === undefined) throw new TypeError("interact: fn returned undefined and displayed nothing; return (or display) the value to show");
      else inner = await toMimeBundle(out);
      return interactBundle(target, specs, v, inner);
    } catch (e) {
      return interactBundle(target, specs, v, { error: errorText(e) });
    }
  };

  const { handle: shown, send } = ownDisplay();
  // The first output goes out as a promise, so the kernel keeps the cell running until it is shown (a cell that ends
  // with interact(...) gets its output in Jupyter too); `first` settles after the sink has it.
  const firstBundle = render(values);
  send(firstBundle, false);
  const first = firstBundle.then(() => undefined);
  let pending: InteractValues | null = null;
  let running: Promise<void> | null = null;
  const loop = async () => {
    await first;
    while (pending) {
      const v = pending;
      pending = null;
      const b = await render(v);
      values = v;
      send(b, true);
    }
    running = null;
  };
  const request = (v: InteractValues): Promise<void> => {
    pending = v; // the newest values replace any that are waiting
    if (!running) running = loop();
    return running;
  };
  const off = onComm(target, (data) => {
    const incoming = (data as { values?: unknown } | null)?.values;
    void request(acceptValues(specs, pending ?? values, incoming));
    return undefined;
  });

  const h = {
    id: shown.id,
    target,
    get values() { return { ...values } as ControlValues<C>; },
    update: (x: unknown) => shown.update(x),
    set: (v: Partial<ControlValues<C>>) => request(acceptValues(specs, pending ?? values, v)),
    settled: async () => {
      await first;
      while (running) await running;
    },
    close: off,
  };
  Object.defineProperty(h, displayHandleSymbol, { value: true, enumerable: false });
  return h as InteractHandle<C>;
}
