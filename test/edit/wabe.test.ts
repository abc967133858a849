/**
 * WABE on a hand-made occlusion (method.md §4), through the training path (tfjs `rasterize` and its
 * registered gradient on the GPU): a Gaussian behind an opaque one receives a colour gradient damped by
 * w = exp(−β(1 − T)) relative to alpha blending, with T = 1 − α_front = 0.01 (α is clamped at 0.99), i.e.
 * e^(−β) up to the clamp; the front Gaussian's gradient is unchanged (w = 1).
 */
import { describe, expect, it } from 'vitest';
import { tf, useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { prepareRasterize, rasterize, type GaussianTensors } from '../../lib/raster/rasterize.js';
import { makeCamera } from '../../lib/raster/camera.js';
import { rasterSettings, type RasterSettings } from '../../lib/raster/types.js';
import { gpuFixture } from '../helpers/gpu.js';

gpuFixture();

// Camera at the origin looking down +z (identity world → camera); a 16×16 image.
const cam = makeCamera({ width: 16, height: 16, fx: 16, fy: 16, cx: 8, cy: 8 }, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

/** Two Gaussians far larger than the image, so every pixel sees the same α: front at z = 2, back at z = 3. */
function scene(): GaussianTensors {
  return {
    means: tf.tensor2d([0, 0, 2, 0, 0, 3], [2, 3]),
    logScales: tf.tensor2d(Array(6).fill(Math.log(50)), [2, 3]),
    quats: tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0], [2, 4]),
    opacityLogits: tf.tensor1d([12, 0.4]), // front: σ(12) ≈ 1 → α clamped at 0.99; back: σ(0.4) ≈ 0.6
    sh: tf.tensor3d([0.8, 0.2, -0.3, -0.4, 0.6, 0.9], [2, 1, 3]),
  };
}

/** d(Σ weights ⊙ colour)/d(SH DC) per Gaussian, [2,3]. */
async function shGradient(settings: RasterSettings): Promise<Float32Array> {
  await prepareRasterize(settings);
  const s = scene();
  const weights = tf.tensor3d(Float32Array.from({ length: 16 * 16 * 3 }, (_, i) => 0.5 + ((i * 7919) % 13) / 13), [16, 16, 3]);
  const sh = tf.variable(s.sh, true, `wabe-test-sh-${settings.blend}`);
  const { grads, value } = tf.variableGrads(() => {
    const r = rasterize({ ...s, sh }, cam, settings);
    tf.dispose([r.radii, r.nContrib]);
    return tf.sum(tf.mul(r.color, weights)) as tf.Scalar;
  }, [sh]);
  const g = Float32Array.from(await grads[sh.name]!.data());
  tf.dispose([value, ...Object.values(grads), sh, weights, ...Object.values(s)]);
  return g;
}

describe('WABE damps the gradient of occluded Gaussians', () => {
  it('back Gaussian: exp(−β(1 − T)) × the alpha-blending gradient; front Gaussian: unchanged', async () => {
    await useTfjsWebGpu();
    const beta = 6;
    const alpha = await shGradient(rasterSettings({ shDegree: 0 }));
    const wabe = await shGradient(rasterSettings({ shDegree: 0, blend: 'wabe', wabe: { beta, stopGradient: true, renormalize: false } }));
    const T = 1 - 0.99; // transmittance in front of the back Gaussian
    const w = Math.exp(-beta * (1 - T));
    for (let c = 0; c < 3; c++) {
      // Sanity: alpha blending does pass a (small, T-weighted) gradient to the hidden Gaussian.
      expect(Math.abs(alpha[3 + c]!)).toBeGreaterThan(1e-3);
      expect(wabe[3 + c]! / alpha[3 + c]!).toBeCloseTo(w, 5);
      expect(wabe[c]! / alpha[c]!).toBeCloseTo(1, 5);
    }
    // e^(−β) up to the α clamp: w / e^(−β) = e^(β·T) = e^0.06.
    expect(w / Math.exp(-beta)).toBeCloseTo(Math.exp(beta * T), 10);
    expect(w).toBeLessThan(Math.exp(-beta) * 1.07);
  });

  it('renormalised WABE keeps the pixel coverage and still damps the hidden Gaussian by w relative to the front', async () => {
    const beta = 6;
    const g = await shGradient(rasterSettings({ shDegree: 0, blend: 'wabe', wabe: { beta, stopGradient: true, renormalize: true } }));
    // Per pixel, dC/dc_k = w_k α_k T_k / Σ_j w_j α_j T_j · (1 − T_final); the ratio back/front is w α_b T_b / α_f.
    const w = Math.exp(-beta * 0.99);
    const ab = 1 / (1 + Math.exp(-0.4));
    const ratio = (w * ab * 0.01) / 0.99;
    for (let c = 0; c < 3; c++) expect(g[3 + c]! / g[c]!).toBeCloseTo(ratio, 6);
  });
});
