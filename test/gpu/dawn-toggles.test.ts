/**
 * The fast Dawn toggles (the Node default: no validation, no robustness) against Dawn's safe defaults, on
 * one scene with hard cases, forward and backward, with and without subgroups. Robustness clamps every
 * out-of-bounds index to the buffer, so a kernel that read or wrote out of bounds would give different
 * bytes in the two modes: bit-identical images and gradients say the clamping never fired (lib/gpu/device.ts).
 */
import { describe, expect, it } from 'vitest';
import { download, openDawnDevice, upload, type DawnMode, type GpuContext } from '../../lib/gpu/index.js';
import { GaussianRasterizer } from '../../lib/raster/gpu/rasterizer.js';
import { rasterSettings, type RasterSettings } from '../../lib/raster/types.js';
import { Rng } from '../../lib/util/random.js';
import { destroyGaussians, toFloat32, uploadGaussians } from '../raster/gpu-helpers.js';
import { withHardCases } from '../raster/gpu-scenes.js';
import { randomScene } from '../../lib/raster/scenes.js';

const GROUPS = ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'means2D'] as const;

async function renderBytes(ctx: GpuContext, s: RasterSettings, noSubgroups: boolean): Promise<Uint8Array[]> {
  const scene = randomScene(5, { count: 300, width: 70, height: 50, shDegree: 3, spread: 1.6 });
  const g = toFloat32(withHardCases(scene.g, scene.cam, 5));
  const gb = uploadGaussians(ctx, g);
  const r = new GaussianRasterizer(ctx, { noSubgroups, initialCapacity: 1024 });
  try {
    const st = await r.render(gb, scene.cam, s); // re-renders after the first frame overflows 1024 keys
    const npx = scene.cam.width * scene.cam.height;
    const rng = new Rng(9);
    const dOut = upload(
      ctx.device,
      Float32Array.from({ length: 5 * npx }, () => rng.uniform(-1, 1)),
    );
    const grads = r.backward(st, gb, dOut);
    const out = [await download(ctx.device, st.image, Uint8Array, 20 * npx)];
    for (const k of GROUPS) out.push(await download(ctx.device, grads[k], Uint8Array, grads[k].size));
    dOut.destroy();
    return out;
  } finally {
    destroyGaussians(gb);
    r.destroy();
  }
}

describe('Dawn fast toggles', () => {
  const settings = {
    alpha: rasterSettings({ shDegree: 3, background: [0.2, 0.5, 0.1] }),
    'wabe differentiated renormalised': rasterSettings({ shDegree: 3, blend: 'wabe', wabe: { beta: 3, stopGradient: false, renormalize: true } }),
  };
  for (const noSubgroups of [false, true]) {
    for (const [name, s] of Object.entries(settings)) {
      it(`render the same bytes as the safe defaults (${name}, ${noSubgroups ? 'fallback' : 'subgroups'})`, async () => {
        const out: Partial<Record<DawnMode, Uint8Array[]>> = {};
        for (const mode of ['safe', 'fast'] as const) {
          const ctx = await openDawnDevice(mode);
          expect(ctx.report.dawn).toBe(mode);
          try {
            out[mode] = await renderBytes(ctx, s, noSubgroups);
          } finally {
            ctx.device.destroy();
          }
        }
        const [safe, fast] = [out.safe!, out.fast!];
        expect(safe[0]!.some((x) => x !== 0)).toBe(true);
        for (let k = 0; k < safe.length; k++) expect(Buffer.from(fast[k]!).equals(Buffer.from(safe[k]!)), `output ${k}`).toBe(true);
      });
    }
  }
});
