/** The discriminator's conv with our tiled gradient kernels: against float64 and against tfjs's own gradients. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { conv2dFilterGrad, conv2dForward, conv2dInputGrad, conv2dSame, convBlock } from '../../lib/adversarial/conv.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

/** Output size and top/left padding of a 'same' conv, as tfjs pads it (top/left = floor of the total / 2). */
function samePadding(H: number, W: number, kh: number, kw: number, stride: number): { oh: number; ow: number; padT: number; padL: number } {
  const oh = Math.ceil(H / stride),
    ow = Math.ceil(W / stride);
  return { oh, ow, padT: Math.floor(Math.max((oh - 1) * stride + kh - H, 0) / 2), padL: Math.floor(Math.max((ow - 1) * stride + kw - W, 0) / 2) };
}

/**
 * ∂(Σ dy·conv(x, W))/∂W in float64, 'same' padding as tfjs pads it (top/left = floor of the total / 2), and the
 * sum of the terms' magnitudes (float32 summation of n terms errs by up to about n·ε times that; in practice
 * far less, and a wrong index errs by the size of the terms).
 */
function filterGradReference(x: Float32Array, xs: number[], dy: Float32Array, fs: number[], stride: number): { g: Float64Array; abs: Float64Array } {
  const [B, H, W, cin] = xs as [number, number, number, number];
  const [kh, kw, , cout] = fs as [number, number, number, number];
  const { oh, ow, padT, padL } = samePadding(H, W, kh, kw, stride);
  const g = new Float64Array(kh * kw * cin * cout);
  const abs = new Float64Array(g.length);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * stride + ky - padT,
              ix = ox * stride + kx - padL;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            for (let ci = 0; ci < cin; ci++)
              for (let co = 0; co < cout; co++) {
                const p = x[((b * H + iy) * W + ix) * cin + ci]! * dy[((b * oh + oy) * ow + ox) * cout + co]!;
                g[((ky * kw + kx) * cin + ci) * cout + co]! += p;
                abs[((ky * kw + kx) * cin + ci) * cout + co]! += Math.abs(p);
              }
          }
  return { g, abs };
}

/** ∂(Σ dy·conv(x, W))/∂x in float64, same padding convention. */
function inputGradReference(w: Float32Array, fs: number[], dy: Float32Array, xs: number[], stride: number): Float64Array {
  const [B, H, W, cin] = xs as [number, number, number, number];
  const [kh, kw, , cout] = fs as [number, number, number, number];
  const { oh, ow, padT, padL } = samePadding(H, W, kh, kw, stride);
  const g = new Float64Array(B * H * W * cin);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * stride + ky - padT,
              ix = ox * stride + kx - padL;
            if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
            for (let ci = 0; ci < cin; ci++)
              for (let co = 0; co < cout; co++)
                g[((b * H + iy) * W + ix) * cin + ci]! += w[((ky * kw + kx) * cin + ci) * cout + co]! * dy[((b * oh + oy) * ow + ox) * cout + co]!;
          }
  return g;
}

/** act(conv(x, W) + b) in float64, 'same' padding as tfjs pads it; act = LeakyReLU(slope) or none. */
function forwardReference(
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  fs: number[],
  bias: Float32Array,
  stride: number,
  slope: number | null,
): Float64Array {
  const [B, H, W, cin] = xs as [number, number, number, number];
  const [kh, kw, , cout] = fs as [number, number, number, number];
  const { oh, ow, padT, padL } = samePadding(H, W, kh, kw, stride);
  const y = new Float64Array(B * oh * ow * cout);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let co = 0; co < cout; co++) {
          let s = bias[co]!;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * stride + ky - padT,
                ix = ox * stride + kx - padL;
              if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
              for (let ci = 0; ci < cin; ci++) s += x[((b * H + iy) * W + ix) * cin + ci]! * w[((ky * kw + kx) * cin + ci) * cout + co]!;
            }
          y[((b * oh + oy) * ow + ox) * cout + co] = slope === null || s > 0 ? s : slope * s;
        }
  return y;
}

const random = (rng: Rng, n: number) => Float32Array.from({ length: n }, () => rng.normal());

describe('discriminator conv (webgpu)', () => {
  it('filter gradient matches float64 for strides 1 and 2, odd sizes and more positions than one chunk', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(3);
    // Odd sizes; several chunks of positions (2·40·31 > 512); rows and columns beyond one 64×64 tile (4·4·6 = 96
    // rows, 70 columns); the narrow tile of ≤ 8 output channels; the 6-channel input of the discriminator.
    const cases = [
      [[2, 9, 7, 3], [4, 4, 3, 5], 2],
      [[1, 21, 17, 2], [4, 4, 2, 3], 1],
      [[3, 5, 6, 4], [4, 4, 4, 1], 1],
      [[2, 40, 31, 3], [4, 4, 3, 9], 1],
      [[2, 13, 11, 6], [4, 4, 6, 70], 2],
    ] as const;
    for (const [xs, fs, stride] of cases) {
      const oh = Math.ceil(xs[1] / stride),
        ow = Math.ceil(xs[2] / stride);
      const xd = random(rng, xs[0] * xs[1] * xs[2] * xs[3]);
      const dyd = random(rng, xs[0] * oh * ow * fs[3]);
      const x = tf.tensor4d(xd, [...xs]);
      const dy = tf.tensor4d(dyd, [xs[0], oh, ow, fs[3]]);
      const g = conv2dFilterGrad(x, dy, [...fs], stride);
      const got = await g.data();
      const { g: ref, abs } = filterGradReference(xd, [...xs], dyd, [...fs], stride);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!), `${xs} ${fs} s${stride} [${i}]`).toBeLessThan(1e-6 + 2e-7 * abs[i]!);
      tf.dispose([x, dy, g]);
    }
  });

  it('forward kernel (conv + bias + LeakyReLU) matches float64 and tf.conv2d, every tile width', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(7);
    // The discriminator's 6-channel input; 32 outputs (the 128×32 tile), 70 (two 64-wide tiles), 1 (the output
    // layer, narrow tile); strides 1 and 2, odd and even sizes, more rows than one row tile.
    const cases = [
      [[2, 9, 7, 6], [4, 4, 6, 32], 2, 0.2],
      [[1, 10, 12, 3], [4, 4, 3, 8], 2, null],
      [[2, 13, 11, 5], [4, 4, 5, 70], 2, 0.2],
      [[1, 11, 9, 12], [4, 4, 12, 1], 1, null],
      [[2, 36, 38, 6], [4, 4, 6, 32], 2, 0.2],
    ] as const;
    for (const [xs, fs, stride, slope] of cases) {
      const xd = random(rng, xs[0] * xs[1] * xs[2] * xs[3]);
      const wd = random(rng, fs[0] * fs[1] * fs[2] * fs[3]);
      const bd = random(rng, fs[3]);
      const [x, w, b] = [tf.tensor4d(xd, [...xs]), tf.tensor4d(wd, [...fs]), tf.tensor1d(bd)];
      const y = conv2dForward(x, w, stride, { bias: b, leakySlope: slope });
      const theirs = tf.tidy(() => {
        const z = tf.add(tf.conv2d(x, w, stride, 'same'), b);
        return slope === null ? z : tf.leakyRelu(z, slope);
      });
      expect(y.shape).toEqual(theirs.shape);
      const [got, tfjs] = [await y.data(), await theirs.data()];
      const ref = forwardReference(xd, [...xs], wd, [...fs], bd, stride, slope);
      for (let i = 0; i < ref.length; i++) {
        expect(Math.abs(got[i]! - ref[i]!), `${xs} ${fs} s${stride} [${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]!)));
        expect(Math.abs(got[i]! - tfjs[i]!), `tfjs ${xs} ${fs} s${stride} [${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]!)));
      }
      // Without a bias: zeros.
      const y0 = conv2dForward(x, w, stride);
      const ref0 = forwardReference(xd, [...xs], wd, [...fs], new Float32Array(fs[3]), stride, null);
      const got0 = await y0.data();
      for (let i = 0; i < ref0.length; i++) expect(Math.abs(got0[i]! - ref0[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(ref0[i]!)));
      tf.dispose([x, w, b, y, theirs, y0]);
    }
    const [x, w] = [tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, tf.zeros([4, 4, 2, 5]) as tf.Tensor4D];
    expect(() => conv2dForward(x, w, 2)).toThrow(/x has 3 channels, the filter 2/);
    tf.dispose([x, w]);
  });

  it('fused block (conv + bias + LeakyReLU): value and the gradients of x, W and b match float64 and the separate ops', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(8);
    // The discriminator's shapes in small: the 6-channel input (narrow input-gradient tile), 32 and 70 outputs, the
    // 1-channel output layer without activation; strides 2 and 1.
    const cases = [
      [[2, 9, 7, 6], [4, 4, 6, 32], 2, 0.2],
      [[2, 13, 11, 5], [4, 4, 5, 70], 2, 0.2],
      [[1, 11, 9, 12], [4, 4, 12, 1], 1, null],
      [[2, 20, 18, 6], [4, 4, 6, 9], 2, 0.2],
    ] as const;
    for (const [xs, fs, stride, slope] of cases) {
      const oh = Math.ceil(xs[1] / stride),
        ow = Math.ceil(xs[2] / stride);
      const xd = random(rng, xs[0] * xs[1] * xs[2] * xs[3]);
      const wd = random(rng, fs[0] * fs[1] * fs[2] * fs[3]);
      const bd = random(rng, fs[3]);
      const pd = random(rng, xs[0] * oh * ow * fs[3]);
      const [x, w, b, probe] = [tf.tensor4d(xd, [...xs]), tf.tensor4d(wd, [...fs]), tf.tensor1d(bd), tf.tensor4d(pd, [xs[0], oh, ow, fs[3]])];
      const ours = tf.valueAndGrads(
        (a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
          tf.sum(tf.mul(convBlock(a as tf.Tensor4D, c as tf.Tensor4D, e as tf.Tensor1D, stride, slope), probe)) as tf.Scalar,
      )([x, w, b]);
      const separate = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => {
        const z = tf.add(conv2dSame(a as tf.Tensor4D, c as tf.Tensor4D, stride), e);
        return tf.sum(tf.mul(slope === null ? z : tf.leakyRelu(z, slope), probe)) as tf.Scalar;
      })([x, w, b]);
      // float64: z, dz = probe ⊙ act'(z), then the plain conv's gradients of dz and Σ dz for the bias.
      const z = forwardReference(xd, [...xs], wd, [...fs], bd, stride, null);
      const dzd = Float32Array.from(pd, (p, i) => (slope === null || z[i]! > 0 ? p : slope * p));
      const gx = inputGradReference(wd, [...fs], dzd, [...xs], stride);
      const gw = filterGradReference(xd, [...xs], dzd, [...fs], stride);
      const gb = new Float64Array(fs[3]);
      dzd.forEach((v, i) => (gb[i % fs[3]]! += v));
      const refs = [gx, gw.g, gb];
      for (let k = 0; k < 3; k++) {
        const [a, c] = [await ours.grads[k]!.data(), await separate.grads[k]!.data()];
        expect(a.length).toBe(refs[k]!.length);
        for (let i = 0; i < a.length; i++) {
          const tol = 1e-5 * (1 + Math.abs(refs[k]![i]!) + (k === 1 ? gw.abs[i]! : 0));
          expect(Math.abs(a[i]! - refs[k]![i]!), `${xs} ${fs} grad ${k} [${i}]`).toBeLessThan(tol);
          expect(Math.abs(a[i]! - c[i]!), `separate ${xs} ${fs} grad ${k} [${i}]`).toBeLessThan(tol);
        }
      }
      const [ov, sv] = [(await ours.value.data())[0]!, (await separate.value.data())[0]!];
      expect(Math.abs(ov - sv)).toBeLessThan(1e-4 * (1 + Math.abs(sv)));
      // Only the gradients asked for: x alone (frozen weights, the generator loss), W and b alone (the step's data).
      const onlyX = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(convBlock(a as tf.Tensor4D, w, b, stride, slope, { w: false }), probe)) as tf.Scalar)(x);
      const onlyWB = tf.grads(
        (c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(convBlock(x, c as tf.Tensor4D, e as tf.Tensor1D, stride, slope, { x: false }), probe)) as tf.Scalar,
      )([w, b]);
      expect(Array.from(await onlyX.data())).toEqual(Array.from(await ours.grads[0]!.data()));
      expect(Array.from(await onlyWB[0]!.data())).toEqual(Array.from(await ours.grads[1]!.data()));
      expect(Array.from(await onlyWB[1]!.data())).toEqual(Array.from(await ours.grads[2]!.data()));
      tf.dispose([x, w, b, probe, ours.value, ...ours.grads, separate.value, ...separate.grads, onlyX, ...onlyWB]);
    }
  });

  it('input gradient matches float64 for strides 1 and 2, odd and even sizes, narrow and wide channel tiles', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(5);
    // 6 input channels (the narrow tile), 70 (two 64-wide tiles), 1 channel out (the output layer), an even
    // size (padding 1 on top, so the pixel classes start at 1) and more pixels per class than one row tile.
    const cases = [
      [[2, 9, 7, 6], [4, 4, 6, 5], 2],
      [[1, 10, 12, 3], [4, 4, 3, 8], 2],
      [[2, 13, 11, 70], [4, 4, 70, 9], 2],
      [[1, 11, 9, 12], [4, 4, 12, 1], 1],
      [[2, 36, 38, 6], [4, 4, 6, 4], 2],
    ] as const;
    for (const [xs, fs, stride] of cases) {
      const oh = Math.ceil(xs[1] / stride),
        ow = Math.ceil(xs[2] / stride);
      const wd = random(rng, fs[0] * fs[1] * fs[2] * fs[3]);
      const dyd = random(rng, xs[0] * oh * ow * fs[3]);
      const w = tf.tensor4d(wd, [...fs]);
      const dy = tf.tensor4d(dyd, [xs[0], oh, ow, fs[3]]);
      const g = conv2dInputGrad(dy, w, [...xs], stride);
      expect(g.shape).toEqual([...xs]);
      const got = await g.data();
      const ref = inputGradReference(wd, [...fs], dyd, [...xs], stride);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!), `${xs} ${fs} s${stride} [${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]!)));
      tf.dispose([w, dy, g]);
    }
  });

  it('computes only the gradients asked for, each equal to the full one', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(6);
    const x = tf.tensor4d(random(rng, 2 * 13 * 11 * 6), [2, 13, 11, 6]);
    const w = tf.tensor4d(random(rng, 4 * 4 * 6 * 8), [4, 4, 6, 8]);
    const probe = tf.tensor4d(random(rng, 2 * 7 * 6 * 8), [2, 7, 6, 8]);
    const loss = (a: tf.Tensor4D, b: tf.Tensor4D, grads: { x?: boolean; w?: boolean }) => tf.sum(tf.mul(conv2dSame(a, b, 2, grads), probe)) as tf.Scalar;
    const full = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor4D, b as tf.Tensor4D, {}))([x, w]);
    const onlyW = tf.grad((b: tf.Tensor) => loss(x, b as tf.Tensor4D, { x: false }))(w);
    const onlyX = tf.grad((a: tf.Tensor) => loss(a as tf.Tensor4D, w, { w: false }))(x);
    expect(Array.from(await onlyW.data())).toEqual(Array.from(await full[1]!.data()));
    expect(Array.from(await onlyX.data())).toEqual(Array.from(await full[0]!.data()));
    // With x constant, no gradient reaches it even when x is a variable.
    const xv = tf.variable(x.clone(), true, 'conv-test-x');
    expect(() => tf.variableGrads(() => loss(xv, w, { x: false }), [xv])).toThrow(/Cannot find a connection/);
    xv.dispose();
    tf.dispose([x, w, probe, ...full, onlyW, onlyX]);
  });

  it('gives the value and both gradients of tf.conv2d', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(4);
    const x = tf.tensor4d(random(rng, 2 * 13 * 11 * 6), [2, 13, 11, 6]);
    const w = tf.tensor4d(random(rng, 4 * 4 * 6 * 8), [4, 4, 6, 8]);
    const probe = tf.tensor4d(random(rng, 2 * 7 * 6 * 8), [2, 7, 6, 8]);
    const ours = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, 2), probe)) as tf.Scalar)([
      x,
      w,
    ]);
    const theirs = tf.valueAndGrads(
      (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), probe)) as tf.Scalar,
    )([x, w]);
    const [ov, tv] = [(await ours.value.data())[0]!, (await theirs.value.data())[0]!];
    expect(ov).toBe(tv);
    for (let k = 0; k < 2; k++) {
      const [a, b] = [await ours.grads[k]!.data(), await theirs.grads[k]!.data()];
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(b[i]!)));
    }
    tf.dispose([x, w, probe, ours.value, ...ours.grads, theirs.value, ...theirs.grads]);
  });
});
