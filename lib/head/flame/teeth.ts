/**
 * GaussianAvatars' teeth for FLAME: 120 vertices and 168 triangles appended to FLAME's mesh, so that a
 * trained avatar's `binding` (which indexes the extended triangle list) means the same triangles here.
 * The construction, described in our own terms (docs/method.md §2 for the binding it serves):
 *
 * Start from the 15 vertices of the outer upper-lip ring and the 15 of the outer lower-lip ring (FLAME
 * vertex ids, ordered across the mouth), with d the mean distance between paired ring vertices. The
 * middle row is the pairwise midpoint, all at the rows' mean height, pushed back by 1.5 d. From it:
 *   upper edge  = middle + 0.1 d up               upper root = upper edge + 2 d up
 *   lower edge  = middle − 0.1 d up − 0.4 d back  lower root = lower edge − 2 d up
 * and each of those four rows again 1 d further back (the teeth's thickness). Vertex groups of 15 are
 * appended in the order: upper root, lower root, upper edge, lower edge, upper root back, upper edge back,
 * lower root back, lower edge back.
 *
 * Teeth vertices get the mean of the two lip rings' identity (shape) blendshapes and no expression
 * blendshapes, no pose correctives and no weight in the joint regressor; upper teeth are skinned wholly
 * to the neck joint, lower teeth to the jaw joint.
 *
 * Triangles: six strips of 14 quads (28 triangles each) between two rows; the quad diagonal flips at the
 * middle column so the strip is mirror-symmetric. Strip order: upper front (root→edge), upper back (root
 * back→edge back), upper bite (edge back→edge), lower front (edge→root), lower back (root back→edge back),
 * lower bite (edge back→edge). The corner order inside each triangle matters (it fixes the binding frame's
 * first edge), so each strip names its corner pattern for the left and right halves.
 */

export const TEETH_VERTEX_COUNT = 120;
export const TEETH_TRIANGLE_COUNT = 168;
const N = 15; // vertices per row
const MIDDLE = 7; // quads 0..6 use one diagonal, 7..13 the other

/** Outer lip rings of FLAME's topology (5023 vertices), left to right across the mouth. */
export const FLAME_LIP_RING_UPPER = [1713, 1715, 1716, 1735, 1696, 1694, 1657, 3543, 2774, 2811, 2813, 2850, 2833, 2832, 2830];
export const FLAME_LIP_RING_LOWER = [1576, 1577, 1773, 1774, 1795, 1802, 1865, 3503, 2948, 2905, 2898, 2881, 2880, 2713, 2712];
export const FLAME_VERTEX_COUNT = 5023;
export const FLAME_TRIANGLE_COUNT = 9976;

export interface LipRings {
  upper: ArrayLike<number>; // [15] vertex ids
  lower: ArrayLike<number>; // [15] vertex ids
}

/** Row offsets (within the 120 teeth vertices) in the order they are appended. */
const ROW = { upperRoot: 0, lowerRoot: 15, upperEdge: 30, lowerEdge: 45, upperRootBack: 60, upperEdgeBack: 75, lowerRootBack: 90, lowerEdgeBack: 105 } as const;

export const TEETH_UPPER_ROWS = [ROW.upperRoot, ROW.upperEdge, ROW.upperRootBack, ROW.upperEdgeBack];
export const TEETH_LOWER_ROWS = [ROW.lowerRoot, ROW.lowerEdge, ROW.lowerRootBack, ROW.lowerEdgeBack];

/** Corner patterns over a quad (a0 = A[i], a1 = A[i+1], b0 = B[i], b1 = B[i+1]): two triangles each. */
type Corner = 'a0' | 'a1' | 'b0' | 'b1';
type Pattern = [[Corner, Corner, Corner], [Corner, Corner, Corner]];
const P1: Pattern = [
  ['a0', 'b1', 'b0'],
  ['a0', 'a1', 'b1'],
];
const P2: Pattern = [
  ['a0', 'a1', 'b0'],
  ['a1', 'b1', 'b0'],
];
const P3: Pattern = [
  ['a0', 'b0', 'b1'],
  ['a0', 'b1', 'a1'],
];
const P4: Pattern = [
  ['a0', 'b0', 'a1'],
  ['a1', 'b0', 'b1'],
];

/** The six strips: rows A and B, and the patterns of the left (quads < MIDDLE) and right halves. */
const STRIPS: [number, number, Pattern, Pattern][] = [
  [ROW.upperRoot, ROW.upperEdge, P1, P2],
  [ROW.upperRootBack, ROW.upperEdgeBack, P3, P4],
  [ROW.upperEdgeBack, ROW.upperEdge, P4, P3],
  [ROW.lowerEdge, ROW.lowerRoot, P2, P1],
  [ROW.lowerRootBack, ROW.lowerEdgeBack, P1, P2],
  [ROW.lowerEdgeBack, ROW.lowerEdge, P2, P1],
];

/** The 168 teeth triangles, as indices into the teeth vertices (add the base vertex count to use them). */
export function teethTriangles(): Uint32Array {
  const out = new Uint32Array(TEETH_TRIANGLE_COUNT * 3);
  let k = 0;
  for (const [A, B, left, right] of STRIPS) {
    for (let i = 0; i < N - 1; i++) {
      const at: Record<Corner, number> = { a0: A + i, a1: A + i + 1, b0: B + i, b1: B + i + 1 };
      for (const tri of i < MIDDLE ? left : right) for (const c of tri) out[k++] = at[c];
    }
  }
  return out;
}

/** Positions of the 120 teeth vertices [120,3] from the template's lip rings (metres, FLAME frame). */
export function teethVertices(template: ArrayLike<number>, rings: LipRings): Float64Array {
  const up = (i: number, c: number) => template[3 * rings.upper[i]! + c]!;
  const lo = (i: number, c: number) => template[3 * rings.lower[i]! + c]!;
  let d = 0,
    meanY = 0;
  for (let i = 0; i < N; i++) {
    d += Math.hypot(up(i, 0) - lo(i, 0), up(i, 1) - lo(i, 1), up(i, 2) - lo(i, 2));
    meanY += (up(i, 1) + lo(i, 1)) / 2;
  }
  d /= N;
  meanY /= N;
  const out = new Float64Array(TEETH_VERTEX_COUNT * 3);
  // Offsets (dy, dz) in units of d from the middle row, per row.
  const rows: [number, number, number][] = [
    [ROW.upperRoot, 0.1 + 2, 0],
    [ROW.lowerRoot, -0.1 - 2, -0.4],
    [ROW.upperEdge, 0.1, 0],
    [ROW.lowerEdge, -0.1, -0.4],
    [ROW.upperRootBack, 0.1 + 2, -1],
    [ROW.upperEdgeBack, 0.1, -1],
    [ROW.lowerRootBack, -0.1 - 2, -0.4 - 1],
    [ROW.lowerEdgeBack, -0.1, -0.4 - 1],
  ];
  for (let i = 0; i < N; i++) {
    const mx = (up(i, 0) + lo(i, 0)) / 2;
    const mz = (up(i, 2) + lo(i, 2)) / 2 - 1.5 * d;
    for (const [row, dy, dz] of rows) {
      const v = row + i;
      out[3 * v] = mx;
      out[3 * v + 1] = meanY + dy * d;
      out[3 * v + 2] = mz + dz * d;
    }
  }
  return out;
}

/** Teeth vertex ids (0..119) of the upper and lower teeth. */
export function teethGroups(): { upper: number[]; lower: number[] } {
  const expand = (rows: number[]) => rows.flatMap((r) => Array.from({ length: N }, (_, i) => r + i));
  return { upper: expand(TEETH_UPPER_ROWS), lower: expand(TEETH_LOWER_ROWS) };
}
