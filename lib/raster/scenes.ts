/** Small hand-made and seeded random scenes for the reference rasterizer's tests. */
import { intrinsicsFromFov, lookAt, makeCamera } from './camera.js';
import type { ReferenceGaussians } from './reference/project.js';
import type { Camera, Projected, ShDegree } from './types.js';
import { Rng } from '../util/random.js';

/** A camera at the world origin looking down +z (world = camera coordinates). */
export function identityCamera(width = 64, height = 48, f = 50, near = 0.01, far = 100): Camera {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return makeCamera({ width, height, fx: f, fy: f, cx: width / 2, cy: height / 2 }, m, near, far);
}

export interface GaussianSpec {
  mean: [number, number, number];
  logScale?: [number, number, number];
  quat?: [number, number, number, number];
  opacityLogit?: number;
  /** [K,3] coefficient-major. */
  sh?: number[];
}

export function gaussiansFrom(specs: GaussianSpec[], shDegree: ShDegree = 0, f64 = true): ReferenceGaussians {
  const n = specs.length;
  const K = (shDegree + 1) ** 2;
  const A = f64 ? Float64Array : Float32Array;
  const g: ReferenceGaussians = {
    count: n,
    shDegree,
    means: new A(3 * n),
    logScales: new A(3 * n),
    quats: new A(4 * n),
    opacityLogits: new A(n),
    sh: new A(3 * K * n),
  };
  specs.forEach((sp, i) => {
    g.means.set(sp.mean, 3 * i);
    g.logScales.set(sp.logScale ?? [Math.log(0.1), Math.log(0.1), Math.log(0.1)], 3 * i);
    g.quats.set(sp.quat ?? [1, 0, 0, 0], 4 * i);
    g.opacityLogits[i] = sp.opacityLogit ?? 0;
    if (sp.sh) g.sh.set(sp.sh, 3 * K * i);
  });
  return g;
}

export interface SplatSpec {
  uv: [number, number];
  conic?: [number, number, number];
  radius?: number;
  depth: number;
  color: [number, number, number];
  opacity: number;
}

/** A hand-made stage-1 output, to test tiles and blending without the projection. */
export function projectedFrom(splats: SplatSpec[]): Projected {
  const n = splats.length;
  const p = {
    count: n,
    means2D: new Float64Array(2 * n),
    conics: new Float64Array(3 * n),
    radii: new Int32Array(n),
    depths: new Float64Array(n),
    colors: new Float64Array(3 * n),
    opacities: new Float64Array(n),
    tilesTouched: new Uint32Array(n),
  };
  splats.forEach((s, i) => {
    p.means2D.set(s.uv, 2 * i);
    p.conics.set(s.conic ?? [0.5, 0, 0.5], 3 * i);
    p.radii[i] = s.radius ?? 6;
    p.depths[i] = s.depth;
    p.colors.set(s.color, 3 * i);
    p.opacities[i] = s.opacity;
  });
  return p;
}

export interface RandomSceneOptions {
  count: number;
  width: number;
  height: number;
  shDegree: ShDegree;
  /** Largest opacity logit; above ~4.6 the 0.99 clamp of α can trigger. */
  maxLogit?: number;
  /** Half-extent of the box of means (metres), around the look-at point; larger puts some off-screen. */
  spread?: number;
}

/** A random scene seen from ~3 m by a camera with a ~60° horizontal field of view. */
export function randomScene(seed: number, o: RandomSceneOptions): { g: ReferenceGaussians; cam: Camera } {
  const rng = new Rng(seed);
  const eye: [number, number, number] = [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 3];
  const cam = makeCamera(intrinsicsFromFov(o.width, o.height, 60), lookAt(eye, [0, 0, 0], [0, 1, 0]), 0.1, 50);
  const spread = o.spread ?? 1.2;
  const K = (o.shDegree + 1) ** 2;
  const specs: GaussianSpec[] = [];
  for (let i = 0; i < o.count; i++) {
    const sh: number[] = [];
    for (let k = 0; k < K; k++) for (let c = 0; c < 3; c++) sh.push(k === 0 ? rng.uniform(-0.8, 1.5) : rng.uniform(-0.4, 0.4));
    specs.push({
      mean: [rng.uniform(-spread, spread), rng.uniform(-spread * 0.8, spread * 0.8), rng.uniform(-0.8, 0.8)],
      logScale: [Math.log(rng.uniform(0.05, 0.3)), Math.log(rng.uniform(0.05, 0.3)), Math.log(rng.uniform(0.05, 0.3))],
      quat: [rng.normal(), rng.normal(), rng.normal(), rng.normal()],
      opacityLogit: rng.uniform(-1.5, o.maxLogit ?? 2.5),
      sh,
    });
  }
  return { g: gaussiansFrom(specs, o.shDegree), cam };
}
