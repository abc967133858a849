/**
 * Stage 1, one thread per Gaussian: world → camera, EWA covariance with 3DGS's clamped Jacobian and
 * low-pass, conic, radius, tile rectangle, SH colour, opacity, and the depth-sort key.
 *
 * The 2D covariance is formed as P Pᵀ with P = J W R diag(exp s) (2×3), and det(P Pᵀ) by Lagrange's
 * identity |p₀ × p₁|², not as ac − b²: for needle-like Gaussians ac and b² agree to many digits and their
 * float32 difference would be noise. The eigenvalue spread uses ((a − c)/2)² + b² for the same reason.
 */
import { frameWgsl } from './frame.js';
import { SH_BASIS, shConstantsWgsl, shLocals, unrollSh } from './sh.wgsl.js';

/** Per-Gaussian output of stage 1, 48 bytes, read by the tile and rasterize stages and the backward. */
export const projWgsl = /* wgsl */ `
struct Proj {
  a: vec4f, // means2D u, v (px), depth z (m), opacity
  b: vec4f, // conic (a, b, c) (1/px²), radius (px; 0 = culled)
  c: vec4f, // colour rgb, bitmask of channels clamped at 0 (1, 2, 4) as f32
}
`;

/** Quaternion (w, x, y, z), unit → rotation rows. */
export const quatWgsl = /* wgsl */ `
fn quatRows(q: vec4f) -> array<vec3f, 3> {
  let w = q.x; let x = q.y; let y = q.z; let z = q.w;
  return array<vec3f, 3>(
    vec3f(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y)),
    vec3f(2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x)),
    vec3f(2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)),
  );
}
`;

/**
 * Stage 1 as one kernel ('fused', 11 storage buffers) or as two ('split'): browsers allow 8 storage buffers
 * per shader stage by default and at most 10 on Chromium, so there the projection writes only `proj` and
 * `rects` (7), and `projectKeys` derives tilesTouched, the depth-sort keys and values and radii from them
 * (6). Both produce the same bytes: a culled Gaussian has radius 0 in `proj` and an empty rectangle.
 */
export type ProjectLayout = 'fused' | 'split';

/** Storage buffers per stage the fused projection binds; below this limit the rasterizer splits it. */
export const FUSED_PROJECT_STORAGE_BUFFERS = 11;

function projectKernel(layout: ProjectLayout): string {
  const fused = layout === 'fused';
  // Statements that only the fused kernel has (the split one leaves them to projectKeys).
  const f = (code: string) => (fused ? code : '');
  return /* wgsl */ `
${frameWgsl}
${projWgsl}
${quatWgsl}
${shConstantsWgsl}
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> means: array<f32>;         // [N,3]
@group(0) @binding(2) var<storage, read> logScales: array<f32>;     // [N,3]
@group(0) @binding(3) var<storage, read> quats: array<f32>;         // [N,4]
@group(0) @binding(4) var<storage, read> opacityLogits: array<f32>; // [N]
@group(0) @binding(5) var<storage, read> sh: array<f32>;            // [N,K,3]
@group(0) @binding(6) var<storage, read_write> proj: array<Proj>;   // [N]
${f(`@group(0) @binding(7) var<storage, read_write> tilesTouched: array<u32>; // [N]
@group(0) @binding(8) var<storage, read_write> depthKeys: array<u32>;    // [N] f32 bits of z; culled: ~0
@group(0) @binding(9) var<storage, read_write> depthVals: array<u32>;    // [N] Gaussian id
@group(0) @binding(10) var<storage, read_write> radii: array<i32>;       // [N]`)}
// [N] tile rectangle [x0, x1) × [y0, y1) packed as (x0 | y0 << 16, x1 | y1 << 16), so that the emit pass
// writes exactly tilesTouched keys without recomputing the rectangle in another shader.
@group(0) @binding(11) var<storage, read_write> rects: array<vec2u>;

@compute @workgroup_size(256)
fn project(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = g3.x + g3.y * nwg.x * 256u;
  let n = fr.sizes.x;
  if (i >= n) { return; }
${f(`  tilesTouched[i] = 0u;
  depthKeys[i] = 0xffffffffu;
  depthVals[i] = i;
  radii[i] = 0;`)}
  rects[i] = vec2u(0u);
  proj[i] = Proj(vec4f(0.0), vec4f(0.0), vec4f(0.0));

  let mu = vec3f(means[3u * i], means[3u * i + 1u], means[3u * i + 2u]);
  let w0 = fr.view0.xyz; let w1 = fr.view1.xyz; let w2 = fr.view2.xyz;
  let t = vec3f(dot(w0, mu) + fr.view0.w, dot(w1, mu) + fr.view1.w, dot(w2, mu) + fr.view2.w);
  if (!(t.z > fr.clip.z) || t.z > fr.clip.w) { return; }

  var q = vec4f(quats[4u * i], quats[4u * i + 1u], quats[4u * i + 2u], quats[4u * i + 3u]);
  let qn = length(q);
  if (!(qn > 0.0)) { return; }
  q = q / qn;
  let R = quatRows(q);
  let s = exp(vec3f(logScales[3u * i], logScales[3u * i + 1u], logScales[3u * i + 2u]));
  // Rows of M = R diag(s).
  let m0 = R[0] * s; let m1 = R[1] * s; let m2 = R[2] * s;

  let fx = fr.intr.x; let fy = fr.intr.y;
  let rz = 1.0 / t.z;
  let txz = clamp(t.x * rz, -fr.clip.x, fr.clip.x);
  let tyz = clamp(t.y * rz, -fr.clip.y, fr.clip.y);
  // Rows of T = J W (2×3), J = [[fx/z, 0, −fx·txz/z], [0, fy/z, −fy·tyz/z]].
  let t0 = (fx * rz) * w0 - (fx * txz * rz) * w2;
  let t1 = (fy * rz) * w1 - (fy * tyz * rz) * w2;
  // Rows of P = T M.
  let p0 = t0.x * m0 + t0.y * m1 + t0.z * m2;
  let p1 = t1.x * m0 + t1.y * m1 + t1.z * m2;
  let lp = fr.bg.w;
  let A0 = dot(p0, p0); let C0 = dot(p1, p1);
  let a = A0 + lp; let b = dot(p0, p1); let c = C0 + lp;
  let cr = cross(p0, p1);
  let det = dot(cr, cr) + lp * (A0 + C0) + lp * lp;
  if (!(det > 0.0)) { return; }
  let conic = vec3f(c, -b, a) / det;
  let half = 0.5 * (a - c);
  let lambda = 0.5 * (a + c) + sqrt(max(0.1, half * half + b * b));
  let radius = ceil(3.0 * sqrt(lambda));
  let uv = vec2f(fx * t.x * rz + fr.intr.z, fy * t.y * rz + fr.intr.w);
  let grid = vec2f(f32(fr.dims.z), f32(fr.dims.w));
  let rmin = clamp(floor((uv - radius) / 16.0), vec2f(0.0), grid);
  let rmax = clamp(floor((uv + radius + 15.0) / 16.0), vec2f(0.0), grid);
  let area = u32(rmax.x - rmin.x) * u32(rmax.y - rmin.y);
  if (area == 0u) { return; }

  let dv = mu - fr.campos.xyz;
  let dir = dv / length(dv);
  let K = fr.sizes.y;
  ${shLocals('dir')}
  let nk = (fr.sizes.z + 1u) * (fr.sizes.z + 1u);
  var rgb = vec3f(0.5);
  let base = i * K * 3u;
${unrollSh('nk', (k) => `    rgb += (${SH_BASIS[k]}) * vec3f(sh[base + ${3 * k}u], sh[base + ${3 * k + 1}u], sh[base + ${3 * k + 2}u]);`)}
  let mask = select(0.0, 1.0, rgb.x < 0.0) + select(0.0, 2.0, rgb.y < 0.0) + select(0.0, 4.0, rgb.z < 0.0);
  rgb = max(rgb, vec3f(0.0));
  let opacity = 1.0 / (1.0 + exp(-opacityLogits[i]));

  proj[i] = Proj(vec4f(uv, t.z, opacity), vec4f(conic, radius), vec4f(rgb, mask));
${f(`  tilesTouched[i] = area;
  depthKeys[i] = bitcast<u32>(t.z);
  radii[i] = i32(radius);`)}
  rects[i] = vec2u(u32(rmin.x) | (u32(rmin.y) << 16u), u32(rmax.x) | (u32(rmax.y) << 16u));
}
`;
}

/** The projection as one kernel: what Dawn on Node and GPUs with ≥ 11 storage buffers per stage run. */
export const projectWgsl = projectKernel('fused');

/** The projection without its four per-Gaussian side outputs (7 storage buffers); see projectKeysWgsl. */
export const projectSplitWgsl = projectKernel('split');

/** After projectSplitWgsl: the side outputs the fused kernel writes, from `proj` and `rects` (6 storage buffers). */
export const projectKeysWgsl = /* wgsl */ `
${frameWgsl}
${projWgsl}
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(6) var<storage, read> proj: array<Proj>;
@group(0) @binding(7) var<storage, read_write> tilesTouched: array<u32>;
@group(0) @binding(8) var<storage, read_write> depthKeys: array<u32>;
@group(0) @binding(9) var<storage, read_write> depthVals: array<u32>;
@group(0) @binding(10) var<storage, read_write> radii: array<i32>;
@group(0) @binding(11) var<storage, read> rects: array<vec2u>;

@compute @workgroup_size(256)
fn projectKeys(@builtin(global_invocation_id) g3: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = g3.x + g3.y * nwg.x * 256u;
  if (i >= fr.sizes.x) { return; }
  depthVals[i] = i;
  let p = proj[i];
  // The projection leaves proj zeroed (radius 0) for every culled Gaussian, including empty rectangles.
  if (p.b.w == 0.0) {
    tilesTouched[i] = 0u;
    depthKeys[i] = 0xffffffffu;
    radii[i] = 0;
    return;
  }
  let r = rects[i];
  let x0 = r.x & 0xffffu; let y0 = r.x >> 16u; let x1 = r.y & 0xffffu; let y1 = r.y >> 16u;
  tilesTouched[i] = (x1 - x0) * (y1 - y0);
  depthKeys[i] = bitcast<u32>(p.a.z);
  radii[i] = i32(p.b.w);
}
`;
