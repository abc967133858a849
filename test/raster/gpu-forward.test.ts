/**
 * The WGSL rasterizer's forward stages against the float64 reference, on random scenes that include
 * Gaussians off-screen, behind the camera, and with degenerate (tiny, huge, needle) scales.
 *
 * Discrete outputs (radii, tiles touched, tile lists, contributor counts) must match exactly except where
 * float32 and float64 genuinely tie (e.g. 3·sqrt(λ) within an ulp of an integer, α within an ulp of 1/255);
 * the tests bound how many such differences there are, and compare continuous outputs on the rest.
 */
import { describe, expect, it } from 'vitest';
import { download } from '../../lib/gpu/index.js';
import { GaussianRasterizer, readProjected, type ForwardState } from '../../lib/raster/gpu/rasterizer.js';
import { projectReference, rasterizeReference, tileIntersectReference, type ReferenceGaussians } from '../../lib/raster/reference/index.js';
import { rasterSettings, type Camera, type RasterSettings } from '../../lib/raster/types.js';
import { destroyGaussians, readImage, relErr, toFloat32, uploadGaussians } from './gpu-helpers.js';
import { randomScene } from '../../lib/raster/scenes.js';
import { withHardCases } from './gpu-scenes.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

interface Case {
  seed: number;
  count: number;
  width: number;
  height: number;
  shDegree: 0 | 1 | 2 | 3;
  settings: Partial<RasterSettings>;
}

const CASES: Case[] = [
  { seed: 1, count: 300, width: 80, height: 64, shDegree: 3, settings: {} },
  { seed: 2, count: 500, width: 101, height: 67, shDegree: 2, settings: { background: [0.3, 0.6, 0.9] } },
  { seed: 3, count: 150, width: 33, height: 17, shDegree: 1, settings: { shDegree: 0 } },
  { seed: 4, count: 400, width: 96, height: 80, shDegree: 3, settings: { blend: 'wabe' } },
  {
    seed: 5,
    count: 400,
    width: 64,
    height: 64,
    shDegree: 3,
    settings: { blend: 'wabe', wabe: { beta: 4, stopGradient: true, renormalize: true }, background: [1, 1, 1] },
  },
];

async function compare(st: ForwardState, g: ReferenceGaussians, cam: Camera, s: RasterSettings) {
  const ctx = await gpu();
  const pg = await readProjected(ctx, st);
  const pr = projectReference(g, cam, s);
  const n = g.count;
  // Gaussians where float32 and float64 disagree on a discrete decision.
  const tie = new Set<number>();
  for (let i = 0; i < n; i++) if (pg.radii[i] !== pr.radii[i] || pg.tilesTouched[i] !== pr.tilesTouched[i]) tie.add(i);
  // Depths equal in float32 but not in float64 sort by id on the GPU and by depth in the reference.
  const byDepth = new Map<number, number[]>();
  for (let i = 0; i < n; i++) if (pg.radii[i]! > 0) byDepth.set(pg.depths[i]!, [...(byDepth.get(pg.depths[i]!) ?? []), i]);
  for (const ids of byDepth.values()) if (ids.length > 1) for (const i of ids) tie.add(i);
  const visible = (i: number) => pr.radii[i]! > 0 && !tie.has(i);
  const sel = (arr: ArrayLike<number>, dim: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (visible(i)) for (let d = 0; d < dim; d++) out.push(arr[dim * i + d]!);
    return out;
  };
  const stage1 = {
    means2D: relErr(sel(pg.means2D, 2), sel(pr.means2D, 2)),
    conics: relErr(sel(pg.conics, 3), sel(pr.conics, 3)),
    depths: relErr(sel(pg.depths, 1), sel(pr.depths, 1)),
    colors: relErr(sel(pg.colors, 3), sel(pr.colors, 3)),
    opacities: relErr(sel(pg.opacities, 1), sel(pr.opacities, 1)),
  };
  // Tiles: per tile, the GPU's list equals the reference's (built from the reference's projection).
  const tiles = tileIntersectReference(pr, cam);
  const ranges = await download(ctx.device, st.ranges, Uint32Array, 2 * tiles.numTiles);
  const keyGid = await download(ctx.device, st.keyGid, Uint32Array, Math.max(1, ...ranges));
  let listMismatch = 0;
  for (let t = 0; t < tiles.numTiles; t++) {
    const a = [...keyGid.subarray(ranges[2 * t]!, ranges[2 * t + 1]!)].filter((i) => !tie.has(i));
    const b = [...tiles.gaussianIds.subarray(tiles.tileRanges[2 * t]!, tiles.tileRanges[2 * t + 1]!)].filter((i) => !tie.has(i));
    if (a.length !== b.length || a.some((v, k) => v !== b[k])) listMismatch++;
  }
  const ref = rasterizeReference(pr, tiles, cam, s);
  const img = await readImage(ctx, st);
  let contribMismatch = 0;
  for (let p = 0; p < img.nContrib.length; p++) if (img.nContrib[p] !== ref.nContrib[p] || img.lastIdx[p] !== ref.lastIndex[p]) contribMismatch++;
  return {
    tie: tie.size,
    visible: pr.radii.filter((r) => r > 0).length,
    stage1,
    listMismatch,
    contribMismatch,
    image: { color: relErr(img.color, ref.color), alpha: relErr(img.alpha, ref.alpha), depth: relErr(img.depth, ref.depth) },
  };
}

describe('GPU rasterizer forward vs float64 reference', () => {
  for (const variant of ['subgroups', 'fallback'] as const) {
    for (const c of CASES) {
      if (variant === 'fallback' && c.seed > 2) continue; // the fallback differs only in sort and reduction
      it(`${variant}: seed ${c.seed}, ${c.count}+48 Gaussians, ${c.width}×${c.height}, SH ${c.shDegree}, ${JSON.stringify(c.settings)}`, async () => {
        const ctx = await gpu();
        const r = new GaussianRasterizer(ctx, { noSubgroups: variant === 'fallback' });
        const s = rasterSettings(c.settings);
        const scene = randomScene(c.seed, { count: c.count, width: c.width, height: c.height, shDegree: c.shDegree, spread: 1.8 });
        const g = toFloat32(withHardCases(scene.g, scene.cam, c.seed));
        const gb = uploadGaussians(ctx, g);
        const st = await r.render(gb, scene.cam, s);
        const res = await compare(st, g, scene.cam, s);
        // The scene exercises what it should.
        expect(res.visible).toBeGreaterThan(c.count / 3);
        expect(res.visible).toBeLessThan(g.count);
        // Ties: at most one Gaussian in 200, and those are excluded from the exact comparisons below.
        expect(res.tie).toBeLessThanOrEqual(Math.ceil(g.count / 200));
        for (const [k, e] of Object.entries(res.stage1)) expect(e, k).toBeLessThan(1e-5);
        expect(res.listMismatch).toBe(0);
        expect(res.contribMismatch).toBeLessThanOrEqual(Math.ceil(c.width * c.height * 1e-3));
        if (res.tie === 0 && res.contribMismatch === 0) {
          expect(res.image.color).toBeLessThan(1e-5);
          expect(res.image.alpha).toBeLessThan(1e-5);
          expect(res.image.depth).toBeLessThan(1e-5);
        } else {
          // A tie moves a whole contribution (≥ 1/255) at a few pixels.
          expect(res.image.color).toBeLessThan(2e-3);
        }
        destroyGaussians(gb);
        r.destroy();
      });
    }
  }

  it('grows its key capacity after an overflow and re-renders the frame complete', async () => {
    const ctx = await gpu();
    const r = new GaussianRasterizer(ctx, { initialCapacity: 1024 });
    const s = rasterSettings();
    const scene = randomScene(11, { count: 600, width: 96, height: 96, shDegree: 1 });
    const g = toFloat32(scene.g);
    const gb = uploadGaussians(ctx, g);
    const st = await r.render(gb, scene.cam, s);
    expect(r.stats.overflowFrames).toBe(1); // the first attempt had room for 1024 keys only
    expect(r.stats.capacity).toBeGreaterThanOrEqual(r.stats.maxKeys);
    const pr = projectReference(g, scene.cam, s);
    const ref = rasterizeReference(pr, tileIntersectReference(pr, scene.cam), scene.cam, s);
    expect(r.stats.maxKeys).toBe(tileIntersectReference(pr, scene.cam).gaussianIds.length);
    const img = await readImage(ctx, st);
    expect(relErr(img.color, ref.color)).toBeLessThan(1e-5);
    destroyGaussians(gb);
    r.destroy();
  });

  it('renders an empty scene and a scene with everything culled as background', async () => {
    const ctx = await gpu();
    const r = new GaussianRasterizer(ctx);
    const s = rasterSettings({ background: [0.25, 0.5, 0.75] });
    const scene = randomScene(12, { count: 20, width: 40, height: 24, shDegree: 0 });
    // Move every Gaussian behind the camera.
    const g = toFloat32(scene.g);
    const W = scene.cam.worldToCamera;
    const back = [-W[8]!, -W[9]!, -W[10]!]; // world direction of −z_cam
    const centre = [0, 1, 2].map((c) => -(W[c]! * W[3]! + W[4 + c]! * W[7]! + W[8 + c]! * W[11]!));
    for (let i = 0; i < g.count; i++) for (let c = 0; c < 3; c++) g.means[3 * i + c] = centre[c]! + 2 * back[c]!;
    for (const gg of [g, { ...g, count: 0 }]) {
      const gb = uploadGaussians(ctx, gg);
      const st = await r.render(gb, scene.cam, s);
      const img = await readImage(ctx, st);
      for (let p = 0; p < img.alpha.length; p++) {
        expect(img.alpha[p]).toBe(0);
        expect([img.color[3 * p], img.color[3 * p + 1], img.color[3 * p + 2]]).toEqual([0.25, 0.5, 0.75]);
      }
      destroyGaussians(gb);
    }
    r.destroy();
  });
});
