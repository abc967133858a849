/**
 * The body shared by the batched posing kernels of the ICT head (blend.wgsl.ts) and FLAME
 * (flame/kernels/lbs.wgsl.ts): both take the same bindings and blend the neutral mesh with one linear
 * basis before posing the vertex their own way. One invocation per (vertex, frame). Coefficients are
 * uniform over a workgroup (one frame per grid row), so the zero-skip branch does not diverge.
 */
export interface BlendPoseKernel {
  workgroupSize: number;
  /** WGSL comments: what the coefficients are, and the layouts of the neutral mesh and the transforms. */
  coeffNote: string;
  neutralNote: string;
  transformsNote: string;
  /** Binding 3, the per-vertex weights of the pose, as `name: array<f32>;` with its comment. */
  weights: string;
  /** WGSL from the blended vertex `p` (vertex v, frame f) to `posed`, the vertex written out. */
  pose: string;
  posed: string;
}

export function blendPoseWgsl(k: BlendPoseKernel): string {
  return /* wgsl */ `
struct Dims {
  vertexCount: u32,
  frameCount: u32,
  coeffCount: u32, // ${k.coeffNote}
  _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> neutral: array<f32>;      // ${k.neutralNote}
@group(0) @binding(2) var<storage, read> basis: array<f32>;        // [K, V*3]
@group(0) @binding(3) var<storage, read> ${k.weights}
@group(0) @binding(4) var<storage, read> coeffs: array<f32>;       // [F, K]
@group(0) @binding(5) var<storage, read> transforms: array<f32>;   // ${k.transformsNote}
@group(0) @binding(6) var<storage, read_write> outVerts: array<f32>; // [F, V*3]

fn affine(t0: u32, p: vec3f) -> vec3f {
  let r0 = vec4f(transforms[t0], transforms[t0 + 1u], transforms[t0 + 2u], transforms[t0 + 3u]);
  let r1 = vec4f(transforms[t0 + 4u], transforms[t0 + 5u], transforms[t0 + 6u], transforms[t0 + 7u]);
  let r2 = vec4f(transforms[t0 + 8u], transforms[t0 + 9u], transforms[t0 + 10u], transforms[t0 + 11u]);
  let q = vec4f(p, 1.0);
  return vec3f(dot(r0, q), dot(r1, q), dot(r2, q));
}

@compute @workgroup_size(${k.workgroupSize})
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
${k.pose}
  let o = f * n3 + 3u * v;
  outVerts[o] = ${k.posed}.x;
  outVerts[o + 1u] = ${k.posed}.y;
  outVerts[o + 2u] = ${k.posed}.z;
}
`;
}
