/** Methods side by side from saved evaluation frames: column order, grey columns for missing methods, close-ups. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { comparisonSeed, methodComparison } from '../../lib/report/compare.js';
import { composeGrid } from '../../lib/image/grid.js';
import { rgbImage, writePng } from '../../lib/util/image.js';

async function saveCell(root: string, method: string, colour: [number, number, number], seed = 0): Promise<void> {
  const dir = path.join(root, method, 'alice', 'gold-teeth', `seed-${seed}`, 'edit', 'renders', 'frames');
  await mkdir(dir, { recursive: true });
  const frames = [];
  for (const t of [1, 5]) {
    const name = `test-t${t}-cam01`;
    const files = { unedited: `${name}-unedited.png`, edited: `${name}-edited.png`, gt: `${name}-gt.png` };
    await writePng(path.join(dir, files.unedited), rgbImage(8, 6, [0.5, 0.5, 0.5]));
    await writePng(path.join(dir, files.edited), rgbImage(8, 6, colour));
    await writePng(path.join(dir, files.gt), rgbImage(8, 6, [1, 0.8, 0]));
    frames.push({ split: 'test', task: 'self-reenactment', timestep: t, camera: 'cam01', files, mouthBox: { x: 2, y: 3, width: 4, height: 2 } });
  }
  frames.push({ ...frames[0]!, split: 'cross' });
  await writeFile(path.join(dir, 'frames.json'), JSON.stringify(frames));
}

describe('method comparison grid', () => {
  it('puts unedited | methods | GT edit per saved frame, with a mouth close-up, and greys out a missing method', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'gae-compare-'));
    await saveCell(root, 'ga-in2n', [0, 0, 1]);
    await saveCell(root, 'ours', [1, 0, 0]);
    const cmp = await methodComparison(root, { subject: 'alice', edit: 'gold-teeth', seed: 0, methods: ['ga-in2n', 'ours-no-wabe', 'ours'] });
    expect(cmp.spec.columns).toEqual(['unedited', 'ga-in2n', 'ours-no-wabe', 'ours', 'GT edit']);
    expect(cmp.spec.rows.map((r) => r.label)).toEqual(['t1 cam01', 't5 cam01']);
    const row = cmp.spec.rows[0]!;
    expect(row.crop).toEqual({ x: 2, y: 3, width: 4, height: 2 });
    expect(row.images[1]!.data.slice(0, 3)).toEqual(Float32Array.from([0, 0, 1]));
    expect(row.images[2]).toBeNull();
    expect(row.images[3]!.data.slice(0, 3)).toEqual(Float32Array.from([1, 0, 0]));
    expect(row.images[4]!.data[1]).toBeCloseTo(0.8, 2);
    expect(cmp.missing.join('\n')).toMatch(/ours-no-wabe: no .*frames\.json/);
    const g = composeGrid(cmp.spec);
    expect(g.tiles.filter((t) => t.kind === 'crop').length).toBe(2 * 5);
    const cross = await methodComparison(root, { subject: 'alice', edit: 'gold-teeth', seed: 0, methods: ['ours'], split: 'cross', closeUps: false });
    expect(cross.spec.rows.length).toBe(1);
    expect(cross.spec.rows[0]!.crop).toBeUndefined();
    await expect(methodComparison(root, { subject: 'bob', edit: 'gold-teeth', seed: 0, methods: ['ours'] })).rejects.toThrow(/no method has saved frames/);
  });

  it('downsamples every tile and moves the close-up box with it', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'gae-compare-ds-'));
    await saveCell(root, 'ours', [1, 0, 0]);
    const full = await methodComparison(root, { subject: 'alice', edit: 'gold-teeth', seed: 0, methods: ['ours'] });
    const half = await methodComparison(root, { subject: 'alice', edit: 'gold-teeth', seed: 0, methods: ['ours'], downsample: 2 });
    expect(full.spec.rows[0]!.images.map((im) => [im!.width, im!.height])).toEqual([
      [8, 6],
      [8, 6],
      [8, 6],
    ]);
    expect(half.spec.rows[0]!.images.map((im) => [im!.width, im!.height])).toEqual([
      [4, 3],
      [4, 3],
      [4, 3],
    ]);
    // x 2..6, y 3..5 at full size → x 1..3, y 1..3 (rounded outward) at half size.
    expect(half.spec.rows[0]!.crop).toEqual({ x: 1, y: 1, width: 2, height: 2 });
    expect(Array.from(half.spec.rows[0]!.images[1]!.data.slice(0, 3))).toEqual([1, 0, 0]);
  });

  it('picks the seed where the most methods saved frames, the lowest on a tie', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'gae-compare-seed-'));
    const methods = ['ga-in2n', 'ours-no-wabe', 'ours'];
    const pick = () => comparisonSeed(root, { subject: 'alice', edit: 'gold-teeth', methods, seeds: [2, 0, 1] });
    expect(pick()).toBe(0); // nothing saved anywhere: the lowest seed
    await saveCell(root, 'ours', [1, 0, 0], 0);
    await saveCell(root, 'ours', [1, 0, 0], 1);
    await saveCell(root, 'ga-in2n', [0, 0, 1], 1);
    expect(pick()).toBe(1);
    await saveCell(root, 'ga-in2n', [0, 0, 1], 2);
    await saveCell(root, 'ours', [1, 0, 0], 2);
    expect(pick()).toBe(1); // a tie with seed 2 keeps the lower seed
    await saveCell(root, 'ours-no-wabe', [0, 1, 0], 2);
    expect(pick()).toBe(2);
    expect(() => comparisonSeed(root, { subject: 'alice', edit: 'gold-teeth', methods, seeds: [] })).toThrow(/no seeds/);
  });
});
