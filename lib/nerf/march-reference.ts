/**
 * float64 reference of the marcher's sampling (march.wgsl.ts): the same rays, sample positions, jitter
 * hash, deformation (brute force), canonical cube and occupancy test.
 */
import type { Camera } from '../raster/types.js';
import { cameraCentre } from '../raster/camera.js';
import { applyAffine, nearestTriangleBrute } from './deform-reference.js';
import type { PoseGeometry } from './deform.js';

/** The canonical cube the field lives in: lower corner and edge length, metres. */
export interface CanonicalBox {
  lo: [number, number, number];
  size: number;
}

/** The pixel → world-direction matrix Rᵀ K⁻¹ (row-major 3×3) of a camera. */
export function pixelToWorld(cam: Camera): Float64Array {
  const W = cam.worldToCamera;
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    const r0 = W[i]!,
      r1 = W[4 + i]!,
      r2 = W[8 + i]!; // row i of Rᵀ
    out[3 * i] = r0 / cam.fx;
    out[3 * i + 1] = r1 / cam.fy;
    out[3 * i + 2] = r2 - (r0 * cam.cx) / cam.fx - (r1 * cam.cy) / cam.fy;
  }
  return out;
}

/** The sample jitter hash (PCG), u32 arithmetic as in WGSL. */
export function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

export function sampleJitter(seed: number, pixel: number, s: number): number {
  return (pcg((seed + pcg((pixel + pcg(s)) >>> 0)) >>> 0) >>> 8) / 16777216;
}

/** Entry and exit of a ray in an axis-aligned box (t0 ≥ 0), or null when it misses. */
export function rayBox(o: ArrayLike<number>, d: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>): [number, number] | null {
  let t0 = 0,
    t1 = Infinity;
  for (let a = 0; a < 3; a++) {
    const ta = (lo[a]! - o[a]!) / d[a]!,
      tb = (hi[a]! - o[a]!) / d[a]!;
    t0 = Math.max(t0, Math.min(ta, tb));
    t1 = Math.min(t1, Math.max(ta, tb));
  }
  return t1 > t0 ? [t0, t1] : null;
}

export interface MarchSpec {
  camera: Camera;
  geometry: PoseGeometry;
  box: CanonicalBox;
  samples: number; // S per ray
  jitterSeed: number | null; // null: samples at cell centres (j = ½)
  occupancy: ArrayLike<number>; // [G³] 1 = occupied
  occupancyResolution: number;
}

export interface MarchSamples {
  points: Float64Array; // [M,3] canonical in [0,1]³, in dense order
  denseIndex: Int32Array; // [M] r·S + s
  delta: Float64Array; // [R]
}

export function marchReference(spec: MarchSpec, pixels: ArrayLike<number>): MarchSamples {
  const { camera, geometry, box, samples: S } = spec;
  const M = pixelToWorld(camera);
  const o = cameraCentre(camera);
  const G = spec.occupancyResolution;
  const pts: number[] = [],
    idx: number[] = [];
  const delta = new Float64Array(pixels.length);
  for (let r = 0; r < pixels.length; r++) {
    const pix = pixels[r]!;
    const px = [(pix % camera.width) + 0.5, Math.floor(pix / camera.width) + 0.5, 1];
    const d = [0, 1, 2].map((i) => M[3 * i]! * px[0]! + M[3 * i + 1]! * px[1]! + M[3 * i + 2]!);
    const n = Math.hypot(d[0]!, d[1]!, d[2]!);
    for (let a = 0; a < 3; a++) d[a]! /= n;
    const hit = rayBox(o, d, geometry.bounds.lo, geometry.bounds.hi);
    if (!hit) continue;
    const dt = (hit[1] - hit[0]) / S;
    delta[r] = dt;
    for (let s = 0; s < S; s++) {
      const j = spec.jitterSeed === null ? 0.5 : sampleJitter(spec.jitterSeed, pix, s);
      const t = hit[0] + (s + j) * dt;
      const p = [o[0] + t * d[0]!, o[1] + t * d[1]!, o[2] + t * d[2]!];
      const { tri } = nearestTriangleBrute(p, geometry.tris, geometry.grid.maxDist);
      if (tri < 0) continue;
      const q = applyAffine(geometry.affines, tri, p);
      const u = q.map((v, a) => (v - box.lo[a]!) / box.size);
      if (u.some((v) => v < 0 || v > 1)) continue;
      const c = u.map((v) => Math.min(Math.floor(v * G), G - 1));
      if (!(spec.occupancy[c[0]! + G * (c[1]! + G * c[2]!)]! > 0.5)) continue;
      pts.push(...u);
      idx.push(r * S + s);
    }
  }
  return { points: Float64Array.from(pts), denseIndex: Int32Array.from(idx), delta };
}
