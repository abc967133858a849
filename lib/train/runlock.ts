/**
 * An exclusive lock on a run directory, so that two runs never write the same checkpoints and metrics.
 *
 *   <run>/run.lock    { pid, host, started, argv } of the holder, created with O_EXCL
 *
 * A lock whose holder is this host's dead process is stale (the process was killed with -9, or the machine
 * rebooted) and is taken over. A lock held from another host cannot be checked from here: it is refused,
 * naming the holder, and the user removes it by hand. The lock is released by `release()` and, as a last
 * resort, when the process exits (a synchronous unlink in an 'exit' handler; a SIGKILL leaves it stale).
 * A process may hold the same directory's lock more than once (nested opens by one run); each open adds
 * a reference.
 */
import { promises as fs, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive } from '../util/atomic.js';

export const LOCK_FILE = 'run.lock';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  argv: string[];
}

/** The run directory is locked by a live process (or one on another host). */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {
    super(
      holder.host === os.hostname()
        ? `${file}: the run directory is in use by process ${holder.pid} (started ${holder.started}); wait for it to finish or stop it`
        : `${file}: the run directory is locked by process ${holder.pid} on host ${holder.host} (started ${holder.started}); ` +
            `if that run is gone, delete ${file}`,
    );
  }
}

const held = new Map<string, number>(); // lock file → references held by this process
let exitHook = false;

function releaseAllSync(): void {
  for (const file of held.keys()) {
    try {
      if (ownedByUs(JSON.parse(readFileSync(file, 'utf8')) as LockHolder)) rmSync(file, { force: true });
    } catch {
      // gone already, or unreadable: nothing of ours to remove
    }
  }
  held.clear();
}

const ownedByUs = (h: Partial<LockHolder>) => h.pid === process.pid && h.host === os.hostname();

async function readHolder(file: string): Promise<LockHolder | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (typeof h.pid === 'number' && typeof h.host === 'string') return h;
  } catch {
    // A lock torn by a crash between create and write: its holder never started work.
  }
  return { pid: -1, host: os.hostname(), started: '(unreadable lock)', argv: [] };
}

export interface RunLock {
  readonly file: string;
  /** Drops this reference; the file goes with the last one. */
  release(): Promise<void>;
}

/**
 * Takes the lock on `dir` (which must exist). Throws RunLockedError when a live process holds it;
 * `log` hears about a stale lock taken over.
 */
export async function acquireRunLock(dir: string, log: (msg: string) => void = () => {}): Promise<RunLock> {
  const file = path.join(path.resolve(dir), LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), argv: process.argv.slice(1) };
  for (let attempt = 0; ; attempt++) {
    if ((held.get(file) ?? 0) > 0) {
      held.set(file, held.get(file)! + 1);
      break;
    }
    try {
      await fs.writeFile(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      held.set(file, 1);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${file}: cannot create the lock (${(e as Error).message})`, { cause: e });
    }
    const holder = await readHolder(file);
    if (holder === null) continue; // released meanwhile
    if (ownedByUs(holder)) {
      // Our own lock left by an earlier open whose reference count we lost (cannot happen in one module
      // instance, but vitest may load this module twice): ours to hold.
      held.set(file, 1);
      break;
    }
    if (holder.host !== os.hostname() || (holder.pid > 0 && processAlive(holder.pid)) || attempt >= 3) throw new RunLockedError(file, holder);
    log(`${file}: taking over a stale lock of process ${holder.pid} (no longer running)`);
    // Two takers may race here: both unlink, and only one of the following exclusive creates succeeds.
    await fs.rm(file, { force: true });
  }
  if (!exitHook) {
    exitHook = true;
    process.on('exit', releaseAllSync);
  }
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      const n = (held.get(file) ?? 1) - 1;
      if (n > 0) {
        held.set(file, n);
        return;
      }
      held.delete(file);
      const holder = await readHolder(file);
      if (holder && ownedByUs(holder)) await fs.rm(file, { force: true });
    },
  };
}

/** The current holder of `dir`'s lock, if any (for status commands and tests). */
export async function runLockHolder(dir: string): Promise<LockHolder | null> {
  return readHolder(path.join(path.resolve(dir), LOCK_FILE));
}
