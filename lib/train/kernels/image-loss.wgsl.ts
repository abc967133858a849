/**
 * The reconstruction's image term, L = (1 − λ)·mean|x − y| + λ·(1 − mean SSIM(x, y)), and its gradient
 * with respect to the render x, in four passes (tfjs spends ~60 ops on the same, forward and backward).
 *
 * SSIM as 3DGS computes it: 11×11 Gaussian window (σ 1.5) as a zero-padded 'same' convolution, per channel,
 * C1 = 0.01², C2 = 0.03², averaged over all H·W·3 map entries. The window is separable, so every blur is a
 * horizontal pass then a vertical one.
 *
 * Gradient. Per pixel p the map is S = A1·A2 / (B1·B2) with μx = w⋆x, Exx = w⋆x², Exy = w⋆(x·y), …:
 *   A1 = 2 μx μy + C1,  A2 = 2 (Exy − μx μy) + C2,  B1 = μx² + μy² + C1,  B2 = Exx − μx² + Eyy − μy² + C2.
 * Treating μx, Exx, Exy as the independent inputs of S:
 *   a = ∂S/∂μx  = S · (2μy/A1 − 2μy/A2 − 2μx/B1 + 2μx/B2)
 *   b = ∂S/∂Exx = −S / B2
 *   c = ∂S/∂Exy = 2S / A2
 * and since the zero-padded blur is its own adjoint (w is symmetric), for every pixel q
 *   ∂(Σ_p S)/∂x(q) = (w⋆a)(q) + 2 x(q) (w⋆b)(q) + y(q) (w⋆c)(q).
 * So: pass 1 blurs (x, y, x², y², xy) horizontally; pass 2 blurs vertically and writes S, |x − y| and
 * (a, b, c); pass 3 blurs (a, b, c) horizontally; pass 4 blurs vertically and writes ∂L/∂x.
 */
export const LOSS_WG = 64;

const common = /* wgsl */ `
struct Dims { width: u32, height: u32, _a: u32, _b: u32, lambda: f32, invCount: f32, _c: f32, _d: f32 }
@group(0) @binding(0) var<uniform> d: Dims;
const R: i32 = 5;
const W = array<f32, 11>(WEIGHTS);
const C1: f32 = 0.0001;
const C2: f32 = 0.0009;
fn pix(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${LOSS_WG}u; }
`;

/** Normalised 1-D Gaussian weights, 11 taps, σ = 1.5 (the 2-D window is their outer product). */
export function gaussianWeights1d(size = 11, sigma = 1.5): number[] {
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size >> 1)) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

function withWeights(src: string): string {
  return src.replace('WEIGHTS', gaussianWeights1d().map((w) => w.toPrecision(9)).join(', '));
}

/** Pass 1: horizontal blur of (x, y, x², y², xy) per channel → h1 [H,W,3,5]. */
export const lossBlurH1 = withWeights(/* wgsl */ `
${common}
@group(0) @binding(1) var<storage, read> x: array<f32>;   // [H,W,3] render
@group(0) @binding(2) var<storage, read> y: array<f32>;   // [H,W,3] target
@group(0) @binding(3) var<storage, read_write> h1: array<f32>; // [H,W,3,5]
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pix(gid, nwg);
  if (p >= d.width * d.height) { return; }
  let px = i32(p % d.width);
  let row = p - u32(px);
  for (var c = 0u; c < 3u; c++) {
    var s = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
    for (var k = -R; k <= R; k++) {
      let qx = px + k;
      if (qx < 0 || qx >= i32(d.width)) { continue; }
      let q = (row + u32(qx)) * 3u + c;
      let w = W[k + R];
      let xv = x[q]; let yv = y[q];
      s[0] += w * xv; s[1] += w * yv; s[2] += w * xv * xv; s[3] += w * yv * yv; s[4] += w * xv * yv;
    }
    for (var j = 0u; j < 5u; j++) { h1[(p * 3u + c) * 5u + j] = s[j]; }
  }
}
`);

/** Pass 2: vertical blur → SSIM map terms; writes per-pixel (Σ_c |x − y|, Σ_c S) and (a, b, c) per channel. */
export const lossSsim = withWeights(/* wgsl */ `
${common}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> h1: array<f32>;        // [H,W,3,5]
@group(0) @binding(4) var<storage, read_write> terms: array<f32>; // [H,W,3,3] (a, b, c)
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;  // [H,W,2] (Σ_c |x − y|, Σ_c S)
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pix(gid, nwg);
  if (p >= d.width * d.height) { return; }
  let py = i32(p / d.width);
  let px = p % d.width;
  var l1 = 0.0;
  var ssimSum = 0.0;
  for (var c = 0u; c < 3u; c++) {
    var s = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
    for (var k = -R; k <= R; k++) {
      let qy = py + k;
      if (qy < 0 || qy >= i32(d.height)) { continue; }
      let q = (u32(qy) * d.width + px) * 3u + c;
      let w = W[k + R];
      for (var j = 0u; j < 5u; j++) { s[j] += w * h1[q * 5u + j]; }
    }
    let mx = s[0]; let my = s[1];
    let a1 = 2.0 * mx * my + C1;
    let a2 = 2.0 * (s[4] - mx * my) + C2;
    let b1 = mx * mx + my * my + C1;
    let b2 = (s[2] - mx * mx) + (s[3] - my * my) + C2;
    let S = (a1 * a2) / (b1 * b2);
    ssimSum += S;
    let t = (p * 3u + c) * 3u;
    terms[t] = S * (2.0 * my / a1 - 2.0 * my / a2 - 2.0 * mx / b1 + 2.0 * mx / b2);
    terms[t + 1u] = -S / b2;
    terms[t + 2u] = 2.0 * S / a2;
    l1 += abs(x[p * 3u + c] - y[p * 3u + c]);
  }
  sums[2u * p] = l1;
  sums[2u * p + 1u] = ssimSum;
}
`);

/** Pass 3: horizontal blur of the (a, b, c) terms → h2 [H,W,3,3]. */
export const lossBlurH2 = withWeights(/* wgsl */ `
${common}
@group(0) @binding(1) var<storage, read> terms: array<f32>;
@group(0) @binding(2) var<storage, read_write> h2: array<f32>;
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pix(gid, nwg);
  if (p >= d.width * d.height) { return; }
  let px = i32(p % d.width);
  let row = p - u32(px);
  for (var j = 0u; j < 9u; j++) {
    var s = 0.0;
    for (var k = -R; k <= R; k++) {
      let qx = px + k;
      if (qx < 0 || qx >= i32(d.width)) { continue; }
      s += W[k + R] * terms[(row + u32(qx)) * 9u + j];
    }
    h2[p * 9u + j] = s;
  }
}
`);

/** Pass 4: vertical blur of the terms and the gradient ∂L/∂x [H,W,3] (for a unit upstream gradient). */
export const lossGrad = withWeights(/* wgsl */ `
${common}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> h2: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pix(gid, nwg);
  if (p >= d.width * d.height) { return; }
  let py = i32(p / d.width);
  let px = p % d.width;
  for (var c = 0u; c < 3u; c++) {
    var ba = 0.0; var bb = 0.0; var bc = 0.0;
    for (var k = -R; k <= R; k++) {
      let qy = py + k;
      if (qy < 0 || qy >= i32(d.height)) { continue; }
      let q = ((u32(qy) * d.width + px) * 3u + c) * 3u;
      let w = W[k + R];
      ba += w * h2[q]; bb += w * h2[q + 1u]; bc += w * h2[q + 2u];
    }
    let i = p * 3u + c;
    let xv = x[i]; let yv = y[i];
    let dSsim = ba + 2.0 * xv * bb + yv * bc;
    let dL1 = sign(xv - yv);
    grad[i] = ((1.0 - d.lambda) * dL1 - d.lambda * dSsim) * d.invCount;
  }
}
`);
