import { describe, expect, it } from 'vitest';
import { benchCamera, benchGaussians, benchLossWeights, benchU } from '../../lib/raster/bench-scene.js';
import { lowbias32 } from '../../lib/util/random.js';

describe('benchmark scene bench-N-WxH (docs/bench-scene.md)', () => {
  it('follows the description for a Gaussian computed by hand', () => {
    const W = 802,
      H = 550;
    const g = benchGaussians(5, W, H);
    const i = 3;
    const u = (k: number) => lowbias32(i * 64 + k) / 2 ** 32; // seed 0
    const nrm = (k: number) => Math.sqrt(-2 * Math.log(Math.max(u(k), 1e-12))) * Math.cos(2 * Math.PI * u(k + 1));
    const z = 2 + 3 * u(2);
    const tanX = Math.tan(Math.PI / 6);
    const tanY = H / 2 / (W / 2 / tanX);
    expect(g.means[3 * i]).toBeCloseTo((2 * u(0) - 1) * z * tanX, 6);
    expect(g.means[3 * i + 1]).toBeCloseTo((2 * u(1) - 1) * z * tanY, 6);
    expect(g.means[3 * i + 2]).toBeCloseTo(z, 6);
    expect(g.logScales[3 * i + 1]).toBeCloseTo(-4.6 + 0.5 * nrm(6), 6);
    const q = [nrm(10), nrm(12), nrm(14), nrm(16)];
    const qn = Math.hypot(...q);
    expect(g.quats[4 * i + 2]).toBeCloseTo(q[2]! / qn, 6);
    expect(g.opacityLogits[i]).toBeCloseTo(nrm(18), 6);
    expect(g.sh[48 * i + 2]).toBeCloseTo((u(22) - 0.5) * 2, 6); // f_dc blue
    // f_rest m = 14 (coefficient 15), c = 2: slot 24 + (2·44 mod 40) = 32.
    expect(g.sh[48 * i + 3 * 15 + 2]).toBeCloseTo(0.05 * nrm(32), 6);
  });

  it('puts every Gaussian in the frustum and uses the 60° camera; loss weights use seed 1', () => {
    const W = 320,
      H = 200;
    const cam = benchCamera(W, H);
    expect(cam.fx).toBeCloseTo(W / 2 / Math.tan(Math.PI / 6), 9);
    const g = benchGaussians(2000, W, H);
    for (let i = 0; i < g.count; i++) {
      const [x, y, z] = [g.means[3 * i]!, g.means[3 * i + 1]!, g.means[3 * i + 2]!];
      expect(z).toBeGreaterThanOrEqual(2);
      expect(z).toBeLessThan(5);
      const u = (cam.fx * x) / z + cam.cx,
        v = (cam.fy * y) / z + cam.cy;
      expect(u).toBeGreaterThanOrEqual(-1e-3);
      expect(u).toBeLessThanOrEqual(W + 1e-3);
      expect(v).toBeGreaterThanOrEqual(-1e-3);
      expect(v).toBeLessThanOrEqual(H + 1e-3);
      expect(Math.hypot(...g.quats.subarray(4 * i, 4 * i + 4))).toBeCloseTo(1, 5);
    }
    const w = benchLossWeights(W, H);
    expect(w[3 * 7 + 1]).toBeCloseTo(benchU(7, 1, 1), 7);
    expect(w[3 * 7 + 1]).toBeCloseTo(lowbias32((7 * 64 + 1 + 0x9e3779b9) >>> 0) / 2 ** 32, 7);
  });
});
