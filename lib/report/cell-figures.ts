/**
 * Side-by-side figures from a grid's committed evaluation images. Each edit cell wrote
 * `edit/renders/edit-<split>.png`: a composed grid (./grid.ts) of unedited | edited | GT edit | |error| ×4,
 * one row per frame, possibly downsampled afterwards. Only the PNG is kept, so its tiles are found again from
 * the image: the |error| column is black wherever the edit is exact (the background), which marks its
 * tiles' boxes; the other columns lie to its left at the same pitch (composeGrid spaces columns and rows
 * by the same gap).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { cropImage, downsample, readPng, type RgbImage } from '../util/image.js';
import { pixelBox, unionBox } from '../data/views.js';
import type { CropBox, GridSpec } from './grid.js';

/** A pixel counts as black below this in every channel (PNG-quantised zeros, some smoothing). */
const DARK = 0.06;

/**
 * The tile boxes of a composed grid whose last column is mostly black (error images): boxes[row][col].
 * Needs at least two rows (the gap is measured between them) unless `gap` is given.
 */
export function errorGridTiles(img: RgbImage, columns: number, opts: { gap?: number } = {}): CropBox[][] {
  if (!(Number.isInteger(columns) && columns >= 1)) throw new Error(`errorGridTiles: columns must be a positive integer, got ${columns}`);
  const { width: w, height: h, data } = img;
  const dark = (x: number, y: number) => {
    const s = 3 * (y * w + x);
    return data[s]! < DARK && data[s + 1]! < DARK && data[s + 2]! < DARK;
  };
  // The error column: x positions that are dark over a good part of the image's height (text is thin).
  const colCount = new Int32Array(w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (dark(x, y)) colCount[x]++;
  let x0 = -1, x1 = -1;
  for (let x = 0; x < w; x++) {
    if (colCount[x]! > 0.25 * h) {
      if (x0 < 0) x0 = x;
      x1 = x;
    }
  }
  if (x0 < 0) throw new Error('errorGridTiles: no dark (error) column found');
  const tw = x1 - x0 + 1;
  // Its tiles: runs of rows that are dark over a good part of the column's width.
  const runs: [number, number][] = [];
  let start = -1;
  for (let y = 0; y <= h; y++) {
    let n = 0;
    if (y < h) for (let x = x0; x <= x1; x++) if (dark(x, y)) n++;
    const inTile = y < h && n > 0.25 * tw;
    if (inTile && start < 0) start = y;
    if (!inTile && start >= 0) {
      runs.push([start, y - 1]);
      start = -1;
    }
  }
  const th = Math.max(...runs.map(([a, b]) => b - a + 1));
  const rows = runs.filter(([a, b]) => b - a + 1 >= 0.5 * th);
  let gap = opts.gap;
  if (gap === undefined) {
    if (rows.length < 2) throw new Error('errorGridTiles: one row only: pass the gap between tiles');
    gap = rows[1]![0] - rows[0]![0] - th;
  }
  const pitch = tw + gap;
  if (x0 - (columns - 1) * pitch < 0) throw new Error(`errorGridTiles: ${columns} columns of ${tw} px at a ${pitch} px pitch do not fit left of x = ${x0}`);
  return rows.map(([y]) => Array.from({ length: columns }, (_, j) => ({ x: x0 - (columns - 1 - j) * pitch, y: Math.min(y, h - th), width: tw, height: th })));
}

/** The cells' evaluation figure path in a grid directory (the edit runner's layout). */
export function cellFigurePath(gridRoot: string, cell: { method: string; subject: string; edit: string; seed: number }, split = 'test'): string {
  return path.join(gridRoot, cell.method, cell.subject, cell.edit, `seed-${cell.seed}`, 'edit', 'renders', `edit-${split}.png`);
}

export interface MethodComparisonOptions {
  methods: string[];
  subject: string;
  edit: string;
  seed?: number;
  /** Evaluation split of the figure (val, test or cross). Default test. */
  split?: string;
  /** Box-filter factor applied to every tile (notebooks: keep them small). Default 1. */
  downsample?: number;
  /**
   * Crop each row to what is not background in any of its tiles, grown by this fraction of its size (the
   * heads fill a fraction of the frame). null keeps whole tiles. Default 0.04.
   */
  cropMargin?: number | null;
}

/** The box of a row's tiles that holds everything differing from the background colour `bg` (by > 3/255). */
export function contentBox(images: RgbImage[], bg: [number, number, number] = [1, 1, 1], margin = 0.04): { x: number; y: number; width: number; height: number } | null {
  const off = (im: RgbImage, p: number) => Math.abs(im.data[3 * p]! - bg[0]) > 3 / 255 || Math.abs(im.data[3 * p + 1]! - bg[1]) > 3 / 255 || Math.abs(im.data[3 * p + 2]! - bg[2]) > 3 / 255;
  const box = unionBox(images.map((im) => pixelBox(im.width, im.height, (p) => off(im, p), 0)));
  if (!box || images.length === 0) return box;
  const w = images[0]!.width, h = images[0]!.height;
  const m = Math.round(margin * Math.max(box.width, box.height));
  const x = Math.max(0, box.x - m), y = Math.max(0, box.y - m);
  return { x, y, width: Math.min(w, box.x + box.width + m) - x, height: Math.min(h, box.y + box.height + m) - y };
}

/**
 * unedited | one column per method (its edited render) | GT edit, one row per evaluated frame, from the
 * cells' edit-<split>.png. A method without the figure gets an empty (N/A) column; unedited and GT come from
 * the first method that has one (every method renders the same frames of the same avatar).
 */
export async function methodComparisonGrid(gridRoot: string, o: MethodComparisonOptions): Promise<GridSpec> {
  const f = o.downsample ?? 1;
  const tilesOf = new Map<string, RgbImage[][]>();
  for (const m of o.methods) {
    const file = cellFigurePath(gridRoot, { method: m, subject: o.subject, edit: o.edit, seed: o.seed ?? 0 }, o.split);
    if (!existsSync(file)) continue;
    const img = (await readPng(file)).rgb;
    tilesOf.set(m, errorGridTiles(img, 4).map((row) => row.map((b) => cropImage(img, b))));
  }
  const ref = o.methods.map((m) => tilesOf.get(m)).find((t) => t !== undefined);
  if (!ref) throw new Error(`methodComparisonGrid: no edit-${o.split ?? 'test'}.png for ${o.edit} (${o.subject}, seed ${o.seed ?? 0}) under ${gridRoot}`);
  const margin = o.cropMargin === undefined ? 0.04 : o.cropMargin;
  return {
    columns: ['unedited', ...o.methods, 'GT edit'],
    rows: ref.map((row, i) => {
      const images = [row[0]!, ...o.methods.map((m) => tilesOf.get(m)?.[i]?.[1] ?? null), row[2]!];
      const box = margin === null ? null : contentBox(images.filter((im): im is RgbImage => im !== null), [1, 1, 1], margin);
      const fit = (im: RgbImage | null) => (im ? downsample(box ? cropImage(im, box) : im, f) : null);
      return { label: `frame ${i + 1}`, images: images.map(fit) };
    }),
  };
}
