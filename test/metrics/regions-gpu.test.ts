/** regionMetricsGpu against the float64 CPU regionMetrics it replaces in the evaluation. */
import { afterAll, describe, expect, it } from 'vitest';
import { getGpu, releaseGpu } from '../../lib/gpu/device.js';
import { regionMetrics } from '../../lib/metrics/regions.js';
import { regionMetricsGpu } from '../../lib/metrics/regions-gpu.js';
import { Rng } from '../../lib/util/random.js';
import type { RgbImage } from '../../lib/util/image.js';

afterAll(async () => {
  await releaseGpu();
});

/** A smooth image with texture (SSIM's windows see structure), and a copy with noise of amplitude `noise`. */
function pair(w: number, h: number, noise: number, seed: number): { ref: RgbImage; ren: RgbImage } {
  const rng = new Rng(seed);
  const ref = new Float32Array(w * h * 3);
  const ren = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        const v = 0.5 + 0.3 * Math.sin(x / (5 + c) + y / 7) + 0.1 * (rng.next() - 0.5);
        ref[i] = Math.min(1, Math.max(0, v));
        ren[i] = Math.min(1, Math.max(0, v + noise * (rng.next() - 0.5) + (x > w / 2 ? 0.05 * noise : 0)));
      }
  return { ref: { width: w, height: h, data: ref }, ren: { width: w, height: h, data: ren } };
}

/** Region blocks covering every id, a fractional label past the last id (no group), and an absent-in-some-crops id. */
function labelMap(w: number, h: number): Float32Array {
  const l = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) l[y * w + x] = (Math.floor(x / 13) + 2 * Math.floor(y / 11)) % 7;
  for (let i = 0; i < 40; i++) l[i * 3] = 6.7;
  return l;
}

describe('regionMetricsGpu', () => {
  it('matches the float64 CPU scores in every region, at odd and at the evaluation size', async () => {
    await getGpu();
    for (const [w, h, noise, seed] of [
      [97, 61, 0.2, 1],
      [97, 61, 0.01, 2],
      [802, 550, 0.05, 3],
    ] as const) {
      const { ref, ren } = pair(w, h, noise, seed);
      const labels = labelMap(w, h);
      const cpu = regionMetrics(ren, ref, labels);
      const gpu = await regionMetricsGpu(ren, ref, labels);
      expect(Object.keys(gpu).sort()).toEqual(Object.keys(cpu).sort());
      for (const [k, c] of Object.entries(cpu)) {
        const g = gpu[k]!;
        expect(g.pixels, k).toBe(c.pixels);
        expect(Math.abs(g.psnr - c.psnr), `${w}x${h} ${k} psnr ${g.psnr} vs ${c.psnr}`).toBeLessThan(1e-4);
        expect(Math.abs(g.ssim - c.ssim), `${w}x${h} ${k} ssim ${g.ssim} vs ${c.ssim}`).toBeLessThan(2e-6);
      }
    }
  });

  it('gives +Infinity for an exact render, NaN for an absent region, and other windows like the CPU', async () => {
    await getGpu();
    const { ref, ren } = pair(40, 30, 0.1, 4);
    const labels = new Float32Array(40 * 30).fill(1);
    const exact = await regionMetricsGpu(ref, ref, labels);
    expect(exact.image!.psnr).toBe(Infinity);
    expect(Math.abs(exact.image!.ssim - 1)).toBeLessThan(1e-6);
    const gpu = await regionMetricsGpu(ren, ref, labels, { ssim: { windowSize: 7, sigma: 1 } });
    const cpu = regionMetrics(ren, ref, labels, { ssim: { windowSize: 7, sigma: 1 } });
    expect(Number.isNaN(gpu.mouthInterior!.psnr) && Number.isNaN(gpu.mouthInterior!.ssim)).toBe(true);
    expect(Math.abs(gpu.skin!.ssim - cpu.skin!.ssim)).toBeLessThan(2e-6);
    expect(Math.abs(gpu.image!.psnr - cpu.image!.psnr)).toBeLessThan(1e-4);
    // 'zero' borders are the CPU's: the same numbers exactly.
    expect(await regionMetricsGpu(ren, ref, labels, { ssim: { border: 'zero' } })).toEqual(regionMetrics(ren, ref, labels, { ssim: { border: 'zero' } }));
  });

  it('names a bad label and a size mismatch', async () => {
    await getGpu();
    const { ref, ren } = pair(20, 16, 0.1, 5);
    const labels = new Float32Array(20 * 16);
    labels[37] = 9;
    await expect(regionMetricsGpu(ren, ref, labels)).rejects.toThrow(/label 9 at pixel 37 is not a region id/);
    await expect(regionMetricsGpu(ren, ref, new Float32Array(5))).rejects.toThrow(/label map has 5 entries, expected 20x16/);
  });
});
