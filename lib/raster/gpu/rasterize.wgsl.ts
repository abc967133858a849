/**
 * Stage 3, rasterize to pixels: one 16×16 workgroup per tile, one thread per pixel. The tile's sorted list
 * is walked front to back in batches of 256 Gaussians that the workgroup loads into workgroup memory
 * together (one load per thread, then every thread reads the batch by broadcast); the walk stops once
 * every pixel of the tile is saturated (T would drop below 1e-4).
 *
 * Output per pixel: out[p·5 ..] = (r, g, b, alpha = 1 − T_final, depth = Σ z α T), and for the backward
 * T_final, the list position just past the last blended Gaussian, the number blended, and with
 * renormalised WABE the sums (Σ w c α T, Σ w α T).
 */
import { frameWgsl } from './frame.js';
import { projWgsl } from './project.wgsl.js';

export interface BlendVariant {
  wabe: boolean;
  renorm: boolean; // WABE only
  /** Differentiate w (WABE only; backward). */
  wabeGrad: boolean;
}

export const OUT_CHANNELS = 5;

export function blendVariant(s: { blend: 'alpha' | 'wabe'; wabe: { stopGradient: boolean; renormalize: boolean } }): BlendVariant {
  const wabe = s.blend === 'wabe';
  return { wabe, renorm: wabe && s.wabe.renormalize, wabeGrad: wabe && !s.wabe.stopGradient };
}

export const blendConstants = /* wgsl */ `
const ALPHA_MAX: f32 = 0.99;
const ALPHA_MIN: f32 = 1.0 / 255.0;
const T_MIN: f32 = 1e-4;
`;

export function rasterizeForwardWgsl(v: BlendVariant): string {
  return /* wgsl */ `
${frameWgsl}
${projWgsl}
${blendConstants}
@group(0) @binding(0) var<uniform> fr: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2u>;   // [numTiles]
@group(0) @binding(2) var<storage, read> keyGid: array<u32>;     // [keys] Gaussian id per sorted key
@group(0) @binding(3) var<storage, read> proj: array<Proj>;      // [N]
@group(0) @binding(4) var<storage, read_write> outImage: array<f32>;  // [H,W,5]
@group(0) @binding(5) var<storage, read_write> finalT: array<f32>;    // [H,W]
@group(0) @binding(6) var<storage, read_write> lastIdx: array<u32>;   // [H,W]
@group(0) @binding(7) var<storage, read_write> nContrib: array<u32>;  // [H,W]
${v.renorm ? '@group(0) @binding(8) var<storage, read_write> wabeSums: array<vec4f>; // [H,W] (Σ w c α T, Σ w α T)' : ''}

var<workgroup> sXY: array<vec4f, 256>;    // u, v, opacity, depth
var<workgroup> sConic: array<vec4f, 256>; // a, b, c, -
var<workgroup> sColor: array<vec4f, 256>; // rgb, -
var<workgroup> doneCount: atomic<u32>;

@compute @workgroup_size(16, 16)
fn rasterize(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) l: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let width = fr.dims.x; let height = fr.dims.y;
  let tile = wid.x + wid.y * fr.dims.z;
  let px = wid.x * 16u + l.x; let py = wid.y * 16u + l.y;
  let inside = px < width && py < height;
  let pix = py * width + px;
  let centre = vec2f(f32(px) + 0.5, f32(py) + 0.5);
  let range = ranges[tile];
  if (lid == 0u) { atomicStore(&doneCount, 0u); }
  workgroupBarrier();
  var done = !inside;
  if (done) { atomicAdd(&doneCount, 1u); }
  var T = 1.0;
  var C = vec3f(0.0);
  var S = 0.0;
  var D = 0.0;
  var n = 0u;
  var last = 0u;
  let beta = fr.blend.x;
  let total = range.y - range.x;
  let nBatches = (total + 255u) / 256u;
  for (var b = 0u; b < nBatches; b++) {
    // Also the barrier between the previous batch's reads and this batch's writes.
    if (workgroupUniformLoad(&doneCount) == 256u) { break; }
    let pos = b * 256u + lid;
    if (pos < total) {
      let p = proj[keyGid[range.x + pos]];
      sXY[lid] = vec4f(p.a.xy, p.a.w, p.a.z);
      sConic[lid] = p.b;
      sColor[lid] = p.c;
    }
    workgroupBarrier();
    if (!done) {
      let cnt = min(256u, total - b * 256u);
      for (var j = 0u; j < cnt; j++) {
        let g = sXY[j];
        let co = sConic[j];
        let d = g.xy - centre;
        let power = -0.5 * (co.x * d.x * d.x + co.z * d.y * d.y) - co.y * d.x * d.y;
        if (power > 0.0) { continue; }
        let alpha = min(ALPHA_MAX, g.z * exp(power));
        if (alpha < ALPHA_MIN) { continue; }
        let nextT = T * (1.0 - alpha);
        if (nextT < T_MIN) { done = true; break; }
        ${v.wabe ? 'let wat = exp(-beta * (1.0 - T)) * alpha * T;' : 'let wat = alpha * T;'}
        C += sColor[j].xyz * wat;
        ${v.renorm ? 'S += wat;' : ''}
        D += g.w * alpha * T;
        T = nextT;
        n++;
        last = b * 256u + j + 1u;
      }
      if (done) { atomicAdd(&doneCount, 1u); }
    }
  }
  if (inside) {
    ${
      v.renorm
        ? `var rgb = T * fr.bg.xyz;
    if (S > 0.0) { rgb += C * ((1.0 - T) / S); }
    wabeSums[pix] = vec4f(C, S);`
        : 'let rgb = C + T * fr.bg.xyz;'
    }
    let o = pix * 5u;
    outImage[o] = rgb.x;
    outImage[o + 1u] = rgb.y;
    outImage[o + 2u] = rgb.z;
    outImage[o + 3u] = 1.0 - T;
    outImage[o + 4u] = D;
    finalT[pix] = T;
    lastIdx[pix] = last;
    nContrib[pix] = n;
  }
}
`;
}
