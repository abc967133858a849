import { describe, expect, it } from 'vitest';
import { ExclusiveScanPlan, SumPlan, download, exclusiveScan, gpuSum, upload } from '../../lib/gpu/index.js';
import { Rng } from '../../lib/util/random.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

// Sizes around the workgroup (256), the block (1024) and the two-level boundary (1024²), none aligned.
const SIZES = [1, 3, 255, 256, 257, 1023, 1024, 1025, 4099, 65_537, 1_048_577 + 5];

function cpuExclusiveScan(x: Uint32Array): { out: Uint32Array; total: number } {
  const out = new Uint32Array(x.length);
  let acc = 0;
  for (let i = 0; i < x.length; i++) {
    out[i] = acc;
    acc = (acc + x[i]!) >>> 0;
  }
  return { out, total: acc };
}

describe('exclusive prefix sum (u32)', () => {
  for (const n of SIZES) {
    it(`matches the CPU scan for n = ${n}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(n);
      const x = new Uint32Array(n).map(() => rng.int(1 << 12));
      const { scanned, total } = await exclusiveScan(ctx, x);
      const ref = cpuExclusiveScan(x);
      expect(total).toBe(ref.total);
      // Compare element-wise but report the first mismatch, not a megabyte diff.
      let first = -1;
      for (let i = 0; i < n && first < 0; i++) if (scanned[i] !== ref.out[i]) first = i;
      expect(first).toBe(-1);
    });
  }

  it('reads its count from a GPU buffer and leaves elements past the count untouched', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const maxN = 5000;
    const n = 3001;
    const x = new Uint32Array(maxN).fill(7);
    const data = upload(device, x);
    const count = upload(device, new Uint32Array([99, n]));
    const plan = new ExclusiveScanPlan(ctx, maxN);
    const enc = device.createCommandEncoder();
    await plan.encode(enc, data, { buffer: count, offset: 1 });
    device.queue.submit([enc.finish()]);
    const out = await download(device, data, Uint32Array);
    const total = (await download(device, plan.totalBuffer, Uint32Array, 1))[0];
    expect(total).toBe(7 * n);
    expect(out[n - 1]).toBe(7 * (n - 1));
    expect(out[n]).toBe(7);
    expect(out[maxN - 1]).toBe(7);
    plan.destroy();
  });

  it('rejects a CPU count above the plan size', async () => {
    const ctx = await gpu();
    const plan = new ExclusiveScanPlan(ctx, 10);
    const data = upload(ctx.device, new Uint32Array(10));
    await expect(plan.encode(ctx.device.createCommandEncoder(), data, 11)).rejects.toThrow(/exceeds the plan's maxN 10/);
  });
});

describe('sum reduction', () => {
  for (const n of [1, 255, 1025, 300_007, 2_100_001]) {
    it(`f32 sum matches float64 for n = ${n}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(7 + n);
      const x = new Float32Array(n).map(() => rng.normal());
      let ref = 0;
      let abs = 0;
      for (const v of x) {
        ref += v;
        abs += Math.abs(v);
      }
      const s = await gpuSum(ctx, x);
      // Pairwise summation error bound ~ log2(n) ulp of Σ|x|.
      expect(Math.abs(s - ref)).toBeLessThan(abs * 2 ** -23 * Math.log2(n + 1) + 1e-30);
    });
    it(`u32 sum is exact for n = ${n}`, async () => {
      const ctx = await gpu();
      const rng = new Rng(9 + n);
      const x = new Uint32Array(n).map(() => rng.int(1000));
      const ref = x.reduce((a, b) => a + b, 0);
      expect(await gpuSum(ctx, x)).toBe(ref);
    });
  }

  it('reuses one plan for several counts', async () => {
    const ctx = await gpu();
    const { device } = ctx;
    const x = new Float32Array(4096).map((_, i) => i);
    const src = upload(device, x);
    const plan = new SumPlan(ctx, 4096, 'f32');
    for (const n of [4096, 1000, 1]) {
      const enc = device.createCommandEncoder();
      await plan.encode(enc, src, n);
      device.queue.submit([enc.finish()]);
      const s = (await download(device, plan.result, Float32Array, 1))[0];
      expect(s).toBe((n * (n - 1)) / 2);
    }
  });
});
