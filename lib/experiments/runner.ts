/**
 * The ablation grid runner. Each cell (method, subject, edit, seed) is a run directory
 *     <outDir>/<grid>/<method>/<subject>/<edit>/seed-<seed>/
 * holding cell.json (what the cell is, its attempt count), log.txt (appended over attempts), the runner's own
 * files, and, written atomically and last, done.json (the metrics). A cell with done.json is finished and is
 * skipped; anything else is (re)run: after a kill its directory is cleared (keeping log.txt) and the cell
 * restarts, unless its runner supports resuming from its own checkpoints. A failing cell writes failed.json and
 * the grid goes on. A .lock file (pid) keeps two processes off one cell; a dead process's lock is taken over.
 */
import { promises as fs, appendFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { writeJsonAtomic } from '../util/atomic.js';
import { editDef, hashOf, methodDef, type GridConfig } from './config.js';
import { getCellRunner, type Cell, type CellResult, type MetricValue } from './registry.js';

export type { Cell } from './registry.js';

export const cellKey = (c: Pick<Cell, 'method' | 'subject' | 'edit' | 'seed'>) => `${c.method.name}/${c.subject}/${c.edit.id}/seed-${c.seed}`;
export const gridDir = (cfg: Pick<GridConfig, 'outDir' | 'name'>) => path.join(cfg.outDir, cfg.name);
export const cellDir = (root: string, c: Cell) => path.join(root, c.method.name, c.subject, c.edit.id, `seed-${c.seed}`);
/** What identifies a cell's computation: a finished cell whose hash differs is stale. */
export const cellHash = (c: Cell) => hashOf({ runner: c.method.runner, subject: c.subject, edit: c.edit, seed: c.seed, tasks: c.tasks, params: c.params });

export function expandGrid(cfg: GridConfig): Cell[] {
  const cells: Cell[] = [];
  for (const m of cfg.methods.map(methodDef))
    for (const subject of cfg.subjects)
      for (const e of cfg.edits.map(editDef))
        for (const seed of cfg.seeds)
          cells.push({ grid: cfg.name, method: m, subject, edit: e, seed, tasks: [...cfg.tasks], params: { ...cfg.params, ...m.params, ...e.params } });
  return cells;
}

export interface DoneRecord {
  status: 'done';
  key: string;
  hash: string;
  cell: Cell;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  metrics: Record<string, Record<string, MetricValue | string>>; // ±Infinity / NaN stored as strings
  notes: string[];
  host: string;
}

/** JSON has no Infinity: a PSNR of an exact match is kept as the string 'Infinity'. */
export function encodeMetrics(m: CellResult['metrics']): DoneRecord['metrics'] {
  const out: DoneRecord['metrics'] = {};
  for (const [task, ms] of Object.entries(m)) {
    out[task] = {};
    for (const [k, v] of Object.entries(ms)) out[task]![k] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  }
  return out;
}

export function decodeMetrics(m: DoneRecord['metrics']): CellResult['metrics'] {
  const out: CellResult['metrics'] = {};
  for (const [task, ms] of Object.entries(m)) {
    out[task] = {};
    for (const [k, v] of Object.entries(ms)) out[task]![k] = typeof v === 'string' ? Number(v) : v;
  }
  return out;
}

export type CellStatus = 'done' | 'skipped' | 'failed' | 'busy' | 'aborted';

export type GridEvent =
  | { type: 'plan'; total: number; pending: number; finished: number }
  | { type: 'start'; cell: Cell; key: string; attempt: number; resume: boolean }
  | { type: 'progress'; key: string; fraction: number }
  | { type: 'end'; cell: Cell; key: string; status: CellStatus; error?: string; wallSeconds?: number };

export interface RunGridOptions {
  concurrency?: number;
  /** Restrict to some cells (the rest are left as they are). */
  filter?: (cell: Cell) => boolean;
  /** Re-run cells that failed before (default true). */
  retryFailed?: boolean;
  /** A finished cell whose config changed: 'error' (default), 'rerun' it, or 'keep' the old result. */
  onStale?: 'error' | 'rerun' | 'keep';
  signal?: AbortSignal;
  /** performance.now() after which no cell starts (running ones finish): fits a grid into a machine's time limit. */
  startUntil?: number;
  onEvent?: (e: GridEvent) => void;
}

export interface GridSummary {
  root: string;
  total: number;
  done: string[]; // run now
  skipped: string[]; // finished before
  failed: { key: string; error: string }[];
  busy: string[]; // locked by another live process
  aborted: string[];
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockHolder {
  pid?: number;
  host?: string;
  /** The Slurm job (SLURM_JOB_ID) the holder ran in, when it ran under Slurm. */
  slurmJob?: string | null;
}

/**
 * Whether a lock's holder may still be running. On this host, its pid tells. On another host (a shared
 * filesystem), a Slurm job tells through squeue; a lock from another host outside Slurm cannot be checked
 * from here, so it is left alone (the error says how to clear it).
 */
function holderAlive(h: LockHolder): boolean {
  if (!h.pid) return false;
  if (h.host === os.hostname()) return pidAlive(h.pid);
  if (h.slurmJob) {
    const r = spawnSync('squeue', ['-h', '-j', h.slurmJob, '-o', '%T'], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim().length > 0;
  }
  return true;
}

async function acquireLock(dir: string): Promise<boolean> {
  const lock = path.join(dir, '.lock');
  for (let i = 0; i < 2; i++) {
    try {
      const fh = await fs.open(lock, 'wx');
      const slurmJob = process.env.SLURM_JOB_ID ?? null;
      await fh.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), slurmJob, at: new Date().toISOString() }));
      await fh.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: LockHolder = {};
      try {
        holder = JSON.parse(await fs.readFile(lock, 'utf8'));
      } catch {
        // a lock half-written by a killed process: stale
      }
      if (holderAlive(holder)) return false;
      await fs.rm(lock, { force: true }); // stale: its process is gone
    }
  }
  return false;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads a finished cell's record, or undefined when the cell is not finished. */
export function readDone(dir: string): DoneRecord | undefined {
  const file = path.join(dir, 'done.json');
  if (!existsSync(file)) return undefined;
  const rec = readJson<DoneRecord>(file);
  if (!rec || rec.status !== 'done') throw new Error(`${file}: not a done record (corrupt? delete it to re-run the cell)`);
  return rec;
}

/** Empties a cell directory for a fresh attempt, keeping its log and bookkeeping. */
async function clearForRestart(dir: string): Promise<void> {
  const keep = new Set(['log.txt', 'cell.json', '.lock', 'failed.json']);
  for (const f of await fs.readdir(dir)) if (!keep.has(f)) await fs.rm(path.join(dir, f), { recursive: true, force: true });
}

export async function runGrid(cfg: GridConfig, opts: RunGridOptions = {}): Promise<GridSummary> {
  const root = gridDir(cfg);
  const cells = expandGrid(cfg).filter(opts.filter ?? (() => true));
  const concurrency = opts.concurrency ?? cfg.concurrency;
  const retryFailed = opts.retryFailed ?? true;
  const onStale = opts.onStale ?? 'error';
  const emit = opts.onEvent ?? (() => {});
  const summary: GridSummary = { root, total: cells.length, done: [], skipped: [], failed: [], busy: [], aborted: [] };

  // Every runner must exist before anything runs: a typo should not surface after hours of work.
  const missing = [...new Set(cells.map((c) => c.method.runner))].filter((r) => !getCellRunner(r));
  if (missing.length) {
    throw new Error(
      `${cfg.name}: no cell runner registered for ${missing.map((m) => `'${m}'`).join(', ')} (register one with registerCellRunner, or load a plugin with --plugin)`,
    );
  }
  await fs.mkdir(root, { recursive: true });
  await writeJsonAtomic(path.join(root, 'grid.json'), { config: cfg, hash: hashOf(cfg), writtenAt: new Date().toISOString() });

  const pending: Cell[] = [];
  for (const c of cells) {
    const dir = cellDir(root, c);
    const done = readDone(dir);
    if (done) {
      if (done.hash === cellHash(c) || onStale === 'keep') {
        summary.skipped.push(cellKey(c));
        continue;
      }
      if (onStale === 'error') {
        throw new Error(
          `${path.join(dir, 'done.json')}: finished with a different config (hash ${done.hash}, now ${cellHash(c)}); rename the grid, delete the cell, or run with onStale 'rerun'/'keep'`,
        );
      }
      await fs.rm(path.join(dir, 'done.json'));
    }
    if (!retryFailed && existsSync(path.join(dir, 'failed.json'))) {
      summary.failed.push({ key: cellKey(c), error: readJson<{ error: string }>(path.join(dir, 'failed.json'))?.error ?? 'failed before' });
      continue;
    }
    pending.push(c);
  }
  emit({ type: 'plan', total: cells.length, pending: pending.length, finished: summary.skipped.length });

  const runOne = async (c: Cell) => {
    const key = cellKey(c);
    const dir = cellDir(root, c);
    await fs.mkdir(dir, { recursive: true });
    if (!(await acquireLock(dir))) {
      summary.busy.push(key);
      emit({ type: 'end', cell: c, key, status: 'busy' });
      return;
    }
    const logFile = path.join(dir, 'log.txt');
    const log = (msg: string) => appendFileSync(logFile, `${new Date().toISOString()} ${msg}\n`);
    try {
      if (readDone(dir)) {
        // finished by another process between planning and locking
        summary.skipped.push(key);
        emit({ type: 'end', cell: c, key, status: 'skipped' });
        return;
      }
      const runner = getCellRunner(c.method.runner)!;
      const prev = readJson<{ attempt?: number }>(path.join(dir, 'cell.json'));
      const attempt = (prev?.attempt ?? 0) + 1;
      const hasFiles = (await fs.readdir(dir)).some((f) => !['log.txt', 'cell.json', '.lock', 'failed.json'].includes(f));
      const resume = attempt > 1 && hasFiles && !!runner.supportsResume;
      if (attempt > 1 && hasFiles && !resume) await clearForRestart(dir);
      await writeJsonAtomic(path.join(dir, 'cell.json'), { key, hash: cellHash(c), cell: c, attempt });
      log(`attempt ${attempt}${resume ? ' (resuming)' : ''}: runner '${c.method.runner}' pid ${process.pid}`);
      emit({ type: 'start', cell: c, key, attempt, resume });
      if (opts.signal?.aborted) throw new DOMException('aborted before start', 'AbortError');
      const started = new Date();
      const t0 = performance.now();
      const result = await runner.run({
        cell: c,
        dir,
        attempt,
        resume,
        log,
        progress: (fraction) => emit({ type: 'progress', key, fraction }),
        signal: opts.signal ?? new AbortController().signal,
      });
      checkResult(result, key);
      const wallSeconds = (performance.now() - t0) / 1000;
      const rec: DoneRecord = {
        status: 'done',
        key,
        hash: cellHash(c),
        cell: c,
        attempt,
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        wallSeconds,
        metrics: encodeMetrics(result.metrics),
        notes: result.notes ?? [],
        host: os.hostname(),
      };
      await fs.rm(path.join(dir, 'failed.json'), { force: true });
      await writeJsonAtomic(path.join(dir, 'done.json'), rec); // last: marks the cell finished
      log(`done in ${wallSeconds.toFixed(2)} s`);
      summary.done.push(key);
      emit({ type: 'end', cell: c, key, status: 'done', wallSeconds });
    } catch (e) {
      const err = e as Error;
      const aborted = err.name === 'AbortError' || !!opts.signal?.aborted;
      log(`${aborted ? 'aborted' : 'failed'}: ${err.stack ?? err.message}`);
      await writeJsonAtomic(path.join(dir, 'failed.json'), { key, error: err.message, stack: err.stack, aborted, at: new Date().toISOString() });
      if (aborted) summary.aborted.push(key);
      else summary.failed.push({ key, error: err.message });
      emit({ type: 'end', cell: c, key, status: aborted ? 'aborted' : 'failed', error: err.message });
    } finally {
      await fs.rm(path.join(dir, '.lock'), { force: true });
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < pending.length && !opts.signal?.aborted && !(performance.now() > (opts.startUntil ?? Infinity))) await runOne(pending[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, pending.length)) }, worker));
  return summary;
}

/**
 * Runs every runner's `prepare` for the cells that are not finished (what they share: datasets,
 * reconstructions), once per distinct cell, in this process. Cells run at once afterwards find it built.
 */
export async function prepareGrid(
  cfg: GridConfig,
  opts: { filter?: (cell: Cell) => boolean; signal?: AbortSignal; log?: (m: string) => void } = {},
): Promise<number> {
  const root = gridDir(cfg);
  const log = opts.log ?? (() => {});
  await fs.mkdir(root, { recursive: true });
  let prepared = 0;
  for (const c of expandGrid(cfg).filter(opts.filter ?? (() => true))) {
    const runner = getCellRunner(c.method.runner);
    if (!runner) throw new Error(`${cfg.name}: no cell runner registered for '${c.method.runner}'`);
    const done = readDone(cellDir(root, c));
    if (!runner.prepare || (done && done.hash === cellHash(c))) continue;
    if (opts.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    await runner.prepare({
      cell: c,
      gridRoot: path.resolve(root),
      log: (m) => log(`${cellKey(c)}: ${m}`),
      signal: opts.signal ?? new AbortController().signal,
    });
    prepared++;
  }
  return prepared;
}

function checkResult(r: CellResult, key: string): void {
  if (!r || typeof r !== 'object' || !r.metrics || typeof r.metrics !== 'object') throw new Error(`${key}: the runner returned no metrics object`);
  for (const [task, ms] of Object.entries(r.metrics)) {
    for (const [k, v] of Object.entries(ms)) {
      if (v !== null && typeof v !== 'number') throw new Error(`${key}: metric ${task}/${k} is ${typeof v}, expected a number or null`);
    }
  }
}
