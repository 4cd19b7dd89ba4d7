/**
 * Atomic file writes: the bytes go to a hidden temp file `.<name>.<pid>.<time>.tmp` in the same directory, are
 * fsync'd, then renamed over the target, so a crash mid-write never leaves a half-written file under its name.
 * A writer killed mid-write (SIGKILL, OOM killer, power loss) leaves its temp file behind; checkpoints are
 * hundreds of MB, so every write first removes the temp files of the same target left by processes that no
 * longer exist. Temp files of live processes (a save running elsewhere right now) are never touched.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The temp file name a write to `path` by this process uses now. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** False only when no process has this pid (ESRCH); a process of another user (EPERM) is alive. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Removes `.<name>.<pid>.<time>.tmp` files of `path` whose writer process is gone; returns the names removed.
 * Files of other targets in the same folder, of this process and of live processes are left alone.
 */
export function removeStaleTempFiles(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || !Number.isSafeInteger(pid) || pid <= 0 || processExists(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch { /* removed by another writer meanwhile, or not ours to remove */ }
  }
  return removed;
}

/**
 * Writes `data` to `path` atomically (temp file, fsync, rename, then fsync of the folder where supported), after
 * removing stale temp files of `path`. Errors propagate with the temp file removed; the old `path` stays intact.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  removeStaleTempFiles(path);
  const tmp = tempPathFor(path);
  let fd = -1;
  try {
    fd = openSync(tmp, "w");
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  // fsync the directory so the rename itself is durable (not supported on every platform; best effort).
  try {
    const dfd = openSync(dirname(path), "r");
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* directories cannot be fsync'd on some platforms */ }
}
