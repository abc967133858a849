/**
 * `gae ablate --executor slurm` against a real one-node Slurm cluster (slurmctld + slurmd + slurmdbd on
 * localhost, CPU-only; test/cluster/cluster.sh starts it): the grid submitted as an array job gives the same
 * numbers as the same grid run locally, and a task cancelled mid-cell resumes from its checkpoint when the
 * failed cells are resubmitted and ends with the uninterrupted run's numbers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gaeSpawn } from '../helpers/gae-process.js';

const REPO = path.resolve('.');
const FIXTURE = path.join(REPO, 'test/cluster/fixtures/grid.json');
const CELLS = [
  'ours-no-adv/alice/gold-teeth/seed-0',
  'ours-no-adv/alice/gold-teeth/seed-1',
  'ga-in2n/alice/gold-teeth/seed-0',
  'ga-in2n/alice/gold-teeth/seed-1',
];

let work = '';
let gridFile = '';

const gae = (args: string[], env: NodeJS.ProcessEnv = {}) => gaeSpawn(args, { cwd: work, env }).done;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Slurm's states of a job's tasks, from sacct (accounting), by `<job>_<task>` (or `<job>`). */
function sacct(job: string): Map<string, string> {
  let out: string;
  try {
    out = execFileSync('sacct', ['-n', '-P', '-X', '-j', job, '-o', 'JobID,State'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return new Map(); // slurmdbd busy or restarting: the caller polls again
  }
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|') as [string, string])
      .map(([id, st]) => [id, st.split(' ')[0]!]),
  );
}

const FINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE)$/;

/** Waits until sacct lists `tasks` tasks of `job`, all in a final state. */
async function waitForJob(job: string, tasks: number, limitMs = 40 * 60_000): Promise<Map<string, string>> {
  const t0 = Date.now();
  for (;;) {
    const s = [...sacct(job)].filter(([id]) => id.includes('_') || tasks === 1);
    if (s.length >= tasks && s.every(([, st]) => FINAL.test(st))) return new Map(s);
    if (Date.now() - t0 > limitMs) throw new Error(`job ${job} not finished after ${limitMs / 1000} s: ${JSON.stringify(s)}`);
    await sleep(2000);
  }
}

/** Metrics that time the run (wall seconds) differ between any two runs; everything else must not. */
const TIMING = /seconds/i;

function doneMetrics(root: string, key: string): unknown {
  const file = path.join(root, key, 'done.json');
  if (!existsSync(file))
    throw new Error(
      `${file}: missing (log: ${existsSync(path.join(root, key, 'log.txt')) ? readFileSync(path.join(root, key, 'log.txt'), 'utf8').slice(-2000) : 'none'})`,
    );
  const m = JSON.parse(readFileSync(file, 'utf8')).metrics as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(m).map(([task, ms]) => [task, Object.fromEntries(Object.entries(ms).filter(([k]) => !TIMING.test(k)))]));
}

/** A report's file without its timing rows and with the grid's path replaced. */
function reportText(file: string, root: string): string {
  return readFileSync(file, 'utf8')
    .replaceAll(root, '<grid>')
    .split('\n')
    .filter((l) => !TIMING.test(l))
    .join('\n');
}

function submitted(out: string): { prepare: string; array: string } {
  const m = /array job (\d+) \(after prepare job (\d+)\)/.exec(out);
  if (!m) throw new Error(`no job ids in: ${out}`);
  return { array: m[1]!, prepare: m[2]! };
}

beforeAll(async () => {
  // The cluster: started here (idempotent); a cluster that cannot start fails the tests with its reason.
  const up = spawnSync('bash', [path.join(REPO, 'test/cluster/cluster.sh'), 'start'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`the one-node Slurm cluster did not start:\n${up.stdout}\n${up.stderr}`);
  // A shared filesystem for the tasks: on one node, any folder.
  work = await mkdtemp('/tmp/gae-cluster-');
  // The avatar is reconstructed once, here, so that every run below edits the same one.
  const base = JSON.parse(await readFile(FIXTURE, 'utf8'));
  await writeFile(path.join(work, 'prep.json'), JSON.stringify({ ...base, outDir: 'prep' }));
  const prep = await gae(['ablate', 'prep.json', '--prepare']);
  expect(prep.code, prep.out).toBe(0);
  const avatar = path.join(work, 'prep', 'cluster-ci', '_recon', 'alice-tiny');
  expect(existsSync(path.join(avatar, 'done.json')), prep.out).toBe(true);
  gridFile = path.join(work, 'grid.json');
  await writeFile(gridFile, JSON.stringify({ ...base, params: { ...base.params, avatar } }, null, 2));
});

describe('gae ablate --executor slurm', () => {
  it('runs the grid as an array job with the same numbers as a local run, and the report matches', async () => {
    const sub = await gae([
      'ablate',
      gridFile,
      '--executor',
      'slurm',
      '--out-dir',
      'runs-slurm',
      '--gpus-per-cell',
      '0',
      '--cpus-per-cell',
      '1',
      '--time',
      '00:40:00',
    ]);
    expect(sub.code, sub.out).toBe(0);
    const { array, prepare } = submitted(sub.out);
    // The local run of the same grid, meanwhile.
    const local = await gae(['ablate', gridFile, '--out-dir', 'runs-local']);
    expect(local.code, local.out).toBe(0);
    const prep = await waitForJob(prepare, 1);
    expect([...prep.values()]).toEqual(['COMPLETED']);
    const states = await waitForJob(array, CELLS.length);
    expect(
      [...states.values()].every((s) => s === 'COMPLETED'),
      JSON.stringify([...states]),
    ).toBe(true);

    const slurmRoot = path.join(work, 'runs-slurm', 'cluster-ci');
    const localRoot = path.join(work, 'runs-local', 'cluster-ci');
    for (const key of CELLS) {
      expect(doneMetrics(slurmRoot, key), key).toEqual(doneMetrics(localRoot, key));
      // Each task's output went to its cell's folder.
      expect(
        readdirSync(path.join(slurmRoot, key)).some((f) => /^slurm-\d+_\d+\.log$/.test(f)),
        key,
      ).toBe(true);
    }
    // --status reads the run directories and sacct.
    const status = await gae(['ablate', gridFile, '--out-dir', 'runs-slurm', '--status']);
    expect(status.code, status.out).toBe(0);
    expect(status.out).toContain(`4 cells: 4 done`);
    expect(status.out).toMatch(new RegExp(`done\\s+ga-in2n/alice/gold-teeth/seed-1\\s+\\(slurm ${array}_\\d COMPLETED\\)`));
    // The report of the Slurm grid equals the local one's (same seeds, same numbers).
    const rep = await gae(['report', slurmRoot, '--out', path.join(work, 'report-slurm'), '--no-export']);
    expect(rep.code, rep.out).toBe(0);
    const repLocal = await gae(['report', localRoot, '--out', path.join(work, 'report-local'), '--no-export']);
    expect(repLocal.code, repLocal.out).toBe(0);
    for (const f of ['summary.csv', 'tables.md']) {
      expect(reportText(path.join(work, 'report-slurm', f), slurmRoot), f).toEqual(reportText(path.join(work, 'report-local', f), localRoot));
      expect(reportText(path.join(work, 'report-slurm', f), slurmRoot).length, f).toBeGreaterThan(100);
    }
    // Nothing left to submit.
    const again = await gae(['ablate', gridFile, '--executor', 'slurm', '--out-dir', 'runs-slurm']);
    expect(again.out).toContain('nothing to submit');
  });

  it('resumes a cell whose task was cancelled mid-run when the failed cells are resubmitted', async () => {
    const key = 'ours-no-adv/alice/gold-teeth/seed-0';
    const root = path.join(work, 'runs-cancel', 'cluster-ci');
    const sub = await gae([
      'ablate',
      gridFile,
      '--executor',
      'slurm',
      '--out-dir',
      'runs-cancel',
      '--method',
      'ours-no-adv',
      '--seed',
      '0',
      '--gpus-per-cell',
      '0',
      '--cpus-per-cell',
      '1',
    ]);
    expect(sub.code, sub.out).toBe(0);
    const { array } = submitted(sub.out);
    // Cancel once the edit has written its first checkpoint, well before its last step.
    const ckpts = path.join(root, key, 'edit', 'checkpoints');
    const t0 = Date.now();
    while (!(existsSync(ckpts) && readdirSync(ckpts).some((d) => d.startsWith('step-')))) {
      if (Date.now() - t0 > 30 * 60_000) throw new Error(`no checkpoint in ${ckpts} after 30 min`);
      expect(existsSync(path.join(root, key, 'done.json')), 'the cell finished before it could be cancelled').toBe(false);
      await sleep(250);
    }
    execFileSync('scancel', [`${array}_0`]);
    const states = await waitForJob(array, 1);
    expect([...states.values()][0]).toBe('CANCELLED');
    expect(existsSync(path.join(root, key, 'done.json'))).toBe(false);

    // The cancelled cell: failed, by its own failed.json ('aborted' on SIGTERM) and by sacct's CANCELLED.
    const failedFile = path.join(root, key, 'failed.json');
    for (let i = 0; i < 60 && !existsSync(failedFile); i++) await sleep(1000);
    expect(JSON.parse(readFileSync(failedFile, 'utf8')).aborted, 'failed.json says aborted').toBe(true);
    const status = await gae(['ablate', gridFile, '--out-dir', 'runs-cancel', '--method', 'ours-no-adv', '--seed', '0', '--status']);
    expect(status.out).toMatch(new RegExp(`failed\\s+${key}\\s+\\(slurm ${array}_0 CANCELLED\\)`));

    const re = await gae([
      'ablate',
      gridFile,
      '--out-dir',
      'runs-cancel',
      '--method',
      'ours-no-adv',
      '--seed',
      '0',
      '--resubmit-failed',
      '--gpus-per-cell',
      '0',
      '--cpus-per-cell',
      '1',
    ]);
    expect(re.code, re.out).toBe(0);
    const second = submitted(re.out);
    const st2 = await waitForJob(second.array, 1);
    expect([...st2.values()][0]).toBe('COMPLETED');
    const log = await readFile(path.join(root, key, 'log.txt'), 'utf8');
    expect(log).toMatch(/attempt 2 \(resuming\)/);
    expect(await readFile(path.join(root, key, 'edit', 'metrics.jsonl'), 'utf8')).toBeTruthy();
    // The same numbers as the uninterrupted local run of this cell (first test).
    expect(doneMetrics(root, key)).toEqual(doneMetrics(path.join(work, 'runs-local', 'cluster-ci'), key));
    await cp(path.join(root, key, 'log.txt'), path.join(work, 'cancelled-cell-log.txt'));
  });
});
