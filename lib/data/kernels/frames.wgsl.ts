/**
 * Unpacking of 8-bit frames held on the GPU (lib/data/resident-frames.ts) into float32 tensors. A frame's
 * colour is one u32 per pixel (R, G, B bytes, low byte first); its mask and region labels one u32 per pixel
 * (mask byte, label byte). Bytes become floats through a 256-entry table filled on the CPU with i / 255 in
 * float64 rounded to float32, so the result is bit for bit what the PNG decoder (lib/util/image.ts) gives;
 * a division in WGSL is not correctly rounded.
 */
export const FRAMES_WG = 256;

const header = /* wgsl */ `
struct U { pixels: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> lut: array<f32, 256>; // i / 255
@group(0) @binding(2) var<storage, read> packed: array<u32>;   // [H·W]
fn pixelOf(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${FRAMES_WG}u; }
`;

/** Colour → [H,W,3] float32 in [0, 1]. */
export const unpackRgbWgsl = /* wgsl */ `
${header}
@group(0) @binding(3) var<storage, read_write> rgb: array<f32>; // [H,W,3]
@compute @workgroup_size(${FRAMES_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pixelOf(gid, nwg);
  if (p >= u.pixels) { return; }
  let v = packed[p];
  rgb[3u * p] = lut[v & 255u];
  rgb[3u * p + 1u] = lut[(v >> 8u) & 255u];
  rgb[3u * p + 2u] = lut[(v >> 16u) & 255u];
}
`;

/** Mask → [H,W] float32 coverage in [0, 1]. */
export const unpackMaskWgsl = /* wgsl */ `
${header}
@group(0) @binding(3) var<storage, read_write> mask: array<f32>; // [H,W]
@compute @workgroup_size(${FRAMES_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pixelOf(gid, nwg);
  if (p >= u.pixels) { return; }
  mask[p] = lut[packed[p] & 255u];
}
`;

/** Labels → [H,W] int32 region ids. */
export const unpackLabelsWgsl = /* wgsl */ `
${header}
@group(0) @binding(3) var<storage, read_write> labels: array<i32>; // [H,W]
@compute @workgroup_size(${FRAMES_WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = pixelOf(gid, nwg);
  if (p >= u.pixels) { return; }
  labels[p] = i32((packed[p] >> 8u) & 255u);
  _ = lut[0];
}
`;
