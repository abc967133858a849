/**
 * The tfjs interop: `rasterize` with its registered gradient gives what the raw GaussianRasterizer gives,
 * frees what it allocates, and trains Gaussians with tfjs's Adam to a target image.
 */
import { describe, expect, it } from 'vitest';
import { download, upload } from '../../lib/gpu/index.js';
import { tf, useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { GaussianRasterizer } from '../../lib/raster/gpu/rasterizer.js';
import { prepareRasterize, rasterize, type GaussianTensors, type RasterizeSideChannel } from '../../lib/raster/rasterize.js';
import type { ReferenceGaussians } from '../../lib/raster/reference/index.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';
import { destroyGaussians, readImage, relErr, toFloat32, uploadGaussians } from './gpu-helpers.js';
import { gaussiansFrom, randomScene } from '../../lib/raster/scenes.js';

gpuFixture();

function tensorsOf(g: ReferenceGaussians): GaussianTensors {
  const K = (g.shDegree + 1) ** 2;
  return {
    means: tf.tensor2d(Float32Array.from(g.means), [g.count, 3]),
    logScales: tf.tensor2d(Float32Array.from(g.logScales), [g.count, 3]),
    quats: tf.tensor2d(Float32Array.from(g.quats), [g.count, 4]),
    opacityLogits: tf.tensor1d(Float32Array.from(g.opacityLogits)),
    sh: tf.tensor3d(Float32Array.from(g.sh), [g.count, K, 3]),
  };
}

describe('rasterize (tfjs, registered gradient)', () => {
  it('gives the raw rasterizer’s image and gradients, and ∂L/∂means2D through the side channel', async () => {
    const ctx = await useTfjsWebGpu();
    for (const s of [
      rasterSettings({ shDegree: 2 }),
      rasterSettings({ shDegree: 2, blend: 'wabe', wabe: { beta: 6, stopGradient: false, renormalize: true } }),
    ]) {
      await prepareRasterize(s);
      const { g: g64, cam } = randomScene(51, { count: 200, width: 48, height: 40, shDegree: 2 });
      const g = toFloat32(g64);
      const P = tensorsOf(g);
      const H = cam.height,
        W = cam.width;
      const rng = new Rng(52);
      const wC = Float32Array.from({ length: H * W * 3 }, () => rng.uniform(-1, 1));
      const wA = Float32Array.from({ length: H * W }, () => rng.uniform(-1, 1));
      const wD = Float32Array.from({ length: H * W }, () => rng.uniform(-1, 1));
      const tC = tf.tensor3d(wC, [H, W, 3]),
        tA = tf.tensor2d(wA, [H, W]),
        tD = tf.tensor2d(wD, [H, W]);
      const side: RasterizeSideChannel = {};
      const colorT = tf.tidy(() => rasterize(P, cam, s).color);
      const colorOut = (await colorT.data()) as Float32Array;
      colorT.dispose();
      const gradsFn = tf.grads((means, logScales, quats, opacityLogits, sh) => {
        const out = rasterize({ means, logScales, quats, opacityLogits, sh }, cam, s, side);
        out.nContrib.dispose();
        out.radii.dispose();
        return out.color.mul(tC).sum().add(out.alpha.mul(tA).sum()).add(out.depth.mul(tD).sum());
      });
      const gs = gradsFn([P.means, P.logScales, P.quats, P.opacityLogits, P.sh]);

      // The same with the raw class.
      const r = new GaussianRasterizer(ctx);
      await r.prepare(s);
      const gb = uploadGaussians(ctx, g);
      const st = await r.render(gb, cam, s);
      const packed = new Float32Array(5 * H * W);
      for (let p = 0; p < H * W; p++) packed.set([wC[3 * p]!, wC[3 * p + 1]!, wC[3 * p + 2]!, wA[p]!, wD[p]!], 5 * p);
      const dOut = upload(ctx.device, packed);
      const raw = r.backward(st, gb, dOut);
      expect(relErr(colorOut, (await readImage(ctx, st)).color)).toBe(0);
      const names = ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const;
      for (let k = 0; k < 5; k++) {
        const mine = (await gs[k]!.data()) as Float32Array;
        const ref = await download(ctx.device, raw[names[k]], Float32Array, mine.length);
        expect(
          mine.some((x) => x !== 0),
          names[k],
        ).toBe(true);
        expect(relErr(mine, ref), names[k]).toBe(0); // same kernels, same inputs, deterministic sums
      }
      const m2d = await download(ctx.device, raw.means2D, Float32Array, 2 * g.count);
      expect(side.means2DGrad!.shape).toEqual([g.count, 2]);
      expect(relErr((await side.means2DGrad!.data()) as Float32Array, m2d)).toBe(0);
      side.means2DGrad!.dispose();
      tf.dispose([...gs, tC, tA, tD, ...Object.values(P)]);
      dOut.destroy();
      destroyGaussians(gb);
      r.destroy();
    }
  });

  it('frees its state with the tape, and at once when no gradient is recorded', async () => {
    const s = rasterSettings({ shDegree: 0 });
    await prepareRasterize(s);
    const { g, cam } = randomScene(53, { count: 50, width: 32, height: 32, shDegree: 0 });
    const P = tensorsOf(g);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = rasterize(P, cam, s);
      return out.color.sum();
    }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    const vars = Object.fromEntries(Object.entries(P).map(([k, t]) => [k, tf.variable(t, true, `leak-${k}`)])) as unknown as GaussianTensors;
    const afterVars = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => rasterize(vars, cam, s).color.mean() as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(afterVars);
    tf.dispose([...Object.values(vars), ...Object.values(P)]);
  });

  it('rejects tensors of the wrong shape, naming the field', async () => {
    const s = rasterSettings({ shDegree: 0 });
    await prepareRasterize(s);
    const { g, cam } = randomScene(54, { count: 5, width: 16, height: 16, shDegree: 0 });
    const P = tensorsOf(g);
    const bad = { ...P, quats: tf.zeros([5, 3]) };
    expect(() => rasterize(bad, cam, s)).toThrow(/quats has shape \[5,3\], expected \[5,4\]/);
    tf.dispose([...Object.values(P), bad.quats]);
  });

  it('fits Gaussians to a target image rendered from known Gaussians (tfjs Adam) above 30 dB PSNR', async () => {
    const s = rasterSettings({ shDegree: 0, background: [0, 0, 0] });
    await prepareRasterize(s);
    // Target: 24 Gaussians on a 2×… grid in front of an identity camera.
    const rng = new Rng(55);
    const W = 40,
      H = 32,
      f = 40;
    const m = new Float64Array(16);
    m[0] = m[5] = m[10] = m[15] = 1;
    const cam = { width: W, height: H, fx: f, fy: f, cx: W / 2, cy: H / 2, worldToCamera: m, near: 0.01, far: 100 };
    const specs = Array.from({ length: 24 }, (_, i) => ({
      mean: [((i % 6) - 2.5) * 0.3 + rng.uniform(-0.05, 0.05), (Math.floor(i / 6) - 1.5) * 0.3 + rng.uniform(-0.05, 0.05), 2 + rng.uniform(-0.2, 0.2)] as [
        number,
        number,
        number,
      ],
      logScale: [Math.log(rng.uniform(0.06, 0.14)), Math.log(rng.uniform(0.06, 0.14)), Math.log(0.1)] as [number, number, number],
      quat: [1, rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)] as [number, number, number, number],
      opacityLogit: rng.uniform(1, 3),
      sh: [rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)],
    }));
    const target = gaussiansFrom(specs, 0);
    const T = tensorsOf(target);
    const targetImg = tf.tidy(() => rasterize(T, cam, s).color);
    // Start: positions and shapes perturbed, grey colours, half opacity.
    const init = gaussiansFrom(
      specs.map((sp) => ({
        ...sp,
        mean: sp.mean.map((x, k) => x + (k < 2 ? rng.uniform(-0.04, 0.04) : 0)) as [number, number, number],
        logScale: sp.logScale.map((x) => x + rng.uniform(-0.2, 0.2)) as [number, number, number],
        opacityLogit: 0,
        sh: [0, 0, 0],
      })),
      0,
    );
    const I = tensorsOf(init);
    const v = {
      means: tf.variable(I.means),
      logScales: tf.variable(I.logScales),
      quats: tf.variable(I.quats),
      opacityLogits: tf.variable(I.opacityLogits),
      sh: tf.variable(I.sh),
    };
    const groups: [tf.Variable, tf.Optimizer][] = [
      [v.means, tf.train.adam(2e-3)],
      [v.logScales, tf.train.adam(1e-2)],
      [v.quats, tf.train.adam(1e-2)],
      [v.opacityLogits, tf.train.adam(5e-2)],
      [v.sh, tf.train.adam(5e-2)],
    ];
    const psnr = async () => {
      const mse = tf.tidy(() => rasterize(v, cam, s).color.sub(targetImg).square().mean());
      const x = (await mse.data())[0]!;
      mse.dispose();
      return -10 * Math.log10(x);
    };
    const start = await psnr();
    for (let it = 0; it < 150; it++) {
      const { value, grads } = tf.variableGrads(() => rasterize(v, cam, s).color.sub(targetImg).square().mean() as tf.Scalar);
      for (const [vv, opt] of groups) opt.applyGradients({ [vv.name]: grads[vv.name]! });
      tf.dispose([value, ...Object.values(grads)]);
    }
    const end = await psnr();
    expect(start).toBeLessThan(20);
    expect(end).toBeGreaterThan(30);
    tf.dispose([...Object.values(v), ...Object.values(T), ...Object.values(I), targetImg]);
    for (const [, opt] of groups) opt.dispose();
  });
});
