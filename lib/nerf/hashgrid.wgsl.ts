/**
 * WGSL kernels of the hash encoding (float64 reference: hashgrid-reference.ts). One thread per (point,
 * level): workgroup z is the level, so all lanes of a subgroup read and write the same level's table.
 *
 * Backward, and why it reduces before the atomics: WGSL has no float atomics, so gradients are added with a
 * compare-exchange loop on the u32 bit pattern (as lib/raster's fallback path does). At the coarse levels a
 * whole subgroup lands in the same few vertices, and 32 lanes spinning on one word serialise. So, per
 * corner, the subgroup first "peels" its most common case: the lowest pending lane's vertex is broadcast,
 * every lane holding that same vertex contributes to one subgroupAdd, and only the leader does the atomic.
 * After `rounds` peels (enough for the coarse levels, where collisions happen) the remaining lanes, which at
 * fine levels hold distinct vertices anyway, add directly. Without the subgroups feature every lane adds
 * directly. Sums are therefore not bitwise reproducible (atomic order), unlike the rasterizer's.
 */

export const HASH_WG = 64;
export const MAX_LEVELS = 32;

/** Uniform: dims = (points, levels, features, log2T), then (resolution, dense, 0, 0) per level. */
const common = (features: number) => /* wgsl */ `
struct Grid { dims: vec4u, levels: array<vec4u, ${MAX_LEVELS}> }
const F: u32 = ${features}u;
const WG: u32 = ${HASH_WG}u;

fn vertexIndex(lv: vec4u, tmask: u32, v: vec3u) -> u32 {
  if (lv.y != 0u) {
    let n = lv.x + 1u;
    return v.x + n * (v.y + n * v.z);
  }
  return (v.x ^ (v.y * 2654435761u) ^ (v.z * 805459861u)) & tmask;
}

/** The 8 corner indices (within the level) and trilinear weights of point p at level l. */
fn cellOf(p: vec3f, lv: vec4u, tmask: u32, idx: ptr<function, array<u32, 8>>, w: ptr<function, array<f32, 8>>) {
  let N = lv.x;
  let s = clamp(p, vec3f(0.0), vec3f(1.0)) * f32(N);
  let i = min(vec3u(floor(s)), vec3u(N - 1u));
  let f = s - vec3f(i);
  for (var c = 0u; c < 8u; c++) {
    let d = vec3u(c & 1u, (c >> 1u) & 1u, c >> 2u);
    (*idx)[c] = vertexIndex(lv, tmask, i + d);
    let t = select(vec3f(1.0) - f, f, d == vec3u(1u));
    (*w)[c] = t.x * t.y * t.z;
  }
}

fn pointAt(i: u32) -> vec3f { return vec3f(points[3u * i], points[3u * i + 1u], points[3u * i + 2u]); }
`;

export function hashForwardWgsl(features: number): string {
  return /* wgsl */ `
@group(0) @binding(0) var<uniform> g: Grid;
@group(0) @binding(1) var<storage, read> points: array<f32>;  // [N,3] in [0,1]
@group(0) @binding(2) var<storage, read> tables: array<f32>;  // [L,T,F]
@group(0) @binding(3) var<storage, read_write> enc: array<f32>; // [N, L·F]
${common(features)}

@compute @workgroup_size(WG)
fn encodeForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = (wid.x + wid.y * nwg.x) * WG + lid;
  let l = wid.z;
  if (p >= g.dims.x) { return; }
  let T = 1u << g.dims.w;
  var idx: array<u32, 8>;
  var w: array<f32, 8>;
  cellOf(pointAt(p), g.levels[l], T - 1u, &idx, &w);
  var acc: array<f32, 4>;
  let base = l * T;
  for (var c = 0u; c < 8u; c++) {
    let e = (base + idx[c]) * F;
    for (var f = 0u; f < F; f++) { acc[f] += w[c] * tables[e + f]; }
  }
  let o = p * g.dims.y * F + l * F;
  for (var f = 0u; f < F; f++) { enc[o + f] = acc[f]; }
}
`;
}

export function hashBackwardWgsl(features: number, subgroups: boolean, rounds: number): string {
  const reduce = subgroups
    ? /* wgsl */ `
    var done = !valid;
    for (var r = 0u; r < ${rounds}u; r++) {
      let b = subgroupBallot(!done);
      if (all(b == vec4u(0u))) { break; }
      let leader = firstLane(b);
      let li = subgroupShuffle(i, leader);
      let m = !done && i == li;
      for (var f = 0u; f < F; f++) {
        let s = subgroupAdd(select(0.0, w[c] * dy[f], m));
        if (lane == leader) { casAdd((base + li) * F + f, s); }
      }
      done = done || m;
    }
    if (!done) {
      for (var f = 0u; f < F; f++) { casAdd((base + i) * F + f, w[c] * dy[f]); }
    }`
    : /* wgsl */ `
    if (valid) {
      for (var f = 0u; f < F; f++) { casAdd((base + i) * F + f, w[c] * dy[f]); }
    }`;
  return /* wgsl */ `
${subgroups ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);' : ''}
@group(0) @binding(0) var<uniform> g: Grid;
@group(0) @binding(1) var<storage, read> points: array<f32>;          // [N,3]
@group(0) @binding(2) var<storage, read> dOut: array<f32>;            // [N, L·F] ∂L/∂encoding
@group(0) @binding(3) var<storage, read_write> grad: array<atomic<u32>>; // [L,T,F] f32 bits, zeroed by the caller
${common(features)}

fn casAdd(i: u32, x: f32) {
  if (x == 0.0) { return; }
  var old = atomicLoad(&grad[i]);
  loop {
    let r = atomicCompareExchangeWeak(&grad[i], old, bitcast<u32>(bitcast<f32>(old) + x));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

fn firstLane(b: vec4u) -> u32 {
  if (b.x != 0u) { return countTrailingZeros(b.x); }
  if (b.y != 0u) { return 32u + countTrailingZeros(b.y); }
  if (b.z != 0u) { return 64u + countTrailingZeros(b.z); }
  return 96u + countTrailingZeros(b.w);
}

@compute @workgroup_size(WG)
fn encodeBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32
                  ${subgroups ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  // No early return: every lane of a subgroup takes part in the reductions.
  let p = (wid.x + wid.y * nwg.x) * WG + lid;
  let l = wid.z;
  let valid = p < g.dims.x;
  let T = 1u << g.dims.w;
  var idx: array<u32, 8>;
  var w: array<f32, 8>;
  var dy: array<f32, 4>;
  if (valid) {
    cellOf(pointAt(p), g.levels[l], T - 1u, &idx, &w);
    let o = p * g.dims.y * F + l * F;
    for (var f = 0u; f < F; f++) { dy[f] = dOut[o + f]; }
  }
  let base = l * T;
  for (var c = 0u; c < 8u; c++) {
    let i = idx[c];${reduce}
  }
}
`;
}
