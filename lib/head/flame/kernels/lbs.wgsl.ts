/**
 * FLAME per-vertex sums for batches of frames (lbs.ts has the same maths in float64): blendshapes and
 * pose correctives in one basis, then linear blend skinning over FLAME's 5 joints and the translation.
 * One invocation per (vertex, frame); the joint transforms come from the CPU (flameFrame).
 */
export const FLAME_LBS_WG = 64;

export const flameLbsWgsl = /* wgsl */ `
struct Dims {
  vertexCount: u32,
  frameCount: u32,
  coeffCount: u32, // shape + expression + 36 pose-corrective coefficients
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> neutral: array<f32>;      // [V*3] template + static offset
@group(0) @binding(2) var<storage, read> basis: array<f32>;        // [K, V*3]
@group(0) @binding(3) var<storage, read> weights: array<f32>;      // [V, 5]
@group(0) @binding(4) var<storage, read> coeffs: array<f32>;       // [F, K]
@group(0) @binding(5) var<storage, read> transforms: array<f32>;   // [F, 64]: 5 × (3x4 row-major), translation, pad
@group(0) @binding(6) var<storage, read_write> outVerts: array<f32>; // [F, V*3]

fn affine(t0: u32, p: vec3f) -> vec3f {
  let r0 = vec4f(transforms[t0], transforms[t0 + 1u], transforms[t0 + 2u], transforms[t0 + 3u]);
  let r1 = vec4f(transforms[t0 + 4u], transforms[t0 + 5u], transforms[t0 + 6u], transforms[t0 + 7u]);
  let r2 = vec4f(transforms[t0 + 8u], transforms[t0 + 9u], transforms[t0 + 10u], transforms[t0 + 11u]);
  let q = vec4f(p, 1.0);
  return vec3f(dot(r0, q), dot(r1, q), dot(r2, q));
}

@compute @workgroup_size(${FLAME_LBS_WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let v = gid.x;
  let f = gid.y;
  if (v >= dims.vertexCount || f >= dims.frameCount) { return; }
  let n3 = dims.vertexCount * 3u;
  var p = vec3f(neutral[3u * v], neutral[3u * v + 1u], neutral[3u * v + 2u]);
  for (var k = 0u; k < dims.coeffCount; k++) {
    let c = coeffs[f * dims.coeffCount + k];
    if (c != 0.0) {
      let b = k * n3 + 3u * v;
      p = p + c * vec3f(basis[b], basis[b + 1u], basis[b + 2u]);
    }
  }
  let t0 = f * 64u;
  var q = vec3f(0.0);
  for (var j = 0u; j < 5u; j++) {
    let w = weights[5u * v + j];
    if (w != 0.0) { q = q + w * affine(t0 + 12u * j, p); }
  }
  q = q + vec3f(transforms[t0 + 60u], transforms[t0 + 61u], transforms[t0 + 62u]);
  let o = f * n3 + 3u * v;
  outVerts[o] = q.x;
  outVerts[o + 1u] = q.y;
  outVerts[o + 2u] = q.z;
}
`;
