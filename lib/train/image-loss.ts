/**
 * The reconstruction's image loss (1 − λ)·L1 + λ·(1 − SSIM) as one custom tfjs op. On the webgpu backend
 * it runs the three WGSL dispatches of kernels/image-loss.wgsl.ts, which compute the value, its parts and the
 * gradient with respect to the render during the forward pass (the backward only scales it), with no tfjs op
 * in between; on other backends it is the tfjs composition of lib/train/ssim.ts. The tests hold both to the
 * float64 reference of ssim.ts (`imageLossReference`), itself checked by finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';
import { ssim } from './ssim.js';
import { LOSS_TILE, lossForward, lossGrad, lossTotal } from './kernels/image-loss.wgsl.js';

interface Scratch {
  width: number;
  height: number;
  dims: GPUBuffer;
  terms: GPUBuffer; // [9,H·W] SSIM map terms (a, b, c) per channel
  partials: GPUBuffer; // [tiles,2] per-tile Σ|x − y|, Σ S
}

let scratch: Scratch | null = null;

function scratchFor(device: GPUDevice, width: number, height: number): Scratch {
  if (scratch && scratch.width === width && scratch.height === height) return scratch;
  if (scratch) for (const b of [scratch.dims, scratch.terms, scratch.partials]) b.destroy();
  const P = width * height;
  const tiles = Math.ceil(width / LOSS_TILE) * Math.ceil(height / LOSS_TILE);
  const storage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
  scratch = {
    width,
    height,
    dims: device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'image-loss-dims' }),
    terms: device.createBuffer({ size: P * 9 * 4, usage: storage, label: 'image-loss-terms' }),
    partials: device.createBuffer({ size: tiles * 2 * 4, usage: storage, label: 'image-loss-partials' }),
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
    const tilesX = Math.ceil(W / LOSS_TILE);
    const tilesY = Math.ceil(H / LOSS_TILE);
    const dims = new ArrayBuffer(32);
    new Uint32Array(dims, 0, 4).set([W, H, tilesX, tilesX * tilesY]);
    new Float32Array(dims, 16, 4).set([lambda, 1 / (3 * P), 0, 0]);
    device.queue.writeBuffer(s.dims, 0, dims);
    const xb = tensorBuffer(x);
    const yb = tensorBuffer(target);
    const grad = acquireTensorBuffer([H, W, 3]);
    const [total, l1, ssimB] = [acquireTensorBuffer([]), acquireTensorBuffer([]), acquireTensorBuffer([])];
    const enc = device.createCommandEncoder({ label: 'image-loss' });
    const pass = enc.beginComputePass({ label: 'image-loss' });
    const run = (code: string, res: Record<number, GPUBuffer>, wx: number, wy: number) => {
      const p = getPipelineSync(device, { code, entryPoint: 'main', label: 'image-loss' });
      pass.setPipeline(p);
      pass.setBindGroup(0, bindGroup(device, p, { 0: s.dims, ...res }));
      pass.dispatchWorkgroups(wx, wy);
    };
    run(lossForward, { 1: xb, 2: yb, 3: s.terms, 4: s.partials }, tilesX, tilesY);
    run(lossGrad, { 1: xb, 2: yb, 3: s.terms, 4: grad }, tilesX, tilesY);
    run(lossTotal, { 1: s.partials, 2: total, 3: l1, 4: ssimB }, 1, 1);
    pass.end();
    device.queue.submit([enc.finish()]);
    save([adoptBuffer(grad, [H, W, 3])]);
    // Kept: customGrad disposes what its forward function makes besides the value.
    parts = { l1: tf.keep(adoptBuffer<tf.Rank.R0>(l1, [])), ssim: tf.keep(adoptBuffer<tf.Rank.R0>(ssimB, [])) };
    const value = adoptBuffer<tf.Rank.R0>(total, []);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved[0]!.mul(dy) };
  });
  const total = f(render) as tf.Scalar;
  const p = parts as unknown as { l1: tf.Scalar; ssim: tf.Scalar };
  return { total, l1: p.l1, ssim: p.ssim };
}
