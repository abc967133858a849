/**
 * The reconstruction's image term, L = (1 − λ)·mean|x − y| + λ·(1 − mean SSIM(x, y)), its value and its
 * gradient with respect to the render x, in three dispatches (tfjs spends ~60 ops on the same, forward and
 * backward, and its whole-tensor reductions run on one workgroup).
 *
 * SSIM as 3DGS computes it: 11×11 Gaussian window (σ 1.5) as a zero-padded 'same' convolution, per channel,
 * C1 = 0.01², C2 = 0.03², averaged over all H·W·3 map entries. The window is separable, so every blur is a
 * horizontal pass then a vertical one; both run inside one workgroup on a 16×16 tile and its 5-pixel halo held
 * in workgroup memory, so each input is read from global memory about (26/16)² ≈ 2.6 times instead of 11.
 *
 * Gradient. Per pixel p the map is S = A1·A2 / (B1·B2) with μx = w⋆x, Exx = w⋆x², Exy = w⋆(x·y), …:
 *   A1 = 2 μx μy + C1,  A2 = 2 (Exy − μx μy) + C2,  B1 = μx² + μy² + C1,  B2 = Exx − μx² + Eyy − μy² + C2.
 * Treating μx, Exx, Exy as the independent inputs of S:
 *   a = ∂S/∂μx  = S · (2μy/A1 − 2μy/A2 − 2μx/B1 + 2μx/B2)
 *   b = ∂S/∂Exx = −S / B2
 *   c = ∂S/∂Exy = 2S / A2
 * and since the zero-padded blur is its own adjoint (w is symmetric), for every pixel q
 *   ∂(Σ_p S)/∂x(q) = (w⋆a)(q) + 2 x(q) (w⋆b)(q) + y(q) (w⋆c)(q),
 * where the blur of (a, b, c) sums over pixels p inside the image only (zero outside).
 *
 * Dispatches: `lossForward` (tile: blur the five moments, write (a, b, c) and the tile's Σ|x − y|, Σ S),
 * `lossGrad` (tile: blur (a, b, c), write ∂L/∂x), `lossTotal` (one workgroup: the partial sums in a fixed
 * order → total, mean L1, mean SSIM). Every sum has a fixed order, so results are deterministic.
 */
export const LOSS_TILE = 16;
/** Threads of `lossTotal`. */
export const LOSS_TOTAL_WG = 256;

/** Normalised 1-D Gaussian weights, 11 taps, σ = 1.5 (the 2-D window is their outer product). */
export function gaussianWeights1d(size = 11, sigma = 1.5): number[] {
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size >> 1)) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

const T = LOSS_TILE;
const R = 5;
const S = T + 2 * R; // halo side
const HALO = S * S; // pixels of a tile with its halo
const HROWS = S * T; // entries of the horizontal pass: every halo row, the tile's columns

const common = /* wgsl */ `
struct Dims { width: u32, height: u32, tilesX: u32, tiles: u32, lambda: f32, invCount: f32, _c: f32, _d: f32 }
@group(0) @binding(0) var<uniform> d: Dims;
const W = array<f32, 11>(${gaussianWeights1d()
  .map((w) => w.toPrecision(9))
  .join(', ')});
const C1: f32 = 0.0001;
const C2: f32 = 0.0009;
`;

/** The halo pixel i of tile `wid` as a global index, or -1 outside the image. */
const haloPixel = /* wgsl */ `
fn haloPixel(wid: vec2u, i: u32) -> i32 {
  let hx = i32(wid.x * ${T}u) - ${R} + i32(i % ${S}u);
  let hy = i32(wid.y * ${T}u) - ${R} + i32(i / ${S}u);
  if (hx < 0 || hy < 0 || hx >= i32(d.width) || hy >= i32(d.height)) { return -1; }
  return hy * i32(d.width) + hx;
}
`;

/** Pass 1: SSIM map terms (a, b, c) [9][P] (planar: channel·3 + term) and each tile's (Σ|x − y|, Σ S). */
export const lossForward = /* wgsl */ `
${common}
${haloPixel}
@group(0) @binding(1) var<storage, read> x: array<f32>;   // [H,W,3] render
@group(0) @binding(2) var<storage, read> y: array<f32>;   // [H,W,3] target
@group(0) @binding(3) var<storage, read_write> terms: array<f32>;    // [9,H·W]
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // [tiles,2]
var<workgroup> sx: array<f32, ${HALO}>;
var<workgroup> sy: array<f32, ${HALO}>;
var<workgroup> hb: array<f32, ${5 * HROWS}>; // [5 moments][S rows][T cols]
var<workgroup> red: array<vec2f, ${T * T}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid3: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let wid = wid3.xy;
  let gx = wid.x * ${T}u + lid.x;
  let gy = wid.y * ${T}u + lid.y;
  let inside = gx < d.width && gy < d.height;
  let P = d.width * d.height;
  let p = gy * d.width + gx;
  var l1 = 0.0;
  var ssimSum = 0.0;
  for (var c = 0u; c < 3u; c++) {
    for (var i = li; i < ${HALO}u; i += ${T * T}u) {
      let q = haloPixel(wid, i);
      var xv = 0.0; var yv = 0.0;
      if (q >= 0) { xv = x[u32(q) * 3u + c]; yv = y[u32(q) * 3u + c]; }
      sx[i] = xv; sy[i] = yv;
    }
    workgroupBarrier();
    for (var i = li; i < ${HROWS}u; i += ${T * T}u) {
      let row = (i / ${T}u) * ${S}u + i % ${T}u;
      var s0 = 0.0; var s1 = 0.0; var s2 = 0.0; var s3 = 0.0; var s4 = 0.0;
      for (var k = 0u; k < 11u; k++) {
        let w = W[k]; let xv = sx[row + k]; let yv = sy[row + k];
        s0 += w * xv; s1 += w * yv; s2 += w * xv * xv; s3 += w * yv * yv; s4 += w * xv * yv;
      }
      hb[i] = s0; hb[${HROWS}u + i] = s1; hb[${2 * HROWS}u + i] = s2; hb[${3 * HROWS}u + i] = s3; hb[${4 * HROWS}u + i] = s4;
    }
    workgroupBarrier();
    var mx = 0.0; var my = 0.0; var exx = 0.0; var eyy = 0.0; var exy = 0.0;
    for (var k = 0u; k < 11u; k++) {
      let j = (lid.y + k) * ${T}u + lid.x;
      let w = W[k];
      mx += w * hb[j]; my += w * hb[${HROWS}u + j]; exx += w * hb[${2 * HROWS}u + j]; eyy += w * hb[${3 * HROWS}u + j]; exy += w * hb[${4 * HROWS}u + j];
    }
    if (inside) {
      let a1 = 2.0 * mx * my + C1;
      let a2 = 2.0 * (exy - mx * my) + C2;
      let b1 = mx * mx + my * my + C1;
      let b2 = (exx - mx * mx) + (eyy - my * my) + C2;
      let S = (a1 * a2) / (b1 * b2);
      ssimSum += S;
      terms[(c * 3u) * P + p] = S * (2.0 * my / a1 - 2.0 * my / a2 - 2.0 * mx / b1 + 2.0 * mx / b2);
      terms[(c * 3u + 1u) * P + p] = -S / b2;
      terms[(c * 3u + 2u) * P + p] = 2.0 * S / a2;
      let centre = (lid.y + ${R}u) * ${S}u + lid.x + ${R}u;
      l1 += abs(sx[centre] - sy[centre]);
    }
    workgroupBarrier();
  }
  red[li] = vec2f(l1, ssimSum);
  workgroupBarrier();
  for (var s = ${(T * T) / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    let t = wid.y * d.tilesX + wid.x;
    partials[2u * t] = red[0].x;
    partials[2u * t + 1u] = red[0].y;
  }
}
`;

/** Pass 2: blur of (a, b, c) over each tile and its halo → ∂L/∂x [H,W,3] for a unit upstream gradient. */
export const lossGrad = /* wgsl */ `
${common}
${haloPixel}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> terms: array<f32>; // [9,H·W]
@group(0) @binding(4) var<storage, read_write> grad: array<f32>; // [H,W,3]
var<workgroup> st: array<f32, ${3 * HALO}>;
var<workgroup> hb: array<f32, ${3 * HROWS}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid3: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let wid = wid3.xy;
  let gx = wid.x * ${T}u + lid.x;
  let gy = wid.y * ${T}u + lid.y;
  let inside = gx < d.width && gy < d.height;
  let P = d.width * d.height;
  let p = gy * d.width + gx;
  for (var c = 0u; c < 3u; c++) {
    for (var i = li; i < ${HALO}u; i += ${T * T}u) {
      let q = haloPixel(wid, i);
      var ta = 0.0; var tb = 0.0; var tc = 0.0;
      if (q >= 0) { ta = terms[(c * 3u) * P + u32(q)]; tb = terms[(c * 3u + 1u) * P + u32(q)]; tc = terms[(c * 3u + 2u) * P + u32(q)]; }
      st[i] = ta; st[${HALO}u + i] = tb; st[${2 * HALO}u + i] = tc;
    }
    workgroupBarrier();
    for (var i = li; i < ${HROWS}u; i += ${T * T}u) {
      let row = (i / ${T}u) * ${S}u + i % ${T}u;
      var s0 = 0.0; var s1 = 0.0; var s2 = 0.0;
      for (var k = 0u; k < 11u; k++) {
        let w = W[k];
        s0 += w * st[row + k]; s1 += w * st[${HALO}u + row + k]; s2 += w * st[${2 * HALO}u + row + k];
      }
      hb[i] = s0; hb[${HROWS}u + i] = s1; hb[${2 * HROWS}u + i] = s2;
    }
    workgroupBarrier();
    var ba = 0.0; var bb = 0.0; var bc = 0.0;
    for (var k = 0u; k < 11u; k++) {
      let j = (lid.y + k) * ${T}u + lid.x;
      let w = W[k];
      ba += w * hb[j]; bb += w * hb[${HROWS}u + j]; bc += w * hb[${2 * HROWS}u + j];
    }
    if (inside) {
      let i = p * 3u + c;
      let xv = x[i]; let yv = y[i];
      let dSsim = ba + 2.0 * xv * bb + yv * bc;
      grad[i] = ((1.0 - d.lambda) * sign(xv - yv) - d.lambda * dSsim) * d.invCount;
    }
    workgroupBarrier();
  }
}
`;

/** Pass 3: the tiles' partial sums in a fixed order → total, mean |x − y| and mean SSIM (one value each). */
export const lossTotal = /* wgsl */ `
${common}
@group(0) @binding(1) var<storage, read> partials: array<f32>; // [tiles,2]
@group(0) @binding(2) var<storage, read_write> total: array<f32>; // [1]
@group(0) @binding(3) var<storage, read_write> l1: array<f32>;    // [1]
@group(0) @binding(4) var<storage, read_write> ssim: array<f32>;  // [1]
var<workgroup> red: array<vec2f, ${LOSS_TOTAL_WG}>;
@compute @workgroup_size(${LOSS_TOTAL_WG})
fn main(@builtin(local_invocation_index) li: u32) {
  var s = vec2f(0.0);
  for (var t = li; t < d.tiles; t += ${LOSS_TOTAL_WG}u) { s += vec2f(partials[2u * t], partials[2u * t + 1u]); }
  red[li] = s;
  workgroupBarrier();
  for (var k = ${LOSS_TOTAL_WG / 2}u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) {
    let m = red[0] * d.invCount;
    l1[0] = m.x;
    ssim[0] = m.y;
    total[0] = (1.0 - d.lambda) * m.x + d.lambda * (1.0 - m.y);
  }
}
`;
