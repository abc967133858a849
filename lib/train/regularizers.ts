/**
 * GaussianAvatars' regularisers on the local parameters (docs/method.md §2):
 *   position  λ_pos · mean_n max(‖μₗ‖ − ε_pos, 0)
 *   scale     λ_s   · mean_n ‖max(exp(sₗ) − ε_s, 0)‖
 * with ‖·‖ computed as sqrt(Σ·² + 1e-12) so the gradient at 0 is 0 (every Gaussian starts at its
 * triangle's centre, where tf.norm's gradient is 0/0). On the webgpu backend both terms and their
 * gradients come from one kernel and a fixed-order sum of its workgroups' shares (tfjs would spend ~40 ops
 * forward and backward, and its whole-tensor sum runs on one workgroup); elsewhere, tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';

export interface RegularizerWeights {
  lambdaPosition: number;
  thresholdPosition: number;
  lambdaScale: number;
  thresholdScale: number;
}

const WG = 128;
const regWgsl = /* wgsl */ `
struct U { n: u32, _a: u32, _b: u32, _c: u32, lp: f32, tp: f32, ls: f32, ts: f32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> logScales: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>; // [workgroups] each workgroup's share of the loss
@group(0) @binding(4) var<storage, read_write> gMeans: array<f32>;
@group(0) @binding(5) var<storage, read_write> gScales: array<f32>;
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = gid.x + gid.y * nwg.x * ${WG}u;
  var v = 0.0;
  if (n < u.n) { v = share(n); }
  red[li] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[wid.x + wid.y * nwg.x] = red[0]; }
}

/** Gaussian n's share of the loss; writes its gradients. */
fn share(n: u32) -> f32 {
  let inv = 1.0 / f32(u.n);
  let m = vec3f(means[3u * n], means[3u * n + 1u], means[3u * n + 2u]);
  let d = sqrt(dot(m, m) + 1e-12);
  let over = d - u.tp;
  var gm = vec3f(0.0);
  var v = 0.0;
  if (over > 0.0) { v += u.lp * over; gm = (u.lp * inv / d) * m; }
  let s = exp(vec3f(logScales[3u * n], logScales[3u * n + 1u], logScales[3u * n + 2u]));
  let e = max(s - vec3f(u.ts), vec3f(0.0));
  let ne = sqrt(dot(e, e) + 1e-12);
  v += u.ls * ne;
  let gs = (u.ls * inv / ne) * e * s; // zero where e is (the relu is flat there)
  for (var i = 0u; i < 3u; i++) { gMeans[3u * n + i] = gm[i]; gScales[3u * n + i] = gs[i]; }
  return v * inv;
}
`;

/** The workgroups' partial sums in a fixed order → the loss (one workgroup). */
const regTotalWgsl = /* wgsl */ `
struct U { n: u32, _a: u32, _b: u32, _c: u32, lp: f32, tp: f32, ls: f32, ts: f32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>; // [1]
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32) {
  let count = (u.n + ${WG - 1}u) / ${WG}u;
  var s = 0.0;
  for (var i = li; i < count; i += ${WG}u) { s += partials[i]; }
  red[li] = s;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) { total[0] = red[0]; }
}
`;

/** The tfjs composition (reference, and the path on non-webgpu backends). */
export function regularizersTfjs(means: tf.Tensor2D, logScales: tf.Tensor2D, w: RegularizerWeights): tf.Scalar {
  return tf.tidy(() => {
    let total = tf.scalar(0);
    if (w.lambdaPosition > 0) {
      const dist = tf.sqrt(tf.sum(tf.square(means), 1).add(1e-12));
      total = total.add(tf.relu(dist.sub(w.thresholdPosition)).mean().mul(w.lambdaPosition));
    }
    if (w.lambdaScale > 0) {
      const excess = tf.relu(tf.exp(logScales).sub(w.thresholdScale));
      total = total.add(
        tf
          .sqrt(tf.sum(tf.square(excess), 1).add(1e-12))
          .mean()
          .mul(w.lambdaScale),
      );
    }
    return total as tf.Scalar;
  });
}

const uniforms = new WeakMap<GPUDevice, GPUBuffer>();

export function regularizers(means: tf.Tensor2D, logScales: tf.Tensor2D, w: RegularizerWeights): tf.Scalar {
  if (tf.getBackend() !== 'webgpu' || means.shape[0] === 0) return regularizersTfjs(means, logScales, w);
  const n = means.shape[0];
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const [m, s] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as (t: tf.Tensor[]) => void;
    const { device } = getGpuSync();
    let u = uniforms.get(device);
    if (!u) uniforms.set(device, (u = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'regularizers' })));
    const ub = new ArrayBuffer(32);
    new Uint32Array(ub, 0, 4).set([n, 0, 0, 0]);
    new Float32Array(ub, 16, 4).set([w.lambdaPosition, w.thresholdPosition, w.lambdaScale, w.thresholdScale]);
    device.queue.writeBuffer(u, 0, ub);
    const groups = Math.ceil(n / WG);
    const [partials, gm, gs, total] = [acquireTensorBuffer([groups]), acquireTensorBuffer([n, 3]), acquireTensorBuffer([n, 3]), acquireTensorBuffer([])];
    const p = getPipelineSync(device, { code: regWgsl, entryPoint: 'main', label: 'regularizers' });
    const pt = getPipelineSync(device, { code: regTotalWgsl, entryPoint: 'main', label: 'regularizers-total' });
    const enc = device.createCommandEncoder({ label: 'regularizers' });
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bindGroup(device, p, { 0: u, 1: tensorBuffer(m), 2: tensorBuffer(s), 3: partials!, 4: gm!, 5: gs! }));
    const [gx, gy] = grid(groups);
    pass.dispatchWorkgroups(gx, gy);
    pass.setPipeline(pt);
    pass.setBindGroup(0, bindGroup(device, pt, { 0: u, 1: partials!, 2: total! }));
    pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([enc.finish()]);
    const gmT = adoptBuffer(gm!, [n, 3]);
    const gsT = adoptBuffer(gs!, [n, 3]);
    save([gmT, gsT]);
    adoptBuffer(partials!, [groups]).dispose(); // back to tfjs's pool once the queue has run
    return { value: adoptBuffer<tf.Rank.R0>(total!, []), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [saved[0]!.mul(dy), saved[1]!.mul(dy)] };
  });
  return f(means, logScales) as tf.Scalar;
}
