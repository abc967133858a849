/**
 * A uniform grid over the posed mesh's triangles for the nearest-triangle query (deform-reference.ts), rebuilt
 * for every pose (on the CPU: one counting sort, cached per frame by the caller). Each triangle is listed in
 * every cell that its bounding box grown by `maxDist` overlaps, so any triangle within maxDist of a point is
 * in that point's cell list: one cell's list answers the query exactly, no neighbour search needed. Lists
 * are in ascending triangle order, which makes "first strict minimum" the reference's lowest-index tie rule.
 */

export interface TriangleGrid {
  origin: [number, number, number]; // metres, the grid's lower corner
  cellSize: number; // metres
  dims: [number, number, number]; // cells per axis
  maxDist: number; // metres
  cellStart: Uint32Array; // [C+1] CSR offsets into cellTris, C = dims product
  cellTris: Uint32Array; // [K] triangle indices, ascending within each cell
}

/** Grid over `tris` ([T,9] vertex positions); cell size defaults to maxDist (about 4³ cells per triangle). */
export function buildTriangleGrid(tris: ArrayLike<number>, maxDist: number, cellSize = maxDist): TriangleGrid {
  if (!(maxDist > 0) || !(cellSize > 0)) throw new Error(`buildTriangleGrid: maxDist ${maxDist} and cellSize ${cellSize} must be positive`);
  const T = tris.length / 9;
  const lo = [Infinity, Infinity, Infinity],
    hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < tris.length; i += 3) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, tris[i + a]!);
      hi[a] = Math.max(hi[a]!, tris[i + a]!);
    }
  }
  if (T === 0) {
    lo.fill(0);
    hi.fill(0);
  }
  const origin = lo.map((v) => v - maxDist) as [number, number, number];
  const dims = [0, 1, 2].map((a) => Math.max(1, Math.ceil((hi[a]! + maxDist - origin[a]!) / cellSize))) as [number, number, number];
  const C = dims[0] * dims[1] * dims[2];
  if (C > 1 << 26) throw new Error(`buildTriangleGrid: ${dims.join('×')} cells; raise cellSize`);
  const cellRange = (t: number, a: number): [number, number] => {
    let mn = Infinity,
      mx = -Infinity;
    for (let k = 0; k < 3; k++) {
      const v = tris[9 * t + 3 * k + a]!;
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    const c0 = Math.floor((mn - maxDist - origin[a]!) / cellSize);
    const c1 = Math.floor((mx + maxDist - origin[a]!) / cellSize);
    return [Math.max(0, c0), Math.min(dims[a]! - 1, c1)];
  };
  const counts = new Uint32Array(C + 1);
  const visit = (fn: (cell: number, t: number) => void) => {
    for (let t = 0; t < T; t++) {
      const [x0, x1] = cellRange(t, 0),
        [y0, y1] = cellRange(t, 1),
        [z0, z1] = cellRange(t, 2);
      for (let z = z0; z <= z1; z++) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) fn(x + dims[0] * (y + dims[1] * z), t);
    }
  };
  visit((c) => counts[c + 1]!++);
  for (let c = 0; c < C; c++) counts[c + 1]! += counts[c]!;
  const cellStart = counts;
  const fill = cellStart.slice(0, C);
  const cellTris = new Uint32Array(cellStart[C]!);
  visit((c, t) => (cellTris[fill[c]!++] = t));
  return { origin, cellSize, dims, maxDist, cellStart, cellTris };
}

/** The cell of p, or −1 outside the grid. */
export function cellOf(g: TriangleGrid, p: ArrayLike<number>): number {
  const c = [0, 1, 2].map((a) => Math.floor((p[a]! - g.origin[a]!) / g.cellSize));
  if (c.some((v, a) => v < 0 || v >= g.dims[a]!)) return -1;
  return c[0]! + g.dims[0] * (c[1]! + g.dims[1] * c[2]!);
}
