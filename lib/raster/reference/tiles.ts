/**
 * Tile intersection: every Gaussian is listed once per 16×16 tile its bounding square touches; the lists
 * are sorted by (tile, depth, Gaussian id), the order a stable radix sort of (tile, depth) keys gives.
 */
import type { Camera, Projected } from '../types.js';

export const TILE_SIZE = 16;

export interface TileGrid {
  gridW: number; // tiles in x = ceil(width / 16)
  gridH: number; // tiles in y
}

export function tileGrid(cam: Pick<Camera, 'width' | 'height'>): TileGrid {
  return { gridW: Math.ceil(cam.width / TILE_SIZE), gridH: Math.ceil(cam.height / TILE_SIZE) };
}

/**
 * 3DGS's getRect: the tiles [xMin, xMax) × [yMin, yMax) touched by the square of half-side `radius` (px)
 * around (u, v), clamped to the grid. Empty (xMin = xMax or yMin = yMax) when the square is off-screen.
 */
export function tileRect(u: number, v: number, radius: number, grid: TileGrid): { xMin: number; xMax: number; yMin: number; yMax: number } {
  const clamp = (t: number, hi: number) => Math.min(hi, Math.max(0, t));
  return {
    xMin: clamp(Math.floor((u - radius) / TILE_SIZE), grid.gridW),
    xMax: clamp(Math.floor((u + radius + TILE_SIZE - 1) / TILE_SIZE), grid.gridW),
    yMin: clamp(Math.floor((v - radius) / TILE_SIZE), grid.gridH),
    yMax: clamp(Math.floor((v + radius + TILE_SIZE - 1) / TILE_SIZE), grid.gridH),
  };
}

export interface TileLists {
  numTiles: number; // gridW · gridH
  gridW: number;
  gridH: number;
  /** [M] tile index (ty · gridW + tx) of each list entry, sorted ascending. */
  keysTile: Uint32Array;
  /** [M] Gaussian index of each list entry, sorted by (tile, depth, Gaussian id). */
  gaussianIds: Uint32Array;
  /** [numTiles, 2] (start, end) into gaussianIds; start = end for an empty tile. */
  tileRanges: Uint32Array;
}

export function tileIntersectReference(p: Projected, cam: Pick<Camera, 'width' | 'height'>): TileLists {
  const grid = tileGrid(cam);
  const numTiles = grid.gridW * grid.gridH;
  const entries: { tile: number; depth: number; id: number }[] = [];
  for (let i = 0; i < p.count; i++) {
    const r = p.radii[i]!;
    if (r <= 0) continue;
    const rect = tileRect(p.means2D[2 * i]!, p.means2D[2 * i + 1]!, r, grid);
    for (let ty = rect.yMin; ty < rect.yMax; ty++) {
      for (let tx = rect.xMin; tx < rect.xMax; tx++) entries.push({ tile: ty * grid.gridW + tx, depth: p.depths[i]!, id: i });
    }
  }
  entries.sort((a, b) => a.tile - b.tile || a.depth - b.depth || a.id - b.id);
  const m = entries.length;
  const keysTile = new Uint32Array(m);
  const gaussianIds = new Uint32Array(m);
  const tileRanges = new Uint32Array(2 * numTiles);
  for (let e = 0; e < m; e++) {
    keysTile[e] = entries[e]!.tile;
    gaussianIds[e] = entries[e]!.id;
  }
  // Ranges from the boundaries of the sorted keys (as the GPU's identify-tile-ranges pass).
  for (let e = 0; e < m; e++) {
    const t = keysTile[e]!;
    if (e === 0 || keysTile[e - 1] !== t) tileRanges[2 * t] = e;
    if (e === m - 1 || keysTile[e + 1] !== t) tileRanges[2 * t + 1] = e + 1;
  }
  return { numTiles, gridW: grid.gridW, gridH: grid.gridH, keysTile, gaussianIds, tileRanges };
}
