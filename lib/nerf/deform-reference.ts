/**
 * INSTA's deformation, float64 reference: a sample point p of the posed space belongs to its nearest triangle
 * t of the posed mesh (if that triangle is within `maxDist`; otherwise the point is empty space) and moves
 * rigidly with it, scaled by the triangle's size. With the triangle frames of lib/head/frames.ts (centre c,
 * rotation R, scale k) in the posed (p) and canonical (c) mesh:
 *
 *   x_canonical = c_c + k_c R_c · (R_pᵀ (p − c_p) / k_p)  =  A_t p + b_t,
 *   A_t = (k_c / k_p) R_c R_pᵀ,   b_t = c_c − A_t c_p
 *
 * so each triangle's map is one 3×4 affine, computed once per frame (`triangleAffines`). Ties between
 * equidistant triangles (points nearest to a shared edge or vertex) go to the lowest triangle index, in the
 * reference and in the kernel alike.
 */
import type { TriangleFrames } from '../head/frames.js';

/** Squared distance from p to the triangle (a, b, c), by the closest-point regions of the triangle. */
export function pointTriangleDist2(p: ArrayLike<number>, tri: ArrayLike<number>, o = 0): number {
  const q = closestPointOnTriangle(p, tri, o);
  return (p[0]! - q[0]) ** 2 + (p[1]! - q[1]) ** 2 + (p[2]! - q[2]) ** 2;
}

/** Closest point to p on the triangle whose vertices are tri[o..o+9] (a, b, c). */
export function closestPointOnTriangle(p: ArrayLike<number>, tri: ArrayLike<number>, o = 0): [number, number, number] {
  const a = [tri[o]!, tri[o + 1]!, tri[o + 2]!];
  const b = [tri[o + 3]!, tri[o + 4]!, tri[o + 5]!];
  const c = [tri[o + 6]!, tri[o + 7]!, tri[o + 8]!];
  const sub = (u: number[], v: ArrayLike<number>) => [u[0]! - v[0]!, u[1]! - v[1]!, u[2]! - v[2]!];
  const dot = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const at = (base: number[], dir: number[], s: number): [number, number, number] => [base[0]! + s * dir[0]!, base[1]! + s * dir[1]!, base[2]! + s * dir[2]!];
  const pp = [p[0]!, p[1]!, p[2]!];
  const ab = sub(b, a),
    ac = sub(c, a),
    ap = sub(pp, a);
  const d1 = dot(ab, ap),
    d2 = dot(ac, ap);
  if (d1 <= 0 && d2 <= 0) return [a[0]!, a[1]!, a[2]!];
  const bp = sub(pp, b);
  const d3 = dot(ab, bp),
    d4 = dot(ac, bp);
  if (d3 >= 0 && d4 <= d3) return [b[0]!, b[1]!, b[2]!];
  const vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return at(a, ab, d1 / (d1 - d3));
  const cp = sub(pp, c);
  const d5 = dot(ab, cp),
    d6 = dot(ac, cp);
  if (d6 >= 0 && d5 <= d6) return [c[0]!, c[1]!, c[2]!];
  const vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return at(a, ac, d2 / (d2 - d6));
  const va = d3 * d6 - d5 * d4;
  if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0) return at(b, sub(c, b), (d4 - d3) / (d4 - d3 + (d5 - d6)));
  const den = va + vb + vc;
  if (!(den > 0)) return [a[0]!, a[1]!, a[2]!]; // degenerate triangle: every region test failed
  const v = vb / den,
    w = vc / den;
  return [a[0]! + ab[0]! * v + ac[0]! * w, a[1]! + ab[1]! * v + ac[1]! * w, a[2]! + ab[2]! * v + ac[2]! * w];
}

/** Triangle vertex positions [T,9] (a, b, c) of the listed triangles (all when `triangles` is omitted). */
export function triangleVertices(verts: ArrayLike<number>, faces: ArrayLike<number>, triangles?: ArrayLike<number>): Float32Array {
  const T = triangles ? triangles.length : faces.length / 3;
  const out = new Float32Array(9 * T);
  for (let i = 0; i < T; i++) {
    const t = triangles ? triangles[i]! : i;
    for (let k = 0; k < 3; k++) {
      const v = faces[3 * t + k]!;
      out[9 * i + 3 * k] = verts[3 * v]!;
      out[9 * i + 3 * k + 1] = verts[3 * v + 1]!;
      out[9 * i + 3 * k + 2] = verts[3 * v + 2]!;
    }
  }
  return out;
}

/** Nearest triangle by brute force: index and distance, or −1 when none lies within maxDist. */
export function nearestTriangleBrute(p: ArrayLike<number>, tris: ArrayLike<number>, maxDist: number): { tri: number; dist: number } {
  let best = -1,
    bestD2 = maxDist * maxDist;
  for (let t = 0; t < tris.length / 9; t++) {
    const d2 = pointTriangleDist2(p, tris, 9 * t);
    if (d2 < bestD2) {
      best = t;
      bestD2 = d2;
    }
  }
  return { tri: best, dist: Math.sqrt(bestD2) };
}

/**
 * Per-triangle posed → canonical affines [T,12] (row-major 3×4 [A | b]) of the listed triangles from the
 * posed and canonical frames of the whole mesh (lib/head/frames.ts).
 */
export function triangleAffines(posed: TriangleFrames, canonical: TriangleFrames, triangles?: ArrayLike<number>): Float32Array {
  const T = triangles ? triangles.length : posed.scales.length;
  const out = new Float32Array(12 * T);
  for (let i = 0; i < T; i++) {
    const t = triangles ? triangles[i]! : i;
    const s = canonical.scales[t]! / posed.scales[t]!;
    const Rp = posed.rotations.subarray(9 * t, 9 * t + 9),
      Rc = canonical.rotations.subarray(9 * t, 9 * t + 9);
    for (let r = 0; r < 3; r++) {
      let b = canonical.centres[3 * t + r]!;
      for (let c = 0; c < 3; c++) {
        // (R_c R_pᵀ)_rc = Σ_j Rc[r][j] Rp[c][j]
        let a = 0;
        for (let j = 0; j < 3; j++) a += Rc[3 * r + j]! * Rp[3 * c + j]!;
        a *= s;
        out[12 * i + 4 * r + c] = a;
        b -= a * posed.centres[3 * t + c]!;
      }
      out[12 * i + 4 * r + 3] = b;
    }
  }
  return out;
}

/** Applies triangle `t`'s affine to p (float64). */
export function applyAffine(affines: ArrayLike<number>, t: number, p: ArrayLike<number>): [number, number, number] {
  const o = 12 * t;
  const r = (k: number) => affines[o + 4 * k]! * p[0]! + affines[o + 4 * k + 1]! * p[1]! + affines[o + 4 * k + 2]! * p[2]! + affines[o + 4 * k + 3]!;
  return [r(0), r(1), r(2)];
}

export interface DeformResult {
  canonical: Float64Array; // [N,3] metres (0 for empty points)
  tri: Int32Array; // [N] nearest triangle within maxDist, −1 = empty
}

/** The deformation of N posed points by brute force. */
export function deformReference(points: ArrayLike<number>, tris: ArrayLike<number>, affines: ArrayLike<number>, maxDist: number): DeformResult {
  const n = points.length / 3;
  const res: DeformResult = { canonical: new Float64Array(3 * n), tri: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    const p = [points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!];
    const { tri } = nearestTriangleBrute(p, tris, maxDist);
    res.tri[i] = tri;
    if (tri >= 0) res.canonical.set(applyAffine(affines, tri, p), 3 * i);
  }
  return res;
}
