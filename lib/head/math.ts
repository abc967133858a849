/** Small rotation helpers. Matrices are row-major 3×3 (`m[r*3+c]`) or 3×4 affine ([R | t]). */

export type Vec3 = [number, number, number];
export type Mat3 = Float64Array; // [9] row-major
export type Affine = Float64Array; // [12] row-major 3×4: p' = R p + t

/** Rodrigues: rotation matrix of an axis-angle vector (angle = its norm, radians). */
export function axisAngleToMatrix(aa: ArrayLike<number>): Mat3 {
  const x = aa[0]!,
    y = aa[1]!,
    z = aa[2]!;
  const th = Math.hypot(x, y, z);
  const m = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  if (th < 1e-12) return m;
  const kx = x / th,
    ky = y / th,
    kz = z / th;
  const c = Math.cos(th),
    s = Math.sin(th),
    C = 1 - c;
  m[0] = c + kx * kx * C;
  m[1] = kx * ky * C - kz * s;
  m[2] = kx * kz * C + ky * s;
  m[3] = ky * kx * C + kz * s;
  m[4] = c + ky * ky * C;
  m[5] = ky * kz * C - kx * s;
  m[6] = kz * kx * C - ky * s;
  m[7] = kz * ky * C + kx * s;
  m[8] = c + kz * kz * C;
  return m;
}

/** The affine map p ↦ R (p − pivot) + pivot + t. */
export function rotationAbout(R: Mat3, pivot: ArrayLike<number>, t: ArrayLike<number> = [0, 0, 0]): Affine {
  const out = new Float64Array(12);
  for (let r = 0; r < 3; r++) {
    let rp = 0;
    for (let c = 0; c < 3; c++) {
      out[r * 4 + c] = R[r * 3 + c]!;
      rp += R[r * 3 + c]! * pivot[c]!;
    }
    out[r * 4 + 3] = pivot[r]! - rp + t[r]!;
  }
  return out;
}

export function applyAffine(A: ArrayLike<number>, x: number, y: number, z: number): Vec3 {
  return [A[0]! * x + A[1]! * y + A[2]! * z + A[3]!, A[4]! * x + A[5]! * y + A[6]! * z + A[7]!, A[8]! * x + A[9]! * y + A[10]! * z + A[11]!];
}

export const sub3 = (a: ArrayLike<number>, b: ArrayLike<number>): Vec3 => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
export const dot3 = (a: ArrayLike<number>, b: ArrayLike<number>) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
export const cross3 = (a: ArrayLike<number>, b: ArrayLike<number>): Vec3 => [
  a[1]! * b[2]! - a[2]! * b[1]!,
  a[2]! * b[0]! - a[0]! * b[2]!,
  a[0]! * b[1]! - a[1]! * b[0]!,
];
export const norm3 = (a: ArrayLike<number>) => Math.hypot(a[0]!, a[1]!, a[2]!);
