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

/** The value of the image loss, its parts and ∂total/∂x, in float64 (tests hold the kernels to it). */
export interface ImageLossReference {
  total: number;
  l1: number; // mean |x − y|
  ssim: number; // mean SSIM
  grad: Float64Array; // [H,W,3] ∂total/∂x
}

/**
 * (1 − λ)·mean|x − y| + λ·(1 − mean SSIM(x, y)) of two [H,W,3] images in float64, with the SSIM above
 * (separable 11-tap Gaussian, σ 1.5, zero padding), and its analytic gradient in x: the chain rule through the
 * per-pixel map (see kernels/image-loss.wgsl.ts for the formula) and the blur's adjoint, computed here as a
 * literal scatter over the window, not as a second blur, so that the symmetry the kernel relies on is tested.
 */
export function imageLossReference(x: ArrayLike<number>, y: ArrayLike<number>, width: number, height: number, lambda: number): ImageLossReference {
  const W = width;
  const H = height;
  const P = W * H;
  if (x.length !== 3 * P || y.length !== 3 * P)
    throw new Error(`imageLossReference: expected ${3 * P} values per image for ${W}x${H}x3, got ${x.length} and ${y.length}`);
  const size = 11;
  const r = size >> 1;
  const g = new Float64Array(size);
  let gs = 0;
  for (let i = 0; i < size; i++) gs += g[i] = Math.exp(-((i - r) ** 2) / (2 * 1.5 * 1.5));
  for (let i = 0; i < size; i++) g[i]! /= gs;
  const blur = (f: (q: number) => number, c: number, out: Float64Array) => {
    for (let py = 0; py < H; py++)
      for (let px = 0; px < W; px++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) {
          const qy = py + dy;
          if (qy < 0 || qy >= H) continue;
          for (let dx = -r; dx <= r; dx++) {
            const qx = px + dx;
            if (qx < 0 || qx >= W) continue;
            s += g[dy + r]! * g[dx + r]! * f((qy * W + qx) * 3 + c);
          }
        }
        out[py * W + px] = s;
      }
  };
  const grad = new Float64Array(3 * P);
  let l1 = 0;
  let ssimSum = 0;
  const [mx, my, exx, eyy, exy] = Array.from({ length: 5 }, () => new Float64Array(P));
  for (let c = 0; c < 3; c++) {
    blur((q) => x[q]!, c, mx!);
    blur((q) => y[q]!, c, my!);
    blur((q) => x[q]! * x[q]!, c, exx!);
    blur((q) => y[q]! * y[q]!, c, eyy!);
    blur((q) => x[q]! * y[q]!, c, exy!);
    for (let p = 0; p < P; p++) {
      const ux = mx![p]!,
        uy = my![p]!;
      const a1 = 2 * ux * uy + C1;
      const a2 = 2 * (exy![p]! - ux * uy) + C2;
      const b1 = ux * ux + uy * uy + C1;
      const b2 = exx![p]! - ux * ux + (eyy![p]! - uy * uy) + C2;
      const S = (a1 * a2) / (b1 * b2);
      ssimSum += S;
      // ∂S/∂μx, ∂S/∂Exx, ∂S/∂Exy, scattered back to the pixels q of p's window.
      const a = S * ((2 * uy) / a1 - (2 * uy) / a2 - (2 * ux) / b1 + (2 * ux) / b2);
      const b = -S / b2;
      const cc = (2 * S) / a2;
      const py = Math.floor(p / W),
        px = p % W;
      for (let dy = -r; dy <= r; dy++) {
        const qy = py + dy;
        if (qy < 0 || qy >= H) continue;
        for (let dx = -r; dx <= r; dx++) {
          const qx = px + dx;
          if (qx < 0 || qx >= W) continue;
          const q = (qy * W + qx) * 3 + c;
          const w = g[dy + r]! * g[dx + r]!;
          grad[q]! -= (lambda / (3 * P)) * w * (a + 2 * x[q]! * b + y[q]! * cc);
        }
      }
    }
    for (let p = 0; p < P; p++) {
      const q = p * 3 + c;
      const d = x[q]! - y[q]!;
      l1 += Math.abs(d);
      grad[q]! += ((1 - lambda) / (3 * P)) * Math.sign(d);
    }
  }
  const meanL1 = l1 / (3 * P);
  const meanSsim = ssimSum / (3 * P);
  return { total: (1 - lambda) * meanL1 + lambda * (1 - meanSsim), l1: meanL1, ssim: meanSsim, grad };
}
