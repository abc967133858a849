/**
 * Atomic writes: a reader (or a resumed run) sees either the old file or the complete new one, never a
 * half-written file, because we write to a temporary name in the same directory and rename over.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** `.<name>.<pid>.<8 hex>.tmp`: what tempName makes; the pid says which process owns it. */
const TEMP_RE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether a process with this pid is alive on this machine (EPERM: alive, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries a killed process left in `dir` (a checkpoint or a dataset half built, tens of MB
 * each): those whose owning pid is no longer alive. Live processes' temporaries are left alone, so this is
 * safe while another writer works in the same folder. Returns the paths removed.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    await fs.rm(path.join(dir, n), { recursive: true, force: true });
    removed.push(path.join(dir, n));
  }
  return removed;
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw writeError(target, e);
  }
}

/**
 * A filesystem error that names the file being written: Node's ENOSPC/EDQUOT/EIO say only "write", which
 * leaves a user of a long run guessing which of its outputs failed. Other errors pass through unchanged.
 */
function writeError(target: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const msg = (e as Error).message;
  return new Error(`${target}: cannot write (${msg.includes(target) ? code : msg})`, { cause: e });
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Appends one JSON line (metrics logs). Appends of a single short line are atomic on POSIX filesystems. */
export async function appendJsonLine(target: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  try {
    await fs.appendFile(target, JSON.stringify(value) + '\n');
  } catch (e) {
    throw writeError(target, e);
  }
}

/**
 * Builds a directory atomically: `build` fills a temporary sibling directory, which is renamed to
 * `target` only when `build` succeeds. An existing `target` is replaced only if `replace` is set.
 */
export async function buildDirAtomic(target: string, build: (tmpDir: string) => Promise<void>, replace = false): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  await fs.mkdir(parent, { recursive: true });
  await removeStaleTemps(parent);
  const tmp = tempName(path.resolve(target));
  await fs.mkdir(tmp);
  try {
    await build(tmp);
    if (replace) await fs.rm(target, { recursive: true, force: true });
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw writeError(target, e);
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
