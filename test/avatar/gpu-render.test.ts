/**
 * The real-time path (pose → bind → rasterize on the GPU) against the training path (CPU posing, tfjs
 * binding, tfjs rasterize): same world Gaussians, same image.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/device.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { renderedTriangles } from '../../lib/head/atlas.js';
import { neutralParams, poseHead } from '../../lib/head/pose.js';
import { expressionIndex } from '../../lib/head/model.js';
import { triangleFrames } from '../../lib/head/frames.js';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { AvatarRenderer } from '../../lib/avatar/gpu-render.js';
import { AvatarModel } from '../../lib/avatar/model.js';
import { frameTable } from '../../lib/avatar/binding.js';
import { prepareRasterize, rasterize } from '../../lib/raster/rasterize.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../../lib/raster/camera.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

describe('AvatarRenderer (GPU pose + bind + rasterize)', () => {
  it('binds like the tfjs path and renders the same image', async () => {
    const ctx = await useTfjsWebGpu();
    const head = await loadHeadModel();
    const tris = renderedTriangles(head);
    const g = initBoundGaussians(tris.length, { perTriangle: 1, shDegree: 1, seed: 5, opacity: 0.6 });
    const rng = new Rng(8);
    for (let n = 0; n < g.count; n++) {
      g.binding[n] = tris[g.binding[n]!]!;
      for (let i = 0; i < 3; i++) g.means[3 * n + i] = 0.3 * rng.normal();
      for (let i = 0; i < 4; i++) g.quats[4 * n + i] = rng.normal();
      for (let i = 0; i < 3; i++) g.logScales[3 * n + i] = -0.5 + 0.2 * rng.normal();
    }
    const p = neutralParams();
    p.expression[expressionIndex(head, 'jawOpen')] = 0.6;
    p.expression[expressionIndex(head, 'mouthSmile_L')] = 0.4;
    p.neck = [0.05, 0.2, 0];
    const cam = makeCamera(intrinsicsFromFov(96, 72, 30), lookAt([0.05, 0.02, 0.6], [0, 0, 0.02]));
    const settings = rasterSettings({ shDegree: 1, background: [1, 1, 1] });

    const r = new AvatarRenderer(ctx, head, g);
    await r.prepare(settings);
    await r.render(p, cam, settings);
    const world = await r.readWorld();
    const img = await r.readImage(cam);

    // The training path.
    const model = new AvatarModel(g);
    const tri = triangleFrames(poseHead(head, p), head.faces);
    const frames = { table: tf.tensor2d(frameTable(tri), [tri.scales.length, 20]) };
    await prepareRasterize(settings);
    const ref = tf.tidy(() => {
      const w = model.world(frames);
      const out = rasterize(w, cam, settings);
      return { means: w.means, logScales: w.logScales, quats: w.quats, color: out.color };
    });
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let num = 0,
        den = 0;
      for (let i = 0; i < a.length; i++) {
        num += (a[i]! - b[i]!) ** 2;
        den += b[i]! ** 2;
      }
      return Math.sqrt(num / den);
    };
    expect(rel(world.means, await ref.means.data())).toBeLessThan(1e-6);
    expect(rel(world.logScales, await ref.logScales.data())).toBeLessThan(1e-6);
    // Quaternions agree up to sign (q and −q are the same rotation): compare q·sign(w).
    const qa = Array.from(world.quats),
      qb = Array.from(await ref.quats.data());
    for (let n = 0; n < g.count; n++) {
      const sa = Math.sign(qa[4 * n]!) || 1,
        sb = Math.sign(qb[4 * n]!) || 1;
      for (let i = 0; i < 4; i++) {
        qa[4 * n + i]! *= sa;
        qb[4 * n + i]! *= sb;
      }
    }
    expect(rel(qa, qb)).toBeLessThan(1e-5);
    const color = await ref.color.data();
    expect(rel(img.rgb, color)).toBeLessThan(1e-4);
    // And the head is there: a good share of pixels is covered.
    expect(img.alpha.filter((a) => a > 0.5).length).toBeGreaterThan(0.1 * 96 * 72);
    tf.dispose(Object.values(ref));
    model.dispose();
    r.destroy();
  });
});
