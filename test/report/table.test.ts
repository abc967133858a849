import { describe, expect, it } from 'vitest';
import type { AggRow } from '../../lib/experiments/results.js';
import type { PairedRow } from '../../lib/experiments/results.js';
import { buildTable, clipSpec, gtEditSpec, pairedMarkdown, tableToDataFrame, toLatex, toMarkdown } from '../../lib/report/table.js';
import { betaPointsFromResults, betaSweep, metricBars, trainingCurves } from '../../lib/report/figures.js';

const row = (method: string, task: string, metric: string, mean: number | null, ci95: number | null, n: number, note?: string): AggRow => ({
  method,
  task,
  metric,
  mean,
  ci95,
  n,
  sd: null,
  cells: n,
  ...(note ? { note } : {}),
});

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
  it('puts our mean ± CI beside the paper, bolds the best where the CIs separate, and says what is missing', () => {
    const t = buildTable(agg, clipSpec(['novel-view']));
    expect(t.methods).toEqual(['ours', 'ga-in2n', 'toy_method']);
    // CLIP-C: ga-in2n has one seed, so no interval and no best mark.
    expect(t.best).toEqual([1, null]);
    const md = toMarkdown(t);
    expect(md).toContain('| Method | Novel view CLIP-S | Novel view CLIP-S (paper) | Novel view CLIP-C | Novel view CLIP-C (paper) |');
    expect(md).toContain('| ours | 0.200 ± 0.012 | 0.275 | 0.900 ± 0.001 | 0.978 |');
    expect(md).toContain('| ga-in2n | **0.250 ± 0.020** | 0.236 | 0.950 (n=1) | 0.968 |');
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

describe('the best mark needs evidence', () => {
  const means: AggRow[] = [
    row('ours', 'novel-view', 'psnr/head', 30, 0.1, 3),
    row('ga-in2n', 'novel-view', 'psnr/head', 29, 0.1, 3),
    row('ours-no-adv', 'novel-view', 'psnr/head', 29.9, 0.1, 3),
  ];
  const pair = (a: string, b: string, lo: number, hi: number): PairedRow => ({
    a,
    b,
    task: 'novel-view',
    metric: 'psnr/head',
    n: 100,
    clusters: 3,
    mean: (lo + hi) / 2,
    lo,
    hi,
  });

  it('no mark when a paired interval to any other method holds zero, whatever the seed CIs say', () => {
    const spec = gtEditSpec('novel-view', ['head']);
    const psnrCol = 0;
    // Seed CIs separate ours from ours-no-adv (30 ± 0.1 vs 29.9 ± 0.1 just touch: not disjoint) ...
    expect(buildTable(means, spec).best[psnrCol]).toBeNull();
    // ... the paired intervals decide when they exist: both exclude zero → bold ours.
    const clear = [pair('ours', 'ga-in2n', 0.8, 1.2), pair('ours', 'ours-no-adv', 0.02, 0.2)];
    expect(buildTable(means, spec, clear).best[psnrCol]).toBe(0);
    // One interval holds zero → no best.
    const unclear = [pair('ours', 'ga-in2n', 0.8, 1.2), pair('ours', 'ours-no-adv', -0.05, 0.25)];
    const t = buildTable(means, spec, unclear);
    expect(t.best[psnrCol]).toBeNull();
    expect(toMarkdown(t)).toContain('| ours | 30.00 ± 0.10 |');
    expect(t.notes.join(' ')).toMatch(/excludes zero/);
    // A pair stored the other way round (b − a) is read with its sign flipped.
    expect(buildTable(means, spec, [pair('ga-in2n', 'ours', -1.2, -0.8), pair('ours-no-adv', 'ours', -0.2, -0.02)]).best[psnrCol]).toBe(0);
    const md = pairedMarkdown(unclear, ['psnr/head']);
    expect(md).toContain('| ours − ga-in2n | Novel view | psnr/head | 1.0000 | [0.8000, 1.2000] | 100 (3) | yes |');
    expect(md).toContain('| ours − ours-no-adv | Novel view | psnr/head | 0.1000 | [-0.0500, 0.2500] | 100 (3) | no |');
    expect(pairedMarkdown(unclear, ['clipS'])).toBe('');
    // Lower is better: ga-in2n (29) beats ours by the paired interval of ours − ga-in2n above zero and
    // ours-no-adv by disjoint seed CIs (no pair); a paired interval holding zero takes the mark away again.
    const low = { ...spec, columns: [{ ...spec.columns[0]!, better: 'lower' as const }] };
    expect(buildTable(means, low, clear).best[0]).toBe(1);
    expect(buildTable(means, low, [...clear, pair('ga-in2n', 'ours-no-adv', -1.5, 0.1)]).best[0]).toBeNull();
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
      [
        row('b6', 'novel-view', 'psnr/mouthInterior', 30, 1, 2),
        row('b0', 'novel-view', 'psnr/mouthInterior', 25, 1, 2),
        row('x', 'novel-view', 'psnr/mouthInterior', 1, 1, 2),
      ],
      { b6: { wabeBeta: 6 }, b0: { wabeBeta: 0 } },
      { metric: 'psnr/mouthInterior' },
    );
    const s = betaSweep(pts, { metric: 'psnr/mouthInterior' });
    expect(s.data[0]).toMatchObject({ name: 'Novel view', x: [0, 6], y: [25, 30] });
  });
});
