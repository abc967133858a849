/**
 * The reference backward pass against central finite differences of the float64 forward pass.
 *
 * Discontinuities are detected, not hoped away: every evaluation records a signature (per pixel, the
 * sequence of blended Gaussians and whether each α hit the 0.99 clamp; per Gaussian, culling, the Jacobian
 * clamp and the colour clamp). A parameter whose ±h perturbation changes the signature crosses a
 * discontinuity (the 1/255 skip, the early stop, a tile boundary, a depth swap, a clamp) and is excluded, and
 * the test bounds how many are. Means of Gaussians whose Jacobian is clamped are excluded too: there the
 * backward follows 3DGS rather than the exact derivative (see backward.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  projectBackwardReference,
  projectionContext,
  projectReference,
  rasterizeBackwardReference,
  rasterizeReference,
  renderReferenceWithGrad,
  shColor,
  splatGeometry,
  tileIntersectReference,
  type ReferenceGaussians,
  type ReferenceRender,
} from '../../lib/raster/reference/index.js';
import { rasterSettings, type Camera, type Projected, type RasterSettings, type ShDegree } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import { gaussiansFrom, identityCamera, projectedFrom, randomScene } from '../../lib/raster/scenes.js';

interface Eval {
  loss: number;
  sig: number[];
  /** Per pixel, T before each blended Gaussian (to freeze WABE's weights). */
  Ts: number[][];
}

function lossOf(out: ReferenceRender, dC: Float64Array, dA: Float64Array): number {
  let L = 0;
  for (let i = 0; i < dC.length; i++) L += dC[i]! * out.color[i]!;
  for (let i = 0; i < dA.length; i++) L += dA[i]! * out.alpha[i]!;
  return L;
}

/** Rasterizes a Projected, recording the blending signature; `frozen` holds WABE's w at these Ts. */
function rasterEval(p: Projected, cam: Camera, s: RasterSettings, dC: Float64Array, dA: Float64Array, frozen?: number[][]): Eval {
  const sig: number[] = [];
  const Ts: number[][] = Array.from({ length: cam.width * cam.height }, () => []);
  const out = rasterizeReference(p, tileIntersectReference(p, cam), cam, s, {
    onBlend: (pix, id, smp) => sig.push(pix, id, smp.alphaClamped ? 1 : 0),
    wabeWeight: (pix, slot, T) => {
      Ts[pix]!.push(T);
      return Math.exp(-s.wabe.beta * (1 - (frozen ? frozen[pix]![slot]! : T)));
    },
  });
  return { loss: lossOf(out, dC, dA), sig, Ts };
}

/** Per Gaussian: culled, Jacobian clamp x/y, colour clamp r/g/b. */
function geometryFlags(g: ReferenceGaussians, cam: Camera, s: RasterSettings): number[] {
  const ctx = projectionContext(cam);
  const K = (g.shDegree + 1) ** 2;
  const flags: number[] = [];
  for (let i = 0; i < g.count; i++) {
    const geo = splatGeometry(g, i, cam, s, ctx);
    if (geo.culled) {
      flags.push(1, 0, 0, 0, 0, 0);
      continue;
    }
    const cl = shColor(g.sh, i * K * 3, Math.min(s.shDegree, g.shDegree), geo.dir).clamped;
    flags.push(0, geo.clampX ? 1 : 0, geo.clampY ? 1 : 0, ...cl.map((c) => (c ? 1 : 0)));
  }
  return flags;
}

function fullEval(g: ReferenceGaussians, cam: Camera, s: RasterSettings, dC: Float64Array, dA: Float64Array, frozen?: number[][]): Eval {
  const e = rasterEval(projectReference(g, cam, s), cam, s, dC, dA, frozen);
  e.sig.push(-1, ...geometryFlags(g, cam, s));
  return e;
}

const sameSig = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

interface GroupResult {
  relErr: number; // ‖analytic − fd‖ / ‖fd‖ over the checked entries
  checked: number;
  excluded: number;
  fdNorm: number;
}

/** Central differences of `evaluate` over entries `idx` of `arr`, against `analytic`. */
function checkGroup(arr: Float64Array, idx: number[], h: number, analytic: ArrayLike<number>, base: Eval, evaluate: () => Eval): GroupResult {
  let num = 0,
    den = 0,
    checked = 0,
    excluded = 0;
  for (const j of idx) {
    const orig = arr[j]!;
    arr[j] = orig + h;
    const ep = evaluate();
    arr[j] = orig - h;
    const em = evaluate();
    arr[j] = orig;
    if (!sameSig(ep.sig, base.sig) || !sameSig(em.sig, base.sig)) {
      excluded++;
      continue;
    }
    const fd = (ep.loss - em.loss) / (2 * h);
    num += (analytic[j]! - fd) ** 2;
    den += fd * fd;
    checked++;
  }
  return { relErr: Math.sqrt(num / Math.max(den, 1e-300)), checked, excluded, fdNorm: Math.sqrt(den) };
}

function sample(rng: Rng, n: number, k: number, keep: (j: number) => boolean = () => true): number[] {
  const all = [...Array(n).keys()].filter(keep);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, k).sort((a, b) => a - b);
}

const MODES: { name: string; s: Partial<RasterSettings> }[] = [
  { name: 'alpha', s: { blend: 'alpha' } },
  { name: 'wabe stopGradient', s: { blend: 'wabe', wabe: { beta: 6, stopGradient: true, renormalize: false } } },
  { name: 'wabe differentiated', s: { blend: 'wabe', wabe: { beta: 6, stopGradient: false, renormalize: false } } },
  { name: 'wabe stopGradient renormalized', s: { blend: 'wabe', wabe: { beta: 6, stopGradient: true, renormalize: true } } },
  { name: 'wabe differentiated renormalized', s: { blend: 'wabe', wabe: { beta: 6, stopGradient: false, renormalize: true } } },
];

const SCENES: { seed: number; count: number; shDegree: ShDegree; maxLogit: number; spread: number }[] = [
  { seed: 1, count: 8, shDegree: 0, maxLogit: 2.5, spread: 2 },
  { seed: 2, count: 16, shDegree: 1, maxLogit: 2.5, spread: 2 },
  { seed: 3, count: 24, shDegree: 2, maxLogit: 6, spread: 2 }, // an α at the 0.99 clamp, Jacobian and colour clamps
  { seed: 4, count: 30, shDegree: 3, maxLogit: 3, spread: 2 },
  { seed: 6, count: 30, shDegree: 1, maxLogit: 8, spread: 0.6 }, // dense and opaque: ~19 pixels stop early
];

const W = 40,
  H = 32;

function randomUpstream(rng: Rng): { dC: Float64Array; dA: Float64Array } {
  const dC = Float64Array.from({ length: 3 * W * H }, () => rng.uniform(-1, 1));
  const dA = Float64Array.from({ length: W * H }, () => rng.uniform(-1, 1));
  return { dC, dA };
}

function sceneFor(sc: (typeof SCENES)[number]) {
  return randomScene(100 + sc.seed, { count: sc.count, width: W, height: H, shDegree: sc.shDegree, maxLogit: sc.maxLogit, spread: sc.spread });
}

describe('reference backward: Gaussian parameters vs central finite differences', () => {
  for (const mode of MODES) {
    it(`${mode.name}: means, logScales, quats, opacityLogits, sh`, () => {
      let totalChecked = 0,
        totalExcluded = 0;
      for (const sc of SCENES) {
        const { g, cam } = sceneFor(sc);
        const s = rasterSettings({ ...mode.s, shDegree: sc.shDegree, background: [0.3, 0.1, 0.6] });
        const rng = new Rng(sc.seed * 7 + 1);
        const { dC, dA } = randomUpstream(rng);
        const { grads, out } = renderReferenceWithGrad(g, cam, s, dC, dA);
        expect(out.nContrib.reduce((a, b) => a + b, 0)).toBeGreaterThan(300); // the scene is not empty
        const base = fullEval(g, cam, s, dC, dA);
        // stopGradient: differentiate the forward with every w_k held at its value in the base evaluation.
        const frozen = s.blend === 'wabe' && s.wabe.stopGradient ? base.Ts : undefined;
        const evaluate = () => fullEval(g, cam, s, dC, dA, frozen);
        const ctx = projectionContext(cam);
        const jClamped = (i: number) => {
          const geo = splatGeometry(g, i, cam, s, ctx);
          return !geo.culled && (geo.clampX || geo.clampY);
        };
        const K = (g.shDegree + 1) ** 2;
        const groups: [string, Float64Array, number, ArrayLike<number>, number[]][] = [
          ['means', g.means as Float64Array, 1e-6, grads.means, sample(rng, 3 * g.count, 45, (j) => !jClamped(Math.floor(j / 3)))],
          ['logScales', g.logScales as Float64Array, 1e-6, grads.logScales, sample(rng, 3 * g.count, 45)],
          ['quats', g.quats as Float64Array, 1e-6, grads.quats, sample(rng, 4 * g.count, 45)],
          ['opacityLogits', g.opacityLogits as Float64Array, 1e-6, grads.opacityLogits, sample(rng, g.count, 30)],
          ['sh', g.sh as Float64Array, 1e-4, grads.sh, sample(rng, 3 * K * g.count, 30)],
        ];
        for (const [name, arr, h, an, idx] of groups) {
          const r = checkGroup(arr, idx, h, an, base, evaluate);
          totalChecked += r.checked;
          totalExcluded += r.excluded;
          expect(r.checked, `${mode.name} seed ${sc.seed} ${name}: entries checked`).toBeGreaterThanOrEqual(Math.min(8, Math.ceil(0.8 * idx.length)));
          expect(r.fdNorm, `${mode.name} seed ${sc.seed} ${name}: gradient not trivially zero`).toBeGreaterThan(1e-3);
          expect(r.relErr, `${mode.name} seed ${sc.seed} ${name}: relative error`).toBeLessThan(1e-5);
        }
      }
      expect(totalChecked).toBeGreaterThan(500);
      expect(totalExcluded / (totalChecked + totalExcluded)).toBeLessThan(0.1);
    });
  }
});

describe('reference backward: splat gradients (means2D, conics, colors, opacities) vs finite differences', () => {
  for (const mode of MODES) {
    it(mode.name, () => {
      for (const sc of SCENES.slice(1, 3)) {
        const { g, cam } = sceneFor(sc);
        const s = rasterSettings({ ...mode.s, shDegree: sc.shDegree });
        const rng = new Rng(sc.seed * 13 + 5);
        const { dC, dA } = randomUpstream(rng);
        const p = projectReference(g, cam, s);
        const tiles = tileIntersectReference(p, cam);
        const fwd = rasterizeReference(p, tiles, cam, s);
        const pg = rasterizeBackwardReference(p, tiles, cam, s, fwd, dC, dA);
        const base = rasterEval(p, cam, s, dC, dA);
        const frozen = s.blend === 'wabe' && s.wabe.stopGradient ? base.Ts : undefined;
        const evaluate = () => rasterEval(p, cam, s, dC, dA, frozen);
        const live = (j: number, per: number) => p.radii[Math.floor(j / per)]! > 0;
        const groups: [string, Float64Array, number, ArrayLike<number>, number[]][] = [
          ['means2D', p.means2D as Float64Array, 1e-5, pg.means2D, sample(rng, 2 * p.count, 40, (j) => live(j, 2))],
          ['conics', p.conics as Float64Array, 1e-6, pg.conics, sample(rng, 3 * p.count, 40, (j) => live(j, 3))],
          ['colors', p.colors as Float64Array, 1e-5, pg.colors, sample(rng, 3 * p.count, 30, (j) => live(j, 3))],
          ['opacities', p.opacities as Float64Array, 1e-6, pg.opacities, sample(rng, p.count, 30, (j) => live(j, 1))],
        ];
        for (const [name, arr, h, an, idx] of groups) {
          const r = checkGroup(arr, idx, h, an, base, evaluate);
          expect(r.excluded, `${name}: excluded`).toBeLessThanOrEqual(Math.ceil(0.15 * idx.length));
          expect(r.fdNorm, `${name}: gradient not trivially zero`).toBeGreaterThan(1e-3);
          expect(r.relErr, `${mode.name} seed ${sc.seed} ${name}: relative error`).toBeLessThan(1e-5);
        }
        // The parameter-level means2D gradient is the splat-level one.
        const { grads } = renderReferenceWithGrad(g, cam, s, dC, dA);
        expect([...grads.means2D]).toEqual([...pg.means2D]);
        expect([...projectBackwardReference(g, cam, s, p, pg).means]).toEqual([...grads.means]);
      }
    });
  }
});

describe('reference backward: the WABE stopGradient flag', () => {
  it('FD of the forward pass agrees with stopGradient false and not with stopGradient true', () => {
    const sc = SCENES[1]!;
    const { g, cam } = sceneFor(sc);
    const rng = new Rng(99);
    const { dC, dA } = randomUpstream(rng);
    const errs: Record<string, number> = {};
    for (const stopGradient of [false, true]) {
      const s = rasterSettings({ blend: 'wabe', wabe: { beta: 6, stopGradient, renormalize: false }, shDegree: sc.shDegree });
      const { grads } = renderReferenceWithGrad(g, cam, s, dC, dA);
      const base = fullEval(g, cam, s, dC, dA);
      const idx = sample(new Rng(3), g.count, g.count);
      errs[String(stopGradient)] = checkGroup(g.opacityLogits as Float64Array, idx, 1e-6, grads.opacityLogits, base, () => fullEval(g, cam, s, dC, dA)).relErr;
    }
    expect(errs['false']).toBeLessThan(1e-5);
    expect(errs['true']).toBeGreaterThan(1e-2);
  });

  it('stopGradient true differs from alpha blending only by the weights (β = 0 gives alpha blending)', () => {
    const sc = SCENES[2]!;
    const { g, cam } = sceneFor(sc);
    const { dC, dA } = randomUpstream(new Rng(5));
    const a = renderReferenceWithGrad(g, cam, rasterSettings({ shDegree: sc.shDegree }), dC, dA);
    for (const stopGradient of [true, false]) {
      for (const renormalize of [false]) {
        const w = renderReferenceWithGrad(
          g,
          cam,
          rasterSettings({ shDegree: sc.shDegree, blend: 'wabe', wabe: { beta: 0, stopGradient, renormalize } }),
          dC,
          dA,
        );
        for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) {
          const x = a.grads[k],
            y = w.grads[k];
          for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i]!, 12);
        }
      }
    }
  });
});

describe('the finite-difference harness', () => {
  it('excludes perturbations that cross the 1/255 skip or the early stop, and keeps smooth ones', () => {
    const cam = identityCamera(W, H);
    const s = rasterSettings({});
    const { dC, dA } = randomUpstream(new Rng(1));
    const mk = (opacity: number, depth: number, uv: [number, number] = [10.5, 10.5]) => ({
      uv,
      depth,
      color: [0.5, 0.5, 0.5] as [number, number, number],
      opacity,
    });
    // Gaussian 0 (alone at its pixel): α at its centre pixel is 1/255 + 1e-8, so ±1e-6 crosses the skip threshold.
    // Gaussians 1, 2, 3 at another pixel: T = 0.1 · 0.05 before Gaussian 3, whose α puts T·(1 − α) 1e-9 below
    // 1e-4 (so the pixel stops before it); −1e-6 on its opacity lifts T·(1 − α) above 1e-4 and it is blended.
    const T3 = (1 - 0.9) * (1 - 0.95);
    const p = projectedFrom([mk(1 / 255 + 1e-8, 1, [25.5, 5.5]), mk(0.9, 2), mk(0.95, 3), mk(1 - (1e-4 - 1e-9) / T3, 4), mk(0.5, 0.5, [30.5, 20.5])]);
    const base = rasterEval(p, cam, s, dC, dA);
    const an = new Float64Array(5); // values irrelevant: only the counts are checked
    const evaluate = () => rasterEval(p, cam, s, dC, dA);
    expect(checkGroup(p.opacities as Float64Array, [0], 1e-6, an, base, evaluate).excluded).toBe(1);
    expect(checkGroup(p.opacities as Float64Array, [3], 1e-6, an, base, evaluate).excluded).toBe(1);
    const smooth = checkGroup(p.opacities as Float64Array, [4], 1e-6, an, base, evaluate);
    expect(smooth.excluded).toBe(0);
    expect(smooth.fdNorm).toBeGreaterThan(1e-3);
  });
});

describe('reference backward: the Jacobian clamp', () => {
  it('passes no gradient from the covariance to x where x/z is clamped (as 3DGS)', () => {
    const cam = identityCamera(64, 48, 50); // 1.3·tan(half fov x) = 0.832
    const s = rasterSettings({ shDegree: 0 });
    const g = gaussiansFrom([{ mean: [4.3, 0.3, 5], logScale: [Math.log(0.6), Math.log(0.5), Math.log(0.4)], quat: [0.9, 0.2, 0.3, 0.1] }]);
    const p = projectReference(g, cam, s);
    expect(p.radii[0]).toBeGreaterThan(0);
    const only = (conics: number[]) => ({
      means2D: new Float64Array(2),
      conics: Float64Array.from(conics),
      colors: new Float64Array(3),
      opacities: new Float64Array(1),
    });
    const clamped = projectBackwardReference(g, cam, s, p, only([1, 0.5, -0.7]));
    expect(clamped.means[0]).toBe(0);
    expect(Math.abs(clamped.means[1]!)).toBeGreaterThan(1e-6); // y/z = 0.06 is not clamped
    expect(Math.abs(clamped.means[2]!)).toBeGreaterThan(1e-6);
    // Unclamped (x/z = 0.6), the same upstream gradient does reach x.
    g.means[0] = 3;
    const free = projectBackwardReference(g, cam, s, projectReference(g, cam, s), only([1, 0.5, -0.7]));
    expect(Math.abs(free.means[0]!)).toBeGreaterThan(1e-6);
  });
});
