/**
 * Stage 1 in float64: 3D Gaussians → screen-space splats (means2D, conics, radii, depths, colours,
 * opacities), with 3DGS's (diff-gaussian-rasterization) conventions on our OpenCV camera.
 */
import { cameraCentre, tanHalfFov } from '../camera.js';
import type { Camera, Gaussians, Projected, RasterSettings } from '../types.js';
import { shColor, type Vec3 } from './sh.js';
import { tileGrid, tileRect, type TileGrid } from './tiles.js';

/** `Gaussians` whose parameters may also be float64 (finite differences need it). */
export type ParamArray = Float32Array | Float64Array;
export interface ReferenceGaussians extends Omit<Gaussians, 'means' | 'logScales' | 'quats' | 'opacityLogits' | 'sh'> {
  means: ParamArray; // [N,3]
  logScales: ParamArray; // [N,3]
  quats: ParamArray; // [N,4] (w, x, y, z), unnormalised
  opacityLogits: ParamArray; // [N]
  sh: ParamArray; // [N,K,3]
}

/** The SH degree actually evaluated: the setting, capped at the stored degree. */
export function activeShDegree(g: Pick<Gaussians, 'shDegree'>, s: Pick<RasterSettings, 'shDegree'>): number {
  return Math.max(0, Math.min(s.shDegree, g.shDegree));
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Rotation matrix (row-major 3×3) of a unit quaternion (w, x, y, z). */
export function quatToRot(w: number, x: number, y: number, z: number): number[] {
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    1 - 2 * (x * x + z * z),
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    1 - 2 * (x * x + y * y),
  ];
}

/**
 * Everything stage 1 computes for one Gaussian, kept so that the backward pass can reuse it.
 * 3×3 and 2×3 matrices are row-major.
 */
export interface SplatGeometry {
  culled: boolean;
  t: Vec3; // camera-space mean, metres
  qn: [number, number, number, number]; // normalised quaternion
  qNorm: number; // |q| before normalisation
  R: number[]; // [3×3] rotation
  scale: Vec3; // exp(logScales)
  M: number[]; // [3×3] R·diag(scale)
  Sigma: number[]; // [3×3] world covariance M Mᵀ
  /** x/z, y/z clamped to ±1.3·tan(half fov), and whether the clamp was active (then ∂J/∂x or ∂J/∂y is 0). */
  txz: number;
  tyz: number;
  clampX: boolean;
  clampY: boolean;
  J: number[]; // [2×3] Jacobian of the perspective projection at the (clamped) mean
  T: number[]; // [2×3] J · W₃
  cov2D: [number, number, number]; // (a, b, c) including the low-pass
  det: number;
  conic: [number, number, number];
  radius: number;
  means2D: [number, number];
  rect: { xMin: number; xMax: number; yMin: number; yMax: number };
  dir: Vec3; // unit view direction, camera centre → mean
  dirNorm: number; // |mean − camera centre|
}

/** Per-camera constants of stage 1. */
export interface ProjectionContext {
  W: ArrayLike<number>; // [16] row-major world → camera
  campos: Vec3;
  limX: number; // 1.3 · tan(half fov x)
  limY: number;
  grid: TileGrid;
}

export function projectionContext(cam: Camera): ProjectionContext {
  const [tanX, tanY] = tanHalfFov(cam);
  return { W: cam.worldToCamera, campos: cameraCentre(cam), limX: 1.3 * tanX, limY: 1.3 * tanY, grid: tileGrid(cam) };
}

/** Stage 1 for Gaussian i; `culled` is set (and later fields may be missing) when it is not drawn. */
export function splatGeometry(g: ReferenceGaussians, i: number, cam: Camera, s: RasterSettings, ctx: ProjectionContext): SplatGeometry {
  const W = ctx.W;
  const mx = g.means[3 * i]!,
    my = g.means[3 * i + 1]!,
    mz = g.means[3 * i + 2]!;
  const t: Vec3 = [W[0]! * mx + W[1]! * my + W[2]! * mz + W[3]!, W[4]! * mx + W[5]! * my + W[6]! * mz + W[7]!, W[8]! * mx + W[9]! * my + W[10]! * mz + W[11]!];
  const geo = { culled: true, t } as SplatGeometry;
  if (!(t[2] > cam.near) || t[2] > cam.far) return geo;

  // Σ = R S Sᵀ Rᵀ = M Mᵀ, M = R·diag(exp(logScales)).
  const qw = g.quats[4 * i]!,
    qx = g.quats[4 * i + 1]!,
    qy = g.quats[4 * i + 2]!,
    qz = g.quats[4 * i + 3]!;
  const qNorm = Math.hypot(qw, qx, qy, qz);
  if (!(qNorm > 0)) throw new Error(`projectReference: quaternion of Gaussian ${i} is zero or not finite`);
  const qn: [number, number, number, number] = [qw / qNorm, qx / qNorm, qy / qNorm, qz / qNorm];
  const R = quatToRot(...qn);
  const scale: Vec3 = [Math.exp(g.logScales[3 * i]!), Math.exp(g.logScales[3 * i + 1]!), Math.exp(g.logScales[3 * i + 2]!)];
  const M = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[3 * r + c] = R[3 * r + c]! * scale[c]!;
  const Sigma = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) Sigma[3 * r + c]! += M[3 * r + k]! * M[3 * c + k]!;

  // EWA: J at the mean, with x/z and y/z clamped to 1.3× the frustum (3DGS) so that splats far off-screen
  // do not blow up; the clamp only enters J, never the projected mean.
  const [tx, ty, tz] = t;
  const rx = tx / tz,
    ry = ty / tz;
  const txz = Math.min(ctx.limX, Math.max(-ctx.limX, rx));
  const tyz = Math.min(ctx.limY, Math.max(-ctx.limY, ry));
  const J = [cam.fx / tz, 0, -(cam.fx * txz) / tz, 0, cam.fy / tz, -(cam.fy * tyz) / tz];
  const T = new Array<number>(6).fill(0);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) T[3 * r + c]! += J[3 * r + k]! * W[4 * k + c]!;
  const TS = new Array<number>(6).fill(0); // T Σ
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) TS[3 * r + c]! += T[3 * r + k]! * Sigma[3 * k + c]!;
  const cov = [0, 0, 0, 0]; // T Σ Tᵀ, 2×2
  for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) for (let k = 0; k < 3; k++) cov[2 * r + c]! += TS[3 * r + k]! * T[3 * c + k]!;
  const a = cov[0]! + s.lowpass,
    b = cov[1]!,
    c = cov[3]! + s.lowpass;
  const det = a * c - b * b;
  Object.assign(geo, { qn, qNorm, R, scale, M, Sigma, txz, tyz, clampX: rx !== txz, clampY: ry !== tyz, J, T, cov2D: [a, b, c], det });
  if (!(det > 0)) return geo;
  geo.conic = [c / det, -b / det, a / det];
  const mid = 0.5 * (a + c);
  const lambdaMax = mid + Math.sqrt(Math.max(0.1, mid * mid - det));
  geo.radius = Math.ceil(3 * Math.sqrt(lambdaMax));
  geo.means2D = [(cam.fx * tx) / tz + cam.cx, (cam.fy * ty) / tz + cam.cy];
  geo.rect = tileRect(geo.means2D[0], geo.means2D[1], geo.radius, ctx.grid);
  if (geo.rect.xMax === geo.rect.xMin || geo.rect.yMax === geo.rect.yMin) return geo;

  const d: Vec3 = [mx - ctx.campos[0], my - ctx.campos[1], mz - ctx.campos[2]];
  geo.dirNorm = Math.hypot(d[0], d[1], d[2]);
  geo.dir = [d[0] / geo.dirNorm, d[1] / geo.dirNorm, d[2] / geo.dirNorm];
  geo.culled = false;
  return geo;
}

export function projectReference(g: ReferenceGaussians, cam: Camera, s: RasterSettings): Projected {
  const n = g.count;
  const K = (g.shDegree + 1) * (g.shDegree + 1);
  const degree = activeShDegree(g, s);
  const ctx = projectionContext(cam);
  const out = {
    count: n,
    means2D: new Float64Array(2 * n),
    conics: new Float64Array(3 * n),
    radii: new Int32Array(n),
    depths: new Float64Array(n),
    colors: new Float64Array(3 * n),
    opacities: new Float64Array(n),
    tilesTouched: new Uint32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const geo = splatGeometry(g, i, cam, s, ctx);
    if (geo.culled) continue;
    out.radii[i] = geo.radius;
    out.means2D.set(geo.means2D, 2 * i);
    out.conics.set(geo.conic, 3 * i);
    out.depths[i] = geo.t[2];
    out.tilesTouched[i] = (geo.rect.xMax - geo.rect.xMin) * (geo.rect.yMax - geo.rect.yMin);
    out.colors.set(shColor(g.sh, i * K * 3, degree, geo.dir).rgb, 3 * i);
    out.opacities[i] = sigmoid(g.opacityLogits[i]!);
  }
  return out;
}
