/** The paper's figures and tables rebuilt from the committed results (results/table1, recon, bench). */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildPaperFigures, reconTable, stageBars, writePaperFigures } from '../../lib/report/paper-figures.js';
import { repoRoot } from '../../lib/notebook/kernelspec.js';

const r = (...p: string[]) => path.join(repoRoot(), 'results', ...p);
const METHODS = ['ours', 'ours-no-wabe', 'ours-no-adv', 'ga-in2n'];

describe('paper figures from committed results', () => {
  it('builds Table 1, the reconstruction table and curve, the speed figures and the side-by-side edits', async () => {
    const set = await buildPaperFigures({ table1: r('table1'), recon: r('recon'), bench: r('bench'), methods: METHODS });
    expect(Object.keys(set.tables).sort()).toEqual(['bench-raster', 'recon', 'table1-gt-edit-cross-identity', 'table1-gt-edit-novel-view', 'table1-gt-edit-self-reenactment', 'table1-mouth-open']);
    // results/recon/README.md: novel view 36.41 dB, SSIM 0.9872, mouth interior 24.26 dB.
    expect(set.tables.recon!.markdown).toMatch(/\| Novel view \| 12 \| 36\.41 \| 0\.9872 \| 32\.54 \| 24\.26 \|/);
    // results/table1/report/index.md: novel view, PSNR head over both seeds, ga-in2n 28.72 ± 0.25 (bold: the best).
    expect(set.tables['table1-gt-edit-novel-view']!.markdown).toContain('| ga-in2n | **28.72 ± 0.25** |');
    expect(set.tables['table1-gt-edit-novel-view']!.markdown).toContain('| ours-no-wabe | 28.71 ± 0.58 |');
    expect(set.tables['table1-gt-edit-novel-view']!.latex).toContain('\\begin{tabular}');
    expect(Object.keys(set.figures).sort()).toEqual(['bench-avatar-stages', 'bench-train-step', 'recon-training', 'table1-psnr-head', 'table1-psnr-mouth-interior', 'table1-psnr-open-mouth-interior']);
    expect(Object.keys(set.grids)).toEqual(['table1-gold-teeth', 'table1-green-skin']);
    // Seed 1's cells saved their evaluation frames (seed 0 predates that): 3 self-reenactment frames, full size,
    // every method present, each row with its mouth close-up.
    const green = set.grids['table1-green-skin']!;
    expect(green.columns).toEqual(['unedited', ...METHODS, 'GT edit']);
    expect(green.rows.map((r) => r.label)).toEqual(['t0 cam05', 't3 cam00', 't5 cam10']);
    for (const row of green.rows) {
      expect(row.images.map((im) => im && [im.width, im.height])).toEqual(new Array(6).fill([802, 550]));
      expect(row.crop!.width).toBeGreaterThan(40);
    }
    expect(set.notes).toEqual([]);
    const small = await buildPaperFigures({ table1: r('table1'), recon: r('recon'), bench: r('bench'), methods: METHODS, downsample: 2 });
    expect(small.grids['table1-gold-teeth']!.rows[0]!.images[0]!.width).toBe(401);

    const dir = await mkdtemp(path.join(tmpdir(), 'gae-paper-'));
    try {
      const { files } = await writePaperFigures({ ...set, grids: { 'table1-gold-teeth': set.grids['table1-gold-teeth']! } }, dir, { formats: [] });
      for (const f of ['recon.md', 'table1-mouth-open.tex', 'recon-training.json', 'table1-gold-teeth.png', 'index.md']) expect(existsSync(path.join(dir, f)), f).toBe(true);
      expect(files.length).toBe(6 + 1 + 6 + 4 + 1); // figure specs, grid, tables (.md), their .tex (Table 1 only), index
      expect(await readFile(path.join(dir, 'index.md'), 'utf8')).toContain('image grid `table1-gold-teeth.png`');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
