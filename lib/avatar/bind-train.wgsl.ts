/**
 * Binding for training: local → world for each parameter group as its own differentiable op, one dispatch
 * forward and one backward each (the tfjs composition in binding.ts, kept as the reference, is ~30 ops and
 * a per-Gaussian gather of the frames). Frames come from a per-triangle table, read through `binding`.
 *
 * Table layout, 20 floats per triangle: centre c (0..2), log k (3), R row-major (4..12), pad (13..15),
 * q_R (16..19, w x y z). With M(q_R) the left-multiplication matrix of q_R:
 *   means:      μ = k R μₗ + c             ∂/∂μₗ = k Rᵀ ∂/∂μ
 *   logScales:  s = sₗ + log k             ∂/∂sₗ = ∂/∂s
 *   quats:      q = q_R ⊗ qₗ = M(q_R) qₗ    ∂/∂qₗ = M(q_R)ᵀ ∂/∂q
 */
export const BIND_TRAIN_WG = 128;
export const FRAME_STRIDE = 20;

export const bindTrainWgsl = /* wgsl */ `
struct Dims { count: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> table: array<f32>;   // [T,20]
@group(0) @binding(2) var<storage, read> binding: array<u32>; // [N]
@group(0) @binding(3) var<storage, read> src: array<f32>;     // [N,k] local params, or upstream gradient
@group(0) @binding(4) var<storage, read_write> dst: array<f32>; // [N,k]

fn gid1(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${BIND_TRAIN_WG}u; }
fn rot(t: u32, r: u32, c: u32) -> f32 { return table[t * ${FRAME_STRIDE}u + 4u + 3u * r + c]; }
fn frameQuat(t: u32) -> vec4f {
  let o = t * ${FRAME_STRIDE}u + 16u;
  return vec4f(table[o], table[o + 1u], table[o + 2u], table[o + 3u]);
}

@compute @workgroup_size(${BIND_TRAIN_WG})
fn meansForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid1(gid, nwg);
  if (n >= d.count) { return; }
  let t = binding[n];
  let o = t * ${FRAME_STRIDE}u;
  let k = exp(table[o + 3u]);
  let m = vec3f(src[3u * n], src[3u * n + 1u], src[3u * n + 2u]);
  for (var r = 0u; r < 3u; r++) {
    dst[3u * n + r] = k * (rot(t, r, 0u) * m.x + rot(t, r, 1u) * m.y + rot(t, r, 2u) * m.z) + table[o + r];
  }
}

@compute @workgroup_size(${BIND_TRAIN_WG})
fn meansBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid1(gid, nwg);
  if (n >= d.count) { return; }
  let t = binding[n];
  let k = exp(table[t * ${FRAME_STRIDE}u + 3u]);
  let g = vec3f(src[3u * n], src[3u * n + 1u], src[3u * n + 2u]);
  for (var c = 0u; c < 3u; c++) {
    dst[3u * n + c] = k * (rot(t, 0u, c) * g.x + rot(t, 1u, c) * g.y + rot(t, 2u, c) * g.z);
  }
}

@compute @workgroup_size(${BIND_TRAIN_WG})
fn logScalesForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid1(gid, nwg);
  if (n >= d.count) { return; }
  let lk = table[binding[n] * ${FRAME_STRIDE}u + 3u];
  for (var c = 0u; c < 3u; c++) { dst[3u * n + c] = src[3u * n + c] + lk; }
}

@compute @workgroup_size(${BIND_TRAIN_WG})
fn quatsForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid1(gid, nwg);
  if (n >= d.count) { return; }
  let a = frameQuat(binding[n]);
  let b = vec4f(src[4u * n], src[4u * n + 1u], src[4u * n + 2u], src[4u * n + 3u]);
  dst[4u * n] = a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w;
  dst[4u * n + 1u] = a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z;
  dst[4u * n + 2u] = a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y;
  dst[4u * n + 3u] = a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x;
}

@compute @workgroup_size(${BIND_TRAIN_WG})
fn quatsBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid1(gid, nwg);
  if (n >= d.count) { return; }
  let a = frameQuat(binding[n]);
  let g = vec4f(src[4u * n], src[4u * n + 1u], src[4u * n + 2u], src[4u * n + 3u]);
  dst[4u * n] = a.x * g.x + a.y * g.y + a.z * g.z + a.w * g.w;
  dst[4u * n + 1u] = -a.y * g.x + a.x * g.y + a.w * g.z - a.z * g.w;
  dst[4u * n + 2u] = -a.z * g.x - a.w * g.y + a.x * g.z + a.y * g.w;
  dst[4u * n + 3u] = -a.w * g.x + a.z * g.y - a.y * g.z + a.x * g.w;
}
`;
