/**
 * The avatar's Gaussians in their local (per-triangle) parameterisation, on the CPU. Training holds the
 * same data as tfjs variables (lib/avatar/model.ts); densification and checkpoints work on this form.
 */
import type { ShDegree } from '../raster/types.js';
import { shCoeffs } from '../raster/types.js';
import { Rng } from '../util/random.js';

export interface BoundGaussians {
  count: number;
  shDegree: ShDegree; // stored degree
  binding: Int32Array; // [N] triangle index of each Gaussian
  means: Float32Array; // [N,3] local, in units of the triangle's scale k
  logScales: Float32Array; // [N,3] log(scale / k)
  quats: Float32Array; // [N,4] (w,x,y,z) local rotation, unnormalised
  opacityLogits: Float32Array; // [N]
  sh: Float32Array; // [N,K,3] coefficient-major, RGB last
}

/** SH DC coefficient that renders as `rgb` (colour = SH·C0 + 0.5). */
export const SH_C0 = 0.28209479177387814;
export const rgbToShDc = (rgb: number) => (rgb - 0.5) / SH_C0;

export interface InitOptions {
  perTriangle: number; // Gaussians per triangle at initialisation
  opacity: number; // initial opacity (GaussianAvatars: 0.1)
  /** Initial colour; GaussianAvatars starts near black-grey noise, we default to mid grey + small noise. */
  rgb: [number, number, number];
  rgbNoise: number;
  shDegree: ShDegree;
  seed: number;
}

export const DEFAULT_INIT: InitOptions = { perTriangle: 1, opacity: 0.1, rgb: [0.5, 0.5, 0.5], rgbNoise: 0.02, shDegree: 3, seed: 0 };

/**
 * GaussianAvatars' initialisation: Gaussians at their triangle's centre (local mean 0, or spread inside the
 * triangle's frame when several per triangle), unit local scale (world scale = k), identity rotation.
 */
export function initBoundGaussians(triangleCount: number, opts: Partial<InitOptions> = {}): BoundGaussians {
  const o = { ...DEFAULT_INIT, ...opts };
  const rng = new Rng(o.seed);
  const N = triangleCount * o.perTriangle;
  const K = shCoeffs(o.shDegree);
  const g: BoundGaussians = {
    count: N,
    shDegree: o.shDegree,
    binding: new Int32Array(N),
    means: new Float32Array(N * 3),
    logScales: new Float32Array(N * 3),
    quats: new Float32Array(N * 4),
    opacityLogits: new Float32Array(N).fill(Math.log(o.opacity / (1 - o.opacity))),
    sh: new Float32Array(N * K * 3),
  };
  for (let n = 0; n < N; n++) {
    g.binding[n] = Math.floor(n / o.perTriangle);
    if (o.perTriangle > 1) {
      // Spread within the triangle's plane (local x = edge, z = in-plane); y is the normal.
      g.means[3 * n] = (rng.next() - 0.5) * 0.5;
      g.means[3 * n + 2] = (rng.next() - 0.5) * 0.5;
      g.logScales.fill(Math.log(1 / Math.sqrt(o.perTriangle)), 3 * n, 3 * n + 3);
    }
    g.quats[4 * n] = 1;
    for (let c = 0; c < 3; c++) g.sh[n * K * 3 + c] = rgbToShDc(o.rgb[c]! + o.rgbNoise * rng.normal());
  }
  return g;
}

/** Number of Gaussians bound to each triangle. */
export function bindingCounts(binding: Int32Array, triangleCount: number): Int32Array {
  const c = new Int32Array(triangleCount);
  for (const t of binding) c[t]!++;
  return c;
}

/** Gathers rows `idx` of every per-Gaussian array (the order of `idx` is kept). */
export function selectGaussians(g: BoundGaussians, idx: ArrayLike<number>): BoundGaussians {
  const K3 = shCoeffs(g.shDegree) * 3;
  const n = idx.length;
  const out: BoundGaussians = {
    count: n,
    shDegree: g.shDegree,
    binding: new Int32Array(n),
    means: new Float32Array(n * 3),
    logScales: new Float32Array(n * 3),
    quats: new Float32Array(n * 4),
    opacityLogits: new Float32Array(n),
    sh: new Float32Array(n * K3),
  };
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    out.binding[j] = g.binding[i]!;
    out.means.set(g.means.subarray(3 * i, 3 * i + 3), 3 * j);
    out.logScales.set(g.logScales.subarray(3 * i, 3 * i + 3), 3 * j);
    out.quats.set(g.quats.subarray(4 * i, 4 * i + 4), 4 * j);
    out.opacityLogits[j] = g.opacityLogits[i]!;
    out.sh.set(g.sh.subarray(K3 * i, K3 * i + K3), K3 * j);
  }
  return out;
}

export function concatGaussians(a: BoundGaussians, b: BoundGaussians): BoundGaussians {
  if (a.shDegree !== b.shDegree) throw new Error('concatGaussians: SH degrees differ');
  const cat = <T extends Float32Array | Int32Array>(x: T, y: T): T => {
    const out = new (x.constructor as { new (n: number): T })(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    count: a.count + b.count,
    shDegree: a.shDegree,
    binding: cat(a.binding, b.binding),
    means: cat(a.means, b.means),
    logScales: cat(a.logScales, b.logScales),
    quats: cat(a.quats, b.quats),
    opacityLogits: cat(a.opacityLogits, b.opacityLogits),
    sh: cat(a.sh, b.sh),
  };
}
