/**
 * Consistency of an edit over time and over views, measured on the edit residual r = edited − original
 * (per pixel, RGB in [0, 1]): a consistent edit changes a surface point's colour the same way in every frame
 * and every view, so r should not jump.
 *
 * Temporal flicker (one camera, consecutive timesteps t, t+1):
 *     F = mean over pixels p in fg_t ∩ fg_{t+1} of  (1/3) Σ_c |r_t(p, c) − r_{t+1}(p, c)|
 * averaged over the consecutive pairs. It compares the same pixel, not the same surface point: under motion a
 * pixel may see another point, so F is not zero even for a perfect edit. Compute F for the ground-truth edit
 * too and report both; only the excess over the GT's F is the method's flicker.
 *
 * Multi-view consistency (one timestep, neighbouring cameras A, B), two definitions, named in the result:
 *   'reprojected' (when both views come with camera-space depth and cameras): every foreground pixel p of A is
 *       unprojected with its depth, projected into B (nearest pixel q), and kept only if B sees the same point:
 *       q inside B, foreground in B, and |z_B(point) − depth_B(q)| ≤ depthTolerance · z_B(point). The score is
 *       the mean of (1/3) Σ_c |r_A(p, c) − r_B(q, c)| over the kept pixels, symmetrised (A→B and B→A pooled).
 *   'region-mean' (no geometry): for each region group present in both views, the L1 distance (averaged over
 *       channels) between the mean residual colour of the region in A and in B; regions are weighted by the
 *       smaller of their two pixel counts. Coarse (it cannot see within-region inconsistency) but needs no
 *       correspondence.
 */
import type { Camera } from '../raster/types.js';
import type { RgbImage } from '../util/image.js';
import { REGION_GROUPS } from '../head/regions.js';
import type { Mask } from './image.js';
import type { LabelMap } from './regions.js';

export interface ResidualFrame {
  edited: RgbImage;
  original: RgbImage;
  /** Pixels of the subject (weights in [0, 1]); default: every pixel. */
  foreground?: Mask;
  /** Region ids; needed for per-region results and for 'region-mean'. */
  labels?: LabelMap;
}

export interface ResidualView extends ResidualFrame {
  camera?: Camera;
  /** Camera-space z of the visible surface, metres; ≤ 0 or non-finite where nothing is visible. */
  depth?: ArrayLike<number>; // [H,W]
}

export interface PairSeries {
  mean: number; // NaN when no pair had a shared pixel
  perPair: number[]; // NaN for a pair with no shared pixel
}

export interface FlickerResult extends PairSeries {
  byRegion?: Record<string, PairSeries>;
}

function checkFrame(f: ResidualFrame, i: number, what: string, w: number, h: number): void {
  for (const [name, img] of [
    ['edited', f.edited],
    ['original', f.original],
  ] as const) {
    if (img.width !== w || img.height !== h) throw new Error(`${what}: frame ${i} ${name} is ${img.width}x${img.height}, expected ${w}x${h}`);
  }
  if (f.foreground && f.foreground.length !== w * h) throw new Error(`${what}: frame ${i} foreground has ${f.foreground.length} entries, expected ${w * h}`);
  if (f.labels && f.labels.length !== w * h) throw new Error(`${what}: frame ${i} labels have ${f.labels.length} entries, expected ${w * h}`);
}

const meanOf = (xs: number[]) => {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN;
};

/** Mean absolute change of the residual between two frames over the pixels weighted by `weight(p)`. */
function residualL1(a: ResidualFrame, b: ResidualFrame, weight: (p: number) => number): number {
  const n = a.edited.width * a.edited.height;
  let sum = 0;
  let wsum = 0;
  for (let p = 0; p < n; p++) {
    const w = weight(p);
    if (w <= 0) continue;
    let d = 0;
    for (let c = 0; c < 3; c++) {
      const i = 3 * p + c;
      d += Math.abs(a.edited.data[i]! - a.original.data[i]! - (b.edited.data[i]! - b.original.data[i]!));
    }
    sum += (w * d) / 3;
    wsum += w;
  }
  return wsum > 0 ? sum / wsum : NaN;
}

/** Temporal flicker of consecutive frames of one camera (see the module comment). */
export function temporalFlicker(frames: ResidualFrame[], opts: { groups?: Record<string, readonly number[]> | false } = {}): FlickerResult {
  if (frames.length < 2) throw new Error(`temporalFlicker: need at least 2 frames, got ${frames.length}`);
  const { width: w, height: h } = frames[0]!.edited;
  frames.forEach((f, i) => checkFrame(f, i, 'temporalFlicker', w, h));
  const fg = (f: ResidualFrame, p: number) => (f.foreground ? f.foreground[p]! : 1);
  const perPair: number[] = [];
  for (let t = 0; t + 1 < frames.length; t++) {
    const a = frames[t]!;
    const b = frames[t + 1]!;
    perPair.push(residualL1(a, b, (p) => fg(a, p) * fg(b, p)));
  }
  const result: FlickerResult = { mean: meanOf(perPair), perPair };
  const groups = opts.groups === false ? undefined : (opts.groups ?? (frames.every((f) => f.labels) ? REGION_GROUPS : undefined));
  if (groups) {
    if (!frames.every((f) => f.labels)) throw new Error('temporalFlicker: per-region flicker needs labels on every frame');
    result.byRegion = {};
    for (const [name, ids] of Object.entries(groups)) {
      const set = new Set(ids);
      const pp: number[] = [];
      for (let t = 0; t + 1 < frames.length; t++) {
        const a = frames[t]!;
        const b = frames[t + 1]!;
        pp.push(residualL1(a, b, (p) => (set.has(a.labels![p]!) && set.has(b.labels![p]!) ? fg(a, p) * fg(b, p) : 0)));
      }
      result.byRegion[name] = { mean: meanOf(pp), perPair: pp };
    }
  }
  return result;
}

export interface ViewConsistencyResult extends PairSeries {
  definition: 'reprojected' | 'region-mean';
  /** Pixels (reprojected) or region-weight (region-mean) that each pair's score rests on. */
  support: number[];
}

/** Sum and count of |r_A(p) − r_B(q)| over A's pixels whose surface point B sees (one direction). */
function reprojectedL1(a: ResidualView, b: ResidualView, tol: number): { sum: number; count: number } {
  const ca = a.camera!;
  const cb = b.camera!;
  const W = a.edited.width;
  const H = a.edited.height;
  const Wb = b.edited.width;
  const Hb = b.edited.height;
  const m = ca.worldToCamera;
  const mb = cb.worldToCamera;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (a.foreground && !(a.foreground[p]! > 0.5)) continue;
      const z = a.depth![p]!;
      if (!(z > 0) || !Number.isFinite(z)) continue;
      // Camera-space point of the pixel centre, then world: X = Rᵀ (Xc − t).
      const xc = ((x + 0.5 - ca.cx) / ca.fx) * z;
      const yc = ((y + 0.5 - ca.cy) / ca.fy) * z;
      const dx = xc - m[3]!;
      const dy = yc - m[7]!;
      const dz = z - m[11]!;
      const X = m[0]! * dx + m[4]! * dy + m[8]! * dz;
      const Y = m[1]! * dx + m[5]! * dy + m[9]! * dz;
      const Z = m[2]! * dx + m[6]! * dy + m[10]! * dz;
      const xb = mb[0]! * X + mb[1]! * Y + mb[2]! * Z + mb[3]!;
      const yb = mb[4]! * X + mb[5]! * Y + mb[6]! * Z + mb[7]!;
      const zb = mb[8]! * X + mb[9]! * Y + mb[10]! * Z + mb[11]!;
      if (!(zb > 0)) continue;
      const u = Math.floor((cb.fx * xb) / zb + cb.cx);
      const v = Math.floor((cb.fy * yb) / zb + cb.cy);
      if (u < 0 || v < 0 || u >= Wb || v >= Hb) continue;
      const q = v * Wb + u;
      if (b.foreground && !(b.foreground[q]! > 0.5)) continue;
      const zq = b.depth![q]!;
      if (!(zq > 0) || Math.abs(zb - zq) > tol * zb) continue; // occluded in B, or B sees something else
      let d = 0;
      for (let c = 0; c < 3; c++) {
        d += Math.abs(a.edited.data[3 * p + c]! - a.original.data[3 * p + c]! - (b.edited.data[3 * q + c]! - b.original.data[3 * q + c]!));
      }
      sum += d / 3;
      count++;
    }
  }
  return { sum, count };
}

function regionMeanResidual(v: ResidualView, ids: readonly number[]): { mean: [number, number, number]; pixels: number } {
  const set = new Set(ids);
  const s = [0, 0, 0];
  let wsum = 0;
  const n = v.edited.width * v.edited.height;
  for (let p = 0; p < n; p++) {
    if (!set.has(v.labels![p]!)) continue;
    const w = v.foreground ? v.foreground[p]! : 1;
    if (w <= 0) continue;
    for (let c = 0; c < 3; c++) s[c]! += w * (v.edited.data[3 * p + c]! - v.original.data[3 * p + c]!);
    wsum += w;
  }
  return { mean: [s[0]! / wsum, s[1]! / wsum, s[2]! / wsum], pixels: wsum };
}

/**
 * Multi-view consistency of neighbouring views (views[i] vs views[i+1]; pass the ring closed yourself if
 * the cameras go all the way round). Uses 'reprojected' when every view has depth and camera, else
 * 'region-mean' (needs labels). Lower is better; 0 is a perfectly consistent edit.
 */
export function viewConsistency(
  views: ResidualView[],
  opts: { definition?: 'reprojected' | 'region-mean'; depthTolerance?: number; groups?: Record<string, readonly number[]> } = {},
): ViewConsistencyResult {
  if (views.length < 2) throw new Error(`viewConsistency: need at least 2 views, got ${views.length}`);
  views.forEach((v, i) => checkFrame(v, i, 'viewConsistency', v.edited.width, v.edited.height));
  const geometric = views.every((v) => v.depth && v.camera);
  const definition = opts.definition ?? (geometric ? 'reprojected' : 'region-mean');
  const perPair: number[] = [];
  const support: number[] = [];
  if (definition === 'reprojected') {
    if (!geometric) throw new Error("viewConsistency: 'reprojected' needs depth and camera on every view");
    views.forEach((v, i) => {
      const n = v.edited.width * v.edited.height;
      if (v.depth!.length !== n) throw new Error(`viewConsistency: view ${i} depth has ${v.depth!.length} entries, expected ${n}`);
      if (v.camera!.width !== v.edited.width || v.camera!.height !== v.edited.height)
        throw new Error(`viewConsistency: view ${i} camera size differs from its image`);
    });
    const tol = opts.depthTolerance ?? 0.01;
    for (let i = 0; i + 1 < views.length; i++) {
      const ab = reprojectedL1(views[i]!, views[i + 1]!, tol);
      const ba = reprojectedL1(views[i + 1]!, views[i]!, tol);
      const count = ab.count + ba.count;
      perPair.push(count ? (ab.sum + ba.sum) / count : NaN);
      support.push(count);
    }
  } else {
    if (!views.every((v) => v.labels)) throw new Error("viewConsistency: 'region-mean' needs labels on every view");
    const groups = opts.groups ?? REGION_GROUPS;
    for (let i = 0; i + 1 < views.length; i++) {
      let sum = 0;
      let wsum = 0;
      for (const ids of Object.values(groups)) {
        const a = regionMeanResidual(views[i]!, ids);
        const b = regionMeanResidual(views[i + 1]!, ids);
        const w = Math.min(a.pixels, b.pixels);
        if (w <= 0) continue;
        const d = (Math.abs(a.mean[0] - b.mean[0]) + Math.abs(a.mean[1] - b.mean[1]) + Math.abs(a.mean[2] - b.mean[2])) / 3;
        sum += w * d;
        wsum += w;
      }
      perPair.push(wsum ? sum / wsum : NaN);
      support.push(wsum);
    }
  }
  return { definition, mean: meanOf(perPair), perPair, support };
}
