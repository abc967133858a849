import { describe, expect, it } from 'vitest';
import { lookAt, makeCamera } from '../../lib/raster/camera.js';
import {
  projectReference,
  rasterizeReference,
  renderReference,
  SH_C0,
  SH_C1,
  shBasis,
  shBasisGrad,
  shColor,
  shColorBackward,
  tileIntersectReference,
} from '../../lib/raster/reference/index.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import { gaussiansFrom, identityCamera, projectedFrom, randomScene } from '../../lib/raster/scenes.js';

const LN01 = Math.log(0.1);

describe('reference SH', () => {
  it('matches the degree-0/1 closed form and clamps at 0', () => {
    const sh = [0.3, -0.2, 4 /* dc */, 0, 0, 0, 0.1, 0.2, 0.3 /* Y2 = C1·z */, 0, 0, 0];
    const { rgb } = shColor(sh, 0, 1, [0, 0, 1]);
    expect(rgb[0]).toBeCloseTo(0.5 + SH_C0 * 0.3 + SH_C1 * 0.1, 14);
    expect(rgb[1]).toBeCloseTo(0.5 + SH_C0 * -0.2 + SH_C1 * 0.2, 14);
    expect(rgb[2]).toBeCloseTo(0.5 + SH_C0 * 4 + SH_C1 * 0.3, 14);
    const neg = shColor([-3, 1, 0], 0, 0, [0, 0, 1]);
    expect(neg.rgb[0]).toBe(0);
    expect(neg.clamped).toEqual([true, false, false]);
  });

  it('has basis gradients equal to finite differences, degree 3', () => {
    const rng = new Rng(5);
    const dir = [rng.normal(), rng.normal(), rng.normal()];
    const Y = new Float64Array(16),
      Yp = new Float64Array(16),
      Ym = new Float64Array(16),
      dY = new Float64Array(48);
    shBasis(3, dir, Y);
    shBasisGrad(3, dir, dY);
    const h = 1e-6;
    for (let a = 0; a < 3; a++) {
      const dp = dir.slice(),
        dm = dir.slice();
      dp[a]! += h;
      dm[a]! -= h;
      shBasis(3, dp, Yp);
      shBasis(3, dm, Ym);
      for (let k = 0; k < 16; k++) expect(dY[3 * k + a]).toBeCloseTo((Yp[k]! - Ym[k]!) / (2 * h), 7);
    }
  });

  it('passes no gradient through a clamped channel', () => {
    const sh = [-3, 1, 1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2];
    const dir = [0.6, 0, 0.8];
    const { clamped } = shColor(sh, 0, 1, dir);
    const dSh = new Float64Array(12);
    const dDir = shColorBackward(sh, 0, 1, dir, clamped, [1, 0, 0], dSh);
    expect([...dSh].every((v) => v === 0)).toBe(true);
    expect(dDir).toEqual([0, 0, 0]);
  });
});

describe('reference projection', () => {
  const cam = identityCamera(64, 48, 50); // tan(half fov x) = 0.64, y = 0.48
  const s = rasterSettings({ shDegree: 0 });

  it('projects an isotropic Gaussian on the optical axis to the hand-computed splat', () => {
    const g = gaussiansFrom([{ mean: [0, 0, 5], opacityLogit: 1.5, sh: [1, 0, -2] }]);
    const p = projectReference(g, cam, s);
    // Σ = 0.01·I, J = diag(fx/z) = 10 → cov2D = 1 + 0.3 on the diagonal.
    expect(p.means2D[0]).toBeCloseTo(32, 12);
    expect(p.means2D[1]).toBeCloseTo(24, 12);
    expect(p.conics[0]).toBeCloseTo(1 / 1.3, 12);
    expect(p.conics[1]).toBeCloseTo(0, 12);
    expect(p.conics[2]).toBeCloseTo(1 / 1.3, 12);
    // λmax = 1.3 + sqrt(max(0.1, 0)) = 1.6162…; 3·sqrt = 3.81 → 4.
    expect(p.radii[0]).toBe(4);
    expect(p.depths[0]).toBeCloseTo(5, 12);
    // x tiles [floor(28/16), floor(51/16)) = [1, 3), y tiles [floor(20/16), floor(43/16)) = [1, 2).
    expect(p.tilesTouched[0]).toBe(2);
    expect(p.opacities[0]).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 14);
    expect(p.colors[0]).toBeCloseTo(0.5 + SH_C0, 14);
    expect(p.colors[1]).toBeCloseTo(0.5, 14);
    expect(p.colors[2]).toBe(0); // 0.5 − 2·C0 < 0
  });

  it('projects a rotated anisotropic off-axis Gaussian to the hand-computed covariance', () => {
    // 90° about z: local x (σ = 0.2) → world y, local y (σ = 0.1) → world −x; σz = 0.05.
    const h = Math.SQRT1_2;
    const g = gaussiansFrom([{ mean: [1, 0.5, 4], logScale: [Math.log(0.2), Math.log(0.1), Math.log(0.05)], quat: [2 * h, 0, 0, 2 * h] }]);
    const p = projectReference(g, cam, s);
    // Σ = diag(0.01, 0.04, 0.0025); J = [[12.5, 0, −3.125], [0, 12.5, −1.5625]] at t = (1, 0.5, 4).
    const a = 12.5 ** 2 * 0.01 + 3.125 ** 2 * 0.0025 + 0.3; // 1.8869140625
    const b = 3.125 * 1.5625 * 0.0025; // 0.01220703125
    const c = 12.5 ** 2 * 0.04 + 1.5625 ** 2 * 0.0025 + 0.3; // 6.556103515625
    const det = a * c - b * b;
    expect(p.means2D[0]).toBeCloseTo(44.5, 12);
    expect(p.means2D[1]).toBeCloseTo(30.25, 12);
    expect(p.conics[0]).toBeCloseTo(c / det, 12);
    expect(p.conics[1]).toBeCloseTo(-b / det, 12);
    expect(p.conics[2]).toBeCloseTo(a / det, 12);
    expect(p.radii[0]).toBe(8); // λmax ≈ 6.5561, 3·sqrt ≈ 7.68
    // x tiles [floor(36.5/16), floor(67.5/16)) = [2, 4); y [floor(22.25/16), floor(53.25/16)) = [1, 3).
    expect(p.tilesTouched[0]).toBe(4);
  });

  it('uses the camera rotation for the covariance (camera on the +x axis looking at the origin)', () => {
    // Camera x = world −z, camera y = world −y, depth = world −x: camera-space Σ = diag(σz², σy², σx²).
    const side = makeCamera(cam, lookAt([5, 0, 0], [0, 0, 0], [0, 1, 0]));
    const g = gaussiansFrom([{ mean: [0, 0, 0], logScale: [Math.log(0.2), Math.log(0.1), Math.log(0.05)] }]);
    const p = projectReference(g, side, s);
    expect(p.depths[0]).toBeCloseTo(5, 12);
    const a = 100 * 0.0025 + 0.3,
      c = 100 * 0.01 + 0.3;
    expect(p.conics[0]).toBeCloseTo(1 / a, 12);
    expect(p.conics[1]).toBeCloseTo(0, 12);
    expect(p.conics[2]).toBeCloseTo(1 / c, 12);
  });

  it('clamps x/z inside the Jacobian only', () => {
    // x/z = 0.8 < 1.3·0.64: unclamped; x/z = 1.0 > 0.832: J uses 0.832, the mean still projects with 1.0.
    const g = gaussiansFrom([{ mean: [4, 0, 5] }, { mean: [5, 0, 5], logScale: [LN01, LN01, Math.log(1)] }]);
    const p = projectReference(g, cam, s);
    expect(p.means2D[2]).toBeCloseTo(32 + 50, 12);
    // Σ = diag(0.01, 0.01, 1); J row 0 = [10, 0, −10·0.832]; a = 100·0.01 + 69.2224·1 + 0.3.
    const a = 1 + (10 * 0.832) ** 2 + 0.3,
      c = 1.3;
    expect(p.conics[3 + 0]).toBeCloseTo(c / (a * c), 10);
    expect(p.conics[3 + 2]).toBeCloseTo(a / (a * c), 10);
  });

  it('culls behind the camera, at near, past far, and off-screen', () => {
    const g = gaussiansFrom([
      { mean: [0, 0, -1] }, // behind
      { mean: [0, 0, 0.01] }, // exactly at near: z ≤ near
      { mean: [0, 0, 150] }, // past far (100)
      { mean: [10, 0, 2] }, // u = 282: its square touches no tile
      { mean: [0, 0, 99] }, // kept
    ]);
    const p = projectReference(g, cam, s);
    expect([...p.radii].map((r) => r > 0)).toEqual([false, false, false, false, true]);
    expect(p.tilesTouched[3]).toBe(0);
  });

  it('evaluates SH with the direction from the camera centre to the mean', () => {
    // Camera at (0, 0, −3) looking at the origin; a Gaussian at (0, 0, 2): dir = +z, Y2 = C1·z.
    const back = makeCamera(cam, lookAt([0, 0, -3], [0, 0, 0], [0, 1, 0]));
    const sh = [0, 0, 0, 0.1, 0, 0, 0.2, 0, 0, 0.3, 0, 0];
    const g = gaussiansFrom([{ mean: [0, 0, 2], sh }], 1);
    const p = projectReference(g, back, rasterSettings({ shDegree: 1 }));
    expect(p.colors[0]).toBeCloseTo(0.5 + SH_C1 * 0.2, 14);
    // Active degree 0 ignores the degree-1 coefficients.
    const p0 = projectReference(g, back, rasterSettings({ shDegree: 0 }));
    expect(p0.colors[0]).toBeCloseTo(0.5, 14);
  });
});

describe('reference tile intersection', () => {
  it('sorts each tile by depth, ties by Gaussian id, with correct ranges', () => {
    const cam = identityCamera(64, 48);
    const p = projectedFrom([
      { uv: [8, 8], depth: 5, color: [1, 0, 0], opacity: 0.5, radius: 4 }, // tile 0 only
      { uv: [8, 8], depth: 3, color: [1, 0, 0], opacity: 0.5, radius: 4 },
      { uv: [8, 8], depth: 3, color: [1, 0, 0], opacity: 0.5, radius: 4 },
      { uv: [16, 8], depth: 1, color: [1, 0, 0], opacity: 0.5, radius: 2 }, // tiles 0 and 1
      { uv: [40, 40], depth: 2, color: [1, 0, 0], opacity: 0.5, radius: 0 }, // culled
    ]);
    const t = tileIntersectReference(p, cam);
    expect(t.gridW).toBe(4);
    expect(t.gridH).toBe(3);
    expect([...t.gaussianIds]).toEqual([3, 1, 2, 0, 3]);
    expect([...t.keysTile]).toEqual([0, 0, 0, 0, 1]);
    expect([...t.tileRanges.slice(0, 4)]).toEqual([0, 4, 4, 5]);
    for (let tile = 2; tile < 12; tile++) expect(t.tileRanges[2 * tile]).toBe(t.tileRanges[2 * tile + 1]);
  });
});

describe('reference rasterize', () => {
  const cam = identityCamera(32, 32);
  const alpha = rasterSettings({ background: [0.2, 0.3, 0.4] });
  const at = (x: number, y: number) => y * 32 + x;

  it('blends a single Gaussian at a pixel centre and beside it in closed form', () => {
    const conic: [number, number, number] = [0.4, 0.1, 0.3];
    const p = projectedFrom([{ uv: [10.5, 12.5], conic, depth: 2, color: [0.9, 0.5, 0.1], opacity: 0.8 }]);
    const r = rasterizeReference(p, tileIntersectReference(p, cam), cam, alpha);
    const bg = [0.2, 0.3, 0.4];
    const check = (x: number, y: number, a: number) => {
      const i = at(x, y);
      [0.9, 0.5, 0.1].forEach((c, ch) => expect(r.color[3 * i + ch]).toBeCloseTo(c * a + (1 - a) * bg[ch]!, 14));
      expect(r.alpha[i]).toBeCloseTo(a, 14);
      expect(r.depth[i]).toBeCloseTo(2 * a, 14);
    };
    check(10, 12, 0.8);
    // Pixel (12, 11): d = (10.5 − 12.5, 12.5 − 11.5) = (−2, 1); power = −½(0.4·4 + 0.3·1) − 0.1·(−2)·1.
    check(12, 11, 0.8 * Math.exp(-0.5 * (1.6 + 0.3) + 0.2));
    expect(r.nContrib[at(10, 12)]).toBe(1);
    expect(r.lastIndex[at(10, 12)]).toBe(1);
  });

  it('blends two overlapping Gaussians front to back whatever their order in the input', () => {
    const front = { uv: [5.5, 5.5] as [number, number], depth: 1, color: [1, 0, 0] as [number, number, number], opacity: 0.6 };
    const back = { uv: [5.5, 5.5] as [number, number], depth: 2, color: [0, 0, 1] as [number, number, number], opacity: 0.7 };
    for (const splats of [
      [front, back],
      [back, front],
    ]) {
      const p = projectedFrom(splats);
      const r = rasterizeReference(p, tileIntersectReference(p, cam), cam, alpha);
      const i = at(5, 5);
      const T2 = 0.4,
        Tf = 0.4 * 0.3;
      expect(r.color[3 * i]).toBeCloseTo(0.6 + Tf * 0.2, 14);
      expect(r.color[3 * i + 1]).toBeCloseTo(Tf * 0.3, 14);
      expect(r.color[3 * i + 2]).toBeCloseTo(0.7 * T2 + Tf * 0.4, 14);
      expect(r.alpha[i]).toBeCloseTo(1 - Tf, 14);
      expect(r.depth[i]).toBeCloseTo(1 * 0.6 + 2 * 0.7 * T2, 14);
      expect(r.nContrib[i]).toBe(2);
    }
  });

  it('stops before the Gaussian that would take T below 1e-4, and clamps α at 0.99', () => {
    const mk = (depth: number, color: [number, number, number], opacity: number) => ({ uv: [5.5, 5.5] as [number, number], depth, color, opacity });
    // T: 1 → 0.02 → 0.0004; the third would give 8e-6 < 1e-4, so it and everything behind is dropped.
    const p = projectedFrom([mk(1, [1, 0, 0], 0.98), mk(2, [0, 1, 0], 0.98), mk(3, [0, 0, 1], 0.98), mk(4, [0, 0, 1], 0.5)]);
    const r = rasterizeReference(p, tileIntersectReference(p, cam), cam, alpha);
    const i = at(5, 5);
    expect(r.nContrib[i]).toBe(2);
    expect(r.lastIndex[i]).toBe(2);
    expect(r.color[3 * i + 2]).toBeCloseTo(0.0004 * 0.4, 14);
    expect(r.alpha[i]).toBeCloseTo(1 - 0.0004, 14);
    // Opacity 1: α = 0.99, T = 0.01, and the pixel is not fully covered.
    const q = projectedFrom([mk(1, [1, 1, 1], 1)]);
    const rq = rasterizeReference(q, tileIntersectReference(q, cam), cam, alpha);
    expect(rq.alpha[i]).toBeCloseTo(0.99, 14);
    expect(rq.color[3 * i]).toBeCloseTo(0.99 + 0.01 * 0.2, 14);
  });

  it('skips contributions with α < 1/255 but keeps going past them', () => {
    const mk = (depth: number, opacity: number) => ({ uv: [5.5, 5.5] as [number, number], depth, color: [1, 1, 1] as [number, number, number], opacity });
    const p = projectedFrom([mk(1, 0.003), mk(2, 0.005), mk(3, 0.5)]);
    const r = rasterizeReference(p, tileIntersectReference(p, cam), cam, alpha);
    const i = at(5, 5);
    expect(r.nContrib[i]).toBe(2);
    expect(r.lastIndex[i]).toBe(3);
    expect(r.alpha[i]).toBeCloseTo(1 - 0.995 * 0.5, 14);
  });

  it('WABE scales the occluded Gaussian by exp(−β(1 − T)), with and without renormalisation', () => {
    const front = { uv: [5.5, 5.5] as [number, number], depth: 1, color: [1, 0.2, 0] as [number, number, number], opacity: 0.9 };
    const back = { uv: [5.5, 5.5] as [number, number], depth: 2, color: [0, 0.4, 1] as [number, number, number], opacity: 0.8 };
    const p = projectedFrom([back, front]);
    const tiles = tileIntersectReference(p, cam);
    const bg = [0.2, 0.3, 0.4];
    const i = at(5, 5);
    const beta = 6;
    const w2 = Math.exp(-beta * (1 - 0.1)); // T before the rear Gaussian = 0.1
    const Tf = 0.1 * 0.2;
    const plain = rasterizeReference(
      p,
      tiles,
      cam,
      rasterSettings({ background: [0.2, 0.3, 0.4], blend: 'wabe', wabe: { beta, stopGradient: true, renormalize: false } }),
    );
    const renorm = rasterizeReference(
      p,
      tiles,
      cam,
      rasterSettings({ background: [0.2, 0.3, 0.4], blend: 'wabe', wabe: { beta, stopGradient: true, renormalize: true } }),
    );
    const ref = rasterizeReference(p, tiles, cam, alpha);
    const D = 0.9 + w2 * 0.8 * 0.1;
    for (let ch = 0; ch < 3; ch++) {
      const N = front.color[ch]! * 0.9 + w2 * back.color[ch]! * 0.8 * 0.1;
      expect(plain.color[3 * i + ch]).toBeCloseTo(N + Tf * bg[ch]!, 14);
      expect(renorm.color[3 * i + ch]).toBeCloseTo((N / D) * (1 - Tf) + Tf * bg[ch]!, 14);
      // Alpha blending, for contrast: the rear Gaussian contributes 0.08·c, WABE 0.08·e^(−5.4)·c.
      expect(ref.color[3 * i + ch]).toBeCloseTo(front.color[ch]! * 0.9 + back.color[ch]! * 0.08 + Tf * bg[ch]!, 14);
    }
    for (const r of [plain, renorm]) {
      expect(r.alpha[i]).toBeCloseTo(1 - Tf, 14);
      expect(r.depth[i]).toBeCloseTo(ref.depth[i]!, 14);
      expect(r.nContrib[i]).toBe(2);
    }
    // An empty pixel is background in every mode (renormalised: the denominator is 0).
    expect(renorm.color[3 * at(30, 30)]).toBe(0.2);
  });

  it('equals a brute-force scan of all Gaussians whose tile square holds the pixel', () => {
    const { g, cam: c } = randomScene(11, { count: 60, width: 48, height: 40, shDegree: 1, spread: 1.6 });
    const s = rasterSettings({ background: [0.1, 0.2, 0.3] });
    const p = projectReference(g, c, s);
    const r = rasterizeReference(p, tileIntersectReference(p, c), c, s);
    const order = [...Array(g.count).keys()].filter((i) => p.radii[i]! > 0).sort((a, b) => p.depths[a]! - p.depths[b]! || a - b);
    let maxErr = 0;
    let blendedSomewhere = 0;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const tx = Math.floor(x / 16),
          ty = Math.floor(y / 16);
        let T = 1;
        const col = [0, 0, 0];
        for (const i of order) {
          const u = p.means2D[2 * i]!,
            v = p.means2D[2 * i + 1]!,
            rad = p.radii[i]!;
          const inX = tx >= Math.floor((u - rad) / 16) && tx < Math.floor((u + rad + 15) / 16);
          const inY = ty >= Math.floor((v - rad) / 16) && ty < Math.floor((v + rad + 15) / 16);
          if (!inX || !inY) continue;
          const dx = u - x - 0.5,
            dy = v - y - 0.5;
          const A = p.conics[3 * i]!,
            B = p.conics[3 * i + 1]!,
            C = p.conics[3 * i + 2]!;
          const a = Math.min(0.99, p.opacities[i]! * Math.exp(-0.5 * (A * dx * dx + C * dy * dy) - B * dx * dy));
          if (a < 1 / 255) continue;
          if (T * (1 - a) < 1e-4) break;
          for (let ch = 0; ch < 3; ch++) col[ch]! += p.colors[3 * i + ch]! * a * T;
          T *= 1 - a;
          blendedSomewhere++;
        }
        for (let ch = 0; ch < 3; ch++) maxErr = Math.max(maxErr, Math.abs(col[ch]! + T * s.background[ch]! - r.color[3 * (y * c.width + x) + ch]!));
      }
    }
    expect(blendedSomewhere).toBeGreaterThan(500);
    expect(maxErr).toBeLessThan(1e-12);
  });

  it('renderReference composes the three stages', () => {
    const { g, cam: c } = randomScene(3, { count: 20, width: 40, height: 32, shDegree: 2 });
    const s = rasterSettings({ blend: 'wabe' });
    const p = projectReference(g, c, s);
    const direct = rasterizeReference(p, tileIntersectReference(p, c), c, s);
    const r = renderReference(g, c, s);
    expect([...r.color]).toEqual([...direct.color]);
    expect(r.alpha.some((a) => a > 0.5)).toBe(true);
  });
});
