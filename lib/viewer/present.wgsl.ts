/**
 * Draws the rasterizer's output buffer ([H,W,5]: r, g, b, alpha, depth; background already composited)
 * onto a canvas texture: one full-screen triangle, one storage read per fragment, colours clamped to
 * [0, 1] and written as-is (the same 8-bit quantisation as the workbench's PNGs: round(255·c)).
 */
export const presentWgsl = /* wgsl */ `
@group(0) @binding(0) var<storage, read> img: array<f32>; // [H,W,5]
@group(0) @binding(1) var<uniform> dims: vec4u;           // width, height

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
  let p = vec2f(f32((i << 1u) & 2u), f32(i & 2u)) * 2.0 - 1.0;
  return vec4f(p, 0.0, 1.0);
}

@fragment
fn fs(@builtin(position) pos: vec4f) -> @location(0) vec4f {
  let x = min(u32(pos.x), dims.x - 1u);
  let y = min(u32(pos.y), dims.y - 1u);
  let o = (y * dims.x + x) * 5u;
  return vec4f(clamp(vec3f(img[o], img[o + 1u], img[o + 2u]), vec3f(0.0), vec3f(1.0)), 1.0);
}
`;
