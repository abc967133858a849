import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemo, renderAvatarReference } from '../../lib/ga/demo.js';
import { importGa } from '../../lib/ga/import.js';
import { loadGaSubject } from '../../lib/ga/subject.js';
import { readGaAvatar, readGaSequence, writeGaAvatar } from '../../lib/ga/avatar.js';
import { reconstructOnHead, type PosedView } from '../../lib/ga/recon.js';
import { loadFlame } from '../../lib/head/flame/model.js';
import { FlameHead } from '../../lib/head/flame/head.js';
import type { FlameParams } from '../../lib/head/flame/lbs.js';
import { AvatarRenderer } from '../../lib/avatar/gpu-render.js';
import { initBoundGaussians } from '../../lib/avatar/gaussians.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { readPng } from '../../lib/util/image.js';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';

const psnr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return -10 * Math.log10(s / a.length);
};

describe('GaussianAvatars subject: import → reconstruct (tiny) → export → import', () => {
  it('reconstructs the stand-in subject on FLAME, and the exported point_cloud.ply renders identically after re-import', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ga-recon-'));
    const demo = await writeDemo(path.join(root, 'demo'), { width: 40, height: 32 });
    await importGa(demo.subject, { flame: demo.flame, lipRings: demo.lipRings, out: path.join(root, 'index') });
    const model = await loadFlame(demo.flame, { lipRings: demo.lipRings });
    const subject = await loadGaSubject(demo.subject, model);
    const head = new FlameHead(model, { staticOffset: subject.staticOffset, lipRings: demo.lipRings });
    const views = async (split: 'train' | 'val'): Promise<PosedView<FlameParams>[]> =>
      Promise.all(
        subject.splits[split]!.frames.map(async (f) => ({
          camera: f.camera,
          params: subject.flame.get(f.flameParamPath)!,
          image: (await readPng(f.image!)).rgb,
          poseKey: f.flameParamPath,
        })),
      );
    const train = await views('train');
    const val = await views('val');
    const bg: [number, number, number] = [1, 1, 1];
    const losses: number[] = [];
    const g = await reconstructOnHead(head, train, {
      background: bg,
      config: { iterations: 90, shDegree: 1, shUpEvery: 45, init: { perTriangle: 1, opacity: 0.1 } },
      onStep: (_s, _n, l) => losses.push(l),
    });
    expect(g.count).toBe(model.triangleCount);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.2 * mean(losses.slice(0, 10)));
    // Novel view (held-out camera): better than the initial avatar.
    const init = initBoundGaussians(model.triangleCount, { perTriangle: 1, opacity: 0.1, shDegree: 1, seed: 0 });
    const v = val[0]!;
    const before = psnr(renderAvatarReference(head, init, v.params, v.camera, bg).rgb.data, v.image.data);
    const after = psnr(renderAvatarReference(head, g, v.params, v.camera, bg).rgb.data, v.image.data);
    expect(after).toBeGreaterThan(before + 10); // 13 → 30 dB on lavapipe

    // Export in GaussianAvatars' layout, import again: the same renders on the GPU.
    const seq = await readGaSequence(path.join(path.dirname(demo.avatar), 'flame_param.npz'), model);
    const out = path.join(root, 'export');
    await writeGaAvatar(out, g, { ...seq, staticOffset: subject.staticOffset }, model.vertexCount);
    const again = await readGaAvatar(path.join(out, 'point_cloud.ply'), head.triangleCount);
    expect(again).toEqual(g);
    const ctx = await useTfjsWebGpu();
    const settings = rasterSettings({ shDegree: 1, background: bg });
    const images: Float32Array[] = [];
    for (const avatar of [g, again]) {
      const r = new AvatarRenderer(ctx, head, avatar);
      await r.prepare(settings, { forwardOnly: true });
      await r.render(v.params, v.camera, settings);
      images.push((await r.readImage(v.camera)).rgb);
      r.destroy();
    }
    expect(images[1]).toEqual(images[0]);
    expect(psnr(images[0]!, v.image.data)).toBeGreaterThan(before + 3);
  }, 600_000);
});
