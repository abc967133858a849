/**
 * The rasterizer's memory accounting by role: after a forward and a backward on a small scene, the bytes
 * of each role at the peak must equal what the buffer and plan sizes give, computed here from the sizes
 * (not from the rasterizer's own bookkeeping), and sum to `peakBytes`.
 */
import { describe, expect, it } from 'vitest';
import { upload } from '../../lib/gpu/index.js';
import { GaussianRasterizer, MEMORY_ROLES, type MemoryRole } from '../../lib/raster/gpu/rasterizer.js';
import { randomScene } from '../../lib/raster/scenes.js';
import { rasterSettings, type RasterSettings } from '../../lib/raster/types.js';
import { gpuFixture } from '../helpers/gpu.js';
import { destroyGaussians, toFloat32, uploadGaussians } from './gpu-helpers.js';

const gpu = gpuFixture();

/** Our buffers are rounded up to 16 bytes (RasterMemory.alloc). */
const r16 = (b: number) => Math.max(16, Math.ceil(b / 16) * 16);

/** ExclusiveScanPlan(m): one u32 of block sums per 1024 elements per level, a 16-byte uniform per level, a 4-byte count slot. */
function scanBytes(m: number): number {
  const sizes = [Math.max(1, m)];
  while (sizes[sizes.length - 1]! > 1024) sizes.push(Math.ceil(sizes[sizes.length - 1]! / 1024));
  sizes.push(1);
  return sizes.slice(1).reduce((a, s) => a + 4 * s, 0) + 16 * sizes.length + 4;
}

/** RadixSortPlan(m): 256 u32 digit counts per block, two 16-byte slots, and the scan of the counts. */
function sortBytes(m: number, blockSize: number): number {
  const blocks = Math.max(1, Math.ceil(m / blockSize));
  return 256 * blocks * 4 + 32 + scanBytes(256 * blocks);
}

const VARIANTS: [string, RasterSettings][] = [
  ['alpha', rasterSettings({ shDegree: 3 })],
  ['renormalised WABE', rasterSettings({ shDegree: 3, blend: 'wabe', wabe: { beta: 6, stopGradient: false, renormalize: true } })],
];

describe('GaussianRasterizer memory by role', () => {
  for (const [name, settings] of VARIANTS) {
    it(`holds each role to its sizes at the peak of a forward + backward (${name})`, async () => {
      const ctx = await gpu();
      const r = new GaussianRasterizer(ctx);
      // 1501: sizes of n·4 bytes that the 16-byte rounding changes.
      const n = 1501,
        W = 97,
        H = 71,
        K = 16;
      const scene = randomScene(23, { count: n, width: W, height: H, shDegree: 3 });
      const gb = uploadGaussians(ctx, toFloat32(scene.g));
      const dOut = upload(ctx.device, new Float32Array(W * H * 5).fill(0.5));
      const st = await r.render(gb, scene.cam, settings);
      r.backward(st, gb, dOut);
      const stats = await r.settle();
      expect(stats.overflowFrames).toBe(0);
      // The first guess: 8 keys per Gaussian, at least 64 Ki, in multiples of 1024.
      const cap = 65536;
      expect(stats.capacity).toBe(cap);
      expect(stats.maxKeys).toBeLessThan(0.8 * cap); // else the capacity would have grown

      const npx = W * H;
      const nPow = 2048; // scratch sized from N: the next power of two, at least 1024
      const tiles = Math.ceil(W / 16) * Math.ceil(H / 16);
      const block = r.sortCfg.wg * r.sortCfg.kpt;
      const expected: Partial<Record<MemoryRole, number>> = {
        [MEMORY_ROLES.keyScratch]: cap * 40,
        [MEMORY_ROLES.keyGid]: cap * 4,
        [MEMORY_ROLES.tileSortPlan]: sortBytes(cap, block),
        [MEMORY_ROLES.depthSort]: 3 * nPow * 4 + sortBytes(nPow, block),
        [MEMORY_ROLES.offsetsScan]: scanBytes(nPow + 1),
        [MEMORY_ROLES.pixelState]: r16(npx * 20) + 3 * r16(npx * 4) + (settings.wabe.renormalize && settings.blend === 'wabe' ? r16(npx * 16) : 0),
        [MEMORY_ROLES.gaussianState]: r16(n * 4) + r16(n * 48) + r16(n * 4) + r16(n * 8) + r16(n * 4) + r16((n + 1) * 4) + r16(n * 4),
        [MEMORY_ROLES.tileState]: r16(tiles * 8) + 48,
        [MEMORY_ROLES.gradSums]: nPow * 40,
        [MEMORY_ROLES.grads]: 2 * r16(n * 12) + r16(n * 16) + r16(n * 4) + r16(n * K * 12) + r16(n * 8),
      };
      const { peak } = r.memoryBreakdown();
      expect(peak).toEqual(expected);
      expect(Object.values(peak).reduce((a, b) => a + b, 0)).toBe(stats.peakBytes);

      // Releasing the state lowers what is live by exactly its roles; the peak's composition stays.
      const peakBytes = stats.peakBytes;
      r.releaseState(st);
      const after = r.memoryBreakdown();
      expect(after.peak).toEqual(expected);
      expect(r.stats.peakBytes).toBe(peakBytes);
      expect(after.live[MEMORY_ROLES.pixelState]).toBeUndefined();
      expect(after.live[MEMORY_ROLES.keyGid]).toBeUndefined();
      expect(after.live[MEMORY_ROLES.keyScratch]).toBe(cap * 40);
      const freed = expected[MEMORY_ROLES.pixelState]! + expected[MEMORY_ROLES.gaussianState]! + expected[MEMORY_ROLES.keyGid]! + r16(tiles * 8);
      expect(r.stats.liveBytes).toBe(peakBytes - freed);
      destroyGaussians(gb);
      dOut.destroy();
      r.destroy();
      expect(r.stats.liveBytes).toBe(0);
    });
  }
});
