/**
 * The ray marcher's sampling kernel (reference: march-reference.ts). One thread per (ray, sample): the ray
 * of pixel `pixels[r]` enters and leaves the posed mesh's box at t0, t1; sample s sits at
 * t0 + (s + j)·δ with δ = (t1 − t0)/S and j a per-sample hash in [0,1) (training) or ½ (rendering). A
 * sample is kept if its nearest posed triangle lies within maxDist, its canonical image falls in the unit
 * cube of the field, and the occupancy grid marks that cube cell occupied. Kept samples are appended
 * (workgroup-aggregated atomic counter: order is arbitrary, each carries its dense index r·S + s).
 */
import { deformBindings, deformFns, deformStruct } from './deform.wgsl.js';

export const MARCH_WG = 64;

/** Uniform March (see march.ts `marchUniform`). */
export const marchWgsl = /* wgsl */ `
${deformStruct}
struct March {
  m0: vec4f, m1: vec4f, m2: vec4f, // rows of Rᵀ K⁻¹: pixel (x + ½, y + ½, 1) → world direction
  origin: vec4f,                   // camera centre
  boxLo: vec4f, boxHi: vec4f,      // posed box of the mesh grown by maxDist
  canon: vec4f,                    // canonical cube: lower corner xyz, 1 / edge
  dims: vec4u,                     // S, rays, image width, seed
  occ: vec4u,                      // occupancy resolution G, jitter (0/1), 0, 0
}
@group(0) @binding(0) var<uniform> mu: March;
${deformBindings(1)}
@group(0) @binding(6) var<storage, read> pixels: array<u32>;      // [R] pixel ids y·W + x
@group(0) @binding(7) var<storage, read> occupancy: array<f32>;   // [G³] 1 = occupied
@group(0) @binding(8) var<storage, read_write> outPts: array<f32>;  // [cap,3] canonical points in [0,1]³
@group(0) @binding(9) var<storage, read_write> outIdx: array<i32>;  // [cap] dense sample index r·S + s
@group(0) @binding(10) var<storage, read_write> delta: array<f32>;  // [R] step length (0: ray misses)
@group(0) @binding(11) var<storage, read_write> counter: array<atomic<u32>>; // [1] kept samples
${deformFns}

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

var<workgroup> wgCount: atomic<u32>;
var<workgroup> wgBase: u32;

@compute @workgroup_size(${MARCH_WG})
fn marchSamples(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let S = mu.dims.x;
  let i = (wid.x + wid.y * nwg.x) * ${MARCH_WG}u + lid;
  if (lid == 0u) { atomicStore(&wgCount, 0u); }
  workgroupBarrier();
  var keep = false;
  var u = vec3f(0.0);
  if (i < S * mu.dims.y) {
    let r = i / S;
    let s = i % S;
    let pix = pixels[r];
    let px = vec3f(f32(pix % mu.dims.z) + 0.5, f32(pix / mu.dims.z) + 0.5, 1.0);
    let d = normalize(vec3f(dot(mu.m0.xyz, px), dot(mu.m1.xyz, px), dot(mu.m2.xyz, px)));
    let o = mu.origin.xyz;
    let ta = (mu.boxLo.xyz - o) / d;
    let tb = (mu.boxHi.xyz - o) / d;
    let t0 = max(max(max(min(ta.x, tb.x), min(ta.y, tb.y)), min(ta.z, tb.z)), 0.0);
    let t1 = min(min(max(ta.x, tb.x), max(ta.y, tb.y)), max(ta.z, tb.z));
    let dt = select(0.0, (t1 - t0) / f32(S), t1 > t0);
    if (s == 0u) { delta[r] = dt; }
    if (dt > 0.0) {
      var j = 0.5;
      if (mu.occ.y != 0u) { j = f32(pcg(mu.dims.w + pcg(pix + pcg(s))) >> 8u) / 16777216.0; }
      let p = o + d * (t0 + (f32(s) + j) * dt);
      let t = nearestTri(p);
      if (t >= 0) {
        u = (toCanonical(u32(t), p) - mu.canon.xyz) * mu.canon.w;
        if (all(u >= vec3f(0.0)) && all(u <= vec3f(1.0))) {
          let G = mu.occ.x;
          let c = min(vec3u(u * f32(G)), vec3u(G - 1u));
          keep = occupancy[c.x + G * (c.y + G * c.z)] > 0.5;
        }
      }
    }
  }
  var slot = 0u;
  if (keep) { slot = atomicAdd(&wgCount, 1u); }
  workgroupBarrier();
  if (lid == 0u) { wgBase = atomicAdd(&counter[0], atomicLoad(&wgCount)); }
  workgroupBarrier();
  if (keep) {
    let k = wgBase + slot;
    outPts[3u * k] = u.x; outPts[3u * k + 1u] = u.y; outPts[3u * k + 2u] = u.z;
    outIdx[k] = i32(i);
  }
}
`;
