/**
 * Edit accuracy per face region: PSNR and SSIM of a rendered edit against the ground-truth edit, inside the
 * region groups of lib/head/regions.ts (whole head, mouth interior, eyes, skin, lips). Labels come from the
 * ground-truth frame's label map (texture edits leave geometry, hence labels, unchanged).
 */
import { REGION_GROUPS, REGION_NAMES } from '../head/regions.js';
import type { RgbImage } from '../util/image.js';
import { ssimMap, type SsimOptions } from './image.js';

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

/**
 * PSNR and SSIM of `rendered` against `reference` in each region group.
 *
 * One pass over the pixels sums squared error, pixel count and SSIM map values per label id; a group's score
 * adds the sums of its ids. Equal to masking each group in turn (psnr / meanSsim with `regionMask`) up to the
 * order of float64 additions.
 */
export function regionMetrics(rendered: RgbImage, reference: RgbImage, labels: LabelMap, opts: RegionMetricsOptions = {}): Record<string, RegionScore> {
  const ids = regionBins(rendered, reference, labels);
  const n = ids.length;
  const K = REGION_NAMES.length;
  const map = ssimMap(rendered, reference, opts.ssim); // once; each region averages its part
  const W = reference.width;
  const se = new Float64Array(K + 1);
  const count = new Float64Array(K + 1);
  const ssimSum = new Float64Array(K + 1);
  const ssimCount = new Float64Array(K + 1);
  const R = rendered.data;
  const G = reference.data;
  let seAll = 0;
  for (let p = 0; p < n; p++) {
    const d0 = R[3 * p]! - G[3 * p]!;
    const d1 = R[3 * p + 1]! - G[3 * p + 1]!;
    const d2 = R[3 * p + 2]! - G[3 * p + 2]!;
    const e = d0 * d0 + d1 * d1 + d2 * d2;
    const l = ids[p]!;
    se[l] += e;
    count[l]++;
    seAll += e;
  }
  let ssimAll = 0;
  for (let y = 0; y < map.height; y++) {
    const row = (y + map.offset) * W + map.offset;
    for (let x = 0; x < map.width; x++) {
      const v = map.map[y * map.width + x]!;
      const l = ids[row + x]!;
      ssimSum[l] += v;
      ssimCount[l]++;
      ssimAll += v;
    }
  }
  return groupScores({ se, count, ssimSum, ssimCount }, { se: seAll, pixels: n, ssimSum: ssimAll, ssimPixels: map.width * map.height }, opts);
}

/**
 * Checks a (rendered, reference, labels) triple and bins each pixel's label: the region id, or REGION_NAMES.length
 * for labels that round past the last id (e.g. 6.7: in no group, as regionMask would have it). Shared with the GPU
 * version (regions-gpu.ts), so both refuse the same inputs with the same messages.
 */
export function regionBins(rendered: RgbImage, reference: RgbImage, labels: LabelMap): Uint8Array {
  const n = reference.width * reference.height;
  if (labels.length !== n) throw new Error(`regionMetrics: label map has ${labels.length} entries, expected ${reference.width}x${reference.height} = ${n}`);
  if (rendered.width !== reference.width || rendered.height !== reference.height || rendered.data.length !== 3 * n || reference.data.length !== 3 * n) {
    throw new Error(`regionMetrics: image sizes differ (${rendered.width}x${rendered.height} vs ${reference.width}x${reference.height})`);
  }
  const K = REGION_NAMES.length;
  const ids = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const v = labels[p]!;
    if (!(v >= 0 && v < K)) throw new Error(`regionMetrics: label ${v} at pixel ${p} is not a region id (0..${K - 1})`);
    ids[p] = Math.min(K, Math.round(v));
  }
  return ids;
}

/** Per-bin sums of squared error (three channels), pixels, SSIM map values and map pixels. */
export interface RegionBinSums {
  se: Float64Array;
  count: Float64Array;
  ssimSum: Float64Array;
  ssimCount: Float64Array;
}

/**
 * The scores from per-bin sums: the whole image from `image`'s totals, each group by adding its ids' bins. PSNR with
 * data range 1.
 */
export function groupScores(
  bins: RegionBinSums,
  image: { se: number; pixels: number; ssimSum: number; ssimPixels: number },
  opts: Pick<RegionMetricsOptions, 'groups' | 'includeImage'> = {},
): Record<string, RegionScore> {
  const K = REGION_NAMES.length;
  const psnrOf = (sum: number, pixels: number) => (pixels === 0 ? NaN : sum === 0 ? Infinity : 10 * Math.log10(1 / (sum / (3 * pixels))));
  const out: Record<string, RegionScore> = {};
  if (opts.includeImage ?? true) {
    out.image = { psnr: psnrOf(image.se, image.pixels), ssim: image.ssimPixels > 0 ? image.ssimSum / image.ssimPixels : NaN, pixels: image.pixels };
  }
  for (const [name, group] of Object.entries(opts.groups ?? REGION_GROUPS)) {
    let s = 0,
      c = 0,
      ss = 0,
      sc = 0;
    for (const id of new Set(group)) {
      if (!(id >= 0 && id < K)) continue; // no pixel carries it
      s += bins.se[id]!;
      c += bins.count[id]!;
      ss += bins.ssimSum[id]!;
      sc += bins.ssimCount[id]!;
    }
    out[name] = { psnr: psnrOf(s, c), ssim: sc > 0 ? ss / sc : NaN, pixels: c };
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
