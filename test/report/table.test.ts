import { describe, expect, it } from 'vitest';
import type { AggRow } from '../../lib/experiments/results.js';
import { buildTable, clipSpec, gtEditSpec, tableToDataFrame, toLatex, toMarkdown } from '../../lib/report/table.js';
import { betaPointsFromResults, betaSweep, metricBars, trainingCurves } from '../../lib/report/figures.js';

const row = (method: string, task: string, metric: string, mean: number | null, ci95: number | null, n: number, note?: string): AggRow => ({ method, task, metric, mean, ci95, n, sd: null, cells: n, ...(note ? { note } : {}) });

const agg: AggRow[] = [
  row('ours', 'novel-view', 'clipS', 0.2, 0.0123, 3),
  row('ours', 'novel-view', 'clipC', 0.9, 0.001, 3),
  row('ga-in2n', 'novel-view', 'clipS', 0.25, 0.02, 3),
  row('ga-in2n', 'novel-view', 'clipC', 0.95, null, 1),
  row('toy_method', 'novel-view', 'clipS', null, null, 0, '3 of 3 cells not computed'),
  row('ours', 'novel-view', 'psnr/head', 31.234, 0.5, 3),
  row('ga-in2n', 'novel-view', 'psnr/head', 28.1, 0.4, 3),
];

describe('Table 1', () => {
  it('puts our mean ± CI beside the paper, bolds the best, and says what is missing', () => {
    const t = buildTable(agg, clipSpec(['novel-view']));
    expect(t.methods).toEqual(['ours', 'ga-in2n', 'toy_method']);
    expect(t.best).toEqual([1, 1]);
    const md = toMarkdown(t);
    expect(md).toContain('| Method | Novel view CLIP-S | Novel view CLIP-S (paper) | Novel view CLIP-C | Novel view CLIP-C (paper) |');
    expect(md).toContain('| ours | 0.200 ± 0.012 | 0.275 | 0.900 ± 0.001 | 0.978 |');
    expect(md).toContain('| ga-in2n | **0.250 ± 0.020** | 0.236 | **0.950 (n=1)** | 0.968 |');
    expect(md).toContain('| toy_method | — | — | — | — |');
    expect(md).toContain('toy_method, Novel view CLIP-S: 3 of 3 cells not computed');
    expect(md).toMatch(/fewer seeds/);
    const tex = toLatex(t);
    expect(tex).toContain('\\multicolumn{4}{c}{Novel view}');
    expect(tex).toContain('\\cmidrule(lr){2-5}');
    expect(tex).toContain('ours & 0.200 $\\pm$ 0.012 & \\textit{0.275} & 0.900 $\\pm$ 0.001 & \\textit{0.978} \\\\');
    expect(tex).toContain('toy\\_method & --- & --- & --- & --- \\\\');
    // Every body row has as many cells as the header.
    const body = tex.split('\n').filter((l) => l.endsWith('\\\\'));
    for (const l of body.slice(1)) expect(l.split('&').length).toBe(5);
  });

  it('builds the GT-edit headline table and a danfo DataFrame', async () => {
    const t = buildTable(agg, gtEditSpec('novel-view', ['head']));
    expect(toMarkdown(t)).toContain('| ours | **31.23 ± 0.50** | — |');
    const df = await tableToDataFrame(t);
    expect(df.shape).toEqual([3, 7]);
    expect(df.columns.slice(0, 4)).toEqual(['method', 'novel-view/psnr/head', 'novel-view/psnr/head ci95', 'novel-view/psnr/head n']);
    expect(df['novel-view/psnr/head'].values.slice(0, 2)).toEqual([31.234, 28.1]);
  });
});

describe('figure specs', () => {
  it('bars carry means and CI error bars per task, with paper markers', () => {
    const f = metricBars(agg, { metric: 'clipS', paper: true });
    expect(f.data[0]).toMatchObject({ type: 'bar', name: 'Novel view', x: ['ours', 'ga-in2n', 'toy_method'], y: [0.2, 0.25, null] });
    expect((f.data[0]!.error_y as { array: number[] }).array).toEqual([0.0123, 0.02, 0]);
    expect(f.data[1]).toMatchObject({ name: 'paper (Table 1)', offsetgroup: 'novel-view', y: [0.275, 0.236, null] });
    expect(() => metricBars(agg, { metric: 'nope' })).toThrow(/no results for metric 'nope'/);
  });

  it('training curves smooth exponentially; β sweep sorts by β', () => {
    const f = trainingCurves([{ step: 0, loss: 1 }, { step: 1, loss: 0 }, { step: 2 }, { step: 3, loss: 0 }], { keys: ['loss'], smooth: 0.5 });
    expect(f.data[0]).toMatchObject({ x: [0, 1, 3], y: [1, 0.5, 0.25] });
    const pts = betaPointsFromResults(
      [row('b6', 'novel-view', 'psnr/mouthInterior', 30, 1, 2), row('b0', 'novel-view', 'psnr/mouthInterior', 25, 1, 2), row('x', 'novel-view', 'psnr/mouthInterior', 1, 1, 2)],
      { b6: { wabeBeta: 6 }, b0: { wabeBeta: 0 } },
      { metric: 'psnr/mouthInterior' },
    );
    const s = betaSweep(pts, { metric: 'psnr/mouthInterior' });
    expect(s.data[0]).toMatchObject({ name: 'Novel view', x: [0, 6], y: [25, 30] });
  });
});
