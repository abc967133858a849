/** Hash encoding: the float64 reference (known values, finite differences) and the WGSL kernels held to it. */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { releaseGpu } from '../../lib/gpu/device.js';
import { useTfjsWebGpu, tensorBuffer } from '../../lib/gpu/tfjs.js';
import { download } from '../../lib/gpu/buffers.js';
import { hashGridSchema, hashLevels, hashOutputWidth, hashParamCount } from '../../lib/nerf/hashgrid-config.js';
import { encodeBackwardReference, encodeReference, hashIndex } from '../../lib/nerf/hashgrid-reference.js';
import { HashEncoder, hashEncode, initHashTables } from '../../lib/nerf/hashgrid.js';
import { Rng } from '../../lib/util/random.js';

afterAll(async () => {
  await releaseGpu();
});

// Levels at resolutions 2, 4, 8, 16 with 64 entries: the first is dense (27 vertices), the rest hashed.
const tiny = hashGridSchema.parse({ levels: 4, log2TableSize: 6, features: 2, baseResolution: 2, perLevelScale: 2, initScale: 1 });

function randomPoints(rng: Rng, n: number, clustered: boolean): Float64Array {
  // Clustered points share cells at every level: the case the subgroup reduction and the atomics must get right.
  return Float64Array.from({ length: 3 * n }, (_, i) => (clustered && i % 7 !== 0 ? 0.4 + 0.05 * rng.next() : rng.next()));
}

describe('hash encoding reference', () => {
  it('indexes dense levels linearly and hashes the rest with the XOR-prime hash', () => {
    const lv = hashLevels(tiny);
    expect(lv.map((l) => l.resolution)).toEqual([2, 4, 8, 16]);
    expect(lv.map((l) => l.dense)).toEqual([true, false, false, false]);
    expect(hashIndex(lv[0]!, 6, 1, 2, 0)).toBe(1 + 3 * 2);
    const big = (x: bigint, y: bigint, z: bigint) => Number((x ^ ((y * 2654435761n) & 0xffffffffn) ^ ((z * 805459861n) & 0xffffffffn)) & 63n);
    for (const [x, y, z] of [
      [1, 2, 3],
      [16, 16, 16],
      [7, 0, 11],
    ] as const) {
      expect(hashIndex(lv[3]!, 6, x, y, z)).toBe(big(BigInt(x), BigInt(y), BigInt(z)));
    }
  });

  it('reproduces a linear function exactly on a dense level (trilinear interpolation)', () => {
    const cfg = hashGridSchema.parse({ levels: 1, log2TableSize: 9, features: 1, baseResolution: 5 });
    const N = 5;
    const tables = new Float64Array(hashParamCount(cfg));
    for (let z = 0; z <= N; z++)
      for (let y = 0; y <= N; y++)
        for (let x = 0; x <= N; x++) {
          tables[x + 6 * (y + 6 * z)] = 0.3 + (2 * x) / N - y / N + (0.5 * z) / N;
        }
    const pts = [0.13, 0.77, 0.5, 1, 1, 1, 0, 0.2, 0.999];
    const enc = encodeReference(cfg, pts, tables);
    for (let p = 0; p < 3; p++) {
      expect(enc[p]).toBeCloseTo(0.3 + 2 * pts[3 * p]! - pts[3 * p + 1]! + 0.5 * pts[3 * p + 2]!, 12);
    }
  });

  it('backward equals central finite differences of the forward', () => {
    const rng = new Rng(3);
    const n = 20;
    const pts = randomPoints(rng, n, true);
    const tables = Float64Array.from(initHashTables(tiny, 1));
    const w = Float64Array.from({ length: n * hashOutputWidth(tiny) }, () => rng.normal());
    const loss = (t: Float64Array) => encodeReference(tiny, pts, t).reduce((s, v, i) => s + w[i]! * v * v, 0);
    const enc = encodeReference(tiny, pts, tables);
    const grad = encodeBackwardReference(
      tiny,
      pts,
      enc.map((v, i) => 2 * w[i]! * v),
    );
    const h = 1e-6;
    let checked = 0;
    for (let i = 0; i < tables.length; i += 3) {
      const tp = tables.slice(),
        tm = tables.slice();
      tp[i]! += h;
      tm[i]! -= h;
      const fd = (loss(tp) - loss(tm)) / (2 * h);
      expect(grad[i]).toBeCloseTo(fd, 6);
      if (grad[i] !== 0) checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('hash encoding kernels (webgpu)', () => {
  const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let num = 0,
      den = 0;
    for (let i = 0; i < b.length; i++) {
      num += (a[i]! - b[i]!) ** 2;
      den += b[i]! ** 2;
    }
    return Math.sqrt(num / den);
  };

  it('forward and backward (with and without the subgroup reduction) match the reference', async () => {
    const ctx = await useTfjsWebGpu();
    const rng = new Rng(5);
    const n = 333;
    const pts64 = randomPoints(rng, n, true);
    const tables = initHashTables(tiny, 2);
    const dOut = Float32Array.from({ length: n * hashOutputWidth(tiny) }, () => rng.normal());
    const encRef = encodeReference(tiny, pts64, tables);
    const gradRef = encodeBackwardReference(tiny, pts64, dOut);
    const { device } = ctx;
    const up = (a: Float32Array) => {
      const b = device.createBuffer({ size: a.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, a);
      return b;
    };
    const P = up(Float32Array.from(pts64)),
      Tb = up(tables),
      D = up(dOut);
    const out = up(new Float32Array(n * hashOutputWidth(tiny)));
    const grad = up(new Float32Array(hashParamCount(tiny)));
    const variants = ctx.has.subgroups ? [true, false] : [false];
    for (const subgroups of variants) {
      for (const rounds of subgroups ? [1, 4, 64] : [0]) {
        const he = new HashEncoder(ctx, tiny, { subgroups, rounds });
        const enc = device.createCommandEncoder();
        he.encodeForward(enc, n, P, Tb, out);
        he.encodeBackward(enc, n, P, D, grad);
        device.queue.submit([enc.finish()]);
        const e = await download(device, out, Float32Array);
        const g = await download(device, grad, Float32Array);
        expect(relErr(e, encRef), `forward, subgroups=${subgroups}`).toBeLessThan(1e-5);
        expect(relErr(g, gradRef), `backward, subgroups=${subgroups} rounds=${rounds}`).toBeLessThan(1e-5);
      }
    }
  });

  it('hashEncode is a tfjs op whose table gradient matches the reference', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(9);
    const n = 100;
    const pts64 = randomPoints(rng, n, false);
    const tables = initHashTables(tiny, 4);
    const wts = Float32Array.from({ length: n * hashOutputWidth(tiny) }, () => rng.normal());
    const p = tf.tensor2d(Float32Array.from(pts64), [n, 3]);
    const t = tf.tensor1d(tables);
    const w = tf.tensor2d(wts, [n, hashOutputWidth(tiny)]);
    const g = tf.grad((x: tf.Tensor) => hashEncode(p, x, tiny).square().mul(w).sum())(t);
    const encRef = encodeReference(tiny, pts64, tables);
    const gradRef = encodeBackwardReference(
      tiny,
      pts64,
      encRef.map((v, i) => 2 * wts[i]! * v),
    );
    expect(relErr(await g.data(), gradRef)).toBeLessThan(1e-4);
    expect(relErr(await hashEncode(p, t, tiny).data(), encRef)).toBeLessThan(1e-5);
    expect(tensorBuffer(t).size).toBe(hashParamCount(tiny) * 4);
    expect(() => hashEncode(p, tf.zeros([5]), tiny)).toThrow(/tables has 5 values, expected L·T·F = 512/);
  });
});
