/**
 * Drives VS Code's workbench (code-server in headless Chromium) the way a person does: explorer clicks, the
 * command palette, keyboard shortcuts, the notebook toolbar. Every wait is on real UI state with a generous
 * deadline; the only fixed delays are poll intervals.
 *
 * Notebook outputs render inside a webview (an iframe in an iframe), so output text is read from every frame.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Frame, type Locator, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"];

/** Generous deadlines: a 2-core machine running code-server, Chromium and a kernel at once is slow. */
export const T = { workbench: 120_000, ui: 60_000, kernelStart: 180_000, cell: 120_000 };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined; throws `what` with the last value seen. */
export async function until<V>(what: string, timeoutMs: number, probe: () => Promise<V | undefined>, describe?: () => Promise<string>): Promise<V> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const extra = describe ? `\n${await describe().catch((e) => String(e))}` : "";
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${extra}`);
    }
    await pause(250);
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Opens the workbench and waits until the explorer lists `expectFile` (the remote file system answers). */
export async function openWorkbench(page: Page, url: string, expectFile: string): Promise<void> {
  await page.goto(url);
  await page.locator(".monaco-workbench").waitFor({ timeout: T.workbench });
  await explorerRow(page, expectFile).waitFor({ timeout: T.workbench });
}

function explorerRow(page: Page, name: string): Locator {
  return page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first();
}

/** Runs a command palette entry by its title, e.g. "Notebook: Select Notebook Kernel". */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await until(`the command palette to open for "${title}"`, T.ui, async () => {
    if (!(await input.isVisible())) await page.keyboard.press("F1");
    return (await input.isVisible({ timeout: 2000 })) ? true : undefined;
  });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ timeout: T.ui });
  await row.click();
}

/**
 * Opens `name` from the explorer and waits for the notebook editor. Opened before the built-in ipynb support
 * has registered (early in the workbench's start), an .ipynb shows as JSON text; then close it and try again.
 */
export async function openNotebook(page: Page, name: string): Promise<Locator> {
  // The notebook list lives in .notebookOverlay, laid over the editor area (.notebook-editor itself has no height).
  const notebook = page.locator(".notebookOverlay").first();
  const textEditor = page.locator(".part.editor .editor-instance .monaco-editor").first();
  const deadline = Date.now() + T.workbench;
  for (let attempt = 1; ; attempt++) {
    await explorerRow(page, name).dblclick();
    const shown = await until(`${name} to open in an editor`, T.ui, async () => {
      if (await notebook.isVisible()) return "notebook";
      if (await textEditor.isVisible()) return "text";
      return undefined;
    });
    if (shown === "notebook") return notebook;
    if (Date.now() > deadline) throw new Error(`${name} still opens as JSON text after ${attempt} attempts`);
    await runCommand(page, "View: Close All Editors");
    await until("the editors to close", T.ui, async () => ((await textEditor.isVisible()) ? undefined : true));
    await pause(1000);
  }
}

/**
 * Makes `label` the notebook's kernel. VS Code selects the only matching kernel by itself once the extension
 * host has registered it; otherwise pick it from the kernel picker in the notebook toolbar, as a person would.
 */
export async function selectKernel(page: Page, label: string): Promise<void> {
  const toolbarKernel = page.locator(".notebook-toolbar-container .notebook-toolbar-right", { hasText: label });
  if (await toolbarKernel.waitFor({ timeout: 15_000 }).then(() => true, () => false)) return;
  await page.locator(".notebook-toolbar-container .codicon-notebook-kernel-select").first().click();
  const item = page.locator(".quick-input-widget .monaco-list-row", { hasText: label }).first();
  await until(`"${label}" in the kernel picker`, T.ui, async () => ((await item.isVisible()) ? true : undefined),
    async () => `kernel picker rows: ${JSON.stringify(await page.locator(".quick-input-widget .monaco-list-row").allInnerTexts())}`);
  await item.click();
  await toolbarKernel.waitFor({ timeout: T.ui });
}

/** The code cell whose source contains `snippet` (only cells scrolled near the viewport are in the DOM). */
export function codeCell(page: Page, snippet: string): Locator {
  return page.locator(".notebookOverlay .monaco-list-row.code-cell-row", { hasText: snippet }).first();
}

/**
 * Scrolls the notebook with the mouse wheel until the code cell containing `snippet` is fully inside the
 * notebook's viewport (with `top`, at its top as far as the notebook scrolls), and returns it. The notebook list is virtual (rows far from the viewport are not in the
 * DOM) and scrolls itself, so Playwright's scrollIntoView cannot do this.
 */
export async function revealCell(page: Page, snippet: string, opts: { top?: boolean } = {}): Promise<Locator> {
  const cell = codeCell(page, snippet);
  const list = page.locator(".notebookOverlay .cell-list-container").first();
  const view = await list.boundingBox();
  if (!view) throw new Error("the notebook list is not visible");
  await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2);
  let direction = 1; // search downwards first, then upwards
  let lastTop = NaN;
  for (let i = 0; i < 200; i++) {
    const box = (await cell.count()) ? await cell.boundingBox() : null;
    if (box) {
      const inView = box.y >= view.y && box.y + Math.min(box.height, view.height * 0.8) <= view.y + view.height;
      if (inView && (!opts.top || box.y - view.y < 80 || box.y === lastTop)) return cell; // (top: or the end stops it)
      lastTop = box.y;
      await page.mouse.wheel(0, Math.max(-view.height / 2, Math.min(view.height / 2, box.y - view.y - 40)));
    } else {
      const top = await list.locator(".monaco-list-row").first().boundingBox().then((b) => b?.y ?? 0);
      if (top === lastTop) direction = -direction; // the list stopped moving: reached an end
      lastTop = top;
      await page.mouse.wheel(0, (direction * view.height) / 2);
    }
    await pause(150);
  }
  throw new Error(`no code cell containing ${JSON.stringify(snippet)} could be scrolled into view`);
}

/** Runs the cell with the run button left of its editor (shown when the cell is hovered or focused). */
export async function runCell(page: Page, cell: Locator): Promise<void> {
  const run = cell.locator(".run-button-container .action-label.codicon-notebook-execute").first();
  // The run button shows while the cell is hovered or focused. On a busy machine one hover can land before the
  // list has laid the cell out, and the button then stays hidden: hover again (and focus the cell) until it shows.
  const deadline = Date.now() + T.ui;
  for (let attempt = 0; ; attempt++) {
    await cell.scrollIntoViewIfNeeded();
    await cell.hover();
    if (attempt > 0) await cell.locator(".cell-focus-indicator-left, .cell-focus-indicator").first().click({ timeout: 2000 }).catch(() => undefined);
    try {
      await run.waitFor({ timeout: Math.min(5000, Math.max(1000, deadline - Date.now())) });
      break;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
  }
  await run.click();
  void page;
}

export type CellState = "success" | "error" | "executing";

/** The state icon VS Code shows in the cell's status bar, or "idle". */
export async function cellState(cell: Locator): Promise<CellState | "pending" | "idle"> {
  const cls = (await cell.locator(".cell-statusbar-container .codicon").evaluateAll((els) => els.map((e) => e.className))).join(" ");
  if (/notebook-state-success/.test(cls)) return "success";
  if (/notebook-state-error/.test(cls)) return "error";
  if (/notebook-state-executing|modifier-spin/.test(cls)) return "executing";
  if (/notebook-state-pending/.test(cls)) return "pending";
  return "idle";
}

export async function waitCellState(cell: Locator, want: CellState | CellState[], timeoutMs = T.cell): Promise<CellState> {
  const wants = Array.isArray(want) ? want : [want];
  let last = "";
  return until(`the cell to reach state ${wants.join("|")}`, timeoutMs, async () => {
    const s = await cellState(cell);
    last = s;
    return (wants as string[]).includes(s) ? (s as CellState) : undefined;
  }, async () => `last state: ${last}`);
}

/** The notebook output webviews' frames (not the web worker extension host's iframe). */
function outputFrames(page: Page): Frame[] {
  return page.frames().filter((f) => f !== page.mainFrame() && /\/webview\/|fake\.html|index\.html\?id=/.test(f.url()) && !/ExtensionHost/i.test(f.url()));
}

/** The text of every rendered output (all webview frames), joined. */
export async function outputsText(page: Page): Promise<string> {
  const texts: string[] = [];
  for (const f of outputFrames(page)) {
    // A string, not a function: this project's tsconfig has no DOM types (Node and browser code are kept apart).
    const t = await f.evaluate<string>("document.body ? document.body.innerText : ''").catch(() => "");
    if (t.trim()) texts.push(t);
  }
  return texts.join("\n");
}

/** Waits until some rendered output matches `re`; returns the output text. */
export async function waitForOutput(page: Page, re: RegExp, timeoutMs = T.cell): Promise<string> {
  return until(`an output matching ${re}`, timeoutMs, async () => {
    const t = await outputsText(page);
    return re.test(t) ? t : undefined;
  }, async () => `outputs now:\n${(await outputsText(page)).slice(-2000)}`);
}

/** Waits for an output webview frame that contains `selector` (e.g. a renderer's root element). */
export async function outputFrameWith(page: Page, selector: string, timeoutMs = T.cell): Promise<Frame> {
  return until(`an output containing ${selector}`, timeoutMs, async () => {
    for (const f of outputFrames(page)) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    return undefined;
  }, async () => `outputs now:\n${(await outputsText(page)).slice(-2000)}`);
}

/** Clicks the notebook toolbar's Interrupt button (shown while a cell runs). */
export async function interrupt(page: Page): Promise<void> {
  const button = page.locator(".notebook-toolbar-container .action-label[aria-label*='Interrupt']").first();
  await button.waitFor({ timeout: T.ui });
  await button.click();
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path }).catch(() => undefined);
  return path;
}
