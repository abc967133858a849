import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseGridConfig, type GridConfigInput } from '../../lib/experiments/config.js';
import { registerCellRunner } from '../../lib/experiments/registry.js';
import { cellDir, expandGrid, runGrid } from '../../lib/experiments/runner.js';
import { loadGridResults } from '../../lib/experiments/results.js';
import { studentTQuantile } from '../../lib/experiments/stats.js';
import { toyDelta } from './fixtures/toy-runner.js';
import { gaeSpawn } from '../helpers/gae-process.js';

const PLUGIN = path.resolve('test/experiments/fixtures/toy-runner.ts');

const gae = (args: string[], cwd: string) => gaeSpawn(args, { cwd });

async function doneFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else if (e.name === 'done.json') out.push(path.join(d, e.name));
    }
  };
  if (existsSync(root)) await walk(root);
  return out.sort();
}

const toyConfig = (outDir: string, extra: Partial<GridConfigInput> = {}): GridConfigInput => ({
  name: 'toy-grid',
  methods: [
    { name: 'ours', runner: 'toy', params: { base: 0.01 } },
    { name: 'ga-in2n', runner: 'toy', params: { base: 0.05 } },
  ],
  subjects: ['ict'],
  edits: ['edit1', 'edit2'],
  seeds: [0, 1],
  tasks: ['novel-view', 'self-reenactment'],
  params: { delayMs: 500 },
  outDir,
  ...extra,
});

describe('ablation grid runner', () => {
  it('resumes a grid killed with SIGKILL without recomputing finished cells, and the table is right', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const cfgFile = path.join(work, 'grid.json');
    await writeFile(cfgFile, JSON.stringify(toyConfig('runs')));
    const root = path.join(work, 'runs', 'toy-grid');

    const first = gae(['ablate', cfgFile, '--plugin', PLUGIN], work);
    let exited = false;
    void first.done.then(() => (exited = true));
    const t0 = Date.now();
    // Kill once 3 cells are done and the next one has started (its runner is sleeping): a cell is in flight.
    const started = async () =>
      existsSync(path.join(root, 'calls.log')) ? (await readFile(path.join(root, 'calls.log'), 'utf8')).trim().split('\n').length : 0;
    for (;;) {
      const d = (await doneFiles(root)).length;
      if (d >= 3 && (await started()) > d) break;
      if (exited) throw new Error(`the grid exited before it could be killed:\n${(await first.done).out}`);
      if (Date.now() - t0 > 90_000) throw new Error('the grid made no progress in 90 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const before = await doneFiles(root);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(8);
    const mtimes = new Map(await Promise.all(before.map(async (f) => [f, (await stat(f)).mtimeMs] as const)));
    const callsBefore = (await readFile(path.join(root, 'calls.log'), 'utf8')).trim().split('\n');
    // The cell in flight when killed has started (its partial file exists) but has no done.json.
    const inFlight = callsBefore.map((l) => l.split(' ')[0]!).filter((k) => !before.some((f) => f.includes(`${k}/done.json`)));
    expect(inFlight.length).toBe(1);

    const second = gae(['ablate', cfgFile, '--plugin', PLUGIN], work);
    const r2 = await second.done;
    expect(r2.code, r2.out).toBe(0);
    expect(r2.out).toMatch(new RegExp(`8 cells: ${8 - before.length} run, ${before.length} already done, 0 failed`));

    // Finished cells were not recomputed: their done.json is untouched and the runner saw them once.
    for (const [f, m] of mtimes) expect((await stat(f)).mtimeMs).toBe(m);
    const calls = (await readFile(path.join(root, 'calls.log'), 'utf8')).trim().split('\n');
    const count = new Map<string, number>();
    for (const l of calls) count.set(l.split(' ')[0]!, (count.get(l.split(' ')[0]!) ?? 0) + 1);
    expect(count.size).toBe(8);
    for (const [k, n] of count) expect(n, k).toBe(k === inFlight[0] ? 2 : 1);
    expect(calls).toContain(`${inFlight[0]} attempt 2`);
    // The restarted cell's directory was cleared of the killed attempt's files.
    const restarted = JSON.parse(await readFile(path.join(root, inFlight[0]!, 'done.json'), 'utf8'));
    expect(restarted.attempt).toBe(2);
    expect(restarted.metrics['novel-view'].leftover).toBe(0);
    expect(await readFile(path.join(root, inFlight[0]!, 'log.txt'), 'utf8')).toMatch(/attempt 1[\s\S]*attempt 2/);

    // The table: PSNR = −20 log10 δ per cell, averaged over edits per seed, then mean ± t CI over the 2 seeds.
    const summary = (await readFile(path.join(root, 'report', 'summary.csv'), 'utf8')).trim().split('\n');
    const header = summary[0]!.split(',');
    const row = (method: string, task: string, metric: string) => {
      const r = summary.find((l) => l.startsWith(`${method},${task},${metric},`))!.split(',');
      return Object.fromEntries(header.map((h, i) => [h, r[i]]));
    };
    for (const [method, base] of [
      ['ours', 0.01],
      ['ga-in2n', 0.05],
    ] as const) {
      const perSeed = [0, 1].map((s) => (-20 * Math.log10(toyDelta(base, s, 'edit1')) + -20 * Math.log10(toyDelta(base, s, 'edit2'))) / 2);
      const mean = (perSeed[0]! + perSeed[1]!) / 2;
      const sd = Math.abs(perSeed[0]! - perSeed[1]!) / Math.SQRT2;
      const r = row(method, 'novel-view', 'psnr');
      expect(Number(r.n)).toBe(2);
      expect(Number(r.mean)).toBeCloseTo(mean, 4);
      expect(Number(r.ci95)).toBeCloseTo((studentTQuantile(0.975, 1) * sd) / Math.SQRT2, 3);
      expect(Number(row(method, 'self-reenactment', 'psnr').mean)).toBeCloseTo(mean - 1, 4);
      const clip = row(method, 'novel-view', 'clipS');
      expect([clip.n, clip.mean, clip.ci95]).toEqual(['0', '', '']);
      expect(clip.note).toBe('4 of 4 cells not computed');
      expect(row(method, 'self-reenactment', 'exact').note).toMatch(/4 of 4 cells infinite/);
    }
  });

  it('records a failing cell and runs the rest; reruns it when asked', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const cfg = parseGridConfig(
      toyConfig(work, { subjects: ['a', 'b'], seeds: [0], edits: ['edit1'], params: { delayMs: 0, failSubject: 'a', failMethod: 'ours' } }),
    );
    const s = await runGrid(cfg);
    expect(s.failed.map((f) => f.key)).toEqual(['ours/a/edit1/seed-0']);
    expect(s.done.length).toBe(3);
    const failed = JSON.parse(await readFile(path.join(work, 'toy-grid/ours/a/edit1/seed-0/failed.json'), 'utf8'));
    expect(failed.error).toBe('toy failure for a');
    const res = await loadGridResults(path.join(work, 'toy-grid'));
    expect(res.cells.map((c) => `${c.method}/${c.subject}:${c.status}`)).toEqual(['ga-in2n/a:done', 'ga-in2n/b:done', 'ours/a:failed', 'ours/b:done']);
    const again = await runGrid(cfg, { retryFailed: false });
    expect([again.done.length, again.skipped.length, again.failed.length]).toEqual([0, 3, 1]);
  });

  it('resumes a resumable runner from its checkpoint, refuses stale results, and respects locks', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    let crash = true;
    const seen: { attempt: number; resume: boolean; from: number }[] = [];
    registerCellRunner('ckpt', {
      supportsResume: true,
      async run(ctx) {
        const f = path.join(ctx.dir, 'ckpt.json');
        let step = ctx.resume && existsSync(f) ? JSON.parse(await readFile(f, 'utf8')).step : 0;
        seen.push({ attempt: ctx.attempt, resume: ctx.resume, from: step });
        for (; step < 6; step++) {
          if (crash && step === 3) throw new Error('simulated crash');
          await writeFile(f, JSON.stringify({ step: step + 1 }));
        }
        return { metrics: { 'novel-view': { steps: step } } };
      },
    });
    const cfg = parseGridConfig({ name: 'ck', methods: [{ name: 'm', runner: 'ckpt' }], subjects: ['s'], edits: ['e'], seeds: [0], outDir: work });
    expect((await runGrid(cfg)).failed.length).toBe(1);
    crash = false;
    expect((await runGrid(cfg)).done.length).toBe(1);
    expect(seen).toEqual([
      { attempt: 1, resume: false, from: 0 },
      { attempt: 2, resume: true, from: 3 },
    ]);

    // Same name, different params: the finished cell is stale.
    const changed = parseGridConfig({
      name: 'ck',
      methods: [{ name: 'm', runner: 'ckpt', params: { lr: 2 } }],
      subjects: ['s'],
      edits: ['e'],
      seeds: [0],
      outDir: work,
    });
    await expect(runGrid(changed)).rejects.toThrow(/finished with a different config/);
    expect((await runGrid(changed, { onStale: 'keep' })).skipped.length).toBe(1);

    // A lock held by a live process (our parent) is respected; a dead process's lock is taken over.
    const cfg2 = parseGridConfig({ name: 'lk', methods: [{ name: 'm', runner: 'ckpt' }], subjects: ['s'], edits: ['e'], seeds: [0, 1], outDir: work });
    const [c0, c1] = expandGrid(cfg2);
    await mkdir(cellDir(path.join(work, 'lk'), c0!), { recursive: true });
    await mkdir(cellDir(path.join(work, 'lk'), c1!), { recursive: true });
    const host = (await import('node:os')).hostname();
    await writeFile(path.join(cellDir(path.join(work, 'lk'), c0!), '.lock'), JSON.stringify({ pid: process.ppid, host }));
    await writeFile(path.join(cellDir(path.join(work, 'lk'), c1!), '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host }));
    const s = await runGrid(cfg2);
    expect(s.busy).toEqual(['m/s/e/seed-0']);
    expect(s.done).toEqual(['m/s/e/seed-1']);
  });

  it('runs cells concurrently up to the limit', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    let live = 0;
    let peak = 0;
    registerCellRunner('par', async () => {
      peak = Math.max(peak, ++live);
      await new Promise((r) => setTimeout(r, 40));
      live--;
      return { metrics: { t: { x: 1 } } };
    });
    const cfg = parseGridConfig({ name: 'par', methods: [{ name: 'm', runner: 'par' }], subjects: ['s'], edits: ['e'], seeds: [0, 1, 2, 3, 4], outDir: work });
    await runGrid(cfg, { concurrency: 3 });
    expect(peak).toBe(3);
    await expect(runGrid(parseGridConfig({ ...cfg, name: 'p2', methods: ['nope'] }))).rejects.toThrow(/no cell runner registered for 'nope'/);
  });

  it('starts no cell after startUntil, and a rerun runs the rest', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const started: number[] = [];
    registerCellRunner('slow', async (ctx) => {
      started.push(ctx.cell.seed);
      await new Promise((r) => setTimeout(r, ctx.cell.seed === 1 ? 1200 : 0));
      return { metrics: { t: { x: ctx.cell.seed } } };
    });
    const cfg = parseGridConfig({ name: 'slow', methods: [{ name: 'm', runner: 'slow' }], subjects: ['s'], edits: ['e'], seeds: [0, 1, 2, 3], outDir: work });
    // Seed 0 returns at once and seed 1 takes 1.2 s, so the budget (0.6 s) is spent before seed 2 could start.
    const s = await runGrid(cfg, { concurrency: 1, startUntil: performance.now() + 600 });
    expect(started).toEqual([0, 1]);
    expect(s.done).toEqual(['m/s/e/seed-0', 'm/s/e/seed-1']);
    const rest = await runGrid(cfg, { concurrency: 1 });
    expect(rest.done).toEqual(['m/s/e/seed-2', 'm/s/e/seed-3']);
    expect(rest.skipped.length).toBe(2);
  });

  it('--parallel prepares only the filtered cells, and --start-budget 0 starts none', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const f = path.join(work, 'grid.json');
    await writeFile(
      f,
      JSON.stringify({
        name: 'prep',
        methods: [
          { name: 'a', runner: 'toy-prep' },
          { name: 'b', runner: 'toy-prep' },
        ],
        subjects: ['s'],
        edits: ['e'],
        seeds: [0, 1],
        outDir: work,
      }),
    );
    const none = await gae(['ablate', f, '--plugin', PLUGIN, '--parallel', '2', '--method', 'a', '--start-budget', '0'], work).done;
    expect(none.code).toBe(1);
    expect(none.out).toContain('start budget spent: 2 cells left');
    expect(await doneFiles(path.join(work, 'prep'))).toEqual([]);
    const r = await gae(['ablate', f, '--plugin', PLUGIN, '--parallel', '2', '--method', 'a'], work).done;
    expect(r.code, r.out).toBe(0);
    const prepared = (await readFile(path.join(work, 'prep', 'prepare.log'), 'utf8')).trim().split('\n');
    expect(new Set(prepared)).toEqual(new Set(['a/s/e/seed-0', 'a/s/e/seed-1']));
    expect((await doneFiles(path.join(work, 'prep'))).map((p) => path.relative(path.join(work, 'prep'), p))).toEqual([
      'a/s/e/seed-0/done.json',
      'a/s/e/seed-1/done.json',
    ]);
    const bad = await gae(['ablate', f, '--plugin', PLUGIN, '--start-budget', '-1'], work).done;
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--start-budget: give a number of seconds ≥ 0');
  }, 120_000);

  it('names the file and field of a bad config', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const f = path.join(work, 'bad.json');
    await writeFile(f, JSON.stringify({ name: 'x y', methods: [], subjects: ['s'], edits: ['e'], seeds: [0] }));
    const r = await gae(['ablate', f], work).done;
    expect(r.code).toBe(2);
    expect(r.out).toContain(`${f}: name: use letters, digits`);
    expect(r.out).toContain(`${f}: methods: Too small`);
  });
});

describe('shipped grid configs', () => {
  it('experiments/*.json parse', async () => {
    const { loadGridConfig } = await import('../../lib/experiments/config.js');
    const dir = path.resolve('experiments');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const cfg = loadGridConfig(path.join(dir, f));
      expect(expandGrid(cfg).length).toBe(cfg.methods.length * cfg.subjects.length * cfg.edits.length * cfg.seeds.length);
    }
  });
});
