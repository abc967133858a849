/**
 * Adaptive density control for bound Gaussians (3DGS, with GaussianAvatars' binding rules): Gaussians
 * with a large mean view-space positional gradient are cloned (if small) or split in two (if large),
 * transparent or oversized ones are pruned. Children inherit their parent's triangle, and pruning never
 * removes a triangle's last Gaussian, so every triangle keeps moving the avatar.
 *
 * One deliberate difference from GaussianAvatars' code: split children are placed at the parent's local
 * mean plus a sample from the parent's Gaussian (expressed in triangle units); the public code omits the
 * parent's mean for bound Gaussians, which drops children at the triangle centre.
 */
import { bindingCounts, concatGaussians, selectGaussians, type BoundGaussians } from './gaussians.js';
import { shCoeffs } from '../raster/types.js';
import { Rng } from '../util/random.js';

export interface DensifyStats {
  /** Σ over views of ‖∂L/∂means2D‖ in NDC units (pixels × (W/2, H/2)), as 3DGS thresholds it. */
  gradAccum: Float32Array; // [N]
  /** Number of views in which each Gaussian was visible (radius > 0). */
  denom: Float32Array; // [N]
  maxRadii2D: Float32Array; // [N] pixels
}

export function emptyStats(n: number): DensifyStats {
  return { gradAccum: new Float32Array(n), denom: new Float32Array(n), maxRadii2D: new Float32Array(n) };
}

/**
 * Accumulates one view's statistics. `means2DGrad` is ∂L/∂means2D in pixels [N,2], `radii` the
 * projection's radii [N] (0 = not visible in this view).
 */
export function accumulateStats(s: DensifyStats, means2DGrad: ArrayLike<number>, radii: ArrayLike<number>, width: number, height: number): void {
  for (let n = 0; n < s.denom.length; n++) {
    const r = radii[n]!;
    if (r <= 0) continue;
    const gx = means2DGrad[2 * n]! * (width / 2);
    const gy = means2DGrad[2 * n + 1]! * (height / 2);
    s.gradAccum[n]! += Math.hypot(gx, gy);
    s.denom[n]! += 1;
    if (r > s.maxRadii2D[n]!) s.maxRadii2D[n] = r;
  }
}

export interface DensifyOptions {
  gradThreshold: number; // 2e-4 (3DGS, GaussianAvatars)
  percentDense: number; // 0.01: clone below, split above this fraction of the extent
  extent: number; // metres: the scene's radius (cameras' spread around the head)
  minOpacity: number; // 0.005
  /** Prune Gaussians whose screen radius exceeded this (px); null disables (3DGS enables it after the first opacity reset). */
  maxScreenSize: number | null;
  /** Prune Gaussians whose world scale exceeds this fraction of the extent (3DGS: 0.1, with maxScreenSize). */
  maxWorldScaleFraction: number;
  splitChildren: number; // 2
  seed: number;
  /** Cap on the number of Gaussians after densification: beyond it, only the largest gradients grow. */
  maxCount: number;
}

export const DEFAULT_DENSIFY: DensifyOptions = {
  gradThreshold: 2e-4,
  percentDense: 0.01,
  extent: 1,
  minOpacity: 0.005,
  maxScreenSize: null,
  maxWorldScaleFraction: 0.1,
  splitChildren: 2,
  seed: 0,
  maxCount: Number.POSITIVE_INFINITY,
};

export interface DensifyResult {
  gaussians: BoundGaussians;
  /** Old indices of the surviving Gaussians, which come first in the new order (for the optimiser's moments). */
  keep: Int32Array;
  /** Number of new Gaussians appended after the kept ones (fresh optimiser moments). */
  appended: number;
  cloned: number;
  split: number;
  pruned: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * `triangleScales` [T] gives each triangle's scale k (from the mesh the extent refers to), so a Gaussian's
 * world size is k · exp(max local log-scale).
 */
export function densifyAndPrune(g: BoundGaussians, stats: DensifyStats, triangleScales: Float32Array, options: Partial<DensifyOptions> = {}): DensifyResult {
  const o = { ...DEFAULT_DENSIFY, ...options };
  const rng = new Rng(o.seed);
  const N = g.count;
  const T = triangleScales.length;
  const worldScale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    const k = triangleScales[g.binding[n]!]!;
    worldScale[n] = k * Math.exp(Math.max(g.logScales[3 * n]!, g.logScales[3 * n + 1]!, g.logScales[3 * n + 2]!));
  }
  const bigThreshold = o.percentDense * o.extent;
  const candidates: { n: number; grad: number }[] = [];
  for (let n = 0; n < N; n++) {
    const d = stats.denom[n]!;
    const grad = d > 0 ? stats.gradAccum[n]! / d : 0;
    if (grad >= o.gradThreshold) candidates.push({ n, grad });
  }
  // Over the cap, the largest mean gradients grow first (a clone adds one Gaussian, a split S − 1).
  let budget = o.maxCount - N;
  if (candidates.length > 0 && budget < candidates.length * Math.max(1, o.splitChildren - 1)) {
    candidates.sort((a, b) => b.grad - a.grad || a.n - b.n);
  }
  const cloneIdx: number[] = [];
  const splitIdx: number[] = [];
  for (const { n } of candidates) {
    const isClone = worldScale[n]! <= bigThreshold;
    const cost = isClone ? 1 : o.splitChildren - 1;
    if (cost > budget) continue;
    budget -= cost;
    (isClone ? cloneIdx : splitIdx).push(n);
  }
  cloneIdx.sort((a, b) => a - b);
  splitIdx.sort((a, b) => a - b);

  // Clones: exact copies (the next gradient steps pull them apart).
  const clones = selectGaussians(g, cloneIdx);

  // Split children: sampled inside the parent, shrunk by 1/(0.8·children).
  const S = o.splitChildren;
  const parents = selectGaussians(
    g,
    splitIdx.flatMap((i) => Array<number>(S).fill(i)),
  );
  const shrink = Math.log(0.8 * S);
  for (let j = 0; j < parents.count; j++) {
    const q = parents.quats.subarray(4 * j, 4 * j + 4);
    const qn = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!) || 1;
    const [w, x, y, z] = [q[0]! / qn, q[1]! / qn, q[2]! / qn, q[3]! / qn];
    const R = [
      1 - 2 * (y * y + z * z),
      2 * (x * y - w * z),
      2 * (x * z + w * y),
      2 * (x * y + w * z),
      1 - 2 * (x * x + z * z),
      2 * (y * z - w * x),
      2 * (x * z - w * y),
      2 * (y * z + w * x),
      1 - 2 * (x * x + y * y),
    ];
    const s = [0, 1, 2].map((i) => Math.exp(parents.logScales[3 * j + i]!) * rng.normal());
    for (let i = 0; i < 3; i++) {
      parents.means[3 * j + i]! += R[3 * i]! * s[0]! + R[3 * i + 1]! * s[1]! + R[3 * i + 2]! * s[2]!;
      parents.logScales[3 * j + i]! -= shrink;
    }
  }

  // Prune: split parents always go (their children replace them on the same triangle); then, as 3DGS
  // does after appending, every Gaussian old or new is pruned by opacity and size — unless it is its
  // triangle's last one.
  const appendedG = concatGaussians(clones, parents);
  const counts = bindingCounts(g.binding, T);
  for (const t of appendedG.binding) counts[t]!++;
  const removeOld = new Uint8Array(N);
  for (const n of splitIdx) {
    removeOld[n] = 1;
    counts[g.binding[n]!]!--;
  }
  const tooBig = (maxRadius: number, scale: number) => o.maxScreenSize !== null && (maxRadius > o.maxScreenSize || scale > o.maxWorldScaleFraction * o.extent);
  let pruned = 0;
  const tryPrune = (t: number, logit: number, maxRadius: number, scale: number): boolean => {
    if ((sigmoid(logit) < o.minOpacity || tooBig(maxRadius, scale)) && counts[t]! > 1) {
      counts[t]!--;
      pruned++;
      return true;
    }
    return false;
  };
  for (let n = 0; n < N; n++) {
    if (!removeOld[n] && tryPrune(g.binding[n]!, g.opacityLogits[n]!, stats.maxRadii2D[n]!, worldScale[n]!)) removeOld[n] = 1;
  }
  const keptNew: number[] = [];
  for (let j = 0; j < appendedG.count; j++) {
    const t = appendedG.binding[j]!;
    const ls = appendedG.logScales;
    const scale = triangleScales[t]! * Math.exp(Math.max(ls[3 * j]!, ls[3 * j + 1]!, ls[3 * j + 2]!));
    // New Gaussians have no screen-size history yet.
    if (!tryPrune(t, appendedG.opacityLogits[j]!, 0, scale)) keptNew.push(j);
  }

  const keepList: number[] = [];
  for (let n = 0; n < N; n++) if (!removeOld[n]) keepList.push(n);
  const keep = Int32Array.from(keepList);
  const added = selectGaussians(appendedG, keptNew);
  const gaussians = concatGaussians(selectGaussians(g, keep), added);
  return { gaussians, keep, appended: added.count, cloned: clones.count, split: splitIdx.length, pruned };
}

/** 3DGS's opacity reset: clamps every opacity to at most `max` (the config's densify.opacityResetMax), so occluded floaters can be pruned. */
export function resetOpacity(g: BoundGaussians, max: number): void {
  const cap = Math.log(max / (1 - max));
  for (let n = 0; n < g.count; n++) if (g.opacityLogits[n]! > cap) g.opacityLogits[n] = cap;
}

/**
 * Sanity check for checkpoints and densification: every binding is a triangle index, the SH table has the
 * right size, and every triangle of `mustBeBound` (e.g. the mesh's rendered triangles) has a Gaussian.
 */
export function assertEveryTriangleBound(g: BoundGaussians, triangleCount: number, where: string, mustBeBound?: ArrayLike<number>): void {
  for (let n = 0; n < g.count; n++) {
    if (g.binding[n]! < 0 || g.binding[n]! >= triangleCount)
      throw new Error(`${where}: binding[${n}] = ${g.binding[n]} is not a triangle index (0..${triangleCount - 1})`);
  }
  if (g.sh.length !== g.count * shCoeffs(g.shDegree) * 3)
    throw new Error(`${where}: sh has ${g.sh.length} values, expected ${g.count * shCoeffs(g.shDegree) * 3}`);
  const c = bindingCounts(g.binding, triangleCount);
  const required = mustBeBound ?? Array.from({ length: triangleCount }, (_, t) => t);
  for (let i = 0; i < required.length; i++) {
    const t = required[i]!;
    if (c[t] === 0) throw new Error(`${where}: triangle ${t} has no Gaussian bound to it`);
  }
}
