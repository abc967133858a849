/**
 * The benchmark scene `bench-N-WxH` (docs/bench-scene.md): a deterministic random scene
 * that any rasterizer, ours or a peer's, renders from exactly the same input. All hash arithmetic is
 * unsigned 32-bit, wrapping.
 */
import { lowbias32 } from '../util/random.js';
import type { Camera, Gaussians } from './types.js';

const GOLDEN = 0x9e3779b9;

/** u(i, k) in [0, 1) for a seed. */
export function benchU(i: number, k: number, seed = 0): number {
  return lowbias32((Math.imul(i, 64) + k + Math.imul(seed, GOLDEN)) >>> 0) / 4294967296;
}

/** Standard normal from slots k, k+1. */
export function benchN(i: number, k: number, seed = 0): number {
  return Math.sqrt(-2 * Math.log(Math.max(benchU(i, k, seed), 1e-12))) * Math.cos(2 * Math.PI * benchU(i, k + 1, seed));
}

const TAN30 = Math.tan(Math.PI / 6);

/** W×H, 60° horizontal field of view, principal point at the centre, world = camera frame. */
export function benchCamera(width: number, height: number): Camera {
  const f = width / 2 / TAN30;
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return { width, height, fx: f, fy: f, cx: width / 2, cy: height / 2, worldToCamera: m, near: 0.01, far: 100 };
}

/** N Gaussians, SH degree 3, as the scene description defines them (seed 0). */
export function benchGaussians(n: number, width: number, height: number): Gaussians {
  const cam = benchCamera(width, height);
  const tanX = TAN30;
  const tanY = height / 2 / cam.fy;
  const K = 16;
  const g: Gaussians = {
    count: n,
    shDegree: 3,
    means: new Float32Array(3 * n),
    logScales: new Float32Array(3 * n),
    quats: new Float32Array(4 * n),
    opacityLogits: new Float32Array(n),
    sh: new Float32Array(3 * K * n),
  };
  for (let i = 0; i < n; i++) {
    const z = 2 + 3 * benchU(i, 2);
    g.means[3 * i] = (2 * benchU(i, 0) - 1) * z * tanX;
    g.means[3 * i + 1] = (2 * benchU(i, 1) - 1) * z * tanY;
    g.means[3 * i + 2] = z;
    for (let j = 0; j < 3; j++) g.logScales[3 * i + j] = -4.6 + 0.5 * benchN(i, 4 + 2 * j);
    const q = [benchN(i, 10), benchN(i, 12), benchN(i, 14), benchN(i, 16)];
    const qn = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!);
    for (let j = 0; j < 4; j++) g.quats[4 * i + j] = q[j]! / qn;
    g.opacityLogits[i] = benchN(i, 18);
    const base = 3 * K * i;
    for (let c = 0; c < 3; c++) g.sh[base + c] = (benchU(i, 20 + c) - 0.5) * 2;
    for (let m = 0; m < 15; m++) {
      // Slot 24 + (2 (3m + c) mod 40) stays within the Gaussian's 64 slots.
      for (let c = 0; c < 3; c++) g.sh[base + 3 * (1 + m) + c] = 0.05 * benchN(i, 24 + ((2 * (3 * m + c)) % 40));
    }
  }
  return g;
}

/** The loss weights w(p, c) = u(p, c) with seed 1, p = y·W + x: [H,W,3]. */
export function benchLossWeights(width: number, height: number): Float32Array {
  const npx = width * height;
  const w = new Float32Array(3 * npx);
  for (let p = 0; p < npx; p++) for (let c = 0; c < 3; c++) w[3 * p + c] = benchU(p, c, 1);
  return w;
}
