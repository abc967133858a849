/**
 * Batched blendshapes and pose (pose.ts has the same maths on the CPU): one invocation per (vertex,
 * frame). Coefficients are uniform over a workgroup (one frame per grid row), so the zero-skip branch
 * does not diverge.
 */
export const BLEND_WG = 64;

export const blendWgsl = /* wgsl */ `
struct Dims {
  vertexCount: u32,
  frameCount: u32,
  coeffCount: u32, // identities + expressions
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> neutral: array<f32>;      // [V*3]
@group(0) @binding(2) var<storage, read> basis: array<f32>;        // [K, V*3]
@group(0) @binding(3) var<storage, read> jawWeights: array<f32>;   // [V]
@group(0) @binding(4) var<storage, read> coeffs: array<f32>;       // [F, K]
@group(0) @binding(5) var<storage, read> transforms: array<f32>;   // [F, 24]: jaw 3x4, head 3x4, row-major
@group(0) @binding(6) var<storage, read_write> outVerts: array<f32>; // [F, V*3]

fn affine(t0: u32, p: vec3f) -> vec3f {
  let r0 = vec4f(transforms[t0], transforms[t0 + 1u], transforms[t0 + 2u], transforms[t0 + 3u]);
  let r1 = vec4f(transforms[t0 + 4u], transforms[t0 + 5u], transforms[t0 + 6u], transforms[t0 + 7u]);
  let r2 = vec4f(transforms[t0 + 8u], transforms[t0 + 9u], transforms[t0 + 10u], transforms[t0 + 11u]);
  let q = vec4f(p, 1.0);
  return vec3f(dot(r0, q), dot(r1, q), dot(r2, q));
}

@compute @workgroup_size(${BLEND_WG})
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
  let t0 = f * 24u;
  let w = jawWeights[v];
  if (w > 0.0) { p = p + w * (affine(t0, p) - p); }
  p = affine(t0 + 12u, p);
  let o = f * n3 + 3u * v;
  outVerts[o] = p.x;
  outVerts[o + 1u] = p.y;
  outVerts[o + 2u] = p.z;
}
`;
