/**
 * Backward of stage 1, one thread per Gaussian in id order, so that every parameter and gradient access of
 * a subgroup falls on neighbouring Gaussians as in the projection (a thread per depth-sorted Gaussian
 * gathered and scattered ~0.5 KB per Gaussian at random: 2 ms at 1M Gaussians on an H100). It chains ∂L/∂(means2D, conic, opacity, colour, depth) to the stored
 * parameters, as lib/raster/reference/backward.ts does, including 3DGS's handling of the Jacobian clamp
 * (where x/z is clamped, ∂J/∂x = 0 and ∂J/∂z uses the clamped x/z).
 *
 * The covariance is chained through P = T M (2×3, see project.wgsl.ts): cov2D = P Pᵀ + lowpass·I, so
 * ∂L/∂p₀ = 2 g_a p₀ + g_b p₁ and ∂L/∂p₁ = 2 g_c p₁ + g_b p₀; then ∂L/∂T = ∂L/∂P Mᵀ and ∂L/∂M = Tᵀ ∂L/∂P.
 */
import { frameWgsl } from './frame.js';
import { projWgsl, quatWgsl } from './project.wgsl.js';
import { SH_BASIS, SH_GRAD, shConstantsWgsl, shLocals, unrollSh } from './sh.wgsl.js';
import { GRAD_FIELDS } from './rasterize-backward.wgsl.js';

/**
 * Sums each Gaussian's per-(tile, Gaussian) partials: one thread per (Gaussian in depth order j, field), so
 * that the ten threads of a Gaussian read its 40-byte records together and a subgroup covers about three
 * neighbouring Gaussians' contiguous slices (coalesced, unlike one thread looping over a whole slice). The
 * sums go to the Gaussian's id (one 40-byte record per Gaussian), where projectBackward reads them in order.
 */
export const reducePartialsWgsl = /* wgsl */ `
${frameWgsl}
const NF: u32 = ${GRAD_FIELDS}u;
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;    // [N + 1]
@group(0) @binding(2) var<storage, read> partials: array<f32>;   // [capacity, 10]
@group(0) @binding(3) var<storage, read_write> sums: array<f32>; // [N, 10] by Gaussian id
@group(0) @binding(4) var<storage, read> depthSorted: array<u32>; // [N]

@compute @workgroup_size(256)
fn reducePartials(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = g3.x + g3.y * nwg.x * 256u;
  let j = t / NF;
  if (j >= fr.sizes.x) { return; }
  let f = t - j * NF;
  let cap = fr.sizes.w;
  let e1 = min(offsets[j + 1u], cap);
  var s = 0.0;
  for (var e = min(offsets[j], cap); e < e1; e++) { s += partials[e * NF + f]; }
  sums[depthSorted[j] * NF + f] = s;
}
`;

export const projectBackwardWgsl = /* wgsl */ `
${frameWgsl}
${projWgsl}
${quatWgsl}
${shConstantsWgsl}
const NF: u32 = ${GRAD_FIELDS}u;
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> logScales: array<f32>;
@group(0) @binding(3) var<storage, read> quats: array<f32>;
@group(0) @binding(5) var<storage, read> sh: array<f32>;
@group(0) @binding(6) var<storage, read> proj: array<Proj>;
@group(0) @binding(9) var<storage, read> sums: array<f32>;         // [N, 10] by id (reducePartials)
@group(0) @binding(10) var<storage, read_write> dMeans: array<f32>;         // [N,3]
@group(0) @binding(11) var<storage, read_write> dLogScales: array<f32>;     // [N,3]
@group(0) @binding(12) var<storage, read_write> dQuats: array<f32>;         // [N,4]
@group(0) @binding(13) var<storage, read_write> dOpacityLogits: array<f32>; // [N]
@group(0) @binding(14) var<storage, read_write> dSh: array<f32>;            // [N,K,3]
@group(0) @binding(15) var<storage, read_write> dMeans2D: array<f32>;       // [N,2]

@compute @workgroup_size(128)
fn projectBackward(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = g3.x + g3.y * nwg.x * 128u;
  let n = fr.sizes.x;
  if (i >= n) { return; }
  let o = i * NF;
  let K = fr.sizes.y;
  let pr = proj[i];
  if (pr.b.w <= 0.0) {
    for (var c = 0u; c < 3u; c++) { dMeans[3u * i + c] = 0.0; dLogScales[3u * i + c] = 0.0; }
    for (var c = 0u; c < 4u; c++) { dQuats[4u * i + c] = 0.0; }
    dOpacityLogits[i] = 0.0;
    for (var k = 0u; k < 3u * K; k++) { dSh[3u * K * i + k] = 0.0; }
    dMeans2D[2u * i] = 0.0; dMeans2D[2u * i + 1u] = 0.0;
    return;
  }
  let gUV = vec2f(sums[o], sums[o + 1u]);
  let gConic = vec3f(sums[o + 2u], sums[o + 3u], sums[o + 4u]);
  let gOpacity = sums[o + 5u];
  var gRgb = vec3f(sums[o + 6u], sums[o + 7u], sums[o + 8u]);
  let gDepth = sums[o + 9u];
  dMeans2D[2u * i] = gUV.x;
  dMeans2D[2u * i + 1u] = gUV.y;

  // Opacity.
  let op = pr.a.w;
  dOpacityLogits[i] = gOpacity * op * (1.0 - op);

  // Colour → SH and the view direction.
  let mu = vec3f(means[3u * i], means[3u * i + 1u], means[3u * i + 2u]);
  let dv = mu - fr.campos.xyz;
  let dn = length(dv);
  let dir = dv / dn;
  let mask = u32(pr.c.w);
  gRgb = select(gRgb, vec3f(0.0), vec3<bool>((mask & 1u) != 0u, (mask & 2u) != 0u, (mask & 4u) != 0u));
  let deg = fr.sizes.z;
  let nk = (deg + 1u) * (deg + 1u);
  ${shLocals('dir')}
  var gDir = vec3f(0.0);
  let base = 3u * K * i;
${unrollSh(
  'nk',
  (k) => `    let c${k} = vec3f(sh[base + ${3 * k}u], sh[base + ${3 * k + 1}u], sh[base + ${3 * k + 2}u]);
    let g${k} = (${SH_BASIS[k]}) * gRgb;
    dSh[base + ${3 * k}u] = g${k}.x; dSh[base + ${3 * k + 1}u] = g${k}.y; dSh[base + ${3 * k + 2}u] = g${k}.z;
    gDir += dot(c${k}, gRgb) * ${SH_GRAD[k]};`,
)}
  for (var k = 3u * nk; k < 3u * K; k++) { dSh[base + k] = 0.0; } // stored past the active degree
  var gMean = (gDir - dir * dot(dir, gDir)) / dn;

  // Recompute the geometry of the forward pass.
  let w0 = fr.view0.xyz; let w1 = fr.view1.xyz; let w2 = fr.view2.xyz;
  let t = vec3f(dot(w0, mu) + fr.view0.w, dot(w1, mu) + fr.view1.w, dot(w2, mu) + fr.view2.w);
  let qRaw = vec4f(quats[4u * i], quats[4u * i + 1u], quats[4u * i + 2u], quats[4u * i + 3u]);
  let qNorm = length(qRaw);
  let q = qRaw / qNorm;
  let R = quatRows(q);
  let s = exp(vec3f(logScales[3u * i], logScales[3u * i + 1u], logScales[3u * i + 2u]));
  let m0 = R[0] * s; let m1 = R[1] * s; let m2 = R[2] * s;
  let fx = fr.intr.x; let fy = fr.intr.y;
  let rz = 1.0 / t.z;
  let rxz = t.x * rz; let ryz = t.y * rz;
  let txz = clamp(rxz, -fr.clip.x, fr.clip.x);
  let tyz = clamp(ryz, -fr.clip.y, fr.clip.y);
  let J00 = fx * rz; let J02 = -fx * txz * rz; let J11 = fy * rz; let J12 = -fy * tyz * rz;
  let t0 = J00 * w0 + J02 * w2;
  let t1 = J11 * w1 + J12 * w2;
  let p0 = t0.x * m0 + t0.y * m1 + t0.z * m2;
  let p1 = t1.x * m0 + t1.y * m1 + t1.z * m2;
  let lp = fr.bg.w;
  let A0 = dot(p0, p0); let C0 = dot(p1, p1);
  let a = A0 + lp; let b = dot(p0, p1); let c = C0 + lp;
  let cr = cross(p0, p1);
  let det = dot(cr, cr) + lp * (A0 + C0) + lp * lp;

  // Conic (c, −b, a)/det → cov2D (a, b, c).
  let id2 = 1.0 / (det * det);
  let ga = (gConic.x * -c * c + gConic.y * b * c + gConic.z * -b * b) * id2;
  let gb = (gConic.x * 2.0 * b * c + gConic.y * -(a * c + b * b) + gConic.z * 2.0 * a * b) * id2;
  let gc = (gConic.x * -b * b + gConic.y * a * b + gConic.z * -a * a) * id2;
  // cov2D → P → (T, M).
  let gp0 = 2.0 * ga * p0 + gb * p1;
  let gp1 = 2.0 * gc * p1 + gb * p0;
  let gt0 = vec3f(dot(m0, gp0), dot(m1, gp0), dot(m2, gp0));
  let gt1 = vec3f(dot(m0, gp1), dot(m1, gp1), dot(m2, gp1));
  let gM0 = t0.x * gp0 + t1.x * gp1;
  let gM1 = t0.y * gp0 + t1.y * gp1;
  let gM2 = t0.z * gp0 + t1.z * gp1;
  // T → J.
  let gJ00 = dot(gt0, w0); let gJ02 = dot(gt0, w2);
  let gJ11 = dot(gt1, w1); let gJ12 = dot(gt1, w2);
  // J and means2D and depth → camera-space mean.
  let rz2 = rz * rz;
  var gt = vec3f(0.0);
  gt.x = select(-fx * rz2 * gJ02, 0.0, rxz != txz);
  gt.y = select(-fy * rz2 * gJ12, 0.0, ryz != tyz);
  gt.z = -fx * rz2 * gJ00 - fy * rz2 * gJ11 + 2.0 * fx * txz * rz2 * gJ02 + 2.0 * fy * tyz * rz2 * gJ12;
  gt.x += gUV.x * fx * rz;
  gt.y += gUV.y * fy * rz;
  gt.z += -gUV.x * fx * t.x * rz2 - gUV.y * fy * t.y * rz2 + gDepth;
  gMean += gt.x * w0 + gt.y * w1 + gt.z * w2;
  dMeans[3u * i] = gMean.x; dMeans[3u * i + 1u] = gMean.y; dMeans[3u * i + 2u] = gMean.z;

  // M = R diag(s) → log-scales and R.
  let gS = vec3f(
    gM0.x * R[0].x + gM1.x * R[1].x + gM2.x * R[2].x,
    gM0.y * R[0].y + gM1.y * R[1].y + gM2.y * R[2].y,
    gM0.z * R[0].z + gM1.z * R[1].z + gM2.z * R[2].z);
  let gLog = gS * s;
  dLogScales[3u * i] = gLog.x; dLogScales[3u * i + 1u] = gLog.y; dLogScales[3u * i + 2u] = gLog.z;
  let G0 = gM0 * s; let G1 = gM1 * s; let G2 = gM2 * s; // rows of ∂L/∂R
  // R(q̂) → q̂ → q.
  let qw = q.x; let qx = q.y; let qy = q.z; let qz = q.w;
  let gq = 2.0 * vec4f(
    -qz * G0.y + qy * G0.z + qz * G1.x - qx * G1.z - qy * G2.x + qx * G2.y,
    qy * G0.y + qz * G0.z + qy * G1.x - 2.0 * qx * G1.y - qw * G1.z + qz * G2.x + qw * G2.y - 2.0 * qx * G2.z,
    -2.0 * qy * G0.x + qx * G0.y + qw * G0.z + qx * G1.x + qz * G1.z - qw * G2.x + qz * G2.y - 2.0 * qy * G2.z,
    -2.0 * qz * G0.x - qw * G0.y + qx * G0.z + qw * G1.x - 2.0 * qz * G1.y + qy * G1.z + qx * G2.x + qy * G2.y);
  let gqRaw = (gq - q * dot(q, gq)) / qNorm;
  dQuats[4u * i] = gqRaw.x; dQuats[4u * i + 1u] = gqRaw.y; dQuats[4u * i + 2u] = gqRaw.z; dQuats[4u * i + 3u] = gqRaw.w;
}
`;
