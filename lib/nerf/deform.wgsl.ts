/**
 * WGSL of the nearest-triangle deformation (reference: deform-reference.ts; grid: tri-grid.ts).
 * `deformBindings(first)` declares the grid's buffers from binding `first` on, so the ray marcher
 * (march.wgsl.ts) can include the same functions next to its own bindings.
 */

export const DEFORM_WG = 64;

/** Uniform DeformGrid: origin.xyz + cellSize, dims.xyz + count of points, maxDist² in x. */
export const deformStruct = /* wgsl */ `
struct DeformGrid { origin: vec4f, dims: vec4u, limits: vec4f }
`;

export function deformBindings(first: number): string {
  return /* wgsl */ `
@group(0) @binding(${first}) var<uniform> dg: DeformGrid;
@group(0) @binding(${first + 1}) var<storage, read> cellStart: array<u32>; // [C+1]
@group(0) @binding(${first + 2}) var<storage, read> cellTris: array<u32>;  // [K]
@group(0) @binding(${first + 3}) var<storage, read> tris: array<f32>;      // [T,9] posed vertices a, b, c
@group(0) @binding(${first + 4}) var<storage, read> affines: array<f32>;   // [T,12] posed → canonical [A | b]
`;
}

export const deformFns = /* wgsl */ `
fn triVertex(t: u32, k: u32) -> vec3f {
  let o = 9u * t + 3u * k;
  return vec3f(tris[o], tris[o + 1u], tris[o + 2u]);
}

/** Squared distance from p to triangle t (closest-point regions, as the reference). */
fn triDist2(p: vec3f, t: u32) -> f32 {
  let a = triVertex(t, 0u); let b = triVertex(t, 1u); let c = triVertex(t, 2u);
  let ab = b - a; let ac = c - a; let ap = p - a;
  let d1 = dot(ab, ap); let d2 = dot(ac, ap);
  var q: vec3f;
  if (d1 <= 0.0 && d2 <= 0.0) { q = a; } else {
    let bp = p - b;
    let d3 = dot(ab, bp); let d4 = dot(ac, bp);
    let vc = d1 * d4 - d3 * d2;
    let cp = p - c;
    let d5 = dot(ab, cp); let d6 = dot(ac, cp);
    let vb = d5 * d2 - d1 * d6;
    let va = d3 * d6 - d5 * d4;
    if (d3 >= 0.0 && d4 <= d3) { q = b; }
    else if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) { q = a + ab * (d1 / (d1 - d3)); }
    else if (d6 >= 0.0 && d5 <= d6) { q = c; }
    else if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) { q = a + ac * (d2 / (d2 - d6)); }
    else if (va <= 0.0 && d4 - d3 >= 0.0 && d5 - d6 >= 0.0) { q = b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6))); }
    else {
      let den = va + vb + vc;
      if (den > 0.0) { q = a + ab * (vb / den) + ac * (vc / den); } else { q = a; }
    }
  }
  let d = p - q;
  return dot(d, d);
}

/** Nearest triangle within maxDist (lowest index on ties), or −1. */
fn nearestTri(p: vec3f) -> i32 {
  let c = floor((p - dg.origin.xyz) / dg.origin.w);
  if (any(c < vec3f(0.0)) || any(c >= vec3f(dg.dims.xyz))) { return -1; }
  let ci = vec3u(c);
  let cell = ci.x + dg.dims.x * (ci.y + dg.dims.y * ci.z);
  var best = -1;
  var bestD2 = dg.limits.x;
  for (var k = cellStart[cell]; k < cellStart[cell + 1u]; k++) {
    let t = cellTris[k];
    let d2 = triDist2(p, t);
    if (d2 < bestD2) { bestD2 = d2; best = i32(t); }
  }
  return best;
}

fn toCanonical(t: u32, p: vec3f) -> vec3f {
  let o = 12u * t;
  let h = vec4f(p, 1.0);
  return vec3f(dot(vec4f(affines[o], affines[o + 1u], affines[o + 2u], affines[o + 3u]), h),
               dot(vec4f(affines[o + 4u], affines[o + 5u], affines[o + 6u], affines[o + 7u]), h),
               dot(vec4f(affines[o + 8u], affines[o + 9u], affines[o + 10u], affines[o + 11u]), h));
}
`;

/** Standalone kernel: posed points [N,3] → canonical [N,3] and triangle [N] (−1 = empty, canonical 0). */
export const deformPointsWgsl = /* wgsl */ `
${deformStruct}
${deformBindings(0)}
@group(0) @binding(5) var<storage, read> points: array<f32>;
@group(0) @binding(6) var<storage, read_write> canonical: array<f32>;
@group(0) @binding(7) var<storage, read_write> triOut: array<i32>;
${deformFns}

@compute @workgroup_size(${DEFORM_WG})
fn deformPoints(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${DEFORM_WG}u;
  if (i >= dg.dims.w) { return; }
  let p = vec3f(points[3u * i], points[3u * i + 1u], points[3u * i + 2u]);
  let t = nearestTri(p);
  var q = vec3f(0.0);
  if (t >= 0) { q = toCanonical(u32(t), p); }
  canonical[3u * i] = q.x; canonical[3u * i + 1u] = q.y; canonical[3u * i + 2u] = q.z;
  triOut[i] = t;
}
`;
