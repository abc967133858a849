import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { bindToWorld, bindToWorldReference, frameQuats, gatherFrames, rotationToQuat, type TriangleFrames } from '../../lib/avatar/binding.js';
import { Rng } from '../../lib/util/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A random proper rotation (row-major) from a random unit quaternion. */
function randomRotation(rng: Rng): number[] {
  const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(...q);
  const [w, x, y, z] = q.map((v) => v / n) as [number, number, number, number];
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

function quatToMatrix(q: number[]): number[] {
  const [w, x, y, z] = q as [number, number, number, number];
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

function scene(T: number, N: number, seed: number) {
  const rng = new Rng(seed);
  const frames: TriangleFrames = {
    centres: new Float32Array(T * 3).map(() => rng.normal() * 0.1),
    rotations: new Float32Array(T * 9),
    scales: new Float32Array(T).map(() => 0.002 + 0.01 * rng.next()),
  };
  for (let t = 0; t < T; t++) frames.rotations.set(randomRotation(rng), 9 * t);
  const binding = new Int32Array(N).map(() => rng.int(T));
  const local = {
    means: new Float32Array(N * 3).map(() => rng.normal()),
    logScales: new Float32Array(N * 3).map(() => rng.normal() - 1),
    quats: new Float32Array(N * 4).map(() => rng.normal()),
  };
  return { frames, binding, local, rng };
}

describe('rotationToQuat', () => {
  it('inverts quaternion → matrix for rotations of every angle, incl. near 180°', () => {
    const rng = new Rng(1);
    const cases = Array.from({ length: 200 }, () => randomRotation(rng));
    cases.push([1, 0, 0, 0, -1, 0, 0, 0, -1], [-1, 0, 0, 0, 1, 0, 0, 0, -1], [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
    for (const R of cases) {
      const back = quatToMatrix(rotationToQuat(R));
      for (let i = 0; i < 9; i++) expect(back[i]).toBeCloseTo(R[i]!, 12);
    }
  });
});

describe('bindToWorld', () => {
  it('maps the local origin to the centre and local x to centre + k·(first edge direction)', () => {
    const R = [0, -1, 0, 1, 0, 0, 0, 0, 1]; // columns: (0,1,0), (−1,0,0), (0,0,1)
    const r0 = bindToWorldReference([0, 0, 0], [0, 0, 0], [1, 0, 0, 0], [1, 2, 3], R, 0.5);
    expect(r0.mean).toEqual([1, 2, 3]);
    const r1 = bindToWorldReference([1, 0, 0], [0, 0, 0], [1, 0, 0, 0], [1, 2, 3], R, 0.5);
    expect(r1.mean).toEqual([1, 2.5, 3]);
    expect(r1.logScale[0]).toBeCloseTo(Math.log(0.5), 15);
  });

  it('matches the float64 reference on random frames', async () => {
    const { frames, binding, local } = scene(7, 50, 2);
    const bound = gatherFrames(frames, binding);
    const w = bindToWorld(
      { means: tf.tensor2d(local.means, [50, 3]), logScales: tf.tensor2d(local.logScales, [50, 3]), quats: tf.tensor2d(local.quats, [50, 4]) },
      bound,
    );
    const [m, s, q] = [await w.means.data(), await w.logScales.data(), await w.quats.data()];
    const quats = frameQuats(frames.rotations);
    for (let n = 0; n < 50; n++) {
      const t = binding[n]!;
      const ref = bindToWorldReference(
        local.means.subarray(3 * n, 3 * n + 3),
        local.logScales.subarray(3 * n, 3 * n + 3),
        local.quats.subarray(4 * n, 4 * n + 4),
        frames.centres.subarray(3 * t, 3 * t + 3),
        frames.rotations.subarray(9 * t, 9 * t + 9),
        frames.scales[t]!,
      );
      for (let i = 0; i < 3; i++) {
        expect(m[3 * n + i]).toBeCloseTo(ref.mean[i]!, 5);
        expect(s[3 * n + i]).toBeCloseTo(ref.logScale[i]!, 5);
      }
      for (let i = 0; i < 4; i++) expect(q[4 * n + i]).toBeCloseTo(ref.quat[i]!, 5);
      // The frame quaternion really is the frame's rotation.
      const Rq = quatToMatrix([...quats.subarray(4 * t, 4 * t + 4)]);
      for (let i = 0; i < 9; i++) expect(Rq[i]).toBeCloseTo(frames.rotations[9 * t + i]!, 5);
    }
  });

  it('has gradients w.r.t. the local parameters equal to central finite differences of the float64 reference', async () => {
    const N = 12;
    const { frames, binding, local, rng } = scene(5, N, 3);
    const wM = new Float64Array(N * 3).map(() => rng.normal());
    const wS = new Float64Array(N * 3).map(() => rng.normal());
    const wQ = new Float64Array(N * 4).map(() => rng.normal());
    const loss64 = (mu: Float64Array, s: Float64Array, q: Float64Array) => {
      let L = 0;
      for (let n = 0; n < N; n++) {
        const t = binding[n]!;
        const r = bindToWorldReference(
          mu.subarray(3 * n, 3 * n + 3),
          s.subarray(3 * n, 3 * n + 3),
          q.subarray(4 * n, 4 * n + 4),
          frames.centres.subarray(3 * t, 3 * t + 3),
          frames.rotations.subarray(9 * t, 9 * t + 9),
          frames.scales[t]!,
        );
        // A non-linear loss so the check is not only of a linear map.
        for (let i = 0; i < 3; i++) L += wM[3 * n + i]! * Math.sin(40 * r.mean[i]!) + wS[3 * n + i]! * r.logScale[i]! ** 2;
        for (let i = 0; i < 4; i++) L += wQ[4 * n + i]! * r.quat[i]! ** 3;
      }
      return L;
    };
    const bound = gatherFrames(frames, binding);
    const lossTf = (mu: tf.Tensor2D, s: tf.Tensor2D, q: tf.Tensor2D) => {
      const w = bindToWorld({ means: mu, logScales: s, quats: q }, bound);
      return tf.addN([
        tf.sum(tf.sin(w.means.mul(40)).mul(tf.tensor2d(Float32Array.from(wM), [N, 3]))),
        tf.sum(w.logScales.square().mul(tf.tensor2d(Float32Array.from(wS), [N, 3]))),
        tf.sum(w.quats.pow(3).mul(tf.tensor2d(Float32Array.from(wQ), [N, 4]))),
      ]) as tf.Scalar;
    };
    const g = tf.grads(lossTf as (...a: tf.Tensor[]) => tf.Tensor)([
      tf.tensor2d(local.means, [N, 3]),
      tf.tensor2d(local.logScales, [N, 3]),
      tf.tensor2d(local.quats, [N, 4]),
    ]);
    const groups = [Float64Array.from(local.means), Float64Array.from(local.logScales), Float64Array.from(local.quats)];
    for (let gi = 0; gi < 3; gi++) {
      const analytic = await g[gi]!.data();
      const fd = new Float64Array(analytic.length);
      const h = 1e-6;
      for (let i = 0; i < fd.length; i++) {
        const p = groups.map((a) => Float64Array.from(a));
        p[gi]![i]! += h;
        const Lp = loss64(p[0]!, p[1]!, p[2]!);
        p[gi]![i]! -= 2 * h;
        const Lm = loss64(p[0]!, p[1]!, p[2]!);
        fd[i] = (Lp - Lm) / (2 * h);
      }
      let num = 0,
        den = 0;
      for (let i = 0; i < fd.length; i++) {
        num += (analytic[i]! - fd[i]!) ** 2;
        den += fd[i]! ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
    }
  });
});
