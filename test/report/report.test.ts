import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseGridConfig } from '../../lib/experiments/config.js';
import { registerCellRunner } from '../../lib/experiments/registry.js';
import { runGrid } from '../../lib/experiments/runner.js';
import { clipScores } from '../../lib/metrics/clip.js';
import { metricNames } from '../../lib/metrics/names.js';
import { regionMetrics } from '../../lib/metrics/regions.js';
import { generateReport } from '../../lib/report/report.js';
import { appendJsonLine } from '../../lib/util/atomic.js';
import { rgbImage } from '../../lib/util/image.js';
import { Rng } from '../../lib/util/random.js';
import { gaeSpawn } from '../helpers/gae-process.js';

/** A runner shaped like the editing module's: GT-edit metrics per region from real images, CLIP missing. */
registerCellRunner('bench', async (ctx) => {
  const noise = Number(ctx.cell.params.noise) * (1 + 0.1 * ctx.cell.seed);
  const rng = new Rng(ctx.cell.seed + 7);
  const w = 16;
  const labels = new Uint8Array(w * w).map((_, p) => (p % w < 4 ? 0 : p % w < 10 ? 1 : p % w < 13 ? 3 : 2));
  const gt = rgbImage(w, w, [0.5, 0.4, 0.3]);
  const out = { ...gt, data: gt.data.map((v) => v + noise * (rng.next() - 0.5)) };
  for (let s = 0; s < 3; s++) await appendJsonLine(path.join(ctx.dir, 'metrics.jsonl'), { step: s * 10, loss: 1 / (s + 1) });
  const metrics: Record<string, Record<string, number | null>> = {};
  for (const task of ctx.cell.tasks) {
    const r = regionMetrics(out, gt, labels, { ssim: { border: 'zero' } });
    const clip = await clipScores(null, [], { edit: 'x', original: 'y' });
    metrics[task] = {
      [metricNames.psnr('head')]: r.head!.psnr,
      [metricNames.psnr('mouthInterior')]: r.mouthInterior!.psnr,
      [metricNames.ssim('head')]: r.head!.ssim,
      [metricNames.clipS]: clip.clipS,
      [metricNames.clipC]: clip.clipC,
    };
  }
  return { metrics, notes: ['CLIP: no embedder'] };
});

describe('report', () => {
  it('regenerates tables, figure specs and the index from run directories alone', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-report-'));
    const cfg = parseGridConfig({
      name: 'bench',
      methods: [
        { name: 'ours', runner: 'bench', params: { noise: 0.02, wabeBeta: 6 } },
        { name: 'ours-no-wabe', runner: 'bench', params: { noise: 0.08, wabeBeta: 0 } },
      ],
      subjects: ['ict'],
      edits: ['green'],
      seeds: [0, 1, 2],
      tasks: ['novel-view', 'self-reenactment'],
      outDir: work,
    });
    await runGrid(cfg);
    const root = path.join(work, 'bench');
    const rep = await generateReport(root, { formats: [] });
    const md = await readFile(path.join(root, 'report', 'tables.md'), 'utf8');
    // Our headline: the GT-edit table, ours best (less noise), with a 3-seed CI.
    const ours = rep.results.table.find((r) => r.method === 'ours' && r.task === 'novel-view' && r.metric === 'psnr/head')!;
    expect(ours.n).toBe(3);
    expect(md).toContain(`| ours | **${ours.mean!.toFixed(2)} ± ${ours.ci95!.toFixed(2)}** |`);
    expect(md).toContain('mean ± 95% CI over n = 3 seeds');
    // The paper's table: our CLIP columns missing (no embedder), the paper's numbers present.
    expect(md).toContain('| ours | — | 0.275 | — | 0.978 | — | 0.081 | — | 0.951 |');
    expect(md).toContain('| ours-no-wabe | — | 0.236 | — | 0.968 | — | 0.061 | — | 0.948 |');
    expect(md).toContain('Novel view CLIP-S: not computed by any cell');
    expect(Object.keys(rep.figures).sort()).toEqual(
      [
        'bars-psnr-head',
        'bars-psnr-mouthInterior',
        'bars-ssim-head',
        'sweep-bench-psnr-head',
        'sweep-bench-psnr-mouthInterior',
        'training-ours',
        'training-ours-no-wabe',
      ].sort(),
    );
    expect(rep.figures['sweep-bench-psnr-mouthInterior']!.data[0]).toMatchObject({ x: [0, 6] });
    // β 0 is the noisier arm here, so the sweep's head PSNR rises from β 0 to β 6.
    const headSweep = rep.figures['sweep-bench-psnr-head']!.data[0] as { x: number[]; y: number[] };
    expect(headSweep.y[0]!).toBeLessThan(headSweep.y[1]!);
    expect(existsSync(path.join(root, 'report', 'table-gt-edit-novel-view.tex'))).toBe(true);
    const summary = await readFile(path.join(root, 'report', 'summary.csv'), 'utf8');

    // A fresh process, the grid's config gone: the same numbers come back from the cell directories.
    await rm(path.join(root, 'grid.json'));
    const out = path.join(work, 'again');
    const { code, out: log } = await gaeSpawn(['report', root, '--no-export', '--out', out]).done;
    expect(code, log).toBe(0);
    expect(await readFile(path.join(out, 'summary.csv'), 'utf8')).toBe(summary);
    expect(await readFile(path.join(out, 'index.md'), 'utf8')).toMatch(/grid\.json is missing/);
    expect(log).toMatch(/note: grid\.json is missing/);
  });

  it('fails clearly on a directory without results', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-report-'));
    await expect(generateReport(work)).rejects.toThrow(/no cell directories with results/);
    await expect(generateReport(path.join(work, 'nope'))).rejects.toThrow(/no such grid directory/);
  });
});
