/**
 * The textured mesh renderer (render.ts): a vertex-pulling render pipeline and a resolve kernel.
 *
 * Projection (the workbench's Camera contract, OpenCV axes): p_cam = W·p, u = fx·x/z + cx, v = fy·y/z + cy
 * in pixels whose centres sit at i + 0.5. WebGPU maps NDC x = −1 to the framebuffer's left edge and NDC
 * y = +1 to its top, and samples pixel centres, so ndc = (2u/W − 1, 1 − 2v/H) rasterises a pixel exactly
 * where the Gaussian rasterizer puts it. Depth is z mapped to [0, 1] between near and far; the camera z
 * itself is interpolated (perspective-correctly, hence exactly) into the aux target.
 */

export const MESH_UNIFORM_FLOATS = 32;

export const meshWgsl = /* wgsl */ `
struct Uniforms {
  w2c0: vec4f,    // rows of the world → camera 3×4
  w2c1: vec4f,
  w2c2: vec4f,
  intr: vec4f,    // fx, fy, cx, cy (render resolution)
  size: vec4f,    // width, height (render resolution), near, far
  eye: vec4f,     // camera centre (world), unused
  light: vec4f,   // direction toward the key light (world, unit), ambient
  shade: vec4f,   // diffuse, use ambient occlusion (0/1), sample mip level 0 only (0/1), unused
}

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var<storage, read> positions: array<f32>;  // [V,3] world, metres
@group(0) @binding(2) var<storage, read> normals: array<f32>;    // [V,3] world, unit
@group(0) @binding(3) var<storage, read> corners: array<u32>;    // [C] vertex index of each drawn corner
@group(0) @binding(4) var<storage, read> cornerUv: array<f32>;   // [C,2] atlas coordinates
@group(0) @binding(5) var<storage, read> occlusion: array<f32>;  // [V] ambient occlusion factor
@group(0) @binding(6) var albedo: texture_2d<f32>;
@group(0) @binding(7) var samp: sampler;
@group(0) @binding(8) var labelTex: texture_2d<u32>;

struct VOut {
  @builtin(position) pos: vec4f,
  @location(0) world: vec3f,
  @location(1) normal: vec3f,
  @location(2) uv: vec2f,
  @location(3) zc: f32,
  @location(4) ao: f32,
}

@vertex
fn vs(@builtin(vertex_index) c: u32) -> VOut {
  let vi = corners[c];
  let p = vec3f(positions[3u * vi], positions[3u * vi + 1u], positions[3u * vi + 2u]);
  let n = vec3f(normals[3u * vi], normals[3u * vi + 1u], normals[3u * vi + 2u]);
  let q = vec4f(p, 1.0);
  let x = dot(u.w2c0, q);
  let y = dot(u.w2c1, q);
  let z = dot(u.w2c2, q);
  let near = u.size.z;
  let far = u.size.w;
  var o: VOut;
  o.pos = vec4f(
    2.0 * (u.intr.x * x + u.intr.z * z) / u.size.x - z,
    z - 2.0 * (u.intr.y * y + u.intr.w * z) / u.size.y,
    far * (z - near) / (far - near),
    z);
  o.world = p;
  o.normal = n;
  o.uv = vec2f(cornerUv[2u * c], cornerUv[2u * c + 1u]);
  o.zc = z;
  o.ao = occlusion[vi];
  return o;
}

struct FOut {
  @location(0) color: vec4f,  // shaded rgb, coverage
  @location(1) aux: vec4f,    // camera z (metres), region label, coverage, 0
}

@fragment
fn fs(i: VOut) -> FOut {
  let dims = textureDimensions(albedo, 0);
  let aTrilinear = textureSample(albedo, samp, i.uv);
  let aBase = textureSampleLevel(albedo, samp, i.uv, 0.0);
  let a = select(aTrilinear, aBase, u.shade.z > 0.5);
  let texel = clamp(vec2i(floor(i.uv * vec2f(dims))), vec2i(0), vec2i(dims) - vec2i(1));
  let label = textureLoad(labelTex, texel, 0).r;
  // Two-sided lighting: turn the normal toward the camera.
  var n = normalize(i.normal);
  let toEye = u.eye.xyz - i.world;
  if (dot(n, toEye) < 0.0) { n = -n; }
  let ao = select(1.0, i.ao, u.shade.y > 0.5);
  let shading = ao * (u.light.w + u.shade.x * max(0.0, dot(n, u.light.xyz)));
  var o: FOut;
  o.color = vec4f(clamp(a.rgb * shading, vec3f(0.0), vec3f(1.0)), 1.0);
  o.aux = vec4f(i.zc, f32(label), 1.0, 0.0);
  return o;
}
`;

/** Box-filters the supersampled targets into [H,W,6] floats: r, g, b, alpha, depth, label. */
export const resolveWgsl = /* wgsl */ `
struct Resolve {
  width: u32,
  height: u32,
  ss: u32,
  _pad: u32,
  bg: vec4f,
}

@group(0) @binding(0) var<uniform> r: Resolve;
@group(0) @binding(1) var colorTex: texture_2d<f32>;
@group(0) @binding(2) var auxTex: texture_2d<f32>;
@group(0) @binding(3) var<storage, read_write> outPix: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= r.width || gid.y >= r.height) { return; }
  var rgb = vec3f(0.0);
  var cov = 0.0;
  var zsum = 0.0;
  var votes = array<u32, 16>();
  for (var sy = 0u; sy < r.ss; sy++) {
    for (var sx = 0u; sx < r.ss; sx++) {
      let q = vec2i(vec2u(gid.x * r.ss + sx, gid.y * r.ss + sy));
      let c = textureLoad(colorTex, q, 0);
      let a = textureLoad(auxTex, q, 0);
      rgb += c.rgb;
      cov += a.z;
      zsum += a.x * a.z;
      let l = select(0u, min(u32(a.y + 0.5), 15u), a.z > 0.5);
      votes[l] += 1u;
    }
  }
  let n = f32(r.ss * r.ss);
  let alpha = cov / n;
  // Majority label; the background (0) wins only when it beats every region strictly.
  var best = 0u;
  var bestVotes = 0u;
  for (var l = 1u; l < 16u; l++) {
    if (votes[l] > bestVotes) { best = l; bestVotes = votes[l]; }
  }
  if (votes[0] > bestVotes) { best = 0u; }
  let o = 6u * (gid.y * r.width + gid.x);
  let col = rgb / n + (1.0 - alpha) * r.bg.rgb;
  outPix[o] = col.r;
  outPix[o + 1u] = col.g;
  outPix[o + 2u] = col.b;
  outPix[o + 3u] = alpha;
  outPix[o + 4u] = select(0.0, zsum / max(cov, 1e-9), cov > 0.0);
  outPix[o + 5u] = f32(best);
}
`;
