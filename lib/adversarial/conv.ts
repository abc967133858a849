/**
 * The discriminator's 2-D convolution ('same' padding, NHWC, filter [kh,kw,cin,cout]) with both gradients
 * computed by our own tiled kernels on the webgpu backend; the forward pass stays tfjs's (Conv2DMMProgram, an
 * implicit GEMM that already tiles through workgroup memory). Elsewhere: plain tf.conv2d.
 *
 * Why not tfjs's gradients:
 *  - ∂L/∂x: tfjs-webgpu 4.22 ships WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE = true, so conv2dTranspose runs
 *    Conv2DDerInputProgram: every thread reads its own dy and W values from global memory, with no reuse
 *    through workgroup memory, and the 6-channel first layer takes its scalar path.
 *  - ∂L/∂W: Conv2DDerFilterProgram gives each weight one thread that loops over every output position.
 *    (Our first replacement chunked that loop but kept one weight per thread and three integer divisions per
 *    multiply-add; on lavapipe it cost 6–8× the forward pass.)
 *
 * Both are written here as GEMMs over workgroup-memory tiles (one template, `gemmWgsl`): each workgroup loads
 * a KS-deep slice of both operands once into workgroup memory, and each thread accumulates an RM×RN block
 * from it, so the index arithmetic is paid per load, not per multiply-add.
 *  - filter gradient: rows = taps·cin (k), columns = cout, reduction = positions (b, oy, ox), split into
 *    chunks of CHUNK positions (grid z) whose partial sums a second pass adds per weight, chunks in order;
 *  - input gradient: for stride s with kh, kw divisible by s, the input pixels fall into s² classes by
 *    (iy + padT) mod s, (ix + padL) mod s; inside one class every pixel meets the same (kh/s)·(kw/s) taps,
 *    so each class (grid z) is a dense GEMM: rows = the class's pixels, columns = cin, reduction =
 *    its taps × cout. Other shapes keep tfjs's conv2dTranspose.
 * Each sum runs in a fixed order (deterministic); the order differs from tfjs's, so results agree with tfjs and
 * with float64 up to float32 rounding (tested).
 *
 * Gradients are asked only for what needs one: `conv2dSame(x, w, s, { x: false })` (the discriminator step's
 * first layer, whose input is data) skips the input gradient, `{ w: false }` (the generator loss, on frozen
 * weights) the filter gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { acquireTensorBuffer, adoptBuffer, tensorBuffer } from '../gpu/tfjs.js';
import { getGpuSync } from '../gpu/device.js';
import { bindGroup, getPipelineSync, grid } from '../gpu/pipelines.js';
import { BufferUsage } from '../gpu/flags.js';

/** Output positions (batch × rows × columns) one partial sum of the filter gradient covers. */
const CHUNK = 512;
const WG = 256;
/** Reduction depth of one workgroup-memory tile. */
const KS = 16;

interface Tile {
  /** Threads along rows and columns (TR·TC = 256) and outputs per thread along each. */
  TR: number;
  TC: number;
  RM: number;
  RN: number;
}
const SQUARE: Tile = { TR: 16, TC: 16, RM: 4, RN: 4 }; // 64×64 outputs per workgroup
const NARROW: Tile = { TR: 64, TC: 4, RM: 4, RN: 2 }; // 256×8: for ≤ 8 columns (the 6-channel input)

const dims = /* wgsl */ `
struct D {
  batch: u32, inH: u32, inW: u32, cin: u32,
  outH: u32, outW: u32, cout: u32, kw: u32,
  stride: u32, padT: i32, padL: i32, rows: u32,
  cols: u32, red: u32, chunk: u32, kh: u32,
}
@group(0) @binding(0) var<uniform> d: D;
`;

/**
 * out[z][row, col] = Σ_{r in z's reduction range} A(z, r, row) · B(z, r, col), from user WGSL:
 *   rowsOf(z) -> u32, redRange(z) -> vec2u,
 *   struct ARow, aRow(z, row) -> ARow, loadA(a: ARow, r) -> f32 (0 outside the operand; rows ≥ rowsOf never load),
 *   struct BCol, bCol(z, col) -> BCol, loadB(b: BCol, r) -> f32,
 *   store(z, row, col, v).
 * Each thread loads the same tile rows/columns at every reduction step, so aRow/bCol (the division-heavy part:
 * pixel or tap coordinates) run once per thread and load slot, not once per load. `aRedFast`/`bRedFast`: which
 * index consecutive threads step when loading an operand, chosen so that they read consecutive addresses.
 */
function gemmWgsl(t: Tile, user: string, aRedFast: boolean, bRedFast: boolean): string {
  const TM = t.TR * t.RM;
  const TN = t.TC * t.RN;
  const slots = (T: number) => Math.ceil((KS * T) / WG);
  const coords = (T: number, redFast: boolean, j: string) => `
      let i = lid + ${j} * ${WG}u;
      let kk = ${redFast ? `i % ${KS}u` : `i / ${T}u`};
      let mm = ${redFast ? `i / ${KS}u` : `i % ${T}u`};`;
  const prep = (name: string, T: number, redFast: boolean, fn: string, origin: string, limit: string) => `
    var ${name}Info: array<${name === 'a' ? 'ARow' : 'BCol'}, ${slots(T)}>;
    var ${name}Ok: array<bool, ${slots(T)}>;
    for (var j = 0u; j < ${slots(T)}u; j++) {
      ${coords(T, redFast, 'j')}
      let q = ${origin} + mm;
      ${name}Ok[j] = i < ${KS * T}u && q < ${limit};
      if (${name}Ok[j]) { ${name}Info[j] = ${fn}(z, q); }
    }`;
  const load = (name: string, shared: string, T: number, redFast: boolean, fn: string) => `
    for (var j = 0u; j < ${slots(T)}u; j++) {
      ${coords(T, redFast, 'j')}
      if (i < ${KS * T}u) {
        let r = r0 + kk;
        var v = 0.0;
        if (${name}Ok[j] && r < rEnd) { v = ${fn}(${name}Info[j], r); }
        ${shared}[kk * ${T}u + mm] = v;
      }
    }`;
  return /* wgsl */ `
${dims}
${user}
var<workgroup> As: array<f32, ${KS * TM}>;
var<workgroup> Bs: array<f32, ${KS * TN}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let z = wid.z;
  let row0 = wid.x * ${TM}u;
  let col0 = wid.y * ${TN}u;
  let ty = lid / ${t.TC}u;
  let tx = lid % ${t.TC}u;
  let rr = redRange(z);
  let rEnd = rr.y;
  let nRows = rowsOf(z);
  ${prep('a', TM, aRedFast, 'aRow', 'row0', 'nRows')}
  ${prep('b', TN, bRedFast, 'bCol', 'col0', 'd.cols')}
  var acc: array<array<f32, ${t.RN}>, ${t.RM}>;
  for (var r0 = rr.x; r0 < rEnd; r0 += ${KS}u) {
    ${load('a', 'As', TM, aRedFast, 'loadA')}
    ${load('b', 'Bs', TN, bRedFast, 'loadB')}
    workgroupBarrier();
    for (var kk = 0u; kk < ${KS}u; kk++) {
      var a: array<f32, ${t.RM}>;
      var b: array<f32, ${t.RN}>;
      for (var i = 0u; i < ${t.RM}u; i++) { a[i] = As[kk * ${TM}u + ty * ${t.RM}u + i]; }
      for (var j = 0u; j < ${t.RN}u; j++) { b[j] = Bs[kk * ${TN}u + tx * ${t.RN}u + j]; }
      for (var i = 0u; i < ${t.RM}u; i++) {
        for (var j = 0u; j < ${t.RN}u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${t.RM}u; i++) {
    let row = row0 + ty * ${t.RM}u + i;
    if (row >= nRows) { continue; }
    for (var j = 0u; j < ${t.RN}u; j++) {
      let col = col0 + tx * ${t.RN}u + j;
      if (col < d.cols) { store(z, row, col, acc[i][j]); }
    }
  }
}
`;
}

/**
 * What a fused conv block (conv + bias + LeakyReLU, `convBlock`) adds to a plain conv's gradient kernels: dz =
 * dy ⊙ act'(z), read on the fly from the block's output y (LeakyReLU keeps the sign, so y > 0 ⟺ z > 0), and
 * the bias gradient Σ dz as one more row of the filter gradient's GEMM (whose A operand is 1 there).
 */
interface Fusion {
  /** LeakyReLU's negative slope; null: no activation (dz = dy, no y to read). */
  slope: number | null;
  bias: boolean;
}
const PLAIN: Fusion = { slope: null, bias: false };
/** A row index no tap reaches (ky − padT ≥ −kh). */
const BIAS_ROW = -1000000;
const wgslFloat = (v: number) => (Number.isInteger(v) ? `${v}.0` : `${v}`);
const yBinding = (f: Fusion) => (f.slope === null ? '' : "@group(0) @binding(4) var<storage, read> yAct: array<f32>; // [B,outH,outW,cout] the block's output");
const dz = (f: Fusion, i: string) => (f.slope === null ? `dy[${i}]` : `dy[${i}] * select(${wgslFloat(f.slope)}, 1.0, yAct[${i}] > 0.0)`);

/**
 * Filter gradient, chunk z: partials[z, k, co] = Σ_{m in chunk z} x(m shifted by k's tap, k's ci) · dy(m, co),
 * k = (ky·kw + kx)·cin + ci (the filter's row-major order), m = (b·outH + oy)·outW + ox.
 */
const filterUser = (f: Fusion = PLAIN) => /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;   // [B,inH,inW,cin]
@group(0) @binding(2) var<storage, read> dy: array<f32>;  // [B,outH,outW,cout]
@group(0) @binding(3) var<storage, read_write> partials: array<f32>; // [chunks, kh·kw·cin (+1: bias), cout]
${yBinding(f)}
fn rowsOf(z: u32) -> u32 { return d.rows; }
fn redRange(z: u32) -> vec2u { return vec2u(z * d.chunk, min((z + 1u) * d.chunk, d.red)); }
struct ARow { ci: u32, ky: i32, kx: i32 }
fn aRow(z: u32, k: u32) -> ARow {
  ${f.bias ? `if (k == d.rows - 1u) { return ARow(0u, ${BIAS_ROW}, 0); }` : ''}
  let tap = k / d.cin;
  return ARow(k % d.cin, i32(tap / d.kw) - d.padT, i32(tap % d.kw) - d.padL);
}
fn loadA(a: ARow, m: u32) -> f32 {
  ${f.bias ? `if (a.ky == ${BIAS_ROW}) { return 1.0; }` : ''}
  let ox = m % d.outW;
  let t = m / d.outW;
  let oy = t % d.outH;
  let b = t / d.outH;
  let iy = i32(oy * d.stride) + a.ky;
  let ix = i32(ox * d.stride) + a.kx;
  if (iy < 0 || ix < 0 || iy >= i32(d.inH) || ix >= i32(d.inW)) { return 0.0; }
  return x[((b * d.inH + u32(iy)) * d.inW + u32(ix)) * d.cin + a.ci];
}
struct BCol { co: u32 }
fn bCol(z: u32, co: u32) -> BCol { return BCol(co); }
fn loadB(c: BCol, m: u32) -> f32 { return ${dz(f, 'm * d.cout + c.co')}; }
fn store(z: u32, k: u32, co: u32, v: f32) { partials[(z * d.rows + k) * d.cols + co] = v; }
`;

/** dW[w] = Σ_chunk partials[chunk, w], chunks in order. */
const filterSumWgsl = (bias: boolean) => /* wgsl */ `
${dims}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read_write> db: array<f32>; // the last row of the partials' : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = gid.x + gid.y * nwg.x * ${WG}u;
  let weights = d.rows * d.cols;
  if (w >= weights) { return; }
  let chunks = (d.red + d.chunk - 1u) / d.chunk;
  var s = 0.0;
  for (var c = 0u; c < chunks; c++) { s += partials[c * weights + w]; }
  ${bias ? 'if (w < weights - d.cols) { dw[w] = s; } else { db[w - (weights - d.cols)] = s; }' : 'dw[w] = s;'}
}
`;

/**
 * Input gradient, class z = cy·stride + cx: the pixels (iy, ix) with (iy + padT) mod s = cy and
 * (ix + padL) mod s = cx, enumerated as row = (b·nY + ry)·nX + rx, iy = iy0 + s·ry; they meet the taps
 * ky = cy + s·jy, kx = cx + s·jx, reduction index r = (jy·(kw/s) + jx)·cout + co.
 */
const inputUser = (f: Fusion = PLAIN) => /* wgsl */ `
@group(0) @binding(1) var<storage, read> dy: array<f32>;  // [B,outH,outW,cout]
@group(0) @binding(2) var<storage, read> w: array<f32>;   // [kh,kw,cin,cout]
@group(0) @binding(3) var<storage, read_write> dx: array<f32>; // [B,inH,inW,cin]
${yBinding(f)}
struct Cls { y0: u32, x0: u32, nY: u32, nX: u32, cy: u32, cx: u32 }
fn cls(z: u32) -> Cls {
  let s = d.stride;
  let cy = z / s;
  let cx = z % s;
  let y0 = u32((i32(cy) - d.padT % i32(s) + i32(s)) % i32(s));
  let x0 = u32((i32(cx) - d.padL % i32(s) + i32(s)) % i32(s));
  var nY = 0u;
  var nX = 0u;
  if (y0 < d.inH) { nY = (d.inH - y0 + s - 1u) / s; }
  if (x0 < d.inW) { nX = (d.inW - x0 + s - 1u) / s; }
  return Cls(y0, x0, nY, nX, cy, cx);
}
fn rowsOf(z: u32) -> u32 { let c = cls(z); return d.batch * c.nY * c.nX; }
fn redRange(z: u32) -> vec2u { return vec2u(0u, d.red); }
/** The tap of reduction index r = (jy·(kw/s) + jx)·cout + co in class (cy, cx): (ky, kx, co). */
fn tapOf(cy: u32, cx: u32, r: u32) -> vec3u {
  let j = r / d.cout;
  let tw = d.kw / d.stride;
  return vec3u(cy + d.stride * (j / tw), cx + d.stride * (j % tw), r - j * d.cout);
}
/** A row: its batch and its pixel shifted by the padding (iy + padT, ix + padL). */
struct ARow { b: u32, py: i32, px: i32, cy: u32, cx: u32 }
fn aRow(z: u32, row: u32) -> ARow {
  let c = cls(z);
  let rx = row % c.nX;
  let t = row / c.nX;
  let ry = t % c.nY;
  return ARow(t / c.nY, i32(c.y0 + d.stride * ry) + d.padT, i32(c.x0 + d.stride * rx) + d.padL, c.cy, c.cx);
}
fn loadA(a: ARow, r: u32) -> f32 {
  let k = tapOf(a.cy, a.cx, r);
  let oy = (a.py - i32(k.x)) / i32(d.stride);
  let ox = (a.px - i32(k.y)) / i32(d.stride);
  if (oy < 0 || ox < 0 || oy >= i32(d.outH) || ox >= i32(d.outW)) { return 0.0; }
  return ${dz(f, '((a.b * d.outH + u32(oy)) * d.outW + u32(ox)) * d.cout + k.z')};
}
struct BCol { ci: u32, cy: u32, cx: u32 }
fn bCol(z: u32, ci: u32) -> BCol { return BCol(ci, z / d.stride, z % d.stride); }
fn loadB(c: BCol, r: u32) -> f32 {
  let k = tapOf(c.cy, c.cx, r);
  return w[((k.x * d.kw + k.y) * d.cin + c.ci) * d.cout + k.z];
}
fn store(z: u32, row: u32, ci: u32, v: f32) {
  let c = cls(z);
  let rx = row % c.nX;
  let t = row / c.nX;
  let ry = t % c.nY;
  let b = t / c.nY;
  dx[((b * d.inH + c.y0 + d.stride * ry) * d.inW + c.x0 + d.stride * rx) * d.cin + ci] = v;
}
`;

/**
 * Forward, one GEMM: rows = output positions m = (b·outH + oy)·outW + ox, columns = cout, reduction index
 * r = (ky·kw + kx)·cin + ci (the filter's row-major order, so B is the filter read as [kh·kw·cin, cout]);
 * bias and the activation are applied as each output is stored.
 */
const forwardUser = (slope: number | null) => /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;    // [B,inH,inW,cin]
@group(0) @binding(2) var<storage, read> w: array<f32>;    // [kh,kw,cin,cout]
@group(0) @binding(3) var<storage, read> bias: array<f32>; // [cout]
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [B,outH,outW,cout]
fn rowsOf(z: u32) -> u32 { return d.rows; }
fn redRange(z: u32) -> vec2u { return vec2u(0u, d.red); }
struct ARow { base: u32, iy0: i32, ix0: i32 }
fn aRow(z: u32, m: u32) -> ARow {
  let ox = m % d.outW;
  let t = m / d.outW;
  return ARow((t / d.outH) * d.inH, i32((t % d.outH) * d.stride) - d.padT, i32(ox * d.stride) - d.padL);
}
fn loadA(a: ARow, r: u32) -> f32 {
  let tap = r / d.cin;
  let ci = r - tap * d.cin;
  let iy = a.iy0 + i32(tap / d.kw);
  let ix = a.ix0 + i32(tap % d.kw);
  if (iy < 0 || ix < 0 || iy >= i32(d.inH) || ix >= i32(d.inW)) { return 0.0; }
  return x[((a.base + u32(iy)) * d.inW + u32(ix)) * d.cin + ci];
}
struct BCol { co: u32 }
fn bCol(z: u32, co: u32) -> BCol { return BCol(co); }
fn loadB(c: BCol, r: u32) -> f32 { return w[r * d.cout + c.co]; }
fn store(z: u32, m: u32, co: u32, v: f32) {
  let s = v + bias[co];
  y[m * d.cout + co] = ${slope === null ? 's' : `select(${slope.toExponential()} * s, s, s > 0.0)`};
}
`;

function uniforms(
  device: GPUDevice,
  label: string,
  /** The convolution's geometry, as tfjs computes it for the same shapes. */
  c: tf.backend_util.Conv2DInfo,
  /** The GEMM each kernel runs: its rows, columns, reduction length and chunk of the reduction. */
  g: { rows: number; cols: number; red: number; chunk: number },
): GPUBuffer {
  const u = device.createBuffer({ size: 64, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label });
  const ub = new ArrayBuffer(64);
  new Uint32Array(ub).set([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterWidth,
    c.strideHeight,
    0,
    0,
    g.rows,
    g.cols,
    g.red,
    g.chunk,
    c.filterHeight,
  ]);
  new Int32Array(ub, 36, 2).set([c.padInfo.top, c.padInfo.left]);
  device.queue.writeBuffer(u, 0, ub);
  return u;
}

function checkGrid(n: number, what: string): number {
  if (n > 65535) throw new Error(`${what}: ${n} workgroups along one grid axis (the limit is 65535)`);
  return n;
}

/** ∂L/∂W of a 'same' conv2d of x [B,H,W,cin] with a filter of `filterShape`, given dy [B,outH,outW,cout]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], stride: number): tf.Tensor4D {
  return filterGrad(x, dy, filterShape, stride, PLAIN, null).dw;
}

/** The filter gradient, and with `f.bias` the bias gradient; with `f.slope` set, dy is the block output's and y its value. */
function filterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  stride: number,
  f: Fusion,
  y: tf.Tensor4D | null,
): { dw: tf.Tensor4D; db: tf.Tensor1D | null } {
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, stride, 1, 'same');
  const [B, , , cin] = x.shape;
  const [kh, kw, , cout] = filterShape;
  const { outHeight: outH, outWidth: outW } = info;
  if (dy.shape[1] !== outH || dy.shape[2] !== outW || dy.shape[3] !== cout)
    throw new Error(`conv2dFilterGrad: dy is [${dy.shape}], expected [${B},${outH},${outW},${cout}]`);
  const rows = kh * kw * cin + (f.bias ? 1 : 0);
  const weights = rows * cout;
  const positions = B * outH * outW;
  const chunks = Math.ceil(positions / CHUNK);
  const { device } = getGpuSync();
  const u = uniforms(device, 'conv-filter-grad', info, { rows, cols: cout, red: positions, chunk: CHUNK });
  const partials = acquireTensorBuffer([chunks, weights]);
  const dw = acquireTensorBuffer(filterShape);
  const db = f.bias ? acquireTensorBuffer([cout]) : null;
  const t = cout <= 8 ? { TR: 32, TC: 8, RM: 8, RN: 1 } : SQUARE;
  const p1 = getPipelineSync(device, { code: gemmWgsl(t, filterUser(f), false, false), entryPoint: 'main', label: 'conv-filter-partials' });
  const p2 = getPipelineSync(device, { code: filterSumWgsl(f.bias), entryPoint: 'main', label: 'conv-filter-sum' });
  const enc = device.createCommandEncoder({ label: 'conv-filter-grad' });
  const pass = enc.beginComputePass();
  pass.setPipeline(p1);
  const b1: Record<number, GPUBuffer> = { 0: u, 1: tensorBuffer(x), 2: tensorBuffer(dy), 3: partials };
  if (f.slope !== null) b1[4] = tensorBuffer(y!);
  pass.setBindGroup(0, bindGroup(device, p1, b1));
  pass.dispatchWorkgroups(
    checkGrid(Math.ceil(rows / (t.TR * t.RM)), 'conv2dFilterGrad'),
    checkGrid(Math.ceil(cout / (t.TC * t.RN)), 'conv2dFilterGrad'),
    checkGrid(chunks, 'conv2dFilterGrad'),
  );
  pass.setPipeline(p2);
  const b2: Record<number, GPUBuffer> = { 0: u, 1: partials, 2: dw };
  if (db) b2[3] = db;
  pass.setBindGroup(0, bindGroup(device, p2, b2));
  const [gx, gy] = grid(Math.ceil(weights / WG));
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  device.queue.submit([enc.finish()]);
  u.destroy(); // freed once the submitted work is done
  adoptBuffer(partials, [chunks, weights]).dispose();
  return { dw: adoptBuffer<tf.Rank.R4>(dw, filterShape), db: db ? adoptBuffer<tf.Rank.R1>(db, [cout]) : null };
}

/**
 * act(conv2d(x, filter, stride, 'same') + bias) as one kernel, act = LeakyReLU(slope) or none (slope null).
 * Forward only (no gradient): conv2dSame decides whether the discriminator uses it (`convOptions.forward`).
 */
export function conv2dForward(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  opts: { bias?: tf.Tensor1D | null; leakySlope?: number | null } = {},
): tf.Tensor4D {
  const [kh, kw, cin, cout] = filter.shape;
  if (x.shape[3] !== cin) throw new Error(`conv2dForward: x has ${x.shape[3]} channels, the filter ${cin}`);
  if (opts.bias && opts.bias.shape[0] !== cout) throw new Error(`conv2dForward: bias has ${opts.bias.shape[0]} entries, the filter ${cout} outputs`);
  const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, stride, 1, 'same');
  const yShape: [number, number, number, number] = [x.shape[0], info.outHeight, info.outWidth, cout];
  const rows = yShape[0] * yShape[1] * yShape[2];
  const { device } = getGpuSync();
  const u = uniforms(device, 'conv-forward', info, { rows, cols: cout, red: kh * kw * cin, chunk: 0 });
  const zeros = opts.bias ? null : tf.zeros([cout]);
  const y = acquireTensorBuffer(yShape);
  // Columns per tile matched to cout (32, 64+, ≤ 8), so that few threads idle on the discriminator's widths.
  const t: Tile = cout <= 8 ? NARROW : cout <= 32 ? { TR: 32, TC: 8, RM: 4, RN: 4 } : SQUARE;
  const p = getPipelineSync(device, { code: gemmWgsl(t, forwardUser(opts.leakySlope ?? null), true, false), entryPoint: 'main', label: 'conv-forward' });
  const biasBuf = tensorBuffer(opts.bias ?? zeros!);
  const enc = device.createCommandEncoder({ label: 'conv-forward' });
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, bindGroup(device, p, { 0: u, 1: tensorBuffer(x), 2: tensorBuffer(filter), 3: biasBuf, 4: y }));
  pass.dispatchWorkgroups(checkGrid(Math.ceil(rows / (t.TR * t.RM)), 'conv2dForward'), checkGrid(Math.ceil(cout / (t.TC * t.RN)), 'conv2dForward'), 1);
  pass.end();
  device.queue.submit([enc.finish()]);
  u.destroy();
  zeros?.dispose(); // its buffer returns to tfjs's pool only after the submitted work
  return adoptBuffer<tf.Rank.R4>(y, yShape);
}

/** Whether `conv2dInputGrad` has a kernel for this filter and stride (else it defers to tfjs). */
function classSplits(kh: number, kw: number, stride: number): boolean {
  return kh % stride === 0 && kw % stride === 0;
}

/**
 * Which input gradient conv2dSame uses on webgpu: 'tiled' (conv2dInputGrad's kernel) or 'tfjs' (conv2dTranspose).
 * On lavapipe the tiled kernel costs about 2× tfjs's naive one (workgroup memory and barriers are expensive on a
 * CPU); on a GPU the tiling should pay, but that is unmeasured: `gae bench discriminator` times both per layer,
 * and `--input-grad tfjs` times a whole step with tfjs's.
 */
export const convOptions: { inputGrad: 'tiled' | 'tfjs' } = { inputGrad: 'tiled' };

/** ∂L/∂x of a 'same' conv2d of an input of shape `xShape` with `filter`, given dy [B,outH,outW,cout]. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: [number, number, number, number], stride: number): tf.Tensor4D {
  return inputGrad(dy, filter, xShape, stride, PLAIN, null);
}

/** The input gradient; with `f.slope` set, dy is the block output's and y its value (dz = dy ⊙ act'). */
function inputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  f: Fusion,
  y: tf.Tensor4D | null,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = filter.shape;
  if (tf.getBackend() !== 'webgpu' || !classSplits(kh, kw, stride)) {
    return tf.tidy(() => {
      const dzt = (f.slope === null ? dy : tf.mul(dy, tf.where(tf.greater(y!, 0), tf.onesLike(y!), tf.fill(y!.shape, f.slope)))) as tf.Tensor4D;
      return tf.conv2dTranspose(dzt, filter, xShape, stride, 'same') as tf.Tensor4D;
    });
  }
  const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, stride, 1, 'same');
  const [B, inH, inW] = xShape;
  const { outHeight: outH, outWidth: outW } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== outH || dy.shape[2] !== outW || dy.shape[3] !== cout)
    throw new Error(`conv2dInputGrad: dy is [${dy.shape}], expected [${B},${outH},${outW},${cout}]`);
  const taps = (kh / stride) * (kw / stride);
  const maxRows = B * Math.ceil(inH / stride) * Math.ceil(inW / stride);
  const { device } = getGpuSync();
  const u = uniforms(device, 'conv-input-grad', info, { rows: 0, cols: cin, red: taps * cout, chunk: 0 });
  const dx = acquireTensorBuffer(xShape);
  const t = cin <= 8 ? NARROW : SQUARE;
  const p = getPipelineSync(device, { code: gemmWgsl(t, inputUser(f), true, true), entryPoint: 'main', label: 'conv-input-grad' });
  const enc = device.createCommandEncoder({ label: 'conv-input-grad' });
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  const bs: Record<number, GPUBuffer> = { 0: u, 1: tensorBuffer(dy), 2: tensorBuffer(filter), 3: dx };
  if (f.slope !== null) bs[4] = tensorBuffer(y!);
  pass.setBindGroup(0, bindGroup(device, p, bs));
  pass.dispatchWorkgroups(
    checkGrid(Math.ceil(maxRows / (t.TR * t.RM)), 'conv2dInputGrad'),
    checkGrid(Math.ceil(cin / (t.TC * t.RN)), 'conv2dInputGrad'),
    stride * stride,
  );
  pass.end();
  device.queue.submit([enc.finish()]);
  u.destroy();
  return adoptBuffer<tf.Rank.R4>(dx, xShape);
}

/** Which gradients a convolution's caller needs: the input's (x) and the filter's (w). Both by default. */
export interface ConvGrads {
  x?: boolean;
  w?: boolean;
}

/**
 * tf.conv2d(x, filter, stride, 'same'), with the gradients above on the webgpu backend. A gradient switched
 * off in `grads` is not computed: its operand is treated as a constant (gradients do not reach it).
 */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, grads: ConvGrads = {}): tf.Tensor4D {
  if (tf.getBackend() !== 'webgpu') return tf.conv2d(x, filter, stride, 'same');
  const wantX = grads.x ?? true;
  const wantW = grads.w ?? true;
  if (!wantX && !wantW) return tf.conv2d(x, filter, stride, 'same');
  const fShape = filter.shape as [number, number, number, number];
  const xShape = x.shape as [number, number, number, number];
  // customGrad's inputs are the operands that get a gradient; a constant one is closed over.
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const ins = args.slice(0, -1) as tf.Tensor4D[];
    const save = args.at(-1) as (t: tf.Tensor[]) => void;
    const xi = wantX ? ins[0]! : x;
    const wi = wantW ? ins.at(-1)! : filter;
    save([xi, wi]);
    return {
      value: tf.conv2d(xi, wi, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const out: tf.Tensor[] = [];
        if (wantX)
          out.push(
            convOptions.inputGrad === 'tfjs'
              ? tf.conv2dTranspose(dy as tf.Tensor4D, ws, xShape, stride, 'same')
              : conv2dInputGrad(dy as tf.Tensor4D, ws, xShape, stride),
          );
        if (wantW) out.push(conv2dFilterGrad(xs, dy as tf.Tensor4D, fShape, stride));
        return out;
      },
    };
  });
  const inputs = [...(wantX ? [x] : []), ...(wantW ? [filter] : [])];
  return f(...inputs) as tf.Tensor4D;
}

/**
 * A discriminator block, act(conv2d(x, filter, stride, 'same') + bias) with act = LeakyReLU(slope) or none (slope
 * null), as one forward kernel (`conv2dForward`) and two backward kernels: the input gradient and the filter
 * gradient with the bias gradient as its extra row, both reading dz = dy ⊙ act' from the block's output instead of
 * materialising it. The same value and gradients as the separate ops (conv2dSame, add, leakyRelu) up to float32
 * rounding (tested). `grads` as conv2dSame's; `w` covers the bias too.
 */
export function convBlock(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number, slope: number | null, grads: ConvGrads = {}): tf.Tensor4D {
  if (tf.getBackend() !== 'webgpu') {
    return tf.tidy(() => {
      const z = tf.add(tf.conv2d(x, filter, stride, 'same'), bias) as tf.Tensor4D;
      return slope === null ? z : (tf.leakyRelu(z, slope) as tf.Tensor4D);
    });
  }
  const wantX = grads.x ?? true;
  const wantW = grads.w ?? true;
  if (!wantX && !wantW) return conv2dForward(x, filter, stride, { bias, leakySlope: slope });
  const fShape = filter.shape as [number, number, number, number];
  const xShape = x.shape as [number, number, number, number];
  const f = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
    const ins = args.slice(0, -1) as tf.Tensor[];
    const save = args.at(-1) as (t: tf.Tensor[]) => void;
    const xi = (wantX ? ins[0]! : x) as tf.Tensor4D;
    const [wi, bi] = (wantW ? ins.slice(-2) : [filter, bias]) as [tf.Tensor4D, tf.Tensor1D];
    const y = conv2dForward(xi, wi, stride, { bias: bi, leakySlope: slope });
    save([xi, wi, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, ys] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const fusion: Fusion = { slope, bias: true };
        const out: tf.Tensor[] = [];
        if (wantX) out.push(inputGrad(dy as tf.Tensor4D, ws, xShape, stride, fusion, ys));
        if (wantW) {
          const g = filterGrad(xs, dy as tf.Tensor4D, fShape, stride, fusion, ys);
          out.push(g.dw, g.db!);
        }
        return out;
      },
    };
  });
  const inputs = [...(wantX ? [x] : []), ...(wantW ? [filter, bias] : [])];
  return f(...inputs) as tf.Tensor4D;
}
