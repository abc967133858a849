/** The paper's figures and tables rebuilt from a Table 1 grid (a fixture: the committed one changes) and the committed results (recon, bench). */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildPaperFigures, reconTable, stageBars, writePaperFigures } from '../../lib/report/paper-figures.js';
import { repoRoot } from '../../lib/notebook/kernelspec.js';
import { metricNames } from '../../lib/metrics/names.js';
import { writeFixtureGrid } from './fixtures/grid-fixture.js';

const r = (...p: string[]) => path.join(repoRoot(), 'results', ...p);
const METHODS = ['ours', 'ours-no-wabe', 'ours-no-adv', 'ga-in2n'];

describe('paper figures from committed results', () => {
  it('builds Table 1 from a grid, the reconstruction table and curve, the speed figures and the side-by-side edits', async () => {
    // Table 1 from the fixture grid (test/report/fixtures/grid-fixture.ts: known values), recon and bench committed.
    const work = await mkdtemp(path.join(tmpdir(), 'gae-paper-t1-'));
    const table1 = path.join(work, 'table1');
    await writeFixtureGrid(table1);
    // No methods given: the grid's arms in its config's order, the control included.
    const set = await buildPaperFigures({ table1, recon: r('recon'), bench: r('bench') });
    expect(Object.keys(set.tables).sort()).toEqual(
      [
        'bench-raster',
        'recon',
        'sweep-adv-lambda-sweep',
        'table1-gt-edit-cross-identity',
        'table1-gt-edit-novel-view',
        'table1-gt-edit-self-reenactment',
        'table1-mouth-open',
        'table1-paired-novel-view',
        'table1-paired-self-reenactment',
        'table1-summary-novel-view',
        'table1-summary-self-reenactment',
      ].sort(),
    );
    // results/recon/README.md: novel view 36.41 dB, SSIM 0.9872, mouth interior 24.26 dB.
    expect(set.tables.recon!.markdown).toMatch(/\| Novel view \| 12 \| 36\.41 \| 0\.9872 \| 32\.54 \| 24\.26 \|/);
    // Fixture: ours' head PSNR 30 + mean(f/4) = 30.375 in every seed; ours − ga-in2n is 2 dB in every frame.
    expect(set.tables['table1-summary-novel-view']!.markdown).toContain('| ours | **35.38 ± 0.00** | **30.38 ± 0.00** |');
    expect(set.tables['table1-summary-novel-view']!.latex).toContain('\\begin{tabular}');
    expect(set.tables['table1-paired-novel-view']!.markdown).toContain('| ours − ga-in2n | 16 (4) | 2.00 [2.00, 2.00] ↑ |');
    for (const f of [
      'table1-psnr-head',
      'table1-psnr-open-mouth-interior',
      'table1-leakage',
      'table1-paired-psnrOpen-mouthInterior',
      'table1-adversary-ours',
      'table1-mouth-update-norms',
      'sweep-adv-lambda-sweep-discriminator',
      'recon-training',
      'bench-avatar-stages',
      'bench-train-step',
    ]) {
      expect(Object.keys(set.figures), f).toContain(f);
    }
    expect(Object.keys(set.grids)).toEqual(['table1-gold-teeth', 'table1-green-skin']);
    // The control ran on gold teeth only: it has a column there and none on green skin.
    expect(set.grids['table1-gold-teeth']!.columns).toEqual(['unedited', ...METHODS, 'identity', 'GT edit']);
    const green = set.grids['table1-green-skin']!;
    expect(green.columns).toEqual(['unedited', ...METHODS, 'GT edit']);
    expect(green.rows.map((row) => row.label)).toEqual(['t0 cam00', 't1 cam00']);
    for (const row of green.rows) expect(row.images.map((im) => im && [im.width, im.height])).toEqual(new Array(6).fill([8, 8]));
    expect(set.notes.join('\n')).toContain('identity ran on alice/gold-teeth only');
    const small = await buildPaperFigures({ table1, recon: r('recon'), bench: r('bench'), methods: METHODS, downsample: 2 });
    expect(small.grids['table1-gold-teeth']!.rows[0]!.images[0]!.width).toBe(4);

    const dir = await mkdtemp(path.join(tmpdir(), 'gae-paper-'));
    try {
      const { files } = await writePaperFigures({ ...set, grids: { 'table1-gold-teeth': set.grids['table1-gold-teeth']! } }, dir, { formats: [] });
      for (const f of ['recon.md', 'table1-mouth-open.tex', 'table1-summary-novel-view.tex', 'recon-training.json', 'table1-gold-teeth.png', 'index.md'])
        expect(existsSync(path.join(dir, f)), f).toBe(true);
      const latex = Object.values(set.tables).filter((t) => t.latex).length;
      expect(files.length).toBe(Object.keys(set.figures).length + 1 + Object.keys(set.tables).length + latex + 1); // specs, grid, .md, .tex, index
      expect(await readFile(path.join(dir, 'index.md'), 'utf8')).toContain('image grid `table1-gold-teeth.png`');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    }
  });

  it('says which metrics an older grid lacks instead of failing', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-paper-old-'));
    const table1 = path.join(work, 'table1');
    await writeFixtureGrid(table1, { drop: [metricNames.leakage(), metricNames.psnrOpen('mouthInterior')] });
    const set = await buildPaperFigures({ table1, recon: r('recon'), bench: r('bench'), methods: METHODS });
    expect(Object.keys(set.figures)).not.toContain('table1-leakage');
    expect(Object.keys(set.figures)).not.toContain('table1-psnr-open-mouth-interior');
    expect(set.notes.join('\n')).toContain('no cell reported leakage/all (a grid from before it was measured?): no table1-leakage figure');
    expect(set.tables['table1-summary-novel-view']!.markdown).toMatch(/\| ours \|[^\n]*\| not computed \|[^\n]*\| not computed \| not computed \|/);
    await rm(work, { recursive: true, force: true });
  });

  it('draws stage bars in the given order and names the file and field of a malformed result', async () => {
    const f = stageBars({ bind: 1, project: 2 }, 'frame');
    expect(f.data[0]!.y).toEqual(['bind', 'project']);
    expect(f.data[0]!.x).toEqual([1, 2]);
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-paper-'));
    const bad = path.join(dir, 'full-x-eval-step1.json');
    await writeFile(bad, JSON.stringify({ step: 1, splits: [{ task: 'novel-view', frames: 1, psnr: 'high', ssim: 1, regions: {} }] }));
    expect(() => reconTable(bad)).toThrow(`${bad}: splits.0.psnr:`);
    await rm(dir, { recursive: true, force: true });
  });
});
