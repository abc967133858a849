import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { composeGrid, writeGridPng } from '../../lib/image/grid.js';
import { drawText, GLYPH_H, textWidth, wrapText } from '../../lib/image/font.js';
import { readPng, rgbImage, type RgbImage } from '../../lib/util/image.js';
import { Rng } from '../../lib/util/random.js';

function randomImage(w: number, h: number, seed: number): RgbImage {
  const img = rgbImage(w, h);
  const rng = new Rng(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.next();
  return img;
}

const px = (im: RgbImage, x: number, y: number) => [...im.data.slice(3 * (y * im.width + x), 3 * (y * im.width + x) + 3)];

function expectTileEquals(out: RgbImage, tile: { x: number; y: number }, src: RgbImage): void {
  for (let y = 0; y < src.height; y++)
    for (let x = 0; x < src.width; x++) {
      const a = px(out, tile.x + x, tile.y + y);
      const b = px(src, x, y);
      if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) throw new Error(`tile pixel (${x}, ${y}) differs: ${a} vs ${b}`);
    }
}

describe('bitmap font', () => {
  it("draws the glyph 'I' at the given position and scale, and measures text", () => {
    const im = rgbImage(20, 20, [1, 1, 1]);
    drawText(im, 'I', 3, 2, [0, 0, 0], 2);
    // 'I' row 0 is .###. → columns 1..3 inked; at scale 2: x = 3 + 2..7, y = 2..3
    for (let x = 0; x < 20; x++) expect(px(im, x, 2)[0], `x=${x}`).toBe(x >= 5 && x <= 10 ? 0 : 1);
    // row 1 is ..#.. → x = 3 + 4..5
    for (let x = 0; x < 20; x++) expect(px(im, x, 4)[0], `x=${x}`).toBe(x >= 7 && x <= 8 ? 0 : 1);
    expect(textWidth('ab', 1)).toBe(11);
    expect(textWidth('ab', 2)).toBe(22);
    expect(wrapText('ours no wabe', textWidth('ours no', 1), 1)).toEqual(['ours no', 'wabe']);
    expect(wrapText('ours-no-wabe', textWidth('ours-no-', 1), 1)).toEqual(['ours-no-', 'wabe']);
    expect(wrapText('abcdefgh', textWidth('abc', 1), 1)).toEqual(['abc', 'def', 'gh']);
    // Lower case is drawn as upper case.
    const a = rgbImage(6, 7, [1, 1, 1]);
    const b = rgbImage(6, 7, [1, 1, 1]);
    drawText(a, 'g', 0, 0);
    drawText(b, 'G', 0, 0);
    expect([...a.data]).toEqual([...b.data]);
  });
});

describe('image grid', () => {
  it('places tiles where the layout says, as exact copies, with titles above and labels left', () => {
    const cols = ['original', 'ours', 'GT edit'];
    const rows = [0, 1].map((r) => ({ label: `cam ${r}`, images: [0, 1, 2].map((c) => randomImage(48, 16, 10 * r + c)) }));
    const g = composeGrid({ columns: cols, rows, gap: 4, margin: 8, fontScale: 1 });
    const labelW = textWidth('cam 0', 1) + 8; // + 2·gap
    const titleH = GLYPH_H + 1; // one line: 48 px fit 8 characters
    // Column x: margin + labelW + j·(24 + gap); row y: margin + titleH + gap + i·(16 + gap)
    for (const t of g.tiles) {
      expect(t.x).toBe(8 + labelW + t.col * 52);
      expect(t.y).toBe(8 + titleH + 4 + t.row * 20);
      expectTileEquals(g.image, t, rows[t.row]!.images[t.col]!);
    }
    expect(g.image.width).toBe(8 + labelW + 3 * 48 + 2 * 4 + 8);
    expect(g.image.height).toBe(8 + titleH + 4 + 2 * 16 + 4 + 8);
    // Title ink lies in the title band above its column; labels in the left band.
    const inkIn = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(g.image, x, y)[0] === 0) n++;
      return n;
    };
    expect(inkIn(8 + labelW, 8, 8 + labelW + 48, 8 + titleH)).toBeGreaterThan(10);
    // A title wider than its column wraps onto more lines.
    expect(composeGrid({ columns: ['original image'], rows: [{ images: [randomImage(48, 16, 1)] }], fontScale: 1 }).tiles[0]!.y).toBe(8 + 2 * titleH + 4);
    expect(inkIn(8, 8 + titleH + 4, 8 + labelW, 8 + titleH + 4 + 16)).toBeGreaterThan(10);
  });

  it('adds an enlarged close-up row by pixel replication, optionally outlining the box', async () => {
    const src = randomImage(20, 20, 7);
    const crop = { x: 6, y: 12, width: 5, height: 4 };
    const g = composeGrid({ columns: ['a', 'b'], rows: [{ images: [src, null], crop }], cropScale: 3, fontScale: 1 });
    const t = g.tiles.find((t) => t.kind === 'crop' && t.col === 0)!;
    expect([t.width, t.height]).toEqual([15, 12]);
    expect(t.y).toBe(g.tiles.find((t) => t.kind === 'image' && t.col === 0)!.y + 20 + 4);
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 15; x++) expect(px(g.image, t.x + x, t.y + y)).toEqual(px(src, 6 + Math.floor(x / 3), 12 + Math.floor(y / 3)));
    // The missing image is a grey tile.
    const empty = g.tiles.find((t) => t.kind === 'image' && t.col === 1)!;
    expect(px(g.image, empty.x, empty.y)).toEqual([0.85, 0.85, 0.85].map(Math.fround));
    const outlined = composeGrid({ columns: ['a'], rows: [{ images: [src], crop }], cropScale: 3, outlineCrops: true, fontScale: 1 });
    const ti = outlined.tiles.find((t) => t.kind === 'image')!;
    expect(px(outlined.image, ti.x + 6, ti.y + 12)).toEqual([1, 0, 0]);
    expect(px(outlined.image, ti.x + 10, ti.y + 15)).toEqual([1, 0, 0]);
    expect(px(outlined.image, ti.x + 8, ti.y + 14)).toEqual(px(src, 8, 14)); // inside the box: untouched
    // PNG round trip: tiles survive to 8 bits.
    const dir = await mkdtemp(path.join(tmpdir(), 'gae-grid-'));
    const spec = { columns: ['a', 'b'], rows: [{ images: [src, null], crop }], cropScale: 3 };
    const written = await writeGridPng(spec, path.join(dir, 'g.png'));
    const back = (await readPng(path.join(dir, 'g.png'))).rgb;
    expect([back.width, back.height]).toEqual([written.image.width, written.image.height]);
    for (let i = 0; i < back.data.length; i++) expect(Math.abs(back.data[i]! - written.image.data[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  });

  it('rejects a crop box outside an image and rows of the wrong length', () => {
    const im = rgbImage(10, 10);
    expect(() => composeGrid({ columns: ['a'], rows: [{ images: [im], crop: { x: 8, y: 0, width: 4, height: 2 } }] })).toThrow(
      /outside column 0's 10x10 image/,
    );
    expect(() => composeGrid({ columns: ['a', 'b'], rows: [{ images: [im] }] })).toThrow(/row 0 has 1 images for 2 columns/);
  });
});
