/**
 * The reconstruction's image loss (1 − λ)·L1 + λ·(1 − SSIM) as one custom tfjs op. On the webgpu backend
 * it runs the four WGSL passes of kernels/image-loss.wgsl.ts, which compute the gradient with respect to
 * the render during the forward pass (the backward only scales it); on other backends it is the tfjs
 * composition of lib/train/ssim.ts, which the tests hold the kernels against.
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';
import { ssim } from './ssim.js';
import { LOSS_WG, lossBlurH1, lossBlurH2, lossGrad, lossSsim } from './kernels/image-loss.wgsl.js';

interface Scratch {
  width: number;
  height: number;
  dims: GPUBuffer;
  h1: GPUBuffer; // [P,3,5]
  terms: GPUBuffer; // [P,3,3]
  h2: GPUBuffer; // [P,3,3]
}

let scratch: Scratch | null = null;

function scratchFor(device: GPUDevice, width: number, height: number): Scratch {
  if (scratch && scratch.width === width && scratch.height === height && scratch.dims) return scratch;
  if (scratch) for (const b of [scratch.dims, scratch.h1, scratch.terms, scratch.h2]) b.destroy();
  const P = width * height;
  const storage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
  scratch = {
    width,
    height,
    dims: device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'image-loss-dims' }),
    h1: device.createBuffer({ size: P * 15 * 4, usage: storage, label: 'image-loss-h1' }),
    terms: device.createBuffer({ size: P * 9 * 4, usage: storage, label: 'image-loss-terms' }),
    h2: device.createBuffer({ size: P * 9 * 4, usage: storage, label: 'image-loss-h2' }),
  };
  return scratch;
}

/** The tfjs composition (reference and non-webgpu backends). */
export function imageLossTfjs(render: tf.Tensor3D, target: tf.Tensor3D, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const l1 = tf.mean(tf.abs(render.sub(target)));
    const dssim = tf.scalar(1).sub(ssim(render, target));
    return l1.mul(1 - lambda).add(dssim.mul(lambda)) as tf.Scalar;
  });
}

/**
 * (1 − λ)·mean|render − target| + λ·(1 − SSIM(render, target)); differentiable w.r.t. `render` only.
 * Also returns the two parts (not differentiable) for logging.
 */
export function imageLoss(render: tf.Tensor3D, target: tf.Tensor3D, lambda: number): { total: tf.Scalar; l1: tf.Scalar; ssim: tf.Scalar } {
  if (tf.getBackend() !== 'webgpu') {
    const total = imageLossTfjs(render, target, lambda);
    return {
      total,
      l1: tf.tidy(() => tf.mean(tf.abs(render.sub(target))) as tf.Scalar),
      ssim: tf.tidy(() => ssim(render, target)),
    };
  }
  const [H, W] = render.shape;
  if (target.shape[0] !== H || target.shape[1] !== W || render.shape[2] !== 3 || target.shape[2] !== 3) {
    throw new Error(`imageLoss: render [${render.shape}] and target [${target.shape}] must both be [H,W,3]`);
  }
  let parts: { l1: tf.Scalar; ssim: tf.Scalar } | null = null;
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as (t: tf.Tensor[]) => void;
    const { device } = getGpuSync();
    const P = W * H;
    const s = scratchFor(device, W, H);
    const dims = new ArrayBuffer(32);
    new Uint32Array(dims, 0, 4).set([W, H, 0, 0]);
    new Float32Array(dims, 16, 4).set([lambda, 1 / (3 * P), 0, 0]);
    device.queue.writeBuffer(s.dims, 0, dims);
    const xb = tensorBuffer(x);
    const yb = tensorBuffer(target);
    const sums = acquireTensorBuffer([P, 2]);
    const grad = acquireTensorBuffer([H, W, 3]);
    const enc = device.createCommandEncoder({ label: 'image-loss' });
    const pass = enc.beginComputePass({ label: 'image-loss' });
    const [gx, gy] = grid(Math.ceil(P / LOSS_WG));
    const run = (code: string, res: Record<number, GPUBuffer>) => {
      const p = getPipelineSync(device, { code, entryPoint: 'main', label: 'image-loss' });
      pass.setPipeline(p);
      pass.setBindGroup(0, bindGroup(device, p, { 0: s.dims, ...res }));
      pass.dispatchWorkgroups(gx, gy);
    };
    run(lossBlurH1, { 1: xb, 2: yb, 3: s.h1 });
    run(lossSsim, { 1: xb, 2: yb, 3: s.h1, 4: s.terms, 5: sums });
    run(lossBlurH2, { 1: s.terms, 2: s.h2 });
    run(lossGrad, { 1: xb, 2: yb, 3: s.h2, 4: grad });
    pass.end();
    device.queue.submit([enc.finish()]);
    const gradT = adoptBuffer(grad, [H, W, 3]);
    save([gradT]);
    const sumsT = adoptBuffer(sums, [P, 2]);
    const value = tf.tidy(() => {
      const tot = tf.sum(sumsT, 0).div(3 * P); // [mean |x − y|, mean SSIM]
      const [l1, ss] = tf.split(tot, 2) as [tf.Tensor1D, tf.Tensor1D];
      parts = { l1: tf.keep(l1.reshape([]) as tf.Scalar), ssim: tf.keep(ss.reshape([]) as tf.Scalar) };
      return l1.mul(1 - lambda).add(tf.scalar(1).sub(ss).mul(lambda)).reshape([]) as tf.Scalar;
    });
    sumsT.dispose();
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved[0]!.mul(dy) };
  });
  const total = f(render) as tf.Scalar;
  const p = parts as unknown as { l1: tf.Scalar; ssim: tf.Scalar };
  return { total, l1: p.l1, ssim: p.ssim };
}
