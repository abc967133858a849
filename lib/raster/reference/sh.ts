/**
 * Real spherical harmonics up to degree 3, with 3DGS's constants, signs and basis order, in float64.
 * colour = max(0, Σ_k sh[k] Y_k(dir) + 0.5) per channel, dir a unit vector from the camera centre to the mean.
 */

export type Vec3 = [number, number, number];

export const SH_C0 = 0.28209479177387814;
export const SH_C1 = 0.4886025119029199;
export const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396] as const;
export const SH_C3 = [
  -0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435,
] as const;

/** Y_k(dir) for k < (degree+1)², written into `out` (length ≥ 16). */
export function shBasis(degree: number, dir: ArrayLike<number>, out: Float64Array): void {
  const x = dir[0]!,
    y = dir[1]!,
    z = dir[2]!;
  out[0] = SH_C0;
  if (degree < 1) return;
  out[1] = -SH_C1 * y;
  out[2] = SH_C1 * z;
  out[3] = -SH_C1 * x;
  if (degree < 2) return;
  const xx = x * x,
    yy = y * y,
    zz = z * z;
  out[4] = SH_C2[0] * x * y;
  out[5] = SH_C2[1] * y * z;
  out[6] = SH_C2[2] * (2 * zz - xx - yy);
  out[7] = SH_C2[3] * x * z;
  out[8] = SH_C2[4] * (xx - yy);
  if (degree < 3) return;
  out[9] = SH_C3[0] * y * (3 * xx - yy);
  out[10] = SH_C3[1] * x * y * z;
  out[11] = SH_C3[2] * y * (4 * zz - xx - yy);
  out[12] = SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy);
  out[13] = SH_C3[4] * x * (4 * zz - xx - yy);
  out[14] = SH_C3[5] * z * (xx - yy);
  out[15] = SH_C3[6] * x * (xx - 3 * yy);
}

/**
 * ∂Y_k/∂(x, y, z) for k < (degree+1)², into `out` [16,3]. The polynomials are differentiated with x, y, z
 * independent (as 3DGS does); the unit-norm constraint enters through the normalisation's Jacobian.
 */
export function shBasisGrad(degree: number, dir: ArrayLike<number>, out: Float64Array): void {
  const x = dir[0]!,
    y = dir[1]!,
    z = dir[2]!;
  const set = (k: number, gx: number, gy: number, gz: number) => {
    out[3 * k] = gx;
    out[3 * k + 1] = gy;
    out[3 * k + 2] = gz;
  };
  set(0, 0, 0, 0);
  if (degree < 1) return;
  set(1, 0, -SH_C1, 0);
  set(2, 0, 0, SH_C1);
  set(3, -SH_C1, 0, 0);
  if (degree < 2) return;
  const xx = x * x,
    yy = y * y,
    zz = z * z;
  set(4, SH_C2[0] * y, SH_C2[0] * x, 0);
  set(5, 0, SH_C2[1] * z, SH_C2[1] * y);
  set(6, -2 * SH_C2[2] * x, -2 * SH_C2[2] * y, 4 * SH_C2[2] * z);
  set(7, SH_C2[3] * z, 0, SH_C2[3] * x);
  set(8, 2 * SH_C2[4] * x, -2 * SH_C2[4] * y, 0);
  if (degree < 3) return;
  set(9, SH_C3[0] * 6 * x * y, SH_C3[0] * 3 * (xx - yy), 0);
  set(10, SH_C3[1] * y * z, SH_C3[1] * x * z, SH_C3[1] * x * y);
  set(11, SH_C3[2] * -2 * x * y, SH_C3[2] * (4 * zz - xx - 3 * yy), SH_C3[2] * 8 * y * z);
  set(12, SH_C3[3] * -6 * x * z, SH_C3[3] * -6 * y * z, SH_C3[3] * (6 * zz - 3 * xx - 3 * yy));
  set(13, SH_C3[4] * (4 * zz - 3 * xx - yy), SH_C3[4] * -2 * x * y, SH_C3[4] * 8 * x * z);
  set(14, SH_C3[5] * 2 * x * z, SH_C3[5] * -2 * y * z, SH_C3[5] * (xx - yy));
  set(15, SH_C3[6] * 3 * (xx - yy), SH_C3[6] * -6 * x * y, 0);
}

export interface ShColor {
  rgb: Vec3; // max(0, SH + 0.5)
  /** Per channel: SH + 0.5 < 0, so the colour is clamped to 0 and passes no gradient. */
  clamped: [boolean, boolean, boolean];
}

/**
 * Colour of one Gaussian. `sh` is coefficient-major with RGB last; the Gaussian's coefficients start at
 * `base` (= n · K · 3, K the stored coefficient count); only the first (degree+1)² are used.
 */
export function shColor(sh: ArrayLike<number>, base: number, degree: number, dir: ArrayLike<number>): ShColor {
  const Y = new Float64Array(16);
  shBasis(degree, dir, Y);
  const nk = (degree + 1) * (degree + 1);
  const rgb: Vec3 = [0.5, 0.5, 0.5];
  for (let k = 0; k < nk; k++) for (let c = 0; c < 3; c++) rgb[c]! += Y[k]! * sh[base + 3 * k + c]!;
  const clamped: [boolean, boolean, boolean] = [rgb[0] < 0, rgb[1] < 0, rgb[2] < 0];
  for (let c = 0; c < 3; c++) if (clamped[c]) rgb[c] = 0;
  return { rgb, clamped };
}

/**
 * Backward of `shColor`: adds ∂L/∂sh into `dLdSh` (same layout and `base` as `sh`) and returns ∂L/∂dir
 * (x, y, z independent). Channels clamped in the forward pass pass no gradient.
 */
export function shColorBackward(
  sh: ArrayLike<number>,
  base: number,
  degree: number,
  dir: ArrayLike<number>,
  clamped: readonly boolean[],
  dLdRgb: ArrayLike<number>,
  dLdSh: Float64Array,
): Vec3 {
  const Y = new Float64Array(16);
  const dY = new Float64Array(48);
  shBasis(degree, dir, Y);
  shBasisGrad(degree, dir, dY);
  const g = [0, 1, 2].map((c) => (clamped[c] ? 0 : dLdRgb[c]!));
  const nk = (degree + 1) * (degree + 1);
  const dDir: Vec3 = [0, 0, 0];
  for (let k = 0; k < nk; k++) {
    let s = 0; // Σ_c sh[k,c] ∂L/∂rgb_c
    for (let c = 0; c < 3; c++) {
      dLdSh[base + 3 * k + c]! += Y[k]! * g[c]!;
      s += sh[base + 3 * k + c]! * g[c]!;
    }
    for (let a = 0; a < 3; a++) dDir[a] += s * dY[3 * k + a]!;
  }
  return dDir;
}
