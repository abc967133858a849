import { describe, expect, it } from 'vitest';
import { AvatarRenderer } from '../../lib/avatar/gpu-render.js';
import { FlameHead } from '../../lib/head/flame/head.js';
import { parseFlame } from '../../lib/head/flame/model.js';
import { demoAvatar, renderAvatarReference } from '../../lib/ga/demo.js';
import { tinyFlame, tinyFlamePickle } from '../../lib/ga/demo-flame.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../../lib/raster/camera.js';
import { rasterSettings } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';
import { writeDemo } from '../../lib/ga/demo.js';
import { renderGa } from '../../lib/ga/render.js';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const gpu = gpuFixture();

describe('AvatarRenderer on a FLAME head', () => {
  it('poses FLAME on the GPU (per-frame path), binds and rasterizes as the float64 reference does', async () => {
    const ctx = await gpu();
    const fx = tinyFlame();
    const model = parseFlame(tinyFlamePickle(fx), 'tiny.pkl', { lipRings: fx.lipRings });
    const rng = new Rng(3);
    const staticOffset = new Float32Array(model.vertexCount * 3).map(() => 5e-4 * rng.normal());
    const head = new FlameHead(model, { lipRings: fx.lipRings, staticOffset });
    const g = demoAvatar(head, 1, 2);
    const cam = makeCamera(intrinsicsFromFov(48, 40, 35), lookAt([0.1, 0.03, 0.45], [0, 0, 0]));
    const settings = rasterSettings({ shDegree: 3, background: [1, 1, 1] });
    const r = new AvatarRenderer(ctx, head, g);
    await r.prepare(settings, { forwardOnly: true });
    for (const k of [0, 1]) {
      const p = head.neutralParams();
      p.jaw = [0.2 * k, 0, 0];
      p.neck = [0.05, -0.3 * k, 0];
      p.expr[0] = k;
      p.translation = [0.01 * k, 0, 0];
      await r.render(p, cam, settings);
      const img = await r.readImage(cam);
      const ref = renderAvatarReference(head, g, p, cam, [1, 1, 1]);
      let num = 0,
        den = 0;
      for (let i = 0; i < img.rgb.length; i++) {
        num += (img.rgb[i]! - ref.rgb.data[i]!) ** 2;
        den += ref.rgb.data[i]! ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
      expect(img.alpha.filter((a) => a > 0.5).length).toBeGreaterThan(0.2 * 48 * 40);
    }
    r.destroy();
  });

  it('gae render-ga: a GaussianAvatars avatar driven by its held-out sequence and by another subject, as GIF', async () => {
    await gpu();
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ga-render-'));
    const d = await writeDemo(path.join(root, 'demo'), { width: 32, height: 24 });
    const base = { flame: d.flame, subject: d.subject, lipRings: d.lipRings, formats: ['gif' as const] };
    const test = await renderGa(d.avatar, { ...base, split: 'test', out: path.join(root, 'self') });
    expect(test.frames).toBe(3);
    expect(test.written).toEqual([path.join(root, 'self.gif')]);
    expect((await fs.readFile(path.join(root, 'self.gif'))).subarray(0, 6).toString()).toBe('GIF89a');
    const cross = await renderGa(d.avatar, { ...base, split: 'cross', cross: d.driver, camera: 2, out: path.join(root, 'cross') });
    expect(cross.frames).toBe(3);
    await expect(renderGa(d.avatar, { ...base, split: 'cross', out: path.join(root, 'x') })).rejects.toThrow('--split cross needs --cross');
    await expect(renderGa(d.avatar, { ...base, split: 'test', camera: 9, out: path.join(root, 'x') })).rejects.toThrow(
      `--camera: 9 is not a camera of ${path.join(d.subject, 'transforms_test.json')}`,
    );
  });
});
