/**
 * The discriminator's 2-D convolution ('same' padding, NHWC, filter [kh,kw,cin,cout]) with a faster filter
 * gradient on the webgpu backend. tfjs's own ∂L/∂W there (Conv2DDerFilterProgram) gives each weight one thread
 * that loops over every output position of the batch: at 802×550 pooled ×2, the first block's 3,072 weights
 * each sum 138k products one after another, so a discriminator step waits on a few thousand threads. Here the
 * sum over positions is split into chunks of CHUNK positions (one thread per chunk and weight, so hundreds of
 * thousands of threads), and a second pass adds the chunks per weight in order: deterministic, and equal to
 * tfjs's result up to the order of float32 additions (tested). The input gradient and the forward pass stay
 * tfjs's (implicit-GEMM kernels that already use the GPU well). Elsewhere: plain tf.conv2d.
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';

/** Output positions (batch × rows × columns) one thread sums per weight. */
const CHUNK = 128;
const WG = 256;

const dims = /* wgsl */ `
struct D {
  batch: u32, inH: u32, inW: u32, cin: u32,
  outH: u32, outW: u32, cout: u32, kw: u32,
  stride: u32, padT: i32, padL: i32, weights: u32,
  positions: u32, chunks: u32, _a: u32, _b: u32,
}
@group(0) @binding(0) var<uniform> d: D;
`;

/** partials[chunk, w] = Σ over the chunk's positions m of x(m shifted by w's tap) · dy(m, w's output channel). */
const filterPartialsWgsl = /* wgsl */ `
${dims}
@group(0) @binding(1) var<storage, read> x: array<f32>;   // [B,inH,inW,cin]
@group(0) @binding(2) var<storage, read> dy: array<f32>;  // [B,outH,outW,cout]
@group(0) @binding(3) var<storage, read_write> partials: array<f32>; // [chunks, kh·kw·cin·cout]
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= d.weights * d.chunks) { return; }
  let chunk = i / d.weights;
  let w = i % d.weights;
  // w = ((ky·kw + kx)·cin + ci)·cout + co, the filter's row-major order
  let co = w % d.cout;
  let ci = (w / d.cout) % d.cin;
  let tap = w / (d.cout * d.cin);
  let kx = i32(tap % d.kw);
  let ky = i32(tap / d.kw);
  let m0 = chunk * ${CHUNK}u;
  let m1 = min(m0 + ${CHUNK}u, d.positions);
  var s = 0.0;
  for (var m = m0; m < m1; m++) {
    let ox = m % d.outW;
    let oy = (m / d.outW) % d.outH;
    let b = m / (d.outW * d.outH);
    let iy = i32(oy * d.stride) + ky - d.padT;
    let ix = i32(ox * d.stride) + kx - d.padL;
    if (iy < 0 || ix < 0 || iy >= i32(d.inH) || ix >= i32(d.inW)) { continue; }
    s += x[((b * d.inH + u32(iy)) * d.inW + u32(ix)) * d.cin + ci] * dy[m * d.cout + co];
  }
  partials[i] = s;
}
`;

/** dW[w] = Σ_chunk partials[chunk, w], chunks in order. */
const filterSumWgsl = /* wgsl */ `
${dims}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = gid.x + gid.y * nwg.x * ${WG}u;
  if (w >= d.weights) { return; }
  var s = 0.0;
  for (var c = 0u; c < d.chunks; c++) { s += partials[c * d.weights + w]; }
  dw[w] = s;
}
`;

/** ∂L/∂W of a 'same' conv2d of x [B,H,W,cin] with a filter of `filterShape`, given dy [B,outH,outW,cout]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], stride: number): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, stride, 1, 'same');
  const [B, inH, inW, cin] = x.shape;
  const [kh, kw, , cout] = filterShape;
  const { outHeight: outH, outWidth: outW } = info;
  if (dy.shape[1] !== outH || dy.shape[2] !== outW || dy.shape[3] !== cout) throw new Error(`conv2dFilterGrad: dy is [${dy.shape}], expected [${B},${outH},${outW},${cout}]`);
  const weights = kh * kw * cin * cout;
  const positions = B * outH * outW;
  const chunks = Math.ceil(positions / CHUNK);
  const { device } = getGpuSync();
  const u = device.createBuffer({ size: 64, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'conv-filter-grad' });
  const ub = new ArrayBuffer(64);
  new Uint32Array(ub).set([B, inH, inW, cin, outH, outW, cout, kw, stride, 0, 0, weights, positions, chunks, 0, 0]);
  new Int32Array(ub, 36, 2).set([info.padInfo.top, info.padInfo.left]);
  device.queue.writeBuffer(u, 0, ub);
  const partials = acquireTensorBuffer([chunks, weights]);
  const dw = acquireTensorBuffer(filterShape);
  const p1 = getPipelineSync(device, { code: filterPartialsWgsl, entryPoint: 'main', label: 'conv-filter-partials' });
  const p2 = getPipelineSync(device, { code: filterSumWgsl, entryPoint: 'main', label: 'conv-filter-sum' });
  const enc = device.createCommandEncoder({ label: 'conv-filter-grad' });
  const pass = enc.beginComputePass();
  pass.setPipeline(p1);
  pass.setBindGroup(0, bindGroup(device, p1, { 0: u, 1: tensorBuffer(x), 2: tensorBuffer(dy), 3: partials }));
  let [gx, gy] = grid(Math.ceil((weights * chunks) / WG));
  pass.dispatchWorkgroups(gx, gy);
  pass.setPipeline(p2);
  pass.setBindGroup(0, bindGroup(device, p2, { 0: u, 1: partials, 2: dw }));
  [gx, gy] = grid(Math.ceil(weights / WG));
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  device.queue.submit([enc.finish()]);
  u.destroy(); // freed once the submitted work is done
  adoptBuffer(partials, [chunks, weights]).dispose();
  return adoptBuffer<tf.Rank.R4>(dw, filterShape);
}

/** tf.conv2d(x, filter, stride, 'same'), with the filter gradient above on the webgpu backend. */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (tf.getBackend() !== 'webgpu') return tf.conv2d(x, filter, stride, 'same');
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const [xi, wi] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as (t: tf.Tensor[]) => void;
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [
          tf.conv2dTranspose(dy as tf.Tensor4D, ws, xs.shape, stride, 'same'),
          conv2dFilterGrad(xs, dy as tf.Tensor4D, ws.shape as [number, number, number, number], stride),
        ];
      },
    };
  });
  return f(x, filter) as tf.Tensor4D;
}
