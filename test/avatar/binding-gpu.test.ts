/** The fused bind kernels (webgpu) against the tfjs reference composition: values and gradients. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { bindToWorld, bindToWorldTable, frameTable, gatherFrames } from '../../lib/avatar/binding.js';
import type { TriangleFrames } from '../../lib/head/frames.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

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

describe('fused binding (webgpu)', () => {
  it('equals the tfjs composition in value and in gradient for every local parameter group', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(11);
    const T = 37,
      N = 301;
    const tri: TriangleFrames = {
      centres: Float32Array.from({ length: 3 * T }, () => 0.1 * rng.normal()),
      rotations: new Float32Array(9 * T),
      scales: Float32Array.from({ length: T }, () => 0.002 + 0.01 * rng.next()),
    };
    for (let t = 0; t < T; t++) tri.rotations.set(randomRotation(rng), 9 * t);
    const binding = Int32Array.from({ length: N }, () => rng.int(T));
    const local = {
      means: tf.tensor2d(
        Float32Array.from({ length: 3 * N }, () => rng.normal()),
        [N, 3],
      ),
      logScales: tf.tensor2d(
        Float32Array.from({ length: 3 * N }, () => rng.normal()),
        [N, 3],
      ),
      quats: tf.tensor2d(
        Float32Array.from({ length: 4 * N }, () => rng.normal()),
        [N, 4],
      ),
    };
    const table = tf.tensor2d(frameTable(tri), [T, 20]);
    const bt = tf.tensor1d(binding, 'int32');
    const w3 = tf.randomNormal([N, 3], 0, 1, 'float32', 1);
    const w4 = tf.randomNormal([N, 4], 0, 1, 'float32', 2);
    const lossOf = (world: { means: tf.Tensor; logScales: tf.Tensor; quats: tf.Tensor }) =>
      tf.addN([tf.sum(world.means.mul(w3)), tf.sum(world.logScales.square().mul(w3)), tf.sum(world.quats.mul(w4))]) as tf.Scalar;
    const fused = tf.grads((m: tf.Tensor, s: tf.Tensor, q: tf.Tensor) =>
      lossOf(bindToWorldTable({ means: m as tf.Tensor2D, logScales: s as tf.Tensor2D, quats: q as tf.Tensor2D }, table, bt)),
    );
    const bound = gatherFrames(tri, binding);
    const ref = tf.grads((m: tf.Tensor, s: tf.Tensor, q: tf.Tensor) =>
      lossOf(bindToWorld({ means: m as tf.Tensor2D, logScales: s as tf.Tensor2D, quats: q as tf.Tensor2D }, bound)),
    );
    const args = [local.means, local.logScales, local.quats];
    const [gf, gr] = [fused(args), ref(args)];
    const rel = async (a: tf.Tensor, b: tf.Tensor) => {
      const [x, y] = [await a.data(), await b.data()];
      let n = 0,
        d = 0;
      for (let i = 0; i < x.length; i++) {
        n += (x[i]! - y[i]!) ** 2;
        d += y[i]! ** 2;
      }
      return Math.sqrt(n / d);
    };
    for (let i = 0; i < 3; i++) expect(await rel(gf[i]!, gr[i]!), ['means', 'logScales', 'quats'][i]).toBeLessThan(1e-5);
    const wf = bindToWorldTable(local, table, bt);
    const wr = bindToWorld(local, bound);
    expect(await rel(wf.means, wr.means)).toBeLessThan(1e-6);
    expect(await rel(wf.logScales, wr.logScales)).toBeLessThan(1e-6);
    expect(await rel(wf.quats, wr.quats)).toBeLessThan(1e-6);
  });
});
