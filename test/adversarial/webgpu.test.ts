import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adversary } from '../../lib/adversarial/adversary.js';
import { hingeDiscriminatorLoss } from '../../lib/adversarial/losses.js';
import { Rng } from '../../lib/util/random.js';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { releaseGpu } from '../../lib/gpu/index.js';
import { discriminatorSuite } from './suite.js';

afterAll(async () => {
  await releaseGpu();
});

discriminatorSuite(
  'webgpu',
  async () => {
    await useTfjsWebGpu();
  },
  { fd: 5e-2 },
);

discriminatorSuite(
  'webgpu',
  async () => {
    await useTfjsWebGpu();
  },
  { fd: 5e-2 },
  { fused: true },
);

describe('fused discriminator blocks (webgpu)', () => {
  it('give the separate ops’ loss, weight gradients and generator gradient up to float32 rounding', async () => {
    await useTfjsWebGpu();
    const rng = new Rng(11);
    const [H, W] = [37, 45];
    const img = () => ({ width: W, height: H, data: Float32Array.from({ length: W * H * 3 }, () => rng.next()) });
    const reals = Array.from({ length: 3 }, () => ({ image: img(), condition: img() }));
    const fake = { image: img(), condition: img() };
    const cfg = (fused: boolean) => ({ seed: 4, discriminator: { channels: 8, layers: 3, fused } });
    const [sep, fus] = [new Adversary(cfg(false)), new Adversary(cfg(true))];
    // Compared before any update: Adam's first steps move each weight by about ±lr whatever the gradient's size,
    // so gradients that differ by rounding where they are near zero part the two runs by ~lr after one step.
    const grads = (adv: Adversary) => {
      const D = adv.discriminator;
      const both = tf.tidy(() =>
        tf.sub(
          tf.mul(
            tf.concat([...reals, fake].map((r) => tf.concat([tf.tensor4d(r.image.data, [1, H, W, 3]), tf.tensor4d(r.condition.data, [1, H, W, 3])], 3))),
            2,
          ),
          1,
        ),
      ) as tf.Tensor4D;
      const out = tf.variableGrads(() => {
        const logits = D.forward(both, D.liveWeights(), { inputGrad: false });
        const [r, f] = tf.split(logits, [reals.length, 1], 0);
        return hingeDiscriminatorLoss(r!, f!);
      }, D.trainableVariables);
      both.dispose();
      return out;
    };
    const [a, b] = [grads(sep), grads(fus)];
    expect(Math.abs((await b.value.data())[0]! - (await a.value.data())[0]!)).toBeLessThan(1e-5);
    const names = Object.keys(a.grads);
    expect(names.length).toBe(8); // W and b of four layers
    for (const [i, k] of names.entries()) {
      const [ga, gb] = [await a.grads[k]!.data(), await b.grads[Object.keys(b.grads)[i]!]!.data()];
      const scale = Array.from(ga).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // The output bias's gradient is 0 in exact arithmetic while every logit is inside the hinge (mean over reals
      // minus mean over fakes), so both are rounding noise there: hence the absolute floor.
      for (let j = 0; j < ga.length; j++) expect(Math.abs(gb[j]! - ga[j]!), `${k} [${j}] (max ${scale})`).toBeLessThan(1e-4 * scale + 2e-6);
    }
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
    const x = tf.tensor3d(fake.image.data, [H, W, 3]);
    const c = tf.tensor3d(fake.condition.data, [H, W, 3]);
    const [ga, gb] = [
      tf.grad((f: tf.Tensor) => sep.generatorLoss(f as tf.Tensor3D, c))(x),
      tf.grad((f: tf.Tensor) => fus.generatorLoss(f as tf.Tensor3D, c))(x),
    ];
    const [da, db] = [await ga.data(), await gb.data()];
    const scale = Array.from(da).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < da.length; i++) expect(Math.abs(db[i]! - da[i]!), `generator gradient [${i}]`).toBeLessThan(1e-4 * scale);
    tf.dispose([x, c, ga, gb]);
    sep.dispose();
    fus.dispose();
  });
});
