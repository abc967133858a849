/**
 * Side-by-side image grids for papers: columns (original | 2D edit target | ga-in2n | ... | GT edit) with
 * titles, rows (cameras or frames) with optional labels, and optional close-up rows (e.g. the mouth) cut from
 * a caller-given box and enlarged by pixel replication. Tiles are exact copies of the inputs.
 */
import { rgbImage, writePng, type RgbImage } from '../util/image.js';
import { drawText, textHeight, textWidth, wrapText } from './font.js';

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GridRow {
  label?: string;
  /** One image per column; null draws an empty (grey) tile. */
  images: (RgbImage | null)[];
  /** Adds a close-up row below this one: this box (image pixels) of every image, enlarged. */
  crop?: CropBox;
}

export interface GridSpec {
  columns: string[];
  rows: GridRow[];
  /** Space between tiles and around the title band, px. Default 4. */
  gap?: number;
  /** Outer border, px. Default 8. */
  margin?: number;
  /** Label text scale (5×7 font pixels → image pixels). Default 2. */
  fontScale?: number;
  /** Close-up enlargement; default the largest integer that fits the column width. */
  cropScale?: number;
  /** Draw each crop box on its source tile. Default false (tiles stay exact copies). */
  outlineCrops?: boolean;
  background?: [number, number, number];
  textColor?: [number, number, number];
  outlineColor?: [number, number, number];
}

export interface Tile {
  row: number;
  col: number;
  kind: 'image' | 'crop';
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ComposedGrid {
  image: RgbImage;
  tiles: Tile[];
}

const EMPTY: [number, number, number] = [0.85, 0.85, 0.85];

function fill(img: RgbImage, x: number, y: number, w: number, h: number, c: [number, number, number]): void {
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) img.data.set(c, 3 * (yy * img.width + xx));
}

function blit(dst: RgbImage, src: RgbImage, dx: number, dy: number, box: CropBox = { x: 0, y: 0, width: src.width, height: src.height }, scale = 1): void {
  for (let y = 0; y < box.height * scale; y++) {
    const sy = box.y + Math.floor(y / scale);
    for (let x = 0; x < box.width * scale; x++) {
      const sx = box.x + Math.floor(x / scale);
      const s = 3 * (sy * src.width + sx);
      const d = 3 * ((dy + y) * dst.width + dx + x);
      dst.data[d] = src.data[s]!;
      dst.data[d + 1] = src.data[s + 1]!;
      dst.data[d + 2] = src.data[s + 2]!;
    }
  }
}

function outline(img: RgbImage, x: number, y: number, w: number, h: number, c: [number, number, number]): void {
  for (let i = 0; i < w; i++) {
    img.data.set(c, 3 * (y * img.width + x + i));
    img.data.set(c, 3 * ((y + h - 1) * img.width + x + i));
  }
  for (let j = 0; j < h; j++) {
    img.data.set(c, 3 * ((y + j) * img.width + x));
    img.data.set(c, 3 * ((y + j) * img.width + x + w - 1));
  }
}

export function composeGrid(spec: GridSpec): ComposedGrid {
  const nc = spec.columns.length;
  if (nc === 0 || spec.rows.length === 0) throw new Error('composeGrid: need at least one column and one row');
  spec.rows.forEach((r, i) => {
    if (r.images.length !== nc) throw new Error(`composeGrid: row ${i} has ${r.images.length} images for ${nc} columns`);
    if (r.crop) {
      const c = r.crop;
      if (!(c.width > 0 && c.height > 0) || ![c.x, c.y, c.width, c.height].every(Number.isInteger))
        throw new Error(`composeGrid: row ${i} crop box must have integer position and positive integer size`);
      r.images.forEach((im, j) => {
        if (im && (c.x < 0 || c.y < 0 || c.x + c.width > im.width || c.y + c.height > im.height)) {
          throw new Error(`composeGrid: row ${i} crop box ${c.width}x${c.height}+${c.x}+${c.y} is outside column ${j}'s ${im.width}x${im.height} image`);
        }
      });
    }
  });
  const gap = spec.gap ?? 4;
  const margin = spec.margin ?? 8;
  const fs = spec.fontScale ?? 2;
  const bg = spec.background ?? [1, 1, 1];
  const ink = spec.textColor ?? [0, 0, 0];

  const colW = Array.from({ length: nc }, (_, j) => Math.max(0, ...spec.rows.map((r) => r.images[j]?.width ?? 0)));
  const rowH = spec.rows.map((r) => Math.max(0, ...r.images.map((im) => im?.height ?? 0)));
  if (colW.some((w) => w === 0) && rowH.every((h) => h === 0)) throw new Error('composeGrid: no images');
  for (let j = 0; j < nc; j++) if (colW[j] === 0) colW[j] = Math.max(...colW); // an all-empty column
  spec.rows.forEach((_, i) => {
    if (rowH[i] === 0) rowH[i] = Math.max(...rowH);
  });
  const cropScale = spec.rows.map((r) => (r.crop ? (spec.cropScale ?? Math.max(1, Math.floor(Math.min(...colW) / r.crop.width))) : 0));
  spec.rows.forEach((r, i) => {
    if (r.crop) for (let j = 0; j < nc; j++) colW[j] = Math.max(colW[j]!, r.crop.width * cropScale[i]!);
  });
  const cropH = spec.rows.map((r, i) => (r.crop ? r.crop.height * cropScale[i]! : 0));

  const lineH = textHeight(fs) + fs;
  const titles = spec.columns.map((t, j) => wrapText(t, colW[j]!, fs));
  const titleH = Math.max(...titles.map((l) => l.length)) * lineH;
  const hasLabels = spec.rows.some((r) => r.label);
  const labelW = hasLabels ? Math.max(...spec.rows.map((r) => textWidth(r.label ?? '', fs))) + 2 * gap : 0;

  const colX: number[] = [];
  let x = margin + labelW;
  for (let j = 0; j < nc; j++) {
    colX.push(x);
    x += colW[j]! + gap;
  }
  const width = x - gap + margin;
  const rowY: number[] = [];
  let y = margin + titleH + gap;
  spec.rows.forEach((r, i) => {
    rowY.push(y);
    y += rowH[i]! + gap + (r.crop ? cropH[i]! + gap : 0);
  });
  const height = y - gap + margin;

  const img = rgbImage(width, height, bg);
  const tiles: Tile[] = [];
  titles.forEach((lines, j) => {
    lines.forEach((l, k) =>
      drawText(img, l, colX[j]! + Math.floor((colW[j]! - textWidth(l, fs)) / 2), margin + (titleH - lines.length * lineH) + k * lineH, ink, fs),
    );
  });
  spec.rows.forEach((r, i) => {
    if (r.label) drawText(img, r.label, margin, rowY[i]! + Math.floor((rowH[i]! - textHeight(fs)) / 2), ink, fs);
    r.images.forEach((im, j) => {
      const w = im?.width ?? colW[j]!;
      const h = im?.height ?? rowH[i]!;
      const tx = colX[j]! + Math.floor((colW[j]! - w) / 2);
      const ty = rowY[i]!;
      if (im) blit(img, im, tx, ty);
      else {
        fill(img, tx, ty, w, h, EMPTY);
        if (textWidth('N/A', fs) <= w)
          drawText(img, 'N/A', tx + Math.floor((w - textWidth('N/A', fs)) / 2), ty + Math.floor((h - textHeight(fs)) / 2), [0.4, 0.4, 0.4], fs);
      }
      tiles.push({ row: i, col: j, kind: 'image', x: tx, y: ty, width: w, height: h });
      if (r.crop) {
        const s = cropScale[i]!;
        const cw = r.crop.width * s;
        const cx = colX[j]! + Math.floor((colW[j]! - cw) / 2);
        const cy = ty + rowH[i]! + gap;
        if (im) {
          blit(img, im, cx, cy, r.crop, s);
          if (spec.outlineCrops) outline(img, tx + r.crop.x, ty + r.crop.y, r.crop.width, r.crop.height, spec.outlineColor ?? [1, 0, 0]);
        } else fill(img, cx, cy, cw, cropH[i]!, EMPTY);
        tiles.push({ row: i, col: j, kind: 'crop', x: cx, y: cy, width: cw, height: cropH[i]! });
      }
    });
  });
  return { image: img, tiles };
}

export async function writeGridPng(spec: GridSpec, file: string): Promise<ComposedGrid> {
  const g = composeGrid(spec);
  await writePng(file, g.image);
  return g;
}
