import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../../lib/train/adam.js';
import { expLr } from '../../lib/train/schedule.js';
import { gaussianWindow, ssim } from '../../lib/train/ssim.js';
import { Rng } from '../../lib/util/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Adam', () => {
  it('matches a float64 Adam step by step, per group learning rates, frozen groups untouched', async () => {
    const x0 = [0.5, -1.5, 2.0];
    const a = tf.variable(tf.tensor1d(x0));
    const b = tf.variable(tf.tensor1d([3]));
    const opt = new Adam({ eps: 1e-8 });
    const ref = Float64Array.from(x0);
    const m = new Float64Array(3),
      v = new Float64Array(3);
    const lr = 0.1;
    for (let t = 1; t <= 5; t++) {
      // loss = Σ (x_i − i)²  → g = 2 (x_i − i)
      const g = ref.map((x, i) => 2 * (x - i));
      for (let i = 0; i < 3; i++) {
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        ref[i]! -= (lr * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
      }
      const grads = tf.tidy(() =>
        tf.grads((x: tf.Tensor) =>
          x
            .sub(tf.tensor1d([0, 1, 2]))
            .square()
            .sum(),
        )([a]),
      );
      opt.apply({ a, b }, { a: grads[0], b: tf.ones([1]) }, { a: lr, b: 0 });
    }
    const got = await a.data();
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(ref[i]!, 5);
    expect((await b.data())[0]).toBe(3);
  });

  it('follows rows through select/append and restores its state exactly', async () => {
    const p = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    const opt = new Adam();
    opt.apply(
      { p },
      {
        p: tf.tensor2d([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      },
      { p: 0.01 },
    );
    opt.selectRows('p', tf.tensor1d([0, 2], 'int32'));
    opt.appendRows('p', 1);
    const s = await opt.state();
    expect(s.groups.p!.shape).toEqual([3, 2]);
    // m after one step = 0.1 g; rows 0 and 2 kept, then a zero row.
    expect([...s.groups.p!.m].map((x) => +x.toFixed(6))).toEqual([0.1, 0.1, 0.3, 0.3, 0, 0]);
    const back = await Adam.fromState(
      JSON.parse(JSON.stringify({ ...s, groups: { p: { ...s.groups.p, m: [...s.groups.p!.m], v: [...s.groups.p!.v] } } })) as never,
    ).state();
    expect([...back.groups.p!.v]).toEqual([...s.groups.p!.v]);
    expect(back.groups.p!.step).toBe(1);
  });
});

describe('expLr', () => {
  it('runs log-linearly from init to final, with 3DGS-style delay', () => {
    const s = { init: 1e-2, final: 1e-4, maxSteps: 100 };
    expect(expLr(0, s)).toBeCloseTo(1e-2, 12);
    expect(expLr(50, s)).toBeCloseTo(1e-3, 12);
    expect(expLr(100, s)).toBeCloseTo(1e-4, 12);
    expect(expLr(1000, s)).toBeCloseTo(1e-4, 12);
    const d = { ...s, delayMult: 0.01, delaySteps: 10 };
    expect(expLr(0, d)).toBeCloseTo(1e-4, 12);
    expect(expLr(10, d)).toBeCloseTo(expLr(10, s), 12);
  });
});

describe('ssim (tfjs)', () => {
  /** Independent float64 SSIM with the same zero-padded 11×11 Gaussian window. */
  function ssim64(a: Float64Array, b: Float64Array, H: number, W: number, C: number): number {
    const w = gaussianWindow();
    const blur = (f: (i: number) => number) => {
      const out = new Float64Array(H * W * C);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) {
            let s = 0;
            for (let dy = -5; dy <= 5; dy++)
              for (let dx = -5; dx <= 5; dx++) {
                const yy = y + dy,
                  xx = x + dx;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                s += w[(dy + 5) * 11 + dx + 5]! * f((yy * W + xx) * C + c);
              }
            out[(y * W + x) * C + c] = s;
          }
      return out;
    };
    const ma = blur((i) => a[i]!),
      mb = blur((i) => b[i]!);
    const saa = blur((i) => a[i]! * a[i]!),
      sbb = blur((i) => b[i]! * b[i]!),
      sab = blur((i) => a[i]! * b[i]!);
    let total = 0;
    for (let i = 0; i < H * W * C; i++) {
      const va = saa[i]! - ma[i]! ** 2,
        vb = sbb[i]! - mb[i]! ** 2,
        cab = sab[i]! - ma[i]! * mb[i]!;
      total += ((2 * ma[i]! * mb[i]! + 1e-4) * (2 * cab + 9e-4)) / ((ma[i]! ** 2 + mb[i]! ** 2 + 1e-4) * (va + vb + 9e-4));
    }
    return total / (H * W * C);
  }

  it('matches a float64 implementation and is 1 for identical images', async () => {
    const rng = new Rng(5);
    const H = 17,
      W = 23,
      C = 3;
    const a = new Float64Array(H * W * C).map(() => rng.next());
    const b = a.map((x) => Math.min(1, Math.max(0, x + 0.1 * rng.normal())));
    const got = (await ssim(tf.tensor3d(Float32Array.from(a), [H, W, C]), tf.tensor3d(Float32Array.from(b), [H, W, C])).data())[0]!;
    expect(got).toBeCloseTo(ssim64(a, b, H, W, C), 4);
    const same = (await ssim(tf.tensor3d(Float32Array.from(a), [H, W, C]), tf.tensor3d(Float32Array.from(a), [H, W, C])).data())[0]!;
    expect(same).toBeCloseTo(1, 5);
  });
});
