/**
 * The run driver on a loop with no GPU: a running sum whose step adds a value drawn from a seeded generator
 * kept in the checkpoint. Cadence of logs and checkpoints, stopAfter + resume to the uninterrupted sum,
 * abort, stop request and a failing start are checked against hand-worked values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { driveRun, type RunLoop, type RunOptions, type RunSpec } from '../../lib/train/driver.js';
import { RunDir } from '../../lib/train/rundir.js';
import { RunStopped } from '../../lib/train/stop.js';
import { Rng } from '../../lib/util/random.js';

let tmp = '';
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-driver-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

interface SumState {
  step: number;
  sum: number;
  rng: number;
}

/** A spec whose loop sums rng.int(100) per step; `events` records the hooks' calls. */
function sumSpec(iterations: number, events: string[] = [], failStart = false): RunSpec & { final: () => SumState } {
  let st: SumState = { step: 0, sum: 0, rng: new Rng(7).state };
  const config = { kind: 'sum', iterations, log: { every: 3 }, checkpoint: { every: 4, keep: 2 } };
  return {
    config,
    what: 'summing',
    final: () => st,
    start: async (_run, latest): Promise<RunLoop> => {
      if (failStart) throw new Error('no data');
      if (latest) st = JSON.parse(await fs.readFile(path.join(latest.dir, 'state.json'), 'utf8')) as SumState;
      const rng = new Rng(0);
      rng.state = st.rng;
      return {
        startStep: st.step,
        begin: async () => void events.push(`begin@${st.step}`),
        step: async (i, { logNow, logMetrics }) => {
          expect(i).toBe(st.step);
          st.sum += rng.int(100);
          st.rng = rng.state;
          st.step = i + 1;
          if (logNow) await logMetrics(st.step, { sum: st.sum });
        },
        beforeCheckpoint: async () => void events.push(`flush@${st.step}`),
        checkpoint: async (step) => {
          expect(step).toBe(st.step);
          return { 'state.json': JSON.stringify(st) };
        },
        dispose: () => void events.push('dispose'),
      };
    },
  };
}

/** The sum of `n` draws, computed without the driver. */
function expectedSum(n: number): number {
  const rng = new Rng(7);
  let s = 0;
  for (let i = 0; i < n; i++) s += rng.int(100);
  return s;
}

async function metricSteps(dir: string): Promise<number[]> {
  const text = await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
}

async function checkpointDirs(dir: string): Promise<string[]> {
  return (await fs.readdir(path.join(dir, 'checkpoints'))).filter((n) => n.startsWith('step-')).sort();
}

describe('driveRun', () => {
  it('logs every 3 steps and the last, checkpoints every 4 and the last, keeps 2, and flushes before each', async () => {
    const dir = path.join(tmp, 'plain');
    const events: string[] = [];
    const spec = sumSpec(10, events);
    const r = await driveRun(spec, { runDir: dir });
    expect(r).toMatchObject({ steps: 10, startStep: 0, resumedFrom: null });
    expect(spec.final().sum).toBe(expectedSum(10));
    expect(await metricSteps(dir)).toEqual([3, 6, 9, 10]);
    expect(await checkpointDirs(dir)).toEqual(['step-000008', 'step-000010']);
    expect(events).toEqual(['begin@0', 'flush@4', 'flush@8', 'flush@10', 'dispose']);
    const row = JSON.parse((await fs.readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).split('\n')[0]!) as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['step', 'time', 'sum', 'itersPerSecond']);
    // The lock is released: the directory opens again.
    await (await RunDir.open(dir, spec.config)).close();
  });

  it('stops after a step, and a rerun resumes from the last checkpoint to the uninterrupted sum, dropping metrics past it', async () => {
    const dir = path.join(tmp, 'resumed');
    const steps: number[] = [];
    const a = await driveRun(sumSpec(10), { runDir: dir, stopAfter: 6, onStep: (s) => steps.push(s) });
    expect(a.steps).toBe(6);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await metricSteps(dir)).toEqual([3, 6]); // step 6 is logged but not checkpointed (every 4)
    const events: string[] = [];
    const spec = sumSpec(10, events);
    const b = await driveRun(spec, { runDir: dir });
    expect(b).toMatchObject({ steps: 10, startStep: 4, resumedFrom: 4 });
    expect(spec.final().sum).toBe(expectedSum(10));
    expect(await metricSteps(dir)).toEqual([3, 6, 9, 10]);
    expect(events[0]).toBe('begin@4');
  });

  it('refuses a different config in the same directory', async () => {
    const dir = path.join(tmp, 'resumed');
    await expect(driveRun(sumSpec(12), { runDir: dir })).rejects.toThrow(/different config/);
  });

  it('throws "<what> aborted" on an aborted signal after checkpointing the steps taken, disposing the loop and releasing the lock', async () => {
    const dir = path.join(tmp, 'aborted');
    const c = new AbortController();
    const events: string[] = [];
    // Aborted after step 6: the periodic checkpoint is at 4, the abort writes 6.
    await expect(driveRun(sumSpec(10, events), { runDir: dir, signal: c.signal, onStep: (s) => s === 6 && c.abort() })).rejects.toThrow('summing aborted');
    expect(events).toEqual(['begin@0', 'flush@4', 'flush@6', 'dispose']);
    const run = await RunDir.open(dir, sumSpec(10).config);
    expect((await run.latestCheckpoint())?.step).toBe(6);
    await run.close();
    // The rerun resumes at 6 and ends where an uninterrupted run ends.
    const resumed = sumSpec(10);
    await driveRun(resumed, { runDir: dir });
    const whole = sumSpec(10);
    await driveRun(whole, { runDir: path.join(tmp, 'aborted-whole') });
    expect(resumed.final()).toEqual(whole.final());
    // Aborted right after a periodic checkpoint: no second one of the same step.
    const dir2 = path.join(tmp, 'aborted-at-4');
    const c2 = new AbortController();
    const ev2: string[] = [];
    await expect(driveRun(sumSpec(10, ev2), { runDir: dir2, signal: c2.signal, onStep: (s) => s === 4 && c2.abort() })).rejects.toThrow('summing aborted');
    expect(ev2).toEqual(['begin@0', 'flush@4', 'dispose']);
  });

  it('on a stop request, checkpoints the step it finished and throws RunStopped naming it', async () => {
    const dir = path.join(tmp, 'stopped');
    let requested: 'SIGTERM' | null = null;
    const opts: RunOptions = {
      runDir: dir,
      stop: {
        get requested() {
          return requested;
        },
      },
      onStep: (s) => (requested = s === 5 ? 'SIGTERM' : null),
    };
    // The request made after step 5 is seen after step 6.
    const e = await driveRun(sumSpec(10), opts).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RunStopped);
    expect((e as RunStopped).step).toBe(6);
    expect((e as RunStopped).checkpoint).toBe(path.join(dir, 'checkpoints', 'step-000006'));
    expect(await checkpointDirs(dir)).toEqual(['step-000004', 'step-000006']);
  });

  it('releases the lock when the loop cannot start', async () => {
    const dir = path.join(tmp, 'nostart');
    await expect(driveRun(sumSpec(10, [], true), { runDir: dir })).rejects.toThrow('no data');
    await (await RunDir.open(dir, sumSpec(10).config)).close();
  });
});
