/**
 * Coalesces a cell's stream text into few Jupyter `stream` messages, as ipykernel's OutStream does: text waits up
 * to `intervalMs` (50 ms) or until `maxChars` (64 K characters) gathered, then goes out as one message. The kernel
 * child sends every write at once (so output streams while synchronous code runs); one iopub message per
 * console.log would make 100 000 lines 100 000 messages, which is what made zeromq's high-water mark drop them.
 *
 * Only one run of text is pending at a time: text of another cell or the other stream name flushes the pending
 * run first, and so does every non-stream output (the caller calls flush()), so the order of outputs is kept.
 */
export interface StreamBatcherOptions {
  intervalMs?: number;
  maxChars?: number;
}

export class StreamBatcher<P> {
  private pending: { parent: P; name: string; chunks: string[]; chars: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  private readonly maxChars: number;

  constructor(private readonly publish: (parent: P, name: string, text: string) => void, opts: StreamBatcherOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 50;
    this.maxChars = opts.maxChars ?? 64 * 1024;
  }

  write(parent: P, name: string, text: string): void {
    if (!text) return;
    const p = this.pending;
    if (p && (p.parent !== parent || p.name !== name)) this.flush();
    if (this.pending) {
      this.pending.chunks.push(text);
      this.pending.chars += text.length;
    } else {
      this.pending = { parent, name, chunks: [text], chars: text.length };
    }
    if (this.pending.chars >= this.maxChars) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Publish the pending text now (before any other output, and before a cell's reply). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.publish(p.parent, p.name, p.chunks.join(""));
  }
}
