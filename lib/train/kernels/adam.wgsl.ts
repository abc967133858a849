/**
 * One Adam step for one parameter group in one dispatch: reads the parameter, its gradient and both
 * moments, writes the three updated arrays to fresh buffers. tfjs would spend ~15 ops per group on the
 * same arithmetic (each a dispatch, a uniform upload and often a scalar upload); here it is one pass over
 * memory. The arithmetic and its order are those of lib/train/adam.ts's tfjs path.
 */
export const ADAM_WG = 256;

export const adamWgsl = /* wgsl */ `
struct Params {
  n: u32, _a: u32, _b: u32, _c: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  bc1: f32, bc2: f32, _d: f32, _e: f32,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> pOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> mOut: array<f32>;
@group(0) @binding(7) var<storage, read_write> vOut: array<f32>;

@compute @workgroup_size(${ADAM_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${ADAM_WG}u;
  if (i >= u.n) { return; }
  let gi = g[i];
  let mi = m[i] * u.beta1 + gi * (1.0 - u.beta1);
  let vi = v[i] * u.beta2 + (gi * gi) * (1.0 - u.beta2);
  mOut[i] = mi;
  vOut[i] = vi;
  pOut[i] = p[i] - (mi / u.bc1) / (sqrt(vi / u.bc2) + u.eps) * u.lr;
}
`;
