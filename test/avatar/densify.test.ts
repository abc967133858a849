import { describe, expect, it } from 'vitest';
import { initBoundGaussians, bindingCounts, rgbToShDc, SH_C0 } from '../../lib/avatar/gaussians.js';
import { reconConfig } from '../../lib/train/config.js';
import { accumulateStats, assertEveryTriangleBound, densifyAndPrune, emptyStats, resetOpacity } from '../../lib/avatar/densify.js';

const logit = (p: number) => Math.log(p / (1 - p));

function setup() {
  // 4 triangles, 2 Gaussians each; triangle scale 0.01 m; extent 1 m → clone/split boundary at 0.01 m.
  const g = initBoundGaussians(4, { perTriangle: 2, shDegree: 1, seed: 3 });
  g.logScales.fill(0); // world scale = k = 0.01 = exactly the boundary → clone side (≤)
  const k = new Float32Array(4).fill(0.01);
  const stats = emptyStats(g.count);
  return { g, k, stats };
}

describe('densifyAndPrune', () => {
  it('clones small and splits large Gaussians with a large mean gradient, keeping bindings', () => {
    const { g, k, stats } = setup();
    g.logScales.fill(Math.log(2), 3 * 1, 3 * 2); // Gaussian 1: world scale 0.02 > 0.01 → split
    stats.gradAccum.set([6e-4, 6e-4, 1e-4]); // views: Gaussian 0 and 1 over threshold (mean 3e-4), 2 below
    stats.denom.set([2, 2, 2]);
    const r = densifyAndPrune(g, stats, k, { extent: 1, seed: 1 });
    expect(r.cloned).toBe(1);
    expect(r.split).toBe(1);
    expect(r.gaussians.count).toBe(8 + 1 + 2 - 1);
    expect([...r.keep]).toEqual([0, 2, 3, 4, 5, 6, 7]);
    expect(r.appended).toBe(3);
    // Appended: the clone of 0 (triangle 0) then two children of 1 (triangle 0).
    expect([...r.gaussians.binding.subarray(7)]).toEqual([0, 0, 0]);
    // Children are shrunk by 1/(0.8·2) and lie near the parent (within a few parent σ in triangle units).
    for (const j of [8, 9]) {
      expect(r.gaussians.logScales[3 * j]).toBeCloseTo(Math.log(2) - Math.log(1.6), 6);
      const d = Math.hypot(...[0, 1, 2].map((i) => r.gaussians.means[3 * j + i]! - g.means[3 + i]!));
      expect(d).toBeLessThan(4 * 2 * Math.sqrt(3));
      expect(d).toBeGreaterThan(0);
    }
    assertEveryTriangleBound(r.gaussians, 4, 'densified');
  });

  it("prunes transparent Gaussians but never a triangle's last one", () => {
    const { g, k, stats } = setup();
    // Triangle 1: both transparent → one must survive. Triangle 2: one transparent → pruned.
    g.opacityLogits[2] = logit(0.001);
    g.opacityLogits[3] = logit(0.001);
    g.opacityLogits[4] = logit(0.001);
    const r = densifyAndPrune(g, stats, k, { extent: 1 });
    expect(r.pruned).toBe(2);
    expect([...bindingCounts(r.gaussians.binding, 4)]).toEqual([2, 1, 1, 2]);
    assertEveryTriangleBound(r.gaussians, 4, 'pruned');
  });

  it('prunes oversized Gaussians only when a screen-size limit is set', () => {
    const { g, k, stats } = setup();
    stats.maxRadii2D[6] = 50;
    expect(densifyAndPrune(g, stats, k, { extent: 1 }).pruned).toBe(0);
    expect(densifyAndPrune(g, stats, k, { extent: 1, maxScreenSize: 20 }).pruned).toBe(1);
  });

  it('is reproducible from its seed', () => {
    const { g, k, stats } = setup();
    g.logScales.fill(2);
    stats.gradAccum.fill(1);
    stats.denom.fill(1);
    const a = densifyAndPrune(g, stats, k, { extent: 1, seed: 9 });
    const b = densifyAndPrune(g, stats, k, { extent: 1, seed: 9 });
    const c = densifyAndPrune(g, stats, k, { extent: 1, seed: 10 });
    expect([...a.gaussians.means]).toEqual([...b.gaussians.means]);
    expect([...a.gaussians.means]).not.toEqual([...c.gaussians.means]);
  });
});

describe('statistics and resets', () => {
  it('accumulates NDC-scaled gradient norms over visible views only', () => {
    const s = emptyStats(2);
    accumulateStats(s, [1e-6, 0, 3, 4], [2, 0], 200, 100);
    accumulateStats(s, [0, 2e-6, 3, 4], [5, 0], 200, 100);
    expect(s.denom[0]).toBe(2);
    expect(s.denom[1]).toBe(0);
    expect(s.gradAccum[0]).toBeCloseTo(1e-6 * 100 + 2e-6 * 50, 9); // float32 storage
    expect(s.maxRadii2D[0]).toBe(5);
  });

  it("caps opacities at the config's opacityResetMax (0.01) and maps SH DC to colour", () => {
    const g = initBoundGaussians(3, { opacity: 0.5 });
    g.opacityLogits[1] = logit(0.001);
    resetOpacity(g, reconConfig({ data: 'unused' }).densify.opacityResetMax);
    expect(1 / (1 + Math.exp(-g.opacityLogits[0]!))).toBeCloseTo(0.01, 7); // float32 logit
    expect(1 / (1 + Math.exp(-g.opacityLogits[1]!))).toBeCloseTo(0.001, 7);
    expect(rgbToShDc(0.75) * SH_C0 + 0.5).toBeCloseTo(0.75, 12);
  });

  it('names the triangle left without Gaussians', () => {
    const g = initBoundGaussians(3);
    g.binding[1] = 0;
    expect(() => assertEveryTriangleBound(g, 3, 'ckpt')).toThrow(/ckpt: triangle 1 has no Gaussian bound to it/);
  });
});

describe('densification under a cap', () => {
  it('grows only the largest gradients when the cap would be exceeded', () => {
    const g = initBoundGaussians(4, { perTriangle: 2, shDegree: 0, seed: 1 });
    g.logScales.fill(0);
    const k = new Float32Array(4).fill(0.01);
    const stats = emptyStats(8);
    stats.gradAccum.set([5, 1, 7, 1, 1, 1, 6, 1].map((x) => x * 1e-3));
    stats.denom.fill(1);
    const r = densifyAndPrune(g, stats, k, { extent: 1, maxCount: 11 });
    expect(r.cloned).toBe(3);
    // The three largest (7, 6, 5 → Gaussians 2, 6, 0) are cloned, in index order.
    expect([...r.gaussians.binding.subarray(8)]).toEqual([0, 1, 3]);
    expect(r.gaussians.count).toBe(11);
  });
});
