/** The fused WGSL Adam step (webgpu backend) against a float64 Adam, and its row surgery afterwards. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { Adam } from '../../lib/train/adam.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

describe('Adam on the webgpu backend (fused kernel)', () => {
  it('matches float64 Adam over several steps for two groups with different rates, then keeps/appends rows', async () => {
    await useTfjsWebGpu();
    expect(tf.getBackend()).toBe('webgpu');
    const rng = new Rng(4);
    const n = 1000; // not a multiple of the workgroup size
    const a0 = Float64Array.from({ length: n * 3 }, () => rng.normal());
    const b0 = Float64Array.from({ length: n }, () => rng.normal());
    const a = tf.variable(tf.tensor2d(Float32Array.from(a0), [n, 3]), true, 'adam-gpu-a');
    const b = tf.variable(tf.tensor1d(Float32Array.from(b0)), true, 'adam-gpu-b');
    const opt = new Adam({ eps: 1e-8 });
    const ref = { a: Float64Array.from(a0), b: Float64Array.from(b0) };
    const mom = { a: [new Float64Array(n * 3), new Float64Array(n * 3)], b: [new Float64Array(n), new Float64Array(n)] };
    const lrs = { a: 0.01, b: 0.05 };
    for (let t = 1; t <= 4; t++) {
      const ga = Float64Array.from({ length: n * 3 }, () => rng.normal());
      const gb = Float64Array.from({ length: n }, () => rng.normal());
      for (const [k, g] of [
        ['a', ga],
        ['b', gb],
      ] as const) {
        const [m, v] = mom[k];
        for (let i = 0; i < g.length; i++) {
          m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
          v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
          ref[k][i]! -= (lrs[k] * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
        }
      }
      const gat = tf.tensor2d(Float32Array.from(ga), [n, 3]);
      const gbt = tf.tensor1d(Float32Array.from(gb));
      opt.apply({ a, b }, { a: gat, b: gbt }, lrs);
      tf.dispose([gat, gbt]);
    }
    const [ad, bd] = [await a.data(), await b.data()];
    let worst = 0;
    for (let i = 0; i < n * 3; i++) worst = Math.max(worst, Math.abs(ad[i]! - ref.a[i]!));
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(bd[i]! - ref.b[i]!));
    expect(worst).toBeLessThan(1e-5);
    // Moments follow densification.
    opt.selectRows('b', tf.tensor1d([2, 0], 'int32'));
    opt.appendRows('b', 1);
    const st = await opt.state();
    expect(st.groups.b!.shape).toEqual([3]);
    expect(st.groups.b!.m[0]).toBeCloseTo(mom.b[0]![2]!, 5);
    expect(st.groups.b!.m[1]).toBeCloseTo(mom.b[0]![0]!, 5);
    expect(st.groups.b!.m[2]).toBe(0);
    expect(st.groups.a!.step).toBe(4);
    opt.dispose();
  });
});
