import { describe, expect, it } from 'vitest';
import { loadHeadModel, Material, expressionIndex } from '../../lib/head/model.js';
import { headRig } from '../../lib/head/rig.js';
import { evalBlendshapes, neutralParams, poseHead, type HeadParams } from '../../lib/head/pose.js';
import { GpuHeadPoser } from '../../lib/head/gpu-pose.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

/** Float64 reference of the whole frame, written independently of pose.ts (matrices built from scratch). */
function referencePose(m: Awaited<ReturnType<typeof loadHeadModel>>, p: HeadParams): Float64Array {
  const V = m.vertexCount,
    n = V * 3;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = m.neutral[i]!;
    for (let k = 0; k < 20; k++) s += p.identity[k]! * m.identities[k * n + i]!;
    for (let j = 0; j < 53; j++) s += p.expression[j]! * m.expressions[j * n + i]!;
    out[i] = s;
  }
  const rot = (aa: number[]) => {
    const th = Math.hypot(aa[0]!, aa[1]!, aa[2]!);
    if (th === 0) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const k = aa.map((x) => x / th);
    // R = I + sin θ K + (1 − cos θ) K²
    const K = [0, -k[2]!, k[1]!, k[2]!, 0, -k[0]!, -k[1]!, k[0]!, 0];
    const K2 = new Array(9).fill(0);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let q = 0; q < 3; q++) K2[3 * r + c] += K[3 * r + q]! * K[3 * q + c]!;
    return [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => (i % 4 === 0 ? 1 : 0) + Math.sin(th) * K[i]! + (1 - Math.cos(th)) * K2[i]);
  };
  const rig = headRig(m);
  const Rj = rot([...p.jaw]),
    Rn = rot([...p.neck]);
  const J = rig.jawPivot,
    N = rig.neckPivot;
  for (let v = 0; v < V; v++) {
    const x = [out[3 * v]!, out[3 * v + 1]!, out[3 * v + 2]!];
    const d = [x[0]! - J[0], x[1]! - J[1], x[2]! - J[2]];
    const w = rig.jawWeights[v]!;
    const y = [0, 1, 2].map((r) => (1 - w) * x[r]! + w * (Rj[3 * r]! * d[0]! + Rj[3 * r + 1]! * d[1]! + Rj[3 * r + 2]! * d[2]! + J[r]!));
    const e = [y[0]! - N[0], y[1]! - N[1], y[2]! - N[2]];
    for (let r = 0; r < 3; r++) out[3 * v + r] = Rn[3 * r]! * e[0]! + Rn[3 * r + 1]! * e[1]! + Rn[3 * r + 2]! * e[2]! + N[r]! + p.translation[r]!;
  }
  return out;
}

function randomParams(rng: Rng): HeadParams {
  const p = neutralParams();
  for (let k = 0; k < 20; k++) p.identity[k] = rng.normal();
  for (let j = 0; j < 53; j++) p.expression[j] = rng.next() < 0.3 ? 0 : rng.next();
  p.jaw = [0.2 * rng.next(), 0.05 * rng.normal(), 0.05 * rng.normal()];
  p.neck = [0.2 * rng.normal(), 0.3 * rng.normal(), 0.1 * rng.normal()];
  p.translation = [0.01 * rng.normal(), 0.01 * rng.normal(), 0.01 * rng.normal()];
  return p;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('blendshapes and pose', () => {
  it('CPU float32 matches the float64 reference (blendshapes only, and with jaw and neck)', async () => {
    const m = await loadHeadModel();
    const rng = new Rng(3);
    const p = randomParams(rng);
    const blendOnly = { ...p, jaw: [0, 0, 0], neck: [0, 0, 0], translation: [0, 0, 0] } as HeadParams;
    const ref0 = referencePose(m, blendOnly);
    const cpu0 = evalBlendshapes(m, p.identity, p.expression);
    expect(maxAbsDiff(cpu0, ref0)).toBeLessThan(2e-7); // metres; float32 spacing near 0.2 m is 1.5e-8
    const ref = referencePose(m, p);
    const cpu = poseHead(m, p);
    expect(maxAbsDiff(cpu, ref)).toBeLessThan(4e-7);
    // And the pose did something: the posed mesh is far from the blend-only one.
    expect(maxAbsDiff(cpu, cpu0)).toBeGreaterThan(0.01);
  });

  it('GPU batch matches the float64 reference for every frame', async () => {
    const ctx = await gpu();
    const m = await loadHeadModel();
    const rng = new Rng(4);
    const frames = [neutralParams(), randomParams(rng), randomParams(rng)];
    const poser = new GpuHeadPoser(ctx, m);
    const out = await poser.pose(frames);
    poser.destroy();
    const n = m.vertexCount * 3;
    frames.forEach((p, f) => {
      const ref = referencePose(m, p);
      expect(maxAbsDiff(out.subarray(f * n, (f + 1) * n), ref)).toBeLessThan(4e-7);
    });
  });
});

describe('rig', () => {
  it('places the jaw joint so that rotating the lower teeth about it reproduces jawOpen', async () => {
    const m = await loadHeadModel();
    const rig = headRig(m);
    const V = m.vertexCount,
      jo = expressionIndex(m, 'jawOpen') * V * 3;
    const c = Math.cos(rig.jawOpenAngle),
      s = Math.sin(rig.jawOpenAngle);
    let worst = 0,
      count = 0;
    for (let v = 0; v < V; v++) {
      if (!rig.lowerTeeth[v]) continue;
      count++;
      const y = m.neutral[3 * v + 1]! - rig.jawPivot[1],
        z = m.neutral[3 * v + 2]! - rig.jawPivot[2];
      const ry = c * y - s * z + rig.jawPivot[1],
        rz = s * y + c * z + rig.jawPivot[2];
      const ty = m.neutral[3 * v + 1]! + m.expressions[jo + 3 * v + 1]!,
        tz = m.neutral[3 * v + 2]! + m.expressions[jo + 3 * v + 2]!;
      worst = Math.max(worst, Math.hypot(ry - ty, rz - tz));
    }
    expect(count).toBeGreaterThan(1000);
    expect(worst).toBeLessThan(0.0006); // metres
    expect(rig.jawOpenAngle).toBeGreaterThan(0.3); // opening is a positive rotation about +x
  });

  it('gives lower teeth weight 1, upper teeth and eyes 0, the chin ~1 and the forehead 0', async () => {
    const m = await loadHeadModel();
    const rig = headRig(m);
    let lower = 0,
      upper = 0;
    for (let t = 0; t < m.triangleCount; t++) {
      const mat = m.faceMaterial[t]!;
      for (let k = 0; k < 3; k++) {
        const v = m.faces[3 * t + k]!;
        const w = rig.jawWeights[v]!;
        if (mat === Material.M_Teeth) {
          if (rig.lowerTeeth[v]) {
            expect(w).toBe(1);
            lower++;
          } else {
            expect(w).toBe(0);
            upper++;
          }
        }
        if (mat === Material.M_ScleraLeft || mat === Material.M_IrisRight) expect(w).toBe(0);
      }
    }
    expect(lower).toBeGreaterThan(0);
    expect(upper).toBeGreaterThan(0);
    // Chin: the frontmost face vertex 2-4 cm below the mouth; forehead: the highest face vertex in front.
    let chin = -1,
      brow = -1;
    for (let v = 0; v < 9409; v++) {
      const y = m.neutral[3 * v + 1]!,
        z = m.neutral[3 * v + 2]!;
      if (y < -0.055 && y > -0.075 && (chin < 0 || z > m.neutral[3 * chin + 2]!)) chin = v;
      if (z > 0.08 && (brow < 0 || y > m.neutral[3 * brow + 1]!)) brow = v;
    }
    expect(rig.jawWeights[chin]!).toBeGreaterThan(0.85);
    expect(rig.jawWeights[brow]!).toBe(0);
  });

  it('opens the mouth with a positive jaw rotation: the chin moves down', async () => {
    const m = await loadHeadModel();
    const p = neutralParams();
    const closed = poseHead(m, p);
    p.jaw = [0.3, 0, 0];
    const open = poseHead(m, p);
    const rig = headRig(m);
    let dy = 0,
      n = 0;
    for (let v = 0; v < m.vertexCount; v++)
      if (rig.lowerTeeth[v]) {
        dy += open[3 * v + 1]! - closed[3 * v + 1]!;
        n++;
      }
    expect(dy / n).toBeLessThan(-0.01);
  });
});
