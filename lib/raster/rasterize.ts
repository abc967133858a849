/**
 * The differentiable rasterizer for tfjs: `rasterize(params, cam, settings)` renders Gaussians held as tfjs
 * tensors on the `webgpu` backend and registers its gradient, so tfjs optimisers train Gaussians directly.
 * Nothing goes through the CPU: our kernels read the tensors' GPU buffers and write buffers from tfjs's
 * pool that become the output and gradient tensors (lib/gpu/tfjs.ts).
 *
 *   await prepareRasterize(settings);                 // once per blending variant: compiles the kernels
 *   const side: RasterizeSideChannel = {};
 *   const { value: loss, grads } = tf.variableGrads(() => {
 *     const { color } = rasterize(params, cam, settings, side);
 *     return color.sub(target).abs().mean() as tf.Scalar;
 *   });
 *   side.means2DGrad   // [N,2] ∂L/∂means2D of this view (densification), kept until you dispose it
 *
 * Lifetimes follow tfjs: what the backward pass needs (the sorted tile lists, per-pixel T and last index,
 * the projected splats) is saved with the tape as tensors and freed with it; without a tape it is freed at
 * once. Several `rasterize` calls may precede one backward pass (e.g. a batch of views).
 */
import { acquireTensorBuffer, adoptBuffer, tensorBuffer, tf, useTfjsWebGpu } from '../gpu/tfjs.js';
import { GaussianRasterizer, type Allocate, type ForwardState, type GaussianBuffers, type RasterizerOptions } from './gpu/rasterizer.js';
import type { Camera, RasterSettings, ShDegree } from './types.js';

export interface GaussianTensors {
  means: tf.Tensor; // [N,3] float32
  logScales: tf.Tensor; // [N,3]
  quats: tf.Tensor; // [N,4] (w, x, y, z), unnormalised
  opacityLogits: tf.Tensor; // [N] or [N,1]
  sh: tf.Tensor; // [N,K,3], K = (degree+1)²
}

export interface RasterizeResult {
  color: tf.Tensor3D; // [H,W,3]
  alpha: tf.Tensor2D; // [H,W] 1 − T_final
  depth: tf.Tensor2D; // [H,W] Σ z α T (divide by alpha for the expected depth)
  /** Not differentiable: Gaussians blended per pixel, and each Gaussian's radius in pixels (0 = culled). */
  nContrib: tf.Tensor2D; // [H,W] int32
  radii: tf.Tensor1D; // [N] int32
}

/** Filled by the backward pass of the `rasterize` call it was passed to. */
export interface RasterizeSideChannel {
  /** ∂L/∂means2D [N,2] (pixels), kept (tf.keep): the previous one is disposed when a new one arrives. */
  means2DGrad?: tf.Tensor2D;
}

let shared: Promise<GaussianRasterizer> | null = null;
let ready: GaussianRasterizer | null = null;

/**
 * Opens tfjs's webgpu backend on the workbench's device (if not yet) and compiles the rasterizer's kernels
 * for `settings`' blending variant. Call before `rasterize` with those settings.
 */
export async function prepareRasterize(settings: RasterSettings, opts: RasterizerOptions = {}): Promise<GaussianRasterizer> {
  shared ??= useTfjsWebGpu().then((ctx) => new GaussianRasterizer(ctx, opts));
  const r = await shared;
  await r.prepare(settings);
  ready = r;
  return r;
}

/** The rasterizer behind `rasterize` (its `stats` report key counts, overflows and memory). */
export function sharedRasterizer(): GaussianRasterizer | null {
  return ready;
}

const allocateFromTfjs: Allocate = (bytes) => acquireTensorBuffer([Math.max(4, Math.ceil(bytes / 16) * 4)]);

function checkParams(p: GaussianTensors): { n: number; shDegree: ShDegree } {
  const where = 'rasterize(params)';
  const n = p.means.shape[0] ?? 0;
  const expectShape = (name: keyof GaussianTensors, shape: number[]) => {
    const t = p[name];
    const ok = t.shape.length === shape.length && t.shape.every((d, i) => shape[i]! < 0 || d === shape[i]);
    if (!ok) throw new Error(`${where}: ${name} has shape [${t.shape}], expected [${shape.map((d) => (d < 0 ? '*' : d))}]`);
    if (t.dtype !== 'float32') throw new Error(`${where}: ${name} is ${t.dtype}, expected float32`);
  };
  expectShape('means', [n, 3]);
  expectShape('logScales', [n, 3]);
  expectShape('quats', [n, 4]);
  if (p.opacityLogits.shape.length === 2) expectShape('opacityLogits', [n, 1]);
  else expectShape('opacityLogits', [n]);
  expectShape('sh', [n, -1, 3]);
  const K = p.sh.shape[1]!;
  const degree = Math.round(Math.sqrt(K)) - 1;
  if ((degree + 1) ** 2 !== K || degree > 3) throw new Error(`${where}: sh has ${K} coefficients per channel, expected 1, 4, 9 or 16`);
  return { n, shDegree: degree as ShDegree };
}

/** Renders `params` seen by `cam`; differentiable with respect to all five parameter tensors. */
export function rasterize(params: GaussianTensors, cam: Camera, settings: RasterSettings, side?: RasterizeSideChannel): RasterizeResult {
  const r = ready;
  if (!r) throw new Error('rasterize: call await prepareRasterize(settings) first');
  if (tf.getBackend() !== 'webgpu') throw new Error(`rasterize: the tfjs backend is '${tf.getBackend()}', not 'webgpu'`);
  const { n, shDegree } = checkParams(params);
  const { width: W, height: H } = cam;
  let outputs: { nContrib: GPUBuffer; radii: GPUBuffer } | null = null;

  const buffersOf = (ts: tf.Tensor[]): GaussianBuffers => ({
    count: n,
    shDegree,
    means: tensorBuffer(ts[0]!),
    logScales: tensorBuffer(ts[1]!),
    quats: tensorBuffer(ts[2]!),
    opacityLogits: tensorBuffer(ts[3]!),
    sh: tensorBuffer(ts[4]!),
  });

  const f = tf.customGrad((...args: (tf.Tensor | ((save: tf.Tensor[]) => void))[]) => {
    const inputs = args.slice(0, 5) as tf.Tensor[];
    const save = args[5] as (save: tf.Tensor[]) => void;
    const st: ForwardState = r.forward(buffersOf(inputs), cam, settings, { allocate: allocateFromTfjs });
    outputs = { nContrib: st.nContrib, radii: st.radii };
    // tfjs owns every state buffer from here on: saved ones live as long as the tape, others are freed
    // when this function's scope ends (after our submit, so queue order keeps them valid).
    const stateTensors: tf.Tensor[] = [];
    for (const b of st.owned) {
      if (b === st.image || b === st.nContrib || b === st.radii) continue;
      stateTensors.push(adoptBuffer(b, [b.size / 4]));
    }
    save([...inputs, ...stateTensors]);
    const value = adoptBuffer<tf.Rank.R3>(st.image, [H, W, 5]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      if (saved.length === 0) throw new Error('rasterize: no saved state for the backward pass (was the tape off?)');
      const g = buffersOf(saved.slice(0, 5));
      const K = (shDegree + 1) ** 2;
      const grads = r.backward(st, g, tensorBuffer(dy), {
        grads: {
          means: acquireTensorBuffer([n, 3]),
          logScales: acquireTensorBuffer([n, 3]),
          quats: acquireTensorBuffer([n, 4]),
          opacityLogits: acquireTensorBuffer([n]),
          sh: acquireTensorBuffer([n, K, 3]),
          means2D: acquireTensorBuffer([n, 2]),
        },
      });
      const m2d = adoptBuffer<tf.Rank.R2>(grads.means2D, [n, 2]);
      if (side) {
        side.means2DGrad?.dispose();
        side.means2DGrad = tf.keep(m2d);
      } else {
        m2d.dispose();
      }
      return [
        adoptBuffer(grads.means, [n, 3]),
        adoptBuffer(grads.logScales, [n, 3]),
        adoptBuffer(grads.quats, [n, 4]),
        adoptBuffer(grads.opacityLogits, params.opacityLogits.shape as number[]),
        adoptBuffer(grads.sh, [n, K, 3]),
      ];
    };
    return { value, gradFunc };
  });

  const packed = f(params.means, params.logScales, params.quats, params.opacityLogits, params.sh) as tf.Tensor3D;
  const color = tf.slice(packed, [0, 0, 0], [H, W, 3]) as tf.Tensor3D;
  const alpha = tf.reshape(tf.slice(packed, [0, 0, 3], [H, W, 1]), [H, W]) as tf.Tensor2D;
  const depth = tf.reshape(tf.slice(packed, [0, 0, 4], [H, W, 1]), [H, W]) as tf.Tensor2D;
  packed.dispose();
  const o = outputs as unknown as { nContrib: GPUBuffer; radii: GPUBuffer };
  return {
    color,
    alpha,
    depth,
    nContrib: adoptBuffer<tf.Rank.R2>(o.nContrib, [H, W], 'int32'),
    radii: adoptBuffer<tf.Rank.R1>(o.radii, [n], 'int32'),
  };
}
