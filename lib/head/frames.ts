/**
 * Per-triangle frames of a posed mesh, the binding of GaussianAvatars (docs/method.md §2):
 *
 *   c = (v0 + v1 + v2) / 3
 *   a0 = normalize(v1 − v0)                (first edge)
 *   a1 = normalize(a0 × (v2 − v0))         (normal, by the triangle's winding)
 *   a2 = a0 × a1                           (in the triangle's plane, toward v2's side)
 *   R  = [a0 | a1 | a2]                    (columns; right-handed, det = +1)
 *   k  = (|v1 − v0| + |a2 · (v2 − v0)|) / 2   (mean of the first edge's length and the height over it)
 *
 * A degenerate triangle (zero-length first edge or zero area) still gets a right-handed orthonormal frame
 * (completed from whatever direction is defined, else the identity), so no NaN ever reaches the Gaussians.
 */

export interface TriangleFrames {
  centres: Float32Array; // [T,3] metres
  rotations: Float32Array; // [T,9] row-major 3×3, columns (a0, a1, a2)
  scales: Float32Array; // [T] metres
}

const EPS = 1e-20;

export function triangleFrames(verts: ArrayLike<number>, faces: ArrayLike<number>, out?: TriangleFrames): TriangleFrames {
  const T = Math.floor(faces.length / 3);
  const res = out ?? { centres: new Float32Array(T * 3), rotations: new Float32Array(T * 9), scales: new Float32Array(T) };
  const { centres, rotations, scales } = res;
  for (let t = 0; t < T; t++) {
    const i0 = 3 * faces[3 * t]!,
      i1 = 3 * faces[3 * t + 1]!,
      i2 = 3 * faces[3 * t + 2]!;
    const x0 = verts[i0]!,
      y0 = verts[i0 + 1]!,
      z0 = verts[i0 + 2]!;
    const ex = verts[i1]! - x0,
      ey = verts[i1 + 1]! - y0,
      ez = verts[i1 + 2]! - z0;
    const fx = verts[i2]! - x0,
      fy = verts[i2 + 1]! - y0,
      fz = verts[i2 + 2]! - z0;
    centres[3 * t] = x0 + (ex + fx) / 3;
    centres[3 * t + 1] = y0 + (ey + fy) / 3;
    centres[3 * t + 2] = z0 + (ez + fz) / 3;

    const el = Math.sqrt(ex * ex + ey * ey + ez * ez);
    let a0x: number, a0y: number, a0z: number;
    if (el > EPS) {
      a0x = ex / el;
      a0y = ey / el;
      a0z = ez / el;
    } else {
      const fl = Math.sqrt(fx * fx + fy * fy + fz * fz);
      if (fl > EPS) {
        a0x = fx / fl;
        a0y = fy / fl;
        a0z = fz / fl;
      } else {
        a0x = 1;
        a0y = 0;
        a0z = 0;
      }
    }
    // normal = a0 × f
    let nx = a0y * fz - a0z * fy,
      ny = a0z * fx - a0x * fz,
      nz = a0x * fy - a0y * fx;
    let nl = Math.sqrt(nx * nx + ny * ny + nz * nz);
    if (nl <= EPS * 1e10) {
      // Degenerate: any unit vector perpendicular to a0.
      const ax = Math.abs(a0x) < 0.9 ? 1 : 0,
        ay = ax ? 0 : 1;
      nx = a0y * 0 - a0z * ay;
      ny = a0z * ax - a0x * 0;
      nz = a0x * ay - a0y * ax;
      nl = Math.sqrt(nx * nx + ny * ny + nz * nz);
    }
    const a1x = nx / nl,
      a1y = ny / nl,
      a1z = nz / nl;
    const a2x = a0y * a1z - a0z * a1y,
      a2y = a0z * a1x - a0x * a1z,
      a2z = a0x * a1y - a0y * a1x;
    const r = 9 * t;
    rotations[r] = a0x;
    rotations[r + 1] = a1x;
    rotations[r + 2] = a2x;
    rotations[r + 3] = a0y;
    rotations[r + 4] = a1y;
    rotations[r + 5] = a2y;
    rotations[r + 6] = a0z;
    rotations[r + 7] = a1z;
    rotations[r + 8] = a2z;
    scales[t] = (el + Math.abs(a2x * fx + a2y * fy + a2z * fz)) / 2;
  }
  return res;
}
