/**
 * A run directory: everything one training or editing run produces, laid out so that a report can be
 * regenerated from the directory alone and a killed run resumes from its last checkpoint.
 *
 *   <run>/config.json        the resolved config (every default filled in)
 *   <run>/meta.json          adapter, git commit, node version, start time, command line
 *   <run>/metrics.jsonl      one JSON object per logged step: { step, time, ...values }
 *   <run>/checkpoints/step-000500/   one folder per checkpoint, written atomically
 *   <run>/checkpoints/latest.json    { step, dir } of the newest complete checkpoint
 *   <run>/renders/           sample renders
 *   <run>/done.json          written last, when the run finished
 *   <run>/run.lock           held while a process works in the directory (runlock.ts)
 *
 * Opening a run directory takes its lock before anything is written, and removes the temporaries a killed
 * process left behind (half-written checkpoints). Call `close()` when done; process exit releases it too.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { appendJsonLine, buildDirAtomic, exists, removeStaleTemps, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { acquireRunLock, type RunLock } from './runlock.js';

export interface CheckpointRef {
  step: number;
  dir: string; // absolute
}

export class RunDir {
  private constructor(
    readonly root: string,
    private readonly lock: RunLock,
  ) {}

  /**
   * Opens `root`, creating it if needed, and takes its lock (RunLockedError while another live process
   * holds it). With an existing config.json, `config` must equal it: resuming a run under a different
   * config would silently mix two experiments.
   */
  static async open(root: string, config: unknown, meta: Record<string, unknown> = {}, log?: (msg: string) => void): Promise<RunDir> {
    const abs = path.resolve(root);
    await fs.mkdir(abs, { recursive: true });
    const lock = await acquireRunLock(abs, log);
    const run = new RunDir(abs, lock);
    try {
      for (const d of [abs, run.file('checkpoints'), run.file('renders')]) {
        for (const p of await removeStaleTemps(d)) log?.(`removed ${p}, left by a killed run`);
      }
      const cfgPath = run.file('config.json');
      if (await exists(cfgPath)) {
        let old: unknown;
        try {
          old = JSON.parse(await fs.readFile(cfgPath, 'utf8'));
        } catch (e) {
          throw new Error(`${cfgPath}: cannot read (${(e as Error).message}); delete the run directory to restart`, { cause: e });
        }
        if (stableStringify(old) !== stableStringify(config)) {
          throw new Error(`${cfgPath}: the run directory holds a different config; use a new directory or delete it to restart`);
        }
      } else {
        await writeJsonAtomic(cfgPath, config);
        await writeJsonAtomic(run.file('meta.json'), { ...runMeta(), ...meta });
      }
    } catch (e) {
      await lock.release();
      throw e;
    }
    return run;
  }

  /** Releases the lock (the directory stays readable; a later open takes it again). */
  async close(): Promise<void> {
    await this.lock.release();
  }

  file(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  async logMetrics(step: number, values: Record<string, number | string | null>): Promise<void> {
    await appendJsonLine(this.file('metrics.jsonl'), { step, time: new Date().toISOString(), ...values });
  }

  async readMetrics(): Promise<Array<Record<string, unknown> & { step: number }>> {
    let text: string;
    try {
      text = await fs.readFile(this.file('metrics.jsonl'), 'utf8');
    } catch {
      return [];
    }
    const out: Array<Record<string, unknown> & { step: number }> = [];
    const lines = text.split('\n').filter((l) => l.trim().length > 0);
    for (const [i, line] of lines.entries()) {
      try {
        out.push(JSON.parse(line));
      } catch {
        // Only the last line can be torn (a kill during an append); anything else is corruption.
        if (i === lines.length - 1) break;
        throw new Error(`${this.file('metrics.jsonl')}: line ${i + 1} is not JSON`);
      }
    }
    return out;
  }

  /**
   * Drops metric lines logged after `step` (and a torn last line): after a resume from the checkpoint at
   * `step`, those steps are run again and would otherwise appear twice.
   */
  async truncateMetrics(step: number): Promise<void> {
    const rows = (await this.readMetrics()).filter((r) => r.step <= step);
    await writeFileAtomic(this.file('metrics.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  /** Writes a checkpoint folder atomically, then points latest.json at it. */
  async saveCheckpoint(step: number, files: Record<string, string | Uint8Array>): Promise<CheckpointRef> {
    const dir = this.file('checkpoints', `step-${String(step).padStart(6, '0')}`);
    await buildDirAtomic(
      dir,
      async (tmp) => {
        for (const [name, data] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), data);
      },
      true,
    );
    await writeJsonAtomic(this.file('checkpoints', 'latest.json'), { step, dir: path.basename(dir) });
    return { step, dir };
  }

  async latestCheckpoint(): Promise<CheckpointRef | null> {
    const p = this.file('checkpoints', 'latest.json');
    if (!(await exists(p))) return null;
    let j: { step: number; dir: string };
    try {
      j = JSON.parse(await fs.readFile(p, 'utf8')) as { step: number; dir: string };
    } catch (e) {
      throw new Error(`${p}: cannot read (${(e as Error).message})`, { cause: e });
    }
    if (!Number.isInteger(j?.step) || typeof j?.dir !== 'string') throw new Error(`${p}: expected { step: <integer>, dir: <folder name> }`);
    const dir = this.file('checkpoints', j.dir);
    if (!(await exists(dir))) throw new Error(`${p}: points at missing checkpoint ${j.dir}`);
    return { step: j.step, dir };
  }

  /** Keeps the newest `keep` checkpoints (and any named in `pinned`). */
  async pruneCheckpoints(keep: number, pinned: number[] = []): Promise<void> {
    const dir = this.file('checkpoints');
    const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^step-\d+$/.test(n)).sort();
    const pinnedNames = new Set(pinned.map((s) => `step-${String(s).padStart(6, '0')}`));
    for (const n of names.slice(0, Math.max(0, names.length - keep))) {
      if (!pinnedNames.has(n)) await fs.rm(path.join(dir, n), { recursive: true, force: true });
    }
  }

  async markDone(summary: Record<string, unknown>): Promise<void> {
    await writeJsonAtomic(this.file('done.json'), { finished: new Date().toISOString(), ...summary });
  }

  async isDone(): Promise<boolean> {
    return exists(this.file('done.json'));
  }
}

/** JSON with sorted keys, for comparing configs independent of key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function runMeta(): Record<string, unknown> {
  let commit: string | null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    commit = null;
  }
  return {
    started: new Date().toISOString(),
    commit,
    node: process.version,
    argv: process.argv.slice(2),
  };
}
