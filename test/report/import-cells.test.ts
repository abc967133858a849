/** Importing finished cells for git: what is kept (the report's inputs), what is dropped, frames downsampled. */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { importCells } from '../../lib/report/import-cells.js';
import { generateReport } from '../../lib/report/report.js';
import { readPng } from '../../lib/util/image.js';
import { writeFixtureGrid } from './fixtures/grid-fixture.js';

describe('import-cells', () => {
  it('keeps per-frame scores, logs and a few downsampled frames, drops checkpoints and renders, and reports the same', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'gae-import-'));
    const from = path.join(work, 'runs', 'table1');
    await writeFixtureGrid(from);
    const cell = path.join(from, 'ours', 'alice', 'gold-teeth', 'seed-0');
    await mkdir(path.join(cell, 'edit', 'checkpoints', 'step-10'), { recursive: true });
    await writeFile(path.join(cell, 'edit', 'checkpoints', 'step-10', 'state.json'), '{}');
    await writeFile(path.join(cell, 'edit', 'renders', 'edit-test.png'), Buffer.alloc(1000));
    // A finished edit run writes its scores twice (done.json and eval.json): the copy stays behind, unless they differ.
    const scores = [{ task: 'self-reenactment', psnr: 31.5 }];
    await writeFile(path.join(cell, 'edit', 'done.json'), JSON.stringify({ finished: 'x', edit: { steps: 10 }, eval: scores }));
    await writeFile(path.join(cell, 'edit', 'eval.json'), JSON.stringify({ edit: 'gold-teeth', splits: scores }));
    const other = path.join(from, 'ours', 'alice', 'gold-teeth', 'seed-1');
    await writeFile(path.join(other, 'edit', 'done.json'), JSON.stringify({ finished: 'x', edit: { steps: 10 }, eval: scores }));
    await writeFile(path.join(other, 'edit', 'eval.json'), JSON.stringify({ edit: 'gold-teeth', splits: [{ task: 'novel-view', psnr: 30 }] }));
    // A cell that never finished is left behind.
    await mkdir(path.join(from, 'ours', 'alice', 'gold-teeth', 'seed-7'), { recursive: true });
    await writeFile(path.join(from, 'ours', 'alice', 'gold-teeth', 'seed-7', 'cell.json'), '{}');

    const to = path.join(work, 'results', 'table1');
    const sum = await importCells(from, to, { frames: 1 });
    expect(sum.imported.length).toBe(18 + 3); // the table's cells and the nested sweep's
    expect(sum.skipped).toEqual(['ours/alice/gold-teeth/seed-7']);
    const dst = path.join(to, 'ours', 'alice', 'gold-teeth', 'seed-0');
    for (const f of ['done.json', 'per-frame.json', 'edit/metrics.jsonl', 'edit/adversary.jsonl']) {
      expect(await readFile(path.join(dst, f), 'utf8'), f).toBe(await readFile(path.join(cell, f), 'utf8'));
    }
    expect(existsSync(path.join(to, 'grid.json'))).toBe(true);
    expect(existsSync(path.join(to, 'sweeps', 'adv-lambda-sweep', 'grid.json'))).toBe(true);
    expect(existsSync(path.join(dst, 'edit', 'checkpoints'))).toBe(false);
    expect(existsSync(path.join(dst, 'edit', 'done.json'))).toBe(true);
    expect(existsSync(path.join(dst, 'edit', 'eval.json'))).toBe(false);
    expect(existsSync(path.join(to, 'ours', 'alice', 'gold-teeth', 'seed-1', 'edit', 'eval.json'))).toBe(true);
    expect(existsSync(path.join(dst, 'edit', 'renders', 'edit-test.png'))).toBe(false);
    // One frame per split, 8×8 box-filtered to 4×4, its mouth box scaled with it; seed 1 keeps no frames.
    const frames = JSON.parse(await readFile(path.join(dst, 'edit', 'renders', 'frames', 'frames.json'), 'utf8'));
    expect(frames).toHaveLength(1);
    expect(frames[0].mouthBox).toEqual({ x: 1, y: 1, width: 2, height: 2 });
    expect((await readPng(path.join(dst, 'edit', 'renders', 'frames', frames[0].files.edited))).rgb.width).toBe(4);
    expect(existsSync(path.join(to, 'ours', 'alice', 'gold-teeth', 'seed-1', 'edit', 'renders'))).toBe(false);

    // Present cells are kept unless overwritten.
    expect((await importCells(from, to)).kept.length).toBe(21);
    // The report of the imported grid has the same numbers as the source's.
    const a = await generateReport(from, { formats: [], outDir: path.join(work, 'ra') });
    const b = await generateReport(to, { formats: [], outDir: path.join(work, 'rb') });
    for (const f of ['paired.csv', 'summary.csv', 'paired.md', 'tables.md'])
      expect(await readFile(path.join(b.outDir, f), 'utf8'), f).toBe(await readFile(path.join(a.outDir, f), 'utf8'));
    expect(b.content.comparisons[0]!.spec.rows[0]!.crop).toEqual({ x: 1, y: 1, width: 2, height: 2 });
  });
});
