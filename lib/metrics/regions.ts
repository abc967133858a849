/**
 * Edit accuracy per face region: PSNR and SSIM of a rendered edit against the ground-truth edit, inside the
 * region groups of lib/head/regions.ts (whole head, mouth interior, eyes, skin, lips). Labels come from the
 * ground-truth frame's label map (texture edits leave geometry, hence labels, unchanged).
 */
import { REGION_GROUPS, REGION_NAMES } from '../head/regions.js';
import type { RgbImage } from '../util/image.js';
import { meanSsim, psnr, ssimMap, type SsimOptions } from './image.js';

export type LabelMap = ArrayLike<number>; // [H,W] region ids (lib/head/regions.ts)

/** 0/1 mask of the pixels whose label is in `ids`. */
export function regionMask(labels: LabelMap, ids: readonly number[]): Uint8Array {
  const set = new Set(ids);
  const m = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) m[p] = set.has(Math.round(labels[p]!)) ? 1 : 0;
  return m;
}

export interface RegionScore {
  psnr: number; // dB; NaN when the region is absent, +Infinity when exact
  ssim: number; // NaN when the region has no window centre
  pixels: number; // pixels of the region in the label map
}

export interface RegionMetricsOptions {
  /** Region groups to report; default REGION_GROUPS. */
  groups?: Record<string, readonly number[]>;
  /** Also report the whole frame under the key 'image'. Default true. */
  includeImage?: boolean;
  ssim?: Omit<SsimOptions, 'mask'>;
}

/** PSNR and SSIM of `rendered` against `reference` in each region group. */
export function regionMetrics(rendered: RgbImage, reference: RgbImage, labels: LabelMap, opts: RegionMetricsOptions = {}): Record<string, RegionScore> {
  const n = reference.width * reference.height;
  if (labels.length !== n) throw new Error(`regionMetrics: label map has ${labels.length} entries, expected ${reference.width}x${reference.height} = ${n}`);
  for (let p = 0; p < n; p++) {
    const v = labels[p]!;
    if (!(v >= 0 && v < REGION_NAMES.length)) throw new Error(`regionMetrics: label ${v} at pixel ${p} is not a region id (0..${REGION_NAMES.length - 1})`);
  }
  const out: Record<string, RegionScore> = {};
  const map = ssimMap(rendered, reference, opts.ssim); // once; each region averages its part
  if (opts.includeImage ?? true) {
    out.image = { psnr: psnr(rendered, reference), ssim: meanSsim(map, reference.width), pixels: n };
  }
  for (const [name, ids] of Object.entries(opts.groups ?? REGION_GROUPS)) {
    const mask = regionMask(labels, ids);
    let pixels = 0;
    for (let p = 0; p < n; p++) pixels += mask[p]!;
    out[name] = {
      psnr: psnr(rendered, reference, { mask }),
      ssim: meanSsim(map, reference.width, mask),
      pixels,
    };
  }
  return out;
}

/**
 * Averages per-frame region scores the way the benchmark reports them: PSNR from the MSE pooled over all
 * frames' region pixels (so a frame where the region is tiny does not dominate), SSIM as the pixel-weighted
 * mean of the per-frame region SSIMs.
 */
export function poolRegionScores(frames: Record<string, RegionScore>[]): Record<string, RegionScore> {
  const out: Record<string, RegionScore> = {};
  const keys = new Set(frames.flatMap((f) => Object.keys(f)));
  for (const k of keys) {
    let mseSum = 0;
    let ssimSum = 0;
    let ssimW = 0;
    let pixels = 0;
    let exact = true;
    for (const f of frames) {
      const s = f[k];
      if (!s || s.pixels === 0 || Number.isNaN(s.psnr)) continue;
      const m = s.psnr === Infinity ? 0 : 10 ** (-s.psnr / 10); // data range 1
      if (m !== 0) exact = false;
      mseSum += m * s.pixels;
      pixels += s.pixels;
      if (!Number.isNaN(s.ssim)) {
        ssimSum += s.ssim * s.pixels;
        ssimW += s.pixels;
      }
    }
    out[k] = {
      psnr: pixels === 0 ? NaN : exact ? Infinity : 10 * Math.log10(pixels / mseSum),
      ssim: ssimW === 0 ? NaN : ssimSum / ssimW,
      pixels,
    };
  }
  return out;
}
