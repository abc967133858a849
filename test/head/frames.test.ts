import { describe, expect, it } from 'vitest';
import { loadHeadModel } from '../../lib/head/model.js';
import { neutralParams, poseHead } from '../../lib/head/pose.js';
import { triangleFrames } from '../../lib/head/frames.js';
import { Rng } from '../../lib/util/random.js';

/** Float64 reference, formulated differently: normal from the raw cross product, third axis a0 × n. */
function reference(verts: ArrayLike<number>, faces: ArrayLike<number>, t: number) {
  const p = [0, 1, 2].map((c) => [0, 1, 2].map((k) => verts[3 * faces[3 * t + c]! + k]!));
  const e = p[1]!.map((x, k) => x - p[0]![k]!),
    f = p[2]!.map((x, k) => x - p[0]![k]!);
  const cross = (a: number[], b: number[]) => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
  const unit = (a: number[]) => {
    const l = Math.hypot(...a);
    return a.map((x) => x / l);
  };
  const a0 = unit(e),
    n = unit(cross(e, f)),
    a2 = cross(a0, n);
  const centre = [0, 1, 2].map((k) => (p[0]![k]! + p[1]![k]! + p[2]![k]!) / 3);
  const height = Math.abs(f[0]! * a2[0]! + f[1]! * a2[1]! + f[2]! * a2[2]!);
  return { centre, R: [a0[0]!, n[0]!, a2[0]!, a0[1]!, n[1]!, a2[1]!, a0[2]!, n[2]!, a2[2]!], scale: (Math.hypot(...e) + height) / 2 };
}

describe('triangleFrames', () => {
  it('matches the float64 reference on a posed head, orthonormal and right-handed', async () => {
    const m = await loadHeadModel();
    const rng = new Rng(9);
    const p = neutralParams();
    for (let j = 0; j < 53; j++) p.expression[j] = 0.5 * rng.next();
    p.neck = [0.1, -0.2, 0.05];
    const verts = poseHead(m, p);
    const fr = triangleFrames(verts, m.faces);
    expect(fr.centres.length).toBe(m.triangleCount * 3);
    let worstR = 0,
      worstC = 0,
      worstS = 0,
      worstOrtho = 0,
      worstDet = 0;
    for (let t = 0; t < m.triangleCount; t++) {
      const ref = reference(verts, m.faces, t);
      const R = fr.rotations.subarray(9 * t, 9 * t + 9);
      for (let i = 0; i < 9; i++) worstR = Math.max(worstR, Math.abs(R[i]! - ref.R[i]!));
      for (let k = 0; k < 3; k++) worstC = Math.max(worstC, Math.abs(fr.centres[3 * t + k]! - ref.centre[k]!));
      worstS = Math.max(worstS, Math.abs(fr.scales[t]! - ref.scale) / ref.scale);
      // RᵀR = I
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) {
          let d = 0;
          for (let r = 0; r < 3; r++) d += R[3 * r + a]! * R[3 * r + b]!;
          worstOrtho = Math.max(worstOrtho, Math.abs(d - (a === b ? 1 : 0)));
        }
      const det = R[0]! * (R[4]! * R[8]! - R[5]! * R[7]!) - R[1]! * (R[3]! * R[8]! - R[5]! * R[6]!) + R[2]! * (R[3]! * R[7]! - R[4]! * R[6]!);
      worstDet = Math.max(worstDet, Math.abs(det - 1));
    }
    expect(worstR).toBeLessThan(2e-6);
    expect(worstC).toBeLessThan(1e-7);
    expect(worstS).toBeLessThan(1e-6);
    expect(worstOrtho).toBeLessThan(2e-6);
    expect(worstDet).toBeLessThan(2e-6);
  });

  it('puts a0 along the first edge, the normal across the plane, and k = (edge + height) / 2', () => {
    const verts = new Float32Array([0.1, 0.2, 0.3, 0.13, 0.2, 0.3, 0.1, 0.24, 0.31]);
    const fr = triangleFrames(verts, new Uint32Array([0, 1, 2]));
    const R = fr.rotations,
      k = fr.scales[0]!;
    expect(R[0]).toBeCloseTo(1, 6); // a0 = +x
    expect(Math.abs(R[4]!)).toBeLessThan(0.3); // normal mostly along ±z
    expect(k).toBeCloseTo((0.03 + Math.hypot(0.04, 0.01)) / 2, 6);
  });

  it('gives finite right-handed frames for degenerate triangles', () => {
    const verts = new Float32Array([0, 0, 0, 1, 0, 0, 2, 0, 0, /* coincident: */ 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    const fr = triangleFrames(verts, new Uint32Array([0, 1, 2, 3, 4, 5]));
    for (let t = 0; t < 2; t++) {
      const R = fr.rotations.subarray(9 * t, 9 * t + 9);
      for (const x of R) expect(Number.isFinite(x)).toBe(true);
      const det = R[0]! * (R[4]! * R[8]! - R[5]! * R[7]!) - R[1]! * (R[3]! * R[8]! - R[5]! * R[6]!) + R[2]! * (R[3]! * R[7]! - R[4]! * R[6]!);
      expect(det).toBeCloseTo(1, 6);
    }
  });
});
