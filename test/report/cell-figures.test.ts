/**
 * Tiles of a grid's evaluation PNGs found again from the image (the |error| column marks them), and the
 * method comparison built from the committed Table 1 results.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { composeGrid } from '../../lib/report/grid.js';
import { cellFigurePath, contentBox, errorGridTiles, methodComparisonGrid } from '../../lib/report/cell-figures.js';
import { downsample, rgbImage, type RgbImage } from '../../lib/util/image.js';
import { repoRoot } from '../../lib/notebook/kernelspec.js';

/** A white tile with a grey disc (like a head on a white background); `black` gives the error look. */
function tile(w: number, h: number, black: boolean, seed: number): RgbImage {
  const img = rgbImage(w, h, black ? [0, 0, 0] : [1, 1, 1]);
  const cx = w / 2 + (seed % 5), cy = h / 2, r = h / 3;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) img.data.set([0.5, 0.4, 0.3 + seed * 0.01], 3 * (y * w + x));
  return img;
}

describe('errorGridTiles', () => {
  it('recovers every tile box of a composed eval grid, at full size and downsampled by 2', () => {
    const W = 80, H = 56;
    const spec = {
      columns: ['unedited', 'edited', 'GT edit', '|error| x4'],
      rows: [0, 1, 2].map((r) => ({ label: `t${r} cam0${r}`, images: [0, 1, 2, 3].map((c) => tile(W, H, c === 3, r * 4 + c)) })),
    };
    const g = composeGrid(spec);
    const boxes = errorGridTiles(g.image, 4);
    expect(boxes.length).toBe(3);
    for (const t of g.tiles) expect(boxes[t.row]![t.col], `row ${t.row} col ${t.col}`).toEqual({ x: t.x, y: t.y, width: t.width, height: t.height });
    const half = errorGridTiles(downsample(g.image, 2), 4);
    for (const t of g.tiles) {
      const b = half[t.row]![t.col]!;
      expect(Math.abs(b.x - t.x / 2), `x of ${t.row},${t.col}`).toBeLessThanOrEqual(1);
      expect(Math.abs(b.y - t.y / 2), `y of ${t.row},${t.col}`).toBeLessThanOrEqual(1);
      expect([b.width, b.height]).toEqual([W / 2, H / 2]);
    }
  });

  it('says so when there is no error column, or one row and no gap', () => {
    expect(() => errorGridTiles(rgbImage(40, 30, [1, 1, 1]), 4)).toThrow(/no dark \(error\) column/);
    const one = composeGrid({ columns: ['a', 'err'], rows: [{ images: [tile(40, 30, false, 0), tile(40, 30, true, 1)] }] });
    expect(() => errorGridTiles(one.image, 2)).toThrow(/one row only/);
    expect(errorGridTiles(one.image, 2, { gap: 4 })[0]![0]).toEqual({ x: one.tiles[0]!.x, y: one.tiles[0]!.y, width: 40, height: 30 });
  });
});

describe('methodComparisonGrid on results/table1', () => {
  const grid = path.join(repoRoot(), 'results', 'table1');
  it('puts each method\'s edited tile between unedited and GT; a missing cell is an N/A column', async () => {
    const methods = ['ours', 'ours-no-wabe', 'ours-no-adv', 'ga-in2n'];
    const g = await methodComparisonGrid(grid, { methods, subject: 'alice', edit: 'green-skin', downsample: 2 });
    expect(g.columns).toEqual(['unedited', ...methods, 'GT edit']);
    expect(g.rows.length).toBe(3);
    for (const r of g.rows) {
      expect(r.images.length).toBe(6);
      expect(r.images[2]).toBeNull(); // ours-no-wabe / green-skin is not in the committed grid (7 of 8 cells)
      // Cropped to the heads (the same box across the row), then halved: smaller than the 401×275 tiles.
      const sizes = new Set([0, 1, 3, 4, 5].map((i) => `${r.images[i]!.width}x${r.images[i]!.height}`));
      expect(sizes.size).toBe(1);
      expect(r.images[0]!.width).toBeLessThan(201);
      expect(r.images[0]!.height).toBeLessThanOrEqual(138);
    }
    // The edit makes the skin green: the edited tile is greener than the unedited one (mean G − R over the tile).
    const greenness = (im: RgbImage) => {
      let s = 0;
      for (let p = 0; p < im.width * im.height; p++) s += im.data[3 * p + 1]! - im.data[3 * p]!;
      return s / (im.width * im.height);
    };
    expect(greenness(g.rows[0]!.images[5]!)).toBeGreaterThan(greenness(g.rows[0]!.images[0]!) + 0.02);
    expect(greenness(g.rows[0]!.images[1]!)).toBeGreaterThan(greenness(g.rows[0]!.images[0]!) + 0.02);
    const whole = await methodComparisonGrid(grid, { methods, subject: 'alice', edit: 'green-skin', cropMargin: null });
    expect([whole.rows[0]!.images[0]!.width, whole.rows[0]!.images[0]!.height]).toEqual([401, 275]);
    const im = rgbImage(20, 10, [1, 1, 1]);
    im.data.set([0, 0, 0], 3 * (4 * 20 + 7));
    expect(contentBox([im, rgbImage(20, 10, [1, 1, 1])], [1, 1, 1], 0)).toEqual({ x: 7, y: 4, width: 1, height: 1 });
    expect(cellFigurePath('g', { method: 'ours', subject: 'alice', edit: 'x', seed: 1 }, 'val')).toBe(path.join('g', 'ours', 'alice', 'x', 'seed-1', 'edit', 'renders', 'edit-val.png'));
    await expect(methodComparisonGrid(grid, { methods: ['nobody'], subject: 'alice', edit: 'green-skin' })).rejects.toThrow(/no edit-test\.png for green-skin/);
  });
});
