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

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Appends one JSON line (metrics logs). Appends of a single short line are atomic on POSIX filesystems. */
export async function appendJsonLine(target: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.appendFile(target, JSON.stringify(value) + '\n');
}

/**
 * Builds a directory atomically: `build` fills a temporary sibling directory, which is renamed to
 * `target` only when `build` succeeds. An existing `target` is replaced only if `replace` is set.
 */
export async function buildDirAtomic(target: string, build: (tmpDir: string) => Promise<void>, replace = false): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  await fs.mkdir(parent, { recursive: true });
  const tmp = tempName(path.resolve(target));
  await fs.mkdir(tmp);
  try {
    await build(tmp);
    if (replace) await fs.rm(target, { recursive: true, force: true });
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
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
