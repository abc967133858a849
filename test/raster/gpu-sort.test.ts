import { describe, expect, it } from 'vitest';
import { download, upload, createStorage } from '../../lib/gpu/index.js';
import { BufferUsage } from '../../lib/gpu/flags.js';
import { RadixSortPlan, sortConfig } from '../../lib/raster/gpu/sort.js';
import { PassRecorder } from '../../lib/raster/gpu/recorder.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

/** Stable CPU sort of (key & mask, original index). */
function cpuSort(keys: Uint32Array, vals: Uint32Array, bits: number): { keys: Uint32Array; vals: Uint32Array } {
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const idx = Array.from(keys, (_, i) => i);
  idx.sort((a, b) => ((keys[a]! & mask) >>> 0) - ((keys[b]! & mask) >>> 0) || a - b);
  return { keys: Uint32Array.from(idx, (i) => keys[i]!), vals: Uint32Array.from(idx, (i) => vals[i]!) };
}

function firstMismatch(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('GPU radix sort', () => {
  const cases: { n: number; bits: number; dist: 'uniform' | 'dups' | 'floats' }[] = [
    { n: 1, bits: 32, dist: 'uniform' },
    { n: 1000, bits: 32, dist: 'uniform' },
    { n: 4097, bits: 13, dist: 'dups' },
    { n: 20_011, bits: 32, dist: 'floats' },
    { n: 33_333, bits: 8, dist: 'dups' },
    // Many blocks: the histogram's scan has three levels.
    { n: 300_007, bits: 12, dist: 'uniform' },
  ];
  // 'local': blocks sorted in workgroup memory first; 'local, 4 per thread': with fewer keys per thread, as
  // NVIDIA gets (8 in its 48 KiB of workgroup memory under Vulkan, 4 in a browser's 32 KiB).
  for (const variant of ['subgroups', 'subgroups, local', 'subgroups, local, 4 per thread', 'fallback'] as const) {
    for (const c of cases) {
      it(`${variant}: ${c.n} keys, ${c.bits} bits, ${c.dist} — equals a stable CPU sort`, async () => {
        const ctx = await gpu();
        const chosen = sortConfig(ctx, variant === 'fallback', variant.includes('local'));
        const cfg = variant.endsWith('4 per thread') ? { ...chosen, kpt: 4 } : chosen;
        if (variant !== 'fallback' && !cfg.subgroups) return; // no subgroups on this adapter
        const rng = new Rng(c.n * 7 + c.bits);
        const keys = new Uint32Array(c.n).map(() => {
          if (c.dist === 'dups') return rng.int(37) * 97; // few distinct values: long runs of equal keys
          if (c.dist === 'floats') return new Uint32Array(new Float32Array([2 + 3 * rng.next()]).buffer)[0]!;
          return c.bits >= 32 ? rng.u32() : rng.u32() % 2 ** c.bits; // the contract: keys < 2^bits
        });
        const vals = new Uint32Array(c.n).map(() => rng.u32());
        const { device } = ctx;
        const plan = new RadixSortPlan(ctx, c.n + 100, cfg);
        await plan.prepare();
        const kA = upload(device, keys),
          vA = upload(device, vals);
        const kB = createStorage(device, keys.byteLength),
          vB = createStorage(device, vals.byteLength);
        const enc = device.createCommandEncoder();
        const rec = new PassRecorder(enc);
        const out = plan.encode(rec, { keys: [kA, kB], vals: [vA, vB] }, { fixed: c.n }, c.bits);
        rec.end();
        device.queue.submit([enc.finish()]);
        const gk = await download(device, out.keys, Uint32Array, c.n);
        const gv = await download(device, out.vals, Uint32Array, c.n);
        const ref = cpuSort(keys, vals, c.bits);
        expect(firstMismatch(gk, ref.keys)).toBe(-1);
        expect(firstMismatch(gv, ref.vals)).toBe(-1);
        plan.destroy();
      });
    }
  }

  it('takes its count from a GPU buffer with an indirect dispatch, and identity values', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const cfg = sortConfig(ctx);
    const rng = new Rng(5);
    const cap = 10_000,
      n = 7_777;
    const keys = new Uint32Array(cap).map(() => rng.int(5000));
    const plan = new RadixSortPlan(ctx, cap, cfg);
    await plan.prepare();
    const blocks = Math.ceil(n / plan.blockSize);
    const countBuf = upload(device, new Uint32Array([0, n, blocks, 1, 1]), BufferUsage.STORAGE | BufferUsage.INDIRECT | BufferUsage.COPY_DST);
    const kA = upload(device, keys),
      kB = createStorage(device, cap * 4);
    const vA = createStorage(device, cap * 4),
      vB = createStorage(device, cap * 4);
    const enc = device.createCommandEncoder();
    const rec = new PassRecorder(enc);
    const out = plan.encode(rec, { keys: [kA, kB], vals: [vA, vB] }, { buffer: countBuf, offset: 1, indirect: countBuf, indirectOffset: 8 }, 13, {
      valsIdentity: true,
    });
    rec.end();
    device.queue.submit([enc.finish()]);
    const gk = await download(device, out.keys, Uint32Array, n);
    const gv = await download(device, out.vals, Uint32Array, n);
    const ref = cpuSort(
      keys.subarray(0, n),
      Uint32Array.from({ length: n }, (_, i) => i),
      13,
    );
    expect(firstMismatch(gk, ref.keys)).toBe(-1);
    expect(firstMismatch(gv, ref.vals)).toBe(-1);
    plan.destroy();
  });
});
