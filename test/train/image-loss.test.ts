/** The fused L1 + D-SSIM kernels against the tfjs composition: value and gradient. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { imageLoss, imageLossTfjs } from '../../lib/train/image-loss.js';
import { imageLossReference } from '../../lib/train/ssim.js';
import { Rng } from '../../lib/util/random.js';

/** A random image pair: x uniform, y = x plus noise clipped to [0, 1]. */
function pair(H: number, W: number, seed: number): { xs: Float32Array; ys: Float32Array } {
  const rng = new Rng(seed);
  const xs = Float32Array.from({ length: H * W * 3 }, () => rng.next());
  const ys = xs.map((v) => Math.min(1, Math.max(0, v + 0.2 * rng.normal())));
  return { xs, ys };
}

describe('float64 image loss reference', () => {
  it('has the gradient of its value (central differences)', () => {
    const [H, W, lambda] = [9, 13, 0.3];
    const { xs, ys } = pair(H, W, 4);
    const x = Float64Array.from(xs);
    const ref = imageLossReference(x, ys, W, H, lambda);
    const h = 1e-6;
    let checked = 0;
    for (let i = 0; i < x.length; i += 5) {
      if (Math.abs(x[i]! - ys[i]!) < 10 * h) continue; // the L1 kink
      const x0 = x[i]!;
      x[i] = x0 + h;
      const up = imageLossReference(x, ys, W, H, lambda).total;
      x[i] = x0 - h;
      const down = imageLossReference(x, ys, W, H, lambda).total;
      x[i] = x0;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - ref.grad[i]!), `entry ${i}`).toBeLessThan(1e-8 + 1e-5 * Math.abs(fd));
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('is 0 for identical images with λ = 1, and the mean L1 with λ = 0', () => {
    const { xs, ys } = pair(6, 7, 5);
    expect(imageLossReference(xs, xs, 7, 6, 1).total).toBeCloseTo(0, 12);
    let l1 = 0;
    for (let i = 0; i < xs.length; i++) l1 += Math.abs(xs[i]! - ys[i]!);
    expect(imageLossReference(xs, ys, 7, 6, 0).total).toBeCloseTo(l1 / xs.length, 12);
  });
});

afterAll(async () => {
  await releaseGpu();
});

describe('fused image loss (webgpu)', () => {
  it('matches (1 − λ)·L1 + λ·(1 − SSIM) from tfjs ops, value and gradient, at several sizes', async () => {
    await useTfjsWebGpu();
    for (const [H, W, lambda, seed] of [
      [17, 23, 0.2, 1],
      [40, 31, 0.5, 2],
      [8, 64, 1, 3],
    ] as const) {
      const rng = new Rng(seed);
      const xs = Float32Array.from({ length: H * W * 3 }, () => rng.next());
      const ys = xs.map((v) => Math.min(1, Math.max(0, v + 0.2 * rng.normal())));
      const x = tf.tensor3d(xs, [H, W, 3]);
      const y = tf.tensor3d(ys, [H, W, 3]);
      const fused = tf.valueAndGrad((r: tf.Tensor) => imageLoss(r as tf.Tensor3D, y, lambda).total)(x);
      const ref = tf.valueAndGrad((r: tf.Tensor) => imageLossTfjs(r as tf.Tensor3D, y, lambda))(x);
      const [fv, rv] = [(await fused.value.data())[0]!, (await ref.value.data())[0]!];
      expect(Math.abs(fv - rv)).toBeLessThan(1e-5 * Math.max(1, Math.abs(rv)));
      const [fg, rg] = [await fused.grad.data(), await ref.grad.data()];
      let num = 0,
        den = 0;
      for (let i = 0; i < fg.length; i++) {
        num += (fg[i]! - rg[i]!) ** 2;
        den += rg[i]! ** 2;
      }
      expect(Math.sqrt(num / den), `${H}x${W} λ=${lambda}`).toBeLessThan(1e-4);
      tf.dispose([x, y, fused.value, fused.grad, ref.value, ref.grad]);
    }
  });

  it('matches the float64 reference in value, parts and gradient, across tile borders and on images smaller than a tile', async () => {
    await useTfjsWebGpu();
    for (const [H, W, lambda, seed] of [
      [5, 7, 0.2, 7],
      [17, 23, 0.2, 8],
      [40, 37, 0.5, 9],
      [33, 16, 1, 10],
      [16, 33, 0, 11],
    ] as const) {
      const { xs, ys } = pair(H, W, seed);
      const ref = imageLossReference(xs, ys, W, H, lambda);
      const x = tf.tensor3d(xs, [H, W, 3]);
      const y = tf.tensor3d(ys, [H, W, 3]);
      let parts: { l1: tf.Scalar; ssim: tf.Scalar } | null = null;
      const fused = tf.valueAndGrad((r: tf.Tensor) => {
        const out = imageLoss(r as tf.Tensor3D, y, lambda);
        parts = { l1: tf.keep(out.l1), ssim: tf.keep(out.ssim) };
        return out.total;
      })(x);
      const p = parts as unknown as { l1: tf.Scalar; ssim: tf.Scalar };
      const where = `${H}x${W} λ=${lambda}`;
      expect(Math.abs((await fused.value.data())[0]! - ref.total), where).toBeLessThan(2e-6);
      expect(Math.abs((await p.l1.data())[0]! - ref.l1), where).toBeLessThan(2e-6);
      expect(Math.abs((await p.ssim.data())[0]! - ref.ssim), where).toBeLessThan(2e-6);
      const g = await fused.grad.data();
      let num = 0,
        den = 0,
        worst = 0,
        scale = 0;
      for (let i = 0; i < g.length; i++) {
        num += (g[i]! - ref.grad[i]!) ** 2;
        den += ref.grad[i]! ** 2;
        worst = Math.max(worst, Math.abs(g[i]! - ref.grad[i]!));
        scale = Math.max(scale, Math.abs(ref.grad[i]!));
      }
      expect(Math.sqrt(num / den), where).toBeLessThan(1e-5);
      expect(worst / scale, where).toBeLessThan(1e-4);
      tf.dispose([x, y, fused.value, fused.grad, p.l1, p.ssim]);
    }
  });

  it('reports its parts: L1 and SSIM', async () => {
    await useTfjsWebGpu();
    const x = tf.fill([9, 9, 3], 0.5) as tf.Tensor3D;
    const y = tf.fill([9, 9, 3], 0.25) as tf.Tensor3D;
    const r = imageLoss(x, y, 0.2);
    expect((await r.l1.data())[0]).toBeCloseTo(0.25, 6);
    const ss = (await r.ssim.data())[0]!;
    expect(ss).toBeLessThan(1);
    expect((await r.total.data())[0]).toBeCloseTo(0.8 * 0.25 + 0.2 * (1 - ss), 6);
    tf.dispose([x, y, r.total, r.l1, r.ssim]);
  });
});

import { regularizers, regularizersTfjs } from '../../lib/train/regularizers.js';

describe('fused regularisers (webgpu)', () => {
  it('match the tfjs composition in value and gradient, incl. Gaussians at the centre and below the thresholds', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(6);
    const n = 513;
    const m = Float32Array.from({ length: 3 * n }, (_, i) => (i < 30 ? 0 : 1.2 * rng.normal()));
    const s = Float32Array.from({ length: 3 * n }, () => rng.normal() - 0.5);
    const w = { lambdaPosition: 0.01, thresholdPosition: 1, lambdaScale: 1, thresholdScale: 0.6 };
    const args = [tf.tensor2d(m, [n, 3]), tf.tensor2d(s, [n, 3])];
    const f = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => regularizers(a as tf.Tensor2D, b as tf.Tensor2D, w))(args);
    const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => regularizersTfjs(a as tf.Tensor2D, b as tf.Tensor2D, w))(args);
    expect((await f.value.data())[0]).toBeCloseTo((await r.value.data())[0]!, 6);
    for (let i = 0; i < 2; i++) {
      const [a, b] = [await f.grads[i]!.data(), await r.grads[i]!.data()];
      for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - b[j]!)).toBeLessThan(1e-7 + 1e-5 * Math.abs(b[j]!));
      expect(b.some((x) => x !== 0)).toBe(true);
    }
  });
});
