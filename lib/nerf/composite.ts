/**
 * Front-to-back compositing of the marched samples (volume rendering quadrature), as tfjs ops so autodiff
 * gives the backward pass; `compositeReference` is the float64 reference. With τ_s = σ_s δ_r along ray r:
 *
 *   α_s = 1 − exp(−τ_s),   T_s = exp(−Σ_{j<s} τ_j),   w_s = α_s T_s
 *   C_r = Σ_s w_s c_s + (1 − Σ_s w_s) · background,   A_r = Σ_s w_s   (= 1 − T_final)
 *
 * Skipped samples (empty space, unoccupied cells) have σ = 0 and drop out. The kept samples are scattered
 * into a dense [R,S] layout (unsortedSegmentSum, whose gradient is a gather), so the transmittance is an
 * exclusive cumulative sum along each ray, computed per ray (no error carried between rays).
 *
 * That sum is a product with a strictly upper-triangular [S,S] matrix of ones, not tf.cumsum: tfjs-webgpu
 * 4.22 caches its cumsum shader under a key without the axis length, which it inlines, so a second cumsum
 * of another length reuses the first one's shader and returns wrong values (and wrong gradients).
 */
import * as tf from '@tensorflow/tfjs';

export interface Composited {
  color: tf.Tensor2D; // [R,3]
  alpha: tf.Tensor1D; // [R]
}

const prefixMatrices = new Map<number, tf.Tensor2D>();

/** U [S,S] with U[j][s] = 1 for j < s: (τ · U)_s = Σ_{j<s} τ_j. Kept per S for the process. */
function exclusivePrefix(S: number): tf.Tensor2D {
  let u = prefixMatrices.get(S);
  if (!u || u.isDisposed) {
    const a = new Float32Array(S * S);
    for (let j = 0; j < S; j++) for (let s = j + 1; s < S; s++) a[j * S + s] = 1;
    u = tf.keep(tf.tensor2d(a, [S, S]));
    prefixMatrices.set(S, u);
  }
  return u;
}

export function composite(
  sigma: tf.Tensor1D, // [M] 1/m
  rgb: tf.Tensor2D, // [M,3]
  denseIndex: tf.Tensor1D, // [M] int32 r·S + s
  delta: tf.Tensor1D, // [R] metres
  samples: number, // S
  background: [number, number, number],
): Composited {
  const R = delta.shape[0];
  const S = samples;
  return tf.tidy(() => {
    const bg = tf.tensor2d([background], [1, 3]);
    if (sigma.shape[0] === 0) return { color: tf.tile(bg, [R, 1]) as tf.Tensor2D, alpha: tf.zeros([R]) as tf.Tensor1D };
    const sig = tf.unsortedSegmentSum(sigma, denseIndex, R * S).reshape([R, S]);
    const col = tf.unsortedSegmentSum(rgb, denseIndex, R * S).reshape([R, S, 3]);
    const tau = sig.mul(delta.reshape([R, 1]));
    const T = tf.exp(tf.neg(tau.matMul(exclusivePrefix(S))));
    const w = tf.sub(1, tf.exp(tf.neg(tau))).mul(T);
    const alpha = tf.sum(w, 1) as tf.Tensor1D;
    const color = tf.sum(w.expandDims(2).mul(col), 1).add(tf.sub(1, alpha).reshape([R, 1]).mul(bg)) as tf.Tensor2D;
    return { color, alpha };
  });
}

/** float64 reference of `composite`: color [R,3], alpha [R]. */
export function compositeReference(
  sigma: ArrayLike<number>,
  rgb: ArrayLike<number>,
  denseIndex: ArrayLike<number>,
  delta: ArrayLike<number>,
  samples: number,
  background: ArrayLike<number>,
): { color: Float64Array; alpha: Float64Array } {
  const R = delta.length,
    S = samples;
  const sig = new Float64Array(R * S),
    col = new Float64Array(R * S * 3);
  for (let k = 0; k < denseIndex.length; k++) {
    const i = denseIndex[k]!;
    sig[i]! += sigma[k]!;
    for (let c = 0; c < 3; c++) col[3 * i + c]! += rgb[3 * k + c]!;
  }
  const color = new Float64Array(3 * R),
    alpha = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let T = 1;
    for (let s = 0; s < S; s++) {
      const i = r * S + s;
      const a = 1 - Math.exp(-sig[i]! * delta[r]!);
      const w = a * T;
      for (let c = 0; c < 3; c++) color[3 * r + c]! += w * col[3 * i + c]!;
      alpha[r]! += w;
      T *= 1 - a;
    }
    for (let c = 0; c < 3; c++) color[3 * r + c]! += (1 - alpha[r]!) * background[c]!;
  }
  return { color, alpha };
}
