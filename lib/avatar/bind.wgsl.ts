/**
 * Binding on the GPU for rendering (no gradient): one invocation per Gaussian reads its triangle's three
 * posed vertices, builds the triangle frame exactly as lib/head/frames.ts does (centre, a0 = first edge,
 * a1 = normal, a2 = a0 × a1, k = mean of edge length and height), and writes the world mean, log-scale and
 * rotation that the rasterizer reads. Fusing the frame into the bind kernel avoids a [T,13] frame buffer
 * and a second pass: each triangle's frame is recomputed by each of its Gaussians, which costs a few
 * dozen flops against the memory traffic it saves.
 *
 * The local parameters come packed in one [N,10] buffer (mean, log-scale, quaternion), so the kernel binds
 * 7 storage buffers: browsers allow 8 per shader stage by default (the viewer runs this kernel there).
 */
export const BIND_WG = 128;

/** Floats per Gaussian in the packed local-parameter buffer. */
export const LOCAL_STRIDE = 10;

/** Packs local means [N,3], log-scales [N,3] and quaternions [N,4] into the kernel's [N,10] layout. */
export function packLocal(means: Float32Array, logScales: Float32Array, quats: Float32Array): Float32Array {
  const n = means.length / 3;
  const out = new Float32Array(n * LOCAL_STRIDE);
  for (let i = 0; i < n; i++) {
    const o = i * LOCAL_STRIDE;
    out.set(means.subarray(3 * i, 3 * i + 3), o);
    out.set(logScales.subarray(3 * i, 3 * i + 3), o + 3);
    out.set(quats.subarray(4 * i, 4 * i + 4), o + 6);
  }
  return out;
}

export const bindWgsl = /* wgsl */ `
struct Dims { count: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> verts: array<f32>;        // [V,3] posed, metres
@group(0) @binding(2) var<storage, read> faces: array<u32>;        // [T,3]
@group(0) @binding(3) var<storage, read> binding: array<u32>;      // [N]
// [N, LOCAL_STRIDE]: mean (3, triangle units), log-scale (3, relative to k), quaternion (4, w,x,y,z)
@group(0) @binding(4) var<storage, read> local: array<f32>;
@group(0) @binding(7) var<storage, read_write> means: array<f32>;      // [N,3] world
@group(0) @binding(8) var<storage, read_write> logScales: array<f32>;  // [N,3]
@group(0) @binding(9) var<storage, read_write> quats: array<f32>;      // [N,4]

fn vert(i: u32) -> vec3f { return vec3f(verts[3u * i], verts[3u * i + 1u], verts[3u * i + 2u]); }

// Unit quaternion (w,x,y,z) of the rotation with columns c0, c1, c2 (Shepperd's method).
fn matToQuat(c0: vec3f, c1: vec3f, c2: vec3f) -> vec4f {
  let m00 = c0.x; let m10 = c0.y; let m20 = c0.z;
  let m01 = c1.x; let m11 = c1.y; let m21 = c1.z;
  let m02 = c2.x; let m12 = c2.y; let m22 = c2.z;
  let tr = m00 + m11 + m22;
  var q: vec4f;
  if (tr > 0.0) {
    let s = sqrt(tr + 1.0) * 2.0;
    q = vec4f(0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s);
  } else if (m00 > m11 && m00 > m22) {
    let s = sqrt(1.0 + m00 - m11 - m22) * 2.0;
    q = vec4f((m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s);
  } else if (m11 > m22) {
    let s = sqrt(1.0 + m11 - m00 - m22) * 2.0;
    q = vec4f((m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s);
  } else {
    let s = sqrt(1.0 + m22 - m00 - m11) * 2.0;
    q = vec4f((m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s);
  }
  return normalize(q);
}

fn quatMul(a: vec4f, b: vec4f) -> vec4f {
  return vec4f(
    a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w,
    a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z,
    a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y,
    a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x);
}

// Any unit vector perpendicular to n (for degenerate triangles).
fn perpendicular(n: vec3f) -> vec3f {
  let a = select(vec3f(1.0, 0.0, 0.0), vec3f(0.0, 1.0, 0.0), abs(n.x) > 0.9);
  return normalize(cross(n, a));
}

@compute @workgroup_size(${BIND_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * ${BIND_WG}u;
  if (n >= dims.count) { return; }
  let t = binding[n];
  let v0 = vert(faces[3u * t]);
  let e = vert(faces[3u * t + 1u]) - v0;
  let f = vert(faces[3u * t + 2u]) - v0;
  let c = v0 + (e + f) / 3.0;
  let el = length(e);
  var a0 = vec3f(1.0, 0.0, 0.0);
  if (el > 1e-20) { a0 = e / el; }
  var nrm = cross(a0, f);
  let nl = length(nrm);
  var a1: vec3f;
  if (nl > 1e-20) { a1 = nrm / nl; } else { a1 = perpendicular(a0); }
  let a2 = cross(a0, a1);
  let k = 0.5 * (el + abs(dot(a2, f)));

  let o = ${LOCAL_STRIDE}u * n;
  let ml = vec3f(local[o], local[o + 1u], local[o + 2u]);
  let mw = k * (a0 * ml.x + a1 * ml.y + a2 * ml.z) + c;
  means[3u * n] = mw.x; means[3u * n + 1u] = mw.y; means[3u * n + 2u] = mw.z;
  let lk = log(max(k, 1e-30));
  for (var i = 0u; i < 3u; i++) { logScales[3u * n + i] = local[o + 3u + i] + lk; }
  let ql = vec4f(local[o + 6u], local[o + 7u], local[o + 8u], local[o + 9u]);
  var qr = matToQuat(a0, a1, a2);
  if (qr.x < 0.0) { qr = -qr; }
  let qw = quatMul(qr, ql);
  quats[4u * n] = qw.x; quats[4u * n + 1u] = qw.y; quats[4u * n + 2u] = qw.z; quats[4u * n + 3u] = qw.w;
}
`;
