/** The discriminator's conv with the chunked filter gradient: against float64 and against tfjs's own gradient. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { conv2dFilterGrad, conv2dSame } from '../../lib/adversarial/conv.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

/** ∂(Σ dy·conv(x, W))/∂W in float64, 'same' padding as tfjs pads it (top/left = floor of the total / 2). */
function filterGradReference(x: Float32Array, xs: number[], dy: Float32Array, fs: number[], stride: number): Float64Array {
  const [B, H, W, cin] = xs as [number, number, number, number];
  const [kh, kw, , cout] = fs as [number, number, number, number];
  const oh = Math.ceil(H / stride), ow = Math.ceil(W / stride);
  const padT = Math.floor(Math.max((oh - 1) * stride + kh - H, 0) / 2);
  const padL = Math.floor(Math.max((ow - 1) * stride + kw - W, 0) / 2);
  const g = new Float64Array(kh * kw * cin * cout);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * stride + ky - padT, ix = ox * stride + kx - padL;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            for (let ci = 0; ci < cin; ci++)
              for (let co = 0; co < cout; co++)
                g[((ky * kw + kx) * cin + ci) * cout + co]! += x[((b * H + iy) * W + ix) * cin + ci]! * dy[((b * oh + oy) * ow + ox) * cout + co]!;
          }
  return g;
}

const random = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('discriminator conv (webgpu)', () => {
  it('filter gradient matches float64 for strides 1 and 2, odd sizes and more positions than one chunk', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(3);
    for (const [xs, fs, stride] of [[[2, 9, 7, 3], [4, 4, 3, 5], 2], [[1, 21, 17, 2], [4, 4, 2, 3], 1], [[3, 5, 6, 4], [4, 4, 4, 1], 1]] as const) {
      const oh = Math.ceil(xs[1] / stride), ow = Math.ceil(xs[2] / stride);
      const xd = random(rng, xs[0] * xs[1] * xs[2] * xs[3]);
      const dyd = random(rng, xs[0] * oh * ow * fs[3]);
      const x = tf.tensor4d(xd, [...xs]);
      const dy = tf.tensor4d(dyd, [xs[0], oh, ow, fs[3]]);
      const g = conv2dFilterGrad(x, dy, [...fs], stride);
      const got = await g.data();
      const ref = filterGradReference(xd, [...xs], dyd, [...fs], stride);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!), `${xs} ${fs} s${stride} [${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]!)));
      tf.dispose([x, dy, g]);
    }
  });

  it('gives the value and both gradients of tf.conv2d', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(4);
    const x = tf.tensor4d(random(rng, 2 * 13 * 11 * 6), [2, 13, 11, 6]);
    const w = tf.tensor4d(random(rng, 4 * 4 * 6 * 8), [4, 4, 6, 8]);
    const probe = tf.tensor4d(random(rng, 2 * 7 * 6 * 8), [2, 7, 6, 8]);
    const ours = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, 2), probe)) as tf.Scalar)([x, w]);
    const theirs = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), probe)) as tf.Scalar)([x, w]);
    const [ov, tv] = [(await ours.value.data())[0]!, (await theirs.value.data())[0]!];
    expect(ov).toBe(tv);
    for (let k = 0; k < 2; k++) {
      const [a, b] = [await ours.grads[k]!.data(), await theirs.grads[k]!.data()];
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(b[i]!)));
    }
    tf.dispose([x, w, probe, ours.value, ...ours.grads, theirs.value, ...theirs.grads]);
  });
});
