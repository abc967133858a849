/**
 * Per-frame edit scores that do not reuse the 2D editor (the target generator): each compares the edited
 * avatar's render with renders that exist without any editor — the unedited avatar, the captured image and
 * the ground-truth edit (docs/method.md §6–§7). With images R (edited avatar), O (unedited avatar),
 * C (captured) and G (ground-truth edit, the head re-rendered with the edited texture), RGB in [0, 1]:
 *
 *   leakage       mean over the guarded pixels of (1/3) Σ_c |R − G|: colour error on regions the edit must
 *                 not change that neighbour the edited ones in the image or in depth (the teeth under a skin
 *                 edit, the lips under gold teeth): where an edit bleeds through an occluder. Lower is better.
 *   preservation  PSNR of R against O over the head pixels outside the edited regions: what the edit left
 *                 alone should look as the unedited avatar did. Higher is better.
 *   edit strength Σ (R − O)·(G − C) / Σ |G − C|² over the edited regions' pixels: the projection of the
 *                 avatar's change onto the ground-truth change. 0 = no edit, 1 = the full edit, > 1 overshoot.
 *   flicker       mean over pixels seen in both frames of (1/3) Σ_c |(R − O)_t − (R − O)_t'| between a frame and
 *                 its neighbouring timestep t' of the same camera: the edit's own change over time, free of the
 *                 reconstruction's (which O carries as well). Lower is steadier.
 *
 * Each score is returned with the sums it pools from, so frames pool by pixels (poolEditScores).
 */
import { REGION_NAMES, Region, type RegionName } from '../head/regions.js';
import type { RgbImage } from '../util/image.js';
import type { LabelMap } from './regions.js';

/**
 * Regions that touch each region in the image or in depth (one occludes the other): where an edit of the
 * key region can leak. Skin surrounds lips and eyes and, through the lips and cheeks, hides the mouth interior.
 */
export const REGION_NEIGHBOURS: Record<number, readonly number[]> = {
  [Region.skin]: [Region.lips, Region.eyes, Region.teeth, Region.hair],
  [Region.lips]: [Region.skin, Region.teeth, Region.tongue],
  [Region.teeth]: [Region.lips, Region.tongue],
  [Region.tongue]: [Region.teeth, Region.lips],
  [Region.eyes]: [Region.skin],
  [Region.hair]: [Region.skin],
};

/** The regions an edit of `edited` must leave unchanged and that neighbour it (REGION_NEIGHBOURS), in id order. */
export function guardedRegions(edited: readonly number[]): number[] {
  const out = new Set<number>();
  for (const r of edited) for (const n of REGION_NEIGHBOURS[r] ?? []) if (!edited.includes(n)) out.add(n);
  return [...out].sort((a, b) => a - b);
}

const HEAD = new Set<number>([Region.skin, Region.lips, Region.teeth, Region.tongue, Region.eyes, Region.hair]);

function check(what: string, labels: LabelMap, ...imgs: RgbImage[]): number {
  const n = labels.length;
  for (const im of imgs)
    if (im.width * im.height !== n || im.data.length !== 3 * n)
      throw new Error(`${what}: an image is ${im.width}x${im.height} (${im.data.length} values) for ${n} labels`);
  return n;
}

/** Sums behind one frame's scores; a score is null where its pixels are absent. */
export interface EditFrameSums {
  /** Per guarded region name: Σ colour error and pixels. */
  leak: Partial<Record<RegionName, { err: number; pixels: number }>>;
  /** Σ squared error over channels and pixels of R vs O outside the edit, and the pixels. */
  preserve: { se: number; pixels: number };
  /** Σ (R − O)·(G − C) and Σ |G − C|² over the edited regions. */
  strength: { num: number; den: number; pixels: number };
}

export interface EditFrameImages {
  edited: RgbImage; // R
  unedited: RgbImage | null; // O (null: no unedited avatar at hand; preservation and strength are absent)
  captured: RgbImage; // C
  gt: RgbImage; // G
  labels: LabelMap; // region ids of the frame ([H,W])
}

/** One frame's sums for an edit of the regions `editRegions`. */
export function editFrameSums(f: EditFrameImages, editRegions: readonly number[]): EditFrameSums {
  const imgs = [f.edited, f.captured, f.gt, ...(f.unedited ? [f.unedited] : [])];
  const n = check('editFrameSums', f.labels, ...imgs);
  const guarded = new Set(guardedRegions(editRegions));
  const edited = new Set(editRegions);
  const R = f.edited.data,
    G = f.gt.data,
    C = f.captured.data,
    O = f.unedited?.data;
  const leak: EditFrameSums['leak'] = {};
  const preserve = { se: 0, pixels: 0 };
  const strength = { num: 0, den: 0, pixels: 0 };
  for (let p = 0; p < n; p++) {
    const l = Math.round(f.labels[p]!);
    if (guarded.has(l)) {
      const name = REGION_NAMES[l]!;
      const s = (leak[name] ??= { err: 0, pixels: 0 });
      s.err += (Math.abs(R[3 * p]! - G[3 * p]!) + Math.abs(R[3 * p + 1]! - G[3 * p + 1]!) + Math.abs(R[3 * p + 2]! - G[3 * p + 2]!)) / 3;
      s.pixels++;
    }
    if (!O) continue;
    if (edited.has(l)) {
      for (let c = 0; c < 3; c++) {
        const d = G[3 * p + c]! - C[3 * p + c]!;
        strength.num += (R[3 * p + c]! - O[3 * p + c]!) * d;
        strength.den += d * d;
      }
      strength.pixels++;
    } else if (HEAD.has(l)) {
      for (let c = 0; c < 3; c++) preserve.se += (R[3 * p + c]! - O[3 * p + c]!) ** 2;
      preserve.pixels++;
    }
  }
  return { leak, preserve, strength };
}

/** Flicker of the edit residual R − O between two frames of one camera, over the pixels both see (labels ≠ background). */
export function residualFlicker(
  a: { edited: RgbImage; unedited: RgbImage; labels: LabelMap },
  b: { edited: RgbImage; unedited: RgbImage; labels: LabelMap },
): number | null {
  const n = check('residualFlicker', a.labels, a.edited, a.unedited, b.edited, b.unedited);
  if (b.labels.length !== n) throw new Error(`residualFlicker: label maps of ${n} and ${b.labels.length} pixels`);
  let sum = 0,
    count = 0;
  for (let p = 0; p < n; p++) {
    if (a.labels[p] === Region.background || b.labels[p] === Region.background) continue;
    let d = 0;
    for (let c = 0; c < 3; c++) {
      const i = 3 * p + c;
      d += Math.abs(a.edited.data[i]! - a.unedited.data[i]! - (b.edited.data[i]! - b.unedited.data[i]!));
    }
    sum += d / 3;
    count++;
  }
  return count ? sum / count : null;
}

export interface EditScores {
  /** Leakage over all guarded regions, and per guarded region. */
  leakage: number | null;
  leakageRegions: Partial<Record<RegionName, number>>;
  /** dB; +Infinity when identical. */
  preservation: number | null;
  editStrength: number | null;
}

/** Scores from pooled sums (one frame's, or `poolEditSums` of many). */
export function editScores(s: EditFrameSums): EditScores {
  let err = 0,
    pixels = 0;
  const leakageRegions: EditScores['leakageRegions'] = {};
  for (const [name, v] of Object.entries(s.leak) as [RegionName, { err: number; pixels: number }][]) {
    if (v.pixels === 0) continue;
    leakageRegions[name] = v.err / v.pixels;
    err += v.err;
    pixels += v.pixels;
  }
  const mse = s.preserve.pixels ? s.preserve.se / (3 * s.preserve.pixels) : null;
  return {
    leakage: pixels ? err / pixels : null,
    leakageRegions,
    preservation: mse === null ? null : mse === 0 ? Infinity : -10 * Math.log10(mse),
    editStrength: s.strength.den > 0 ? s.strength.num / s.strength.den : null,
  };
}

/** Sums of many frames: pooling by pixels, so a frame where a region is tiny weighs little. */
export function poolEditSums(frames: EditFrameSums[]): EditFrameSums {
  const out: EditFrameSums = { leak: {}, preserve: { se: 0, pixels: 0 }, strength: { num: 0, den: 0, pixels: 0 } };
  for (const f of frames) {
    for (const [name, v] of Object.entries(f.leak) as [RegionName, { err: number; pixels: number }][]) {
      const s = (out.leak[name] ??= { err: 0, pixels: 0 });
      s.err += v.err;
      s.pixels += v.pixels;
    }
    out.preserve.se += f.preserve.se;
    out.preserve.pixels += f.preserve.pixels;
    out.strength.num += f.strength.num;
    out.strength.den += f.strength.den;
    out.strength.pixels += f.strength.pixels;
  }
  return out;
}
