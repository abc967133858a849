/**
 * SSIM as a differentiable tfjs op for the D-SSIM term of the reconstruction loss (3DGS / GaussianAvatars:
 * 11×11 Gaussian window, σ = 1.5, zero padding, C1 = 0.01², C2 = 0.03², mean over the map).
 * The evaluation metric in lib/metrics computes the same quantity in float64 without tfjs.
 */
import * as tf from '@tensorflow/tfjs';

const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

export function gaussianWindow(size = 11, sigma = 1.5): Float32Array {
  const g = new Float64Array(size);
  let s = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - (size >> 1)) ** 2) / (2 * sigma * sigma));
    s += g[i]!;
  }
  const w = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) w[y * size + x] = (g[y]! * g[x]!) / (s * s);
  return w;
}

/** Mean SSIM of two [H,W,C] images in [0,1]; differentiable in both. */
export function ssim(a: tf.Tensor3D, b: tf.Tensor3D, windowSize = 11, sigma = 1.5): tf.Scalar {
  return tf.tidy(() => {
    const C = a.shape[2];
    const w = gaussianWindow(windowSize, sigma);
    const filter = tf.tile(tf.tensor4d(w, [windowSize, windowSize, 1, 1]), [1, 1, C, 1]) as tf.Tensor4D;
    const blur = (x: tf.Tensor3D) => tf.depthwiseConv2d(x.expandDims(0) as tf.Tensor4D, filter, 1, 'same');
    const muA = blur(a);
    const muB = blur(b);
    const muA2 = muA.square();
    const muB2 = muB.square();
    const muAB = muA.mul(muB);
    const sA = blur(a.square() as tf.Tensor3D).sub(muA2);
    const sB = blur(b.square() as tf.Tensor3D).sub(muB2);
    const sAB = blur(a.mul(b) as tf.Tensor3D).sub(muAB);
    const num = muAB.mul(2).add(C1).mul(sAB.mul(2).add(C2));
    const den = muA2.add(muB2).add(C1).mul(sA.add(sB).add(C2));
    return num.div(den).mean() as tf.Scalar;
  });
}
