/**
 * Ablation grids on a Slurm cluster, through Slurm itself: one `sbatch` array job whose tasks each run exactly
 * one cell (`gae ablate <config> --cell <key>`, the same code path as a local run) into the grid's run
 * directory on the shared filesystem. A one-task "prepare" job runs first (datasets and the shared
 * reconstruction of each subject), and the array waits on it (`--dependency=afterok`), so array tasks never
 * race to build the same prerequisite.
 *
 * What Slurm knows and what the run directories know are kept apart: the run directories say what finished
 * (done.json, written atomically and last) and what failed (failed.json); `slurm.json` in a cell says which
 * array task it was given to; `squeue`/`sacct` say whether that task is pending, running or gone. `gridStatus`
 * joins the three. Nothing here keeps state of its own beyond those files, so any login node can ask.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import type { GridConfig } from './config.js';
import { cellDir, cellHash, cellKey, expandGrid, gridDir, readDone, type Cell } from './runner.js';

export interface SlurmSubmitOptions {
  /** Partition (`--partition`); the cluster's default when absent. */
  partition?: string;
  /** GPUs per array task (`--gpus-per-task`); 0 for CPU-only cells. */
  gpusPerCell: number;
  /** Wall-time limit per cell (`--time`, Slurm's formats, e.g. 00:30:00). */
  time: string;
  /** At most this many tasks of the array at once (`--array=…%K`). */
  maxParallel?: number;
  cpusPerCell: number;
  /** Passed to both sbatch calls as they are, e.g. `--account=lab`, `--qos=short`. */
  sbatchArgs: string[];
  /** The grid config file and the extra `gae ablate` arguments each task repeats (--out-dir, --plugin). */
  configFile: string;
  ablateArgs: string[];
  /** The command that starts gae on the compute nodes (default: this Node binary and this checkout's bin/gae.mjs). */
  gaeCommand?: string[];
  /** Working directory of the tasks (default: the current one; must be on the shared filesystem). */
  cwd?: string;
}

export interface Submission {
  stamp: string;
  dir: string;
  prepareJob: string;
  arrayJob: string;
  cells: string[];
  submittedAt: string;
}

/** What a cell's slurm.json holds: the array task it was last given to. */
export interface CellSlurmRecord {
  arrayJob: string;
  task: number;
  prepareJob: string;
  submission: string;
  submittedAt: string;
}

export class SlurmError extends Error {}

/**
 * How this process was started as gae, to start more of it: this Node binary and the script it runs
 * (bin/gae.mjs in a checkout, or a bundled gae on a machine without node_modules).
 */
export function gaeSelf(): string[] {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell how gae was started (no script path in process.argv)');
  return [process.execPath, ...process.execArgv.filter((a) => !a.startsWith('--inspect')), path.resolve(script)];
}

function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new SlurmError(code === 'ENOENT' ? `${cmd} not found: is this a Slurm login node? (${what})` : `${cmd}: ${r.error.message} (${what})`);
  }
  if (r.status !== 0) throw new SlurmError(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()} (${what})`);
  return r.stdout;
}

/** The job id `sbatch --parsable` printed ("123" or "123;cluster"). */
export function parseJobId(out: string): string {
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch printed no job id: ${JSON.stringify(out.trim())}`);
  return id;
}

/** sbatch directives shared by the prepare job and the array. */
function directives(o: SlurmSubmitOptions, name: string, output: string, gpus: number): string[] {
  const d = [`--job-name=${name}`, `--output=${output}`, `--time=${o.time}`, `--cpus-per-task=${o.cpusPerCell}`, '--ntasks=1'];
  if (o.partition) d.push(`--partition=${o.partition}`);
  if (gpus > 0) d.push(`--gpus-per-task=${gpus}`);
  return d.map((x) => `#SBATCH ${x}`);
}

function gaeCommand(o: SlurmSubmitOptions): string[] {
  return o.gaeCommand ?? gaeSelf();
}

/**
 * The two batch scripts of a submission. The array script finds its cell from its task id in cells.txt and
 * sends its output to that cell's folder, so a failed cell's log sits beside its failed.json.
 */
export function batchScripts(o: SlurmSubmitOptions, grid: string, sub: string, cellDirs: string[]): { prepare: string; array: string } {
  const gae = gaeCommand(o).map(shq).join(' ');
  const args = [shq(path.resolve(o.cwd ?? process.cwd(), o.configFile)), ...o.ablateArgs.map(shq)].join(' ');
  const cwd = shq(path.resolve(o.cwd ?? process.cwd()));
  const head = ['#!/bin/bash', '# Written by `gae ablate --executor slurm`; resubmitting is `gae ablate <config> --executor slurm` again.'];
  const prepare = [
    ...head,
    ...directives(o, `gae-${grid}-prepare`, path.join(sub, 'prepare-%j.out'), o.gpusPerCell),
    'set -euo pipefail',
    `cd ${cwd}`,
    `exec ${gae} ablate ${args} --prepare`,
    '',
  ].join('\n');
  const array = [
    ...head,
    ...directives(o, `gae-${grid}`, path.join(sub, 'task-%A_%a.out'), o.gpusPerCell),
    'set -euo pipefail',
    `cd ${cwd}`,
    `dir=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${shq(path.join(sub, 'dirs.txt'))})`,
    `key=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${shq(path.join(sub, 'cells.txt'))})`,
    'mkdir -p "$dir"',
    'exec >>"$dir/slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.log" 2>&1',
    'echo "$(date -Is) task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname): cell $key"',
    `exec ${gae} ablate ${args} --cell "$key"`,
    '',
  ].join('\n');
  if (cellDirs.length === 0) throw new SlurmError('no cells to submit');
  return { prepare, array };
}

/** Submits `cells` (already filtered to the pending ones): a prepare job, then the array after it. */
export async function submitCells(cfg: GridConfig, cells: Cell[], o: SlurmSubmitOptions): Promise<Submission> {
  const root = path.resolve(gridDir(cfg));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(root, '_slurm', stamp);
  await fs.mkdir(dir, { recursive: true });
  const keys = cells.map(cellKey);
  const dirs = cells.map((c) => cellDir(root, c));
  const { prepare, array } = batchScripts(o, cfg.name, dir, dirs);
  await writeFileAtomic(path.join(dir, 'cells.txt'), keys.join('\n') + '\n');
  await writeFileAtomic(path.join(dir, 'dirs.txt'), dirs.join('\n') + '\n');
  await writeFileAtomic(path.join(dir, 'prepare.sbatch'), prepare);
  await writeFileAtomic(path.join(dir, 'array.sbatch'), array);
  const prepareJob = parseJobId(run('sbatch', ['--parsable', ...o.sbatchArgs, path.join(dir, 'prepare.sbatch')], 'submitting the prepare job'));
  const range = `0-${cells.length - 1}${o.maxParallel ? `%${o.maxParallel}` : ''}`;
  let arrayJob: string;
  try {
    arrayJob = parseJobId(
      run(
        'sbatch',
        ['--parsable', `--array=${range}`, `--dependency=afterok:${prepareJob}`, '--kill-on-invalid-dep=yes', ...o.sbatchArgs, path.join(dir, 'array.sbatch')],
        'submitting the array job',
      ),
    );
  } catch (e) {
    spawnSync('scancel', [prepareJob]);
    throw e;
  }
  const submittedAt = new Date().toISOString();
  const sub: Submission = { stamp, dir, prepareJob, arrayJob, cells: keys, submittedAt };
  await writeJsonAtomic(path.join(dir, 'submission.json'), sub);
  await Promise.all(
    dirs.map(async (d, task) => {
      await fs.mkdir(d, { recursive: true });
      const rec: CellSlurmRecord = { arrayJob, task, prepareJob, submission: stamp, submittedAt };
      await writeJsonAtomic(path.join(d, 'slurm.json'), rec);
    }),
  );
  return sub;
}

export type CellState = 'done' | 'running' | 'queued' | 'failed' | 'not submitted';

export interface CellStatus {
  key: string;
  dir: string;
  state: CellState;
  /** `<array job>_<task>` when the cell was submitted through Slurm. */
  slurm: string | null;
  /** Slurm's word for the task (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, …), when it has one. */
  slurmState: string | null;
  /** For failed cells: why (failed.json's error or Slurm's state) and the last lines of its logs. */
  detail: string | null;
}

/** Slurm states of array tasks, by `<job>_<task>`, from squeue (live) and sacct (finished). */
export function slurmStates(jobs: string[]): Map<string, string> {
  const states = new Map<string, string>();
  if (jobs.length === 0) return states;
  const ids = [...new Set(jobs)].join(',');
  try {
    // sacct first: squeue's answer for live tasks is fresher and overrides it.
    const out = execFileSync('sacct', ['-n', '-P', '-X', '-j', ids, '-o', 'JobID,State'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const line of out.split('\n')) {
      const [id, state] = line.split('|');
      if (id && state) states.set(id, state.split(' ')[0]!);
    }
  } catch {
    // no accounting on this cluster: squeue alone
  }
  try {
    const out = execFileSync('squeue', ['-h', '-r', '-j', ids, '-o', '%i|%T'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    for (const line of out.split('\n')) {
      const [id, state] = line.split('|');
      if (id && state) states.set(id, state);
    }
  } catch {
    // squeue refuses ids it has forgotten; sacct's answer stands
  }
  return states;
}

function tail(file: string, lines: number): string | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Slurm states of a task that may still write into its cell (COMPLETING is a task already ending: not live). */
const LIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'SUSPENDED', 'REQUEUED', 'RESIZING']);

/** Per-cell state of a grid from its run directories and Slurm's queue and accounting. */
export function gridStatus(cfg: GridConfig, filter: (c: Cell) => boolean = () => true, logLines = 5): CellStatus[] {
  const root = path.resolve(gridDir(cfg));
  const cells = expandGrid(cfg).filter(filter);
  const recs = cells.map((c) => readJson<CellSlurmRecord>(path.join(cellDir(root, c), 'slurm.json')));
  const states = slurmStates(recs.flatMap((r) => (r ? [r.arrayJob] : [])));
  return cells.map((c, i) => {
    const dir = cellDir(root, c);
    const key = cellKey(c);
    const rec = recs[i];
    const slurm = rec ? `${rec.arrayJob}_${rec.task}` : null;
    const slurmState = slurm ? (states.get(slurm) ?? null) : null;
    const done = readDone(dir);
    if (done && done.hash === cellHash(c)) return { key, dir, state: 'done', slurm, slurmState, detail: null };
    if (slurmState && LIVE.has(slurmState)) return { key, dir, state: slurmState === 'PENDING' ? 'queued' : 'running', slurm, slurmState, detail: null };
    const failed = readJson<{ error?: string }>(path.join(dir, 'failed.json'));
    if (failed || (slurm && slurmState)) {
      const logs = [path.join(dir, 'log.txt'), ...(slurm ? [path.join(dir, `slurm-${slurm}.log`)] : [])]
        .map((f) => tail(f, logLines))
        .filter((t): t is string => !!t);
      const why = failed?.error ?? `Slurm says ${slurmState} but the cell has no done.json`;
      return { key, dir, state: 'failed', slurm, slurmState, detail: [why, ...logs].join('\n') };
    }
    return { key, dir, state: 'not submitted', slurm, slurmState, detail: null };
  });
}

/** The cells a submission should take: every cell not done and not queued or running in Slurm. */
export function cellsToSubmit(cfg: GridConfig, filter: (c: Cell) => boolean, onlyFailed: boolean): Cell[] {
  const byKey = new Map(gridStatus(cfg, filter).map((s) => [s.key, s]));
  return expandGrid(cfg)
    .filter(filter)
    .filter((c) => {
      const s = byKey.get(cellKey(c))!;
      return onlyFailed ? s.state === 'failed' : s.state === 'failed' || s.state === 'not submitted';
    });
}

/** Lists submissions of a grid, oldest first. */
export function submissions(cfg: GridConfig): Submission[] {
  const dir = path.join(path.resolve(gridDir(cfg)), '_slurm');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((d) => readJson<Submission>(path.join(dir, d, 'submission.json')))
    .filter((s): s is Submission => !!s);
}
