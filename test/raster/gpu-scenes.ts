/** Scenes for the GPU rasterizer's tests, on top of the reference's random scenes. */
import type { ReferenceGaussians } from '../../lib/raster/reference/index.js';
import type { Camera } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';

/** Appends hard cases to a random scene: behind the camera, beyond far, tiny, huge, needles, off-screen. */
export function withHardCases(g: ReferenceGaussians, cam: Camera, seed: number): ReferenceGaussians {
  const rng = new Rng(seed);
  const K = (g.shDegree + 1) ** 2;
  const extra: { mean: number[]; logScale: number[] }[] = [];
  // Camera-space points mapped back to world: p_w = Rᵀ (p_c − t).
  const W = cam.worldToCamera;
  const toWorld = (x: number, y: number, z: number) => {
    const d = [x - W[3]!, y - W[7]!, z - W[11]!];
    return [0, 1, 2].map((c) => W[c]! * d[0]! + W[4 + c]! * d[1]! + W[8 + c]! * d[2]!);
  };
  const tan = cam.width / (2 * cam.fx);
  // Each case gets its own depth: equal depths would tie in float32 only.
  const z = () => rng.uniform(1.5, 4);
  const onScreen = () => {
    const zz = z();
    return toWorld(rng.uniform(-0.8, 0.8) * tan * zz, rng.uniform(-0.6, 0.6) * tan * zz, zz);
  };
  for (let k = 0; k < 6; k++) {
    extra.push({ mean: toWorld(rng.uniform(-1, 1), rng.uniform(-1, 1), -rng.uniform(0.1, 2)), logScale: [-2, -2, -2] }); // behind
    extra.push({ mean: toWorld(rng.uniform(-0.01, 0.01), 0, 0.05), logScale: [-3, -3, -3] }); // in front of the camera but before near
    extra.push({ mean: toWorld(0.1, 0, rng.uniform(60, 90)), logScale: [0, 0, 0] }); // beyond far (cam.far = 50)
    extra.push({ mean: onScreen(), logScale: [-9, -9.5, -10] }); // sub-pixel: only the low-pass remains
    extra.push({ mean: onScreen(), logScale: [0.3, 0.2, 0.4] }); // covers the screen
    extra.push({ mean: onScreen(), logScale: [-0.3, -6, -6.5] }); // needle
    const z1 = z();
    extra.push({ mean: toWorld(rng.uniform(1.2, 1.6) * tan * z1, 0.3 * z1, z1), logScale: [-1, -1, -1] }); // off-screen, its tail reaching in
    const z2 = z();
    extra.push({ mean: toWorld(rng.uniform(-1.3, -1.2) * tan * z2, 0, z2), logScale: [-0.8, -0.8, -0.8] }); // near the J clamp
  }
  const n = g.count + extra.length;
  const out: ReferenceGaussians = {
    count: n,
    shDegree: g.shDegree,
    means: new Float64Array(3 * n),
    logScales: new Float64Array(3 * n),
    quats: new Float64Array(4 * n),
    opacityLogits: new Float64Array(n),
    sh: new Float64Array(3 * K * n),
  };
  out.means.set(g.means);
  out.logScales.set(g.logScales);
  out.quats.set(g.quats);
  out.opacityLogits.set(g.opacityLogits);
  out.sh.set(g.sh);
  extra.forEach((e, j) => {
    const i = g.count + j;
    out.means.set(e.mean, 3 * i);
    out.logScales.set(e.logScale, 3 * i);
    out.quats.set([rng.normal(), rng.normal(), rng.normal(), rng.normal()], 4 * i);
    out.opacityLogits[i] = rng.uniform(-2, 2);
    for (let k = 0; k < 3 * K; k++) out.sh[3 * K * i + k] = k < 3 ? rng.uniform(-0.5, 1) : rng.uniform(-0.2, 0.2);
  });
  return out;
}
