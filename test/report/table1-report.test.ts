/**
 * `gae report` on a grid shaped like issue 14's Table 1 (test/report/fixtures/grid-fixture.ts, written file by file:
 * no GPU): the paired table against a hand computation, arms present in some cells only, the sweep nested in the
 * grid, the D curves, the side-by-side grids, and the same bytes from two runs in two different folders.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateReport } from '../../lib/report/report.js';
import { contrast } from '../../lib/report/table.js';
import { metricNames } from '../../lib/metrics/names.js';
import { writeFixtureGrid } from './fixtures/grid-fixture.js';

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(path.relative(dir, p), await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

describe('Table 1 report (issue 14)', () => {
  it('pairs arms frame by frame as a hand computation says, keeps partial arms, and writes the same bytes twice', async () => {
    const a = path.join(await mkdtemp(path.join(tmpdir(), 'gae-t1a-')), 'table1');
    const b = path.join(await mkdtemp(path.join(tmpdir(), 'gae-t1b-')), 'table1');
    await writeFixtureGrid(a);
    await writeFixtureGrid(b);
    const rep = await generateReport(a, { formats: [] });
    const paired = rep.results.paired;

    // ours − ours-no-wabe, mouth interior: f/2 + s/4 over f = 0..3, s = 0, 1, two edits: mean 0.75 + 0.125.
    const mouth = contrast(paired, 'ours', 'ours-no-wabe', 'novel-view', metricNames.psnr('mouthInterior'))!;
    expect(mouth.n).toBe(16);
    expect(mouth.clusters).toBe(4);
    expect(mouth.mean).toBeCloseTo(0.875, 12);
    expect(mouth.lo!).toBeGreaterThanOrEqual(0);
    expect(mouth.hi!).toBeLessThanOrEqual(1.75);
    expect(mouth.lo!).toBeLessThan(0.875);
    expect(mouth.hi!).toBeGreaterThan(0.875);
    // Mouth-open frames only (f = 2, 3): 1.25 + 0.125.
    const open = contrast(paired, 'ours', 'ours-no-wabe', 'self-reenactment', metricNames.psnrOpen('mouthInterior'))!;
    expect(open.n).toBe(8);
    expect(open.mean).toBeCloseTo(1.375, 12);
    // A constant difference has a zero-width interval; ga-in2n sorts before ours, so this row is flipped.
    expect(paired.some((r) => r.a === 'ga-in2n' && r.b === 'ours')).toBe(true);
    expect(contrast(paired, 'ours', 'ga-in2n', 'novel-view', metricNames.psnr('head'))).toMatchObject({ mean: 2, lo: 2, hi: 2 });
    const pairedMd = await readFile(path.join(a, 'report', 'paired.md'), 'utf8');
    expect(pairedMd).toContain('| ours − ours-no-wabe | 16 (4) | 1.50 [1.50, 1.50] ↑ | 1.50 [1.50, 1.50] ↑ | 0.88 [');
    expect(pairedMd).toContain('| ours − ga-in2n | 16 (4) | 2.00 [2.00, 2.00] ↑ | 2.00 [2.00, 2.00] ↑ |');
    // Leakage is lower-better: ours 0.25 below the others is an improvement (↑); CLIP was never computed.
    expect(pairedMd).toMatch(/\| ours − ours-no-adv \|[^\n]*\| -0\.2500 \[-0\.2500, -0\.2500\] ↑ \|[^\n]*\| not computed \| not computed \|/);

    // Per edit: the same contrasts on one edit's frames (4 frames × 2 seeds), each edit its own header.
    const perEditPaired = await readFile(path.join(a, 'report', 'paired-per-edit.md'), 'utf8');
    const gold = perEditPaired.slice(perEditPaired.indexOf('**gold-teeth — Novel view'), perEditPaired.indexOf('**gold-teeth — Self-reenactment'));
    expect(gold).toContain('| ours − ga-in2n | 8 (2) | 2.00 [2.00, 2.00] ↑ | 2.00 [2.00, 2.00] ↑ | 0.88 [');
    expect(perEditPaired).toContain('**green-skin — Self-reenactment: paired differences a − b');

    // The summary table per task: every column, "not computed" for CLIP, the control that ran on one edit kept.
    const tables = await readFile(path.join(a, 'report', 'tables.md'), 'utf8');
    expect(tables).toContain(
      '| Method | Novel view PSNR image | Novel view PSNR head | Novel view PSNR mouth int. | Novel view PSNR mouth int. (open) | Novel view PSNR eyes | Novel view PSNR skin | Novel view Leakage | Novel view Preservation (dB) | Novel view Flicker | Novel view Edit strength | Novel view CLIP-S | Novel view CLIP-C |',
    );
    expect(tables).toContain('| ours | **35.38 ± 0.00** | **30.38 ± 0.00** |');
    expect(tables).toMatch(/\| identity \| 25\.38 ± 0\.00 \| 20\.38 ± 0\.00 \|[^\n]*\| not computed \| not computed \|/);
    expect(rep.notes.join('\n')).toContain('identity ran on alice/gold-teeth only');
    const perEdit = await readFile(path.join(a, 'report', 'tables-per-edit.md'), 'utf8');
    const green = perEdit.slice(perEdit.indexOf('green-skin —'));
    expect(green).not.toContain('| identity |');
    expect(perEdit.slice(0, perEdit.indexOf('green-skin —'))).toContain('| identity |');
    expect(await readFile(path.join(a, 'report', 'wall-time.md'), 'utf8')).toContain('| ours | 4 | 105.0 | 100.0–110.0 | 60.5 | 44.5 |');

    // Figures: bars, paired differences, the nested λ_adv sweep, D(real)/D(fake), mouth update norms, side by side.
    const names = Object.keys(rep.figures);
    for (const n of [
      'bars-psnr-head',
      'paired-psnr-mouthInterior',
      'sweep-adv-lambda-sweep-psnr-head',
      'sweep-adv-lambda-sweep-discriminator',
      'adversary-ours',
      'adversary-ours-no-wabe',
      'mouth-update-norms',
      'training-ours',
    ])
      expect(names, n).toContain(n);
    expect(names).not.toContain('adversary-ours-no-adv');
    expect(rep.figures['sweep-adv-lambda-sweep-psnr-head']!.data[0]).toMatchObject({ x: [0.01, 0.1, 1] });
    expect(rep.figures['sweep-adv-lambda-sweep-psnr-head']!.layout.xaxis).toMatchObject({ type: 'log' });
    const d = rep.figures['adversary-ours']!.data.map((t) => t.name);
    expect(d).toEqual(['dReal', 'dFake', 'generator']);
    const cmp = rep.content.comparisons;
    expect(cmp.map((c) => c.name)).toEqual(['compare-alice-gold-teeth-test', 'compare-alice-green-skin-test']);
    expect(cmp[0]!.spec.columns).toEqual(['unedited', 'ours', 'ours-no-wabe', 'ours-no-adv', 'ga-in2n', 'identity', 'GT edit']);
    expect(cmp[1]!.spec.columns).toEqual(['unedited', 'ours', 'ours-no-wabe', 'ours-no-adv', 'ga-in2n', 'GT edit']);
    expect(cmp[0]!.spec.rows[0]!.crop).toEqual({ x: 2, y: 2, width: 4, height: 4 });
    // The sweep's cells are not the table's.
    expect(rep.results.cells.some((c) => c.method.startsWith('lambda-'))).toBe(false);

    // The grid's own report folder is cleared first: a stale file of an older report does not survive.
    await writeFile(path.join(a, 'report', 'figures', 'stale.pdf'), 'old');
    await generateReport(a, { formats: [] });
    expect(existsSync(path.join(a, 'report', 'figures', 'stale.pdf'))).toBe(false);

    // Byte for byte: the same grid in another folder, and the same folder again.
    const again = path.join(path.dirname(a), 'again');
    await generateReport(a, { formats: [], outDir: again });
    await generateReport(b, { formats: [] });
    const first = await filesOf(path.join(a, 'report'));
    expect(first.size).toBeGreaterThan(40);
    for (const other of [await filesOf(again), await filesOf(path.join(b, 'report'))]) {
      expect([...other.keys()].sort()).toEqual([...first.keys()].sort());
      for (const [f, bytes] of first) expect(other.get(f)!.equals(bytes), f).toBe(true);
    }
    for (const [f, bytes] of first) expect(bytes.includes(Buffer.from(path.dirname(a))), `${f} names the machine's folder`).toBe(false);
  });
});
