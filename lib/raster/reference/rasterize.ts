/**
 * Stage 3 in float64: per pixel, blend its tile's sorted list front to back (3DGS), with alpha blending or
 * WABE (types.ts `WabeOptions`, docs/method.md §4).
 */
import type { Camera, Projected, RasterSettings, RenderOutput } from '../types.js';
import { TILE_SIZE, type TileLists } from './tiles.js';

export const ALPHA_MAX = 0.99; // α is clamped here, so a single Gaussian never makes a pixel fully opaque
export const ALPHA_MIN = 1 / 255; // contributions below this are skipped
export const T_MIN = 1e-4; // a Gaussian that would take T below this is not blended, and the pixel stops

export interface ReferenceRender extends RenderOutput {
  color: Float64Array; // [H,W,3]
  alpha: Float64Array; // [H,W]
  depth: Float64Array; // [H,W]
  /**
   * [H,W] per pixel: position in its tile's list (relative to the tile's range start) just past the last
   * blended Gaussian; 0 when nothing was blended. The backward pass walks the list from here to the start.
   */
  lastIndex: Int32Array;
}

/** The blend decision for one (pixel, list entry); shared with the backward pass so both agree exactly. */
export interface SplatSample {
  dx: number; // means2D.u − pixel centre x
  dy: number;
  G: number; // exp(power)
  alpha: number; // min(0.99, opacity · G)
  alphaClamped: boolean; // opacity · G > 0.99: α does not depend on the Gaussian's parameters
}

/** α of Gaussian `id` at pixel centre (px, py), or null when it is skipped (power > 0 or α < 1/255). */
export function sampleSplat(p: Projected, id: number, px: number, py: number): SplatSample | null {
  const dx = p.means2D[2 * id]! - px;
  const dy = p.means2D[2 * id + 1]! - py;
  const a = p.conics[3 * id]!,
    b = p.conics[3 * id + 1]!,
    c = p.conics[3 * id + 2]!;
  const power = -0.5 * (a * dx * dx + c * dy * dy) - b * dx * dy;
  if (power > 0) return null;
  const G = Math.exp(power);
  const raw = p.opacities[id]! * G;
  const alpha = Math.min(ALPHA_MAX, raw);
  if (alpha < ALPHA_MIN) return null;
  return { dx, dy, G, alpha, alphaClamped: raw > ALPHA_MAX };
}

export interface RasterizeOptions {
  /** Called for every blended (pixel, Gaussian) in blending order; tests use it to detect discontinuities. */
  onBlend?: (pixel: number, gaussian: number, sample: SplatSample) => void;
  /**
   * Replaces WABE's w = exp(−β (1 − T)) for the `slot`-th blended Gaussian of a pixel; tests use it to hold
   * w fixed and so take finite differences of what a stop-gradient backward differentiates.
   */
  wabeWeight?: (pixel: number, slot: number, T: number) => number;
}

export function rasterizeReference(p: Projected, tiles: TileLists, cam: Camera, s: RasterSettings, options: RasterizeOptions = {}): ReferenceRender {
  const { width: w, height: h } = cam;
  const npx = w * h;
  const out: ReferenceRender = {
    width: w,
    height: h,
    color: new Float64Array(3 * npx),
    alpha: new Float64Array(npx),
    depth: new Float64Array(npx),
    nContrib: new Uint32Array(npx),
    lastIndex: new Int32Array(npx),
  };
  const wabe = s.blend === 'wabe';
  const beta = s.wabe.beta;
  const bg = s.background;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const pix = y * w + x;
      const tile = Math.floor(y / TILE_SIZE) * tiles.gridW + Math.floor(x / TILE_SIZE);
      const start = tiles.tileRanges[2 * tile]!,
        end = tiles.tileRanges[2 * tile + 1]!;
      const px = x + 0.5,
        py = y + 0.5;
      let T = 1;
      const num = [0, 0, 0]; // Σ w_k c_k α_k T_k (w_k = 1 for alpha blending)
      let den = 0; // Σ w_k α_k T_k
      let depth = 0;
      let count = 0;
      let last = 0;
      for (let e = start; e < end; e++) {
        const id = tiles.gaussianIds[e]!;
        const smp = sampleSplat(p, id, px, py);
        if (smp === null) continue;
        const nextT = T * (1 - smp.alpha);
        if (nextT < T_MIN) break;
        const wk = !wabe ? 1 : options.wabeWeight ? options.wabeWeight(pix, count, T) : Math.exp(-beta * (1 - T));
        const wat = wk * smp.alpha * T;
        for (let c = 0; c < 3; c++) num[c]! += wat * p.colors[3 * id + c]!;
        den += wat;
        depth += p.depths[id]! * smp.alpha * T;
        T = nextT;
        count++;
        last = e - start + 1;
        options.onBlend?.(pix, id, smp);
      }
      const renorm = wabe && s.wabe.renormalize;
      const scale = renorm ? (den > 0 ? (1 - T) / den : 0) : 1;
      for (let c = 0; c < 3; c++) out.color[3 * pix + c] = num[c]! * scale + T * bg[c]!;
      out.alpha[pix] = 1 - T;
      out.depth[pix] = depth;
      out.nContrib[pix] = count;
      out.lastIndex[pix] = last;
    }
  }
  return out;
}
