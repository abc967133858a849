/**
 * Binding (GaussianAvatars, docs/method.md §2): every Gaussian lives in the local frame of one
 * triangle of the posed head mesh. For triangle t with centre c, orthonormal frame R (columns: first edge
 * direction, normal, their cross product) and scale k, a Gaussian with local mean μₗ, log-scales sₗ and
 * rotation qₗ has world parameters
 *
 *     μ = k · R · μₗ + c,    log scale = sₗ + log k,    q = q_R ⊗ qₗ
 *
 * so learning rates and regularisers act in units of the triangle's size, and the avatar follows any
 * expression of the mesh. These functions are tfjs ops, differentiable w.r.t. the local parameters.
 */
import * as tf from '@tensorflow/tfjs';
import type { TriangleFrames } from '../head/frames.js';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';
import { BIND_TRAIN_WG, FRAME_STRIDE, bindTrainWgsl } from './bind-train.wgsl.js';

export type { TriangleFrames };

/** Frames gathered per Gaussian, on the tfjs backend, ready for `bindToWorld`. */
export interface BoundFrames {
  centres: tf.Tensor2D; // [N,3]
  rotations: tf.Tensor3D; // [N,3,3]
  logScales: tf.Tensor2D; // [N,1] log k
  quats: tf.Tensor2D; // [N,4] (w,x,y,z) unit quaternion of R
}

/** Unit quaternion (w, x, y, z) of a row-major rotation matrix (Shepperd's method: stable for all angles). */
export function rotationToQuat(m: ArrayLike<number>, o = 0): [number, number, number, number] {
  const m00 = m[o]!,
    m01 = m[o + 1]!,
    m02 = m[o + 2]!;
  const m10 = m[o + 3]!,
    m11 = m[o + 4]!,
    m12 = m[o + 5]!;
  const m20 = m[o + 6]!,
    m21 = m[o + 7]!,
    m22 = m[o + 8]!;
  const tr = m00 + m11 + m22;
  let w: number, x: number, y: number, z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = 0.25 * s;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = 0.25 * s;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = 0.25 * s;
  }
  const n = Math.hypot(w, x, y, z);
  return w >= 0 ? [w / n, x / n, y / n, z / n] : [-w / n, -x / n, -y / n, -z / n];
}

/** Quaternions of all frames: Float32Array [T,4]. */
export function frameQuats(rotations: Float32Array): Float32Array {
  const T = rotations.length / 9;
  const q = new Float32Array(T * 4);
  for (let t = 0; t < T; t++) q.set(rotationToQuat(rotations, 9 * t), 4 * t);
  return q;
}

/**
 * Uploads one mesh's frames and gathers them per Gaussian. `binding` holds each Gaussian's triangle
 * index. Call once per (timestep, binding) and reuse: the result does not depend on the parameters.
 */
export function gatherFrames(frames: TriangleFrames, binding: Int32Array, quats?: Float32Array): BoundFrames {
  const T = frames.scales.length;
  return tf.tidy(() => {
    const idx = tf.tensor1d(binding, 'int32');
    const c = tf.tensor2d(frames.centres, [T, 3]);
    const r = tf.tensor3d(frames.rotations, [T, 3, 3]);
    const logK = tf.tensor2d(frames.scales.map(Math.log), [T, 1]);
    const q = tf.tensor2d(quats ?? frameQuats(frames.rotations), [T, 4]);
    return {
      centres: tf.gather(c, idx) as tf.Tensor2D,
      rotations: tf.gather(r, idx) as tf.Tensor3D,
      logScales: tf.gather(logK, idx) as tf.Tensor2D,
      quats: tf.gather(q, idx) as tf.Tensor2D,
    };
  });
}

export function disposeFrames(f: BoundFrames): void {
  tf.dispose([f.centres, f.rotations, f.logScales, f.quats]);
}

/** Hamilton product a ⊗ b of [N,4] (w,x,y,z) quaternions. */
export function quatMultiply(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [aw, ax, ay, az] = tf.split(a, 4, 1) as tf.Tensor2D[];
    const [bw, bx, by, bz] = tf.split(b, 4, 1) as tf.Tensor2D[];
    const w = aw!.mul(bw!).sub(ax!.mul(bx!)).sub(ay!.mul(by!)).sub(az!.mul(bz!));
    const x = aw!.mul(bx!).add(ax!.mul(bw!)).add(ay!.mul(bz!)).sub(az!.mul(by!));
    const y = aw!.mul(by!).sub(ax!.mul(bz!)).add(ay!.mul(bw!)).add(az!.mul(bx!));
    const z = aw!.mul(bz!).add(ax!.mul(by!)).sub(ay!.mul(bx!)).add(az!.mul(bw!));
    return tf.concat([w, x, y, z], 1) as tf.Tensor2D;
  });
}

export interface LocalParams {
  means: tf.Tensor2D; // [N,3] in triangle units
  logScales: tf.Tensor2D; // [N,3] log of (scale / k)
  quats: tf.Tensor2D; // [N,4] (w,x,y,z), unnormalised
}

export interface WorldParams {
  means: tf.Tensor2D; // [N,3] metres
  logScales: tf.Tensor2D; // [N,3] log metres
  quats: tf.Tensor2D; // [N,4]
}

/** Local → world (the formula in the module header), differentiable w.r.t. `local`. */
export function bindToWorld(local: LocalParams, frames: BoundFrames): WorldParams {
  return tf.tidy(() => {
    const k = frames.logScales.exp();
    // (R μ)_i = Σ_j R_ij μ_j as a broadcast multiply + reduction: a batched [3×3]·[3] product.
    const rotated = tf.sum(frames.rotations.mul(local.means.expandDims(1)), 2) as tf.Tensor2D;
    const means = rotated.mul(k).add(frames.centres) as tf.Tensor2D;
    const logScales = local.logScales.add(frames.logScales) as tf.Tensor2D;
    const quats = quatMultiply(frames.quats, local.quats);
    return { means, logScales, quats };
  });
}

/** float64 reference of `bindToWorld` for one Gaussian (tests and CPU tools). */
export function bindToWorldReference(
  muL: ArrayLike<number>,
  sL: ArrayLike<number>,
  qL: ArrayLike<number>,
  c: ArrayLike<number>,
  R: ArrayLike<number>, // row-major 3×3
  k: number,
): { mean: number[]; logScale: number[]; quat: number[] } {
  const mean = [0, 1, 2].map((i) => k * (R[3 * i]! * muL[0]! + R[3 * i + 1]! * muL[1]! + R[3 * i + 2]! * muL[2]!) + c[i]!);
  const logScale = [0, 1, 2].map((i) => sL[i]! + Math.log(k));
  const [aw, ax, ay, az] = rotationToQuat(R);
  const [bw, bx, by, bz] = [qL[0]!, qL[1]!, qL[2]!, qL[3]!];
  const quat = [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
  return { mean, logScale, quat };
}

// ---------------------------------------------------------------------------------------------------------
// Training path: frames as one per-triangle table, binding applied inside fused kernels (bind-train.wgsl.ts).

/** Per-triangle frame table [T,20] (layout in bind-train.wgsl.ts): uploaded once per pose, any binding. */
export function frameTable(frames: TriangleFrames, quats?: Float32Array): Float32Array {
  const T = frames.scales.length;
  const q = quats ?? frameQuats(frames.rotations);
  const out = new Float32Array(T * FRAME_STRIDE);
  for (let t = 0; t < T; t++) {
    const o = t * FRAME_STRIDE;
    out.set(frames.centres.subarray(3 * t, 3 * t + 3), o);
    out[o + 3] = Math.log(frames.scales[t]!);
    out.set(frames.rotations.subarray(9 * t, 9 * t + 9), o + 4);
    out.set(q.subarray(4 * t, 4 * t + 4), o + 16);
  }
  return out;
}

type BindOp = 'means' | 'logScales' | 'quats';

const countUniforms = new WeakMap<GPUDevice, Map<number, GPUBuffer>>();

/** A uniform holding (n, 0, 0, 0), one per count (the Gaussian count changes only at densification). */
function countUniform(device: GPUDevice, n: number): GPUBuffer {
  let m = countUniforms.get(device);
  if (!m) countUniforms.set(device, (m = new Map()));
  let u = m.get(n);
  if (!u) {
    u = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, mappedAtCreation: true, label: `count-${n}` });
    new Uint32Array(u.getMappedRange()).set([n, 0, 0, 0]);
    u.unmap();
    if (m.size > 16) {
      for (const b of m.values()) b.destroy();
      m.clear();
    }
    m.set(n, u);
  }
  return u;
}

function fusedBindOp(op: BindOp, local: tf.Tensor2D, table: tf.Tensor2D, binding: tf.Tensor1D): tf.Tensor2D {
  const n = local.shape[0];
  const k = local.shape[1];
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const x = args[0] as tf.Tensor;
    const run = (entry: string, src: tf.Tensor): tf.Tensor2D => {
      const { device } = getGpuSync();
      const dims = countUniform(device, n);
      const out = acquireTensorBuffer([n, k]);
      const p = getPipelineSync(device, { code: bindTrainWgsl, entryPoint: entry, label: `bind-${entry}` });
      const enc = device.createCommandEncoder({ label: `bind-${entry}` });
      const pass = enc.beginComputePass();
      pass.setPipeline(p);
      pass.setBindGroup(0, bindGroup(device, p, { 0: dims, 1: tensorBuffer(table), 2: tensorBuffer(binding), 3: tensorBuffer(src), 4: out }));
      const [gx, gy] = grid(Math.ceil(n / BIND_TRAIN_WG));
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      device.queue.submit([enc.finish()]);
      return adoptBuffer(out, [n, k]);
    };
    const value = run(`${op}Forward`, x);
    const gradFunc = (dy: tf.Tensor) => (op === 'logScales' ? dy.clone() : run(`${op}Backward`, dy));
    return { value, gradFunc };
  });
  return f(local) as tf.Tensor2D;
}

/**
 * Local → world through a frame table and the binding: the fused kernels on the webgpu backend, else the
 * reference composition above (gather, then `bindToWorld`).
 */
export function bindToWorldTable(local: LocalParams, table: tf.Tensor2D, binding: tf.Tensor1D): WorldParams {
  if (tf.getBackend() === 'webgpu') {
    return {
      means: fusedBindOp('means', local.means, table, binding),
      logScales: fusedBindOp('logScales', local.logScales, table, binding),
      quats: fusedBindOp('quats', local.quats, table, binding),
    };
  }
  return tf.tidy(() => {
    const rows = tf.gather(table, binding);
    const frames: BoundFrames = {
      centres: rows.slice([0, 0], [-1, 3]) as tf.Tensor2D,
      logScales: rows.slice([0, 3], [-1, 1]) as tf.Tensor2D,
      rotations: rows.slice([0, 4], [-1, 9]).reshape([-1, 3, 3]) as tf.Tensor3D,
      quats: rows.slice([0, 16], [-1, 4]) as tf.Tensor2D,
    };
    return bindToWorld(local, frames) as unknown as tf.NamedTensorMap;
  }) as unknown as WorldParams;
}
