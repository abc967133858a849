/**
 * The discriminator's tests, run once per tfjs backend (cpu.test.ts, webgpu.test.ts): each file is its own
 * process, so the backend is set once per file.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adversary, PatchDiscriminator, RealPool, hingeDiscriminatorLoss, hingeGeneratorLoss, parseAdversarialConfig } from '../../lib/adversarial/index.js';
import { discriminatorConfigSchema, realPoolConfigSchema } from '../../lib/adversarial/config.js';
import { Rng } from '../../lib/util/random.js';
import type { RgbImage } from '../../lib/util/image.js';

const S = 32;

/**
 * A smooth random image with a little noise (the "fake" class), or the same with a gold disc at a random place
 * near the centre (the "real" class: an edit's appearance).
 */
function toyImage(seed: number, disc: boolean): RgbImage {
  const rng = new Rng(seed);
  const base = [0.3 + 0.4 * rng.next(), 0.3 + 0.4 * rng.next(), 0.3 + 0.4 * rng.next()];
  const cx = 12 + rng.int(8);
  const cy = 12 + rng.int(8);
  const gold = [0.85, 0.65, 0.13];
  const data = new Float32Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) {
        let v = base[c]! + 0.05 * Math.sin((x + 2 * y) / 5 + c) + 0.03 * (rng.next() - 0.5);
        if (disc && (x - cx) ** 2 + (y - cy) ** 2 < 36) v = gold[c]!;
        data[(y * S + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { width: S, height: S, data };
}

function grayImage(v = 0.5): RgbImage {
  return { width: S, height: S, data: new Float32Array(S * S * 3).fill(v) };
}

/** Top singular value of a [K,C] matrix in float64 by power iteration on WᵀW. */
function topSingularValue(W: Float64Array, K: number, C: number): number {
  let u = new Float64Array(C).fill(1);
  let sigma = 0;
  for (let it = 0; it < 2000; it++) {
    const v = new Float64Array(K);
    for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) v[k]! += W[k * C + c]! * u[c]!;
    const un = new Float64Array(C);
    for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) un[c]! += W[k * C + c]! * v[k]!;
    const n = Math.hypot(...un);
    sigma = Math.sqrt(n);
    u = un.map((x) => x / n);
  }
  return sigma;
}

/** `fused`: every test with the discriminator's blocks fused (conv.ts convBlock), the webgpu-only fast path. */
export function discriminatorSuite(backend: string, setup: () => Promise<void>, tol: { fd: number }, opts: { fused?: boolean } = {}): void {
  const small = { channels: 8, layers: 3, ...(opts.fused ? { fused: true } : {}) };
  describe(`conditional PatchGAN on tfjs ${backend}${opts.fused ? ', fused blocks' : ''}`, () => {
    it('sets up the backend', async () => {
      await setup();
      expect(tf.getBackend()).toBe(backend);
    });

    it("has the method's defaults and names a bad field", () => {
      const c = parseAdversarialConfig({});
      expect(c).toMatchObject({ lambdaAdv: 0.01, lr: 2e-4, beta1: 0.5, beta2: 0.999, enabled: true });
      expect(c.discriminator).toMatchObject({ channels: 64, layers: 3, norm: 'spectral', leakySlope: 0.2 });
      expect(c.pool).toMatchObject({ size: 16, neighbourhood: 2 });
      expect(() => parseAdversarialConfig({ discriminator: { layers: 9 } }, 'run.json')).toThrow(/run\.json: discriminator\.layers/);
      expect(() => parseAdversarialConfig({ discriminator: { norm: 'batch' } })).toThrow(/discriminator\.norm/);
    });

    it('maps image ⊕ condition to one logit per patch', () => {
      for (const [layers, out] of [
        [3, 4],
        [4, 2],
      ] as const) {
        const D = new PatchDiscriminator(discriminatorConfigSchema.parse({ channels: 8, layers }), 6, 1);
        const w = D.snapshot();
        const y = D.forward(tf.zeros([2, S, S, 6]), w);
        expect(y.shape).toEqual([2, out, out, 1]);
        expect(D.layers.map((l) => l.W.shape[3])).toEqual(layers === 3 ? [8, 16, 32, 1] : [8, 16, 32, 64, 1]);
        tf.dispose([y, ...w.W]);
        D.dispose();
      }
      expect(() => new PatchDiscriminator(discriminatorConfigSchema.parse(small)).forward(tf.zeros([1, S, S, 3]), { W: [], b: [] })).toThrow(
        /3 channels, expected 6/,
      );
    });

    it('spectral norm: σ is the top singular value (float64 reference) and the effective weights have norm 1', async () => {
      const D = new PatchDiscriminator(discriminatorConfigSchema.parse({ ...small, initStd: 0.3 }), 6, 3);
      D.powerIterate(100);
      for (let i = 0; i < D.layers.length; i++) {
        const l = D.layers[i]!;
        const C = l.W.shape[3];
        const K = l.W.size / C;
        const W = Float64Array.from(await l.W.data());
        const want = topSingularValue(W, K, C);
        const got = (await D.sigma(i).data())[0]!;
        expect(Math.abs(got - want) / want).toBeLessThan(2e-3);
        const eff = D.snapshot().W[i]!;
        const effNorm = topSingularValue(Float64Array.from(await eff.data()), K, C);
        expect(effNorm).toBeCloseTo(1, 2);
      }
      D.dispose();
    });

    it('hinge losses match hand-computed values', async () => {
      const real = tf.tensor([2, 0.5, -1]);
      const fake = tf.tensor([-2, 0, 0.5]);
      // real: relu(1-2)=0, relu(0.5)=0.5, relu(2)=2 → 2.5/3; fake: relu(-1)=0, 1, 1.5 → 2.5/3
      expect((await hingeDiscriminatorLoss(real, fake).data())[0]).toBeCloseTo(5 / 3, 6);
      expect((await hingeGeneratorLoss(fake).data())[0]).toBeCloseTo(0.5, 6);
    });

    for (const norm of ['spectral', 'instance'] as const) {
      it(`learns a toy property with ${norm} norm: D hinge loss falls, D(real) − D(fake) grows`, async () => {
        const adv = new Adversary({ seed: 2, discriminator: { ...small, norm } });
        const cond = grayImage();
        const real = [0, 1].map((s) => ({ image: toyImage(s, true), condition: cond }));
        const fake = [10, 11].map((s) => ({ image: toyImage(s, false), condition: cond }));
        const results = [];
        for (let i = 0; i < 8; i++) results.push(await adv.stepOn(real, fake));
        const first = results[0]!;
        const last = results.at(-1)!;
        expect(last.loss).toBeLessThan(first.loss - 0.02);
        expect(last.realScore - last.fakeScore).toBeGreaterThan(first.realScore - first.fakeScore + 0.03);
        for (let i = 1; i < results.length; i++) expect(results[i]!.loss).toBeLessThan(results[i - 1]!.loss);
        // It generalises to unseen samples of each class.
        let margin = 0;
        for (let s = 50; s < 54; s++) {
          margin += (await adv.scores(toyImage(s, true), cond).mean().data())[0]!;
          margin -= (
            await adv
              .scores(toyImage(s + 10, false), cond)
              .mean()
              .data()
          )[0]!;
        }
        expect(margin).toBeGreaterThan(0);
        adv.dispose();
      });
    }

    it('generator loss: differentiable in the fake, descends along −grad, matches finite differences, never reaches D', async () => {
      const adv = new Adversary({ seed: 4, discriminator: small });
      const cond = grayImage();
      const real = [0, 1].map((s) => ({ image: toyImage(s, true), condition: cond }));
      for (let i = 0; i < 5; i++) await adv.stepOn(real, [{ image: toyImage(20, false), condition: cond }]);
      const fake = tf.tensor3d(toyImage(21, false).data, [S, S, 3]);
      const condT = tf.tensor3d(cond.data, [S, S, 3]);
      const L = (x: tf.Tensor) => adv.generatorLoss(x as tf.Tensor3D, condT);
      const g = tf.grad(L)(fake);
      const gAbs = (await g.abs().max().data())[0]!;
      expect(gAbs).toBeGreaterThan(0);
      const l0 = (await L(fake).data())[0]!;
      // λ_adv = 0.01 scales the loss: −mean D(fake) · 0.01.
      const dMean = (await adv.scores(fake, condT).mean().data())[0]!;
      expect(l0).toBeCloseTo(-0.01 * dMean, 6);
      const gNorm = (await g.norm().data())[0]!;
      const step = tf.sub(fake, tf.mul(g, 0.5 / gNorm)) as tf.Tensor3D;
      expect((await L(step).data())[0]!).toBeLessThan(l0);
      // Directional derivative against central differences.
      const dir = tf.tensor3d(
        Float32Array.from({ length: S * S * 3 }, (_, i) => Math.sin(i * 12.9898)),
        [S, S, 3],
      );
      const dirN = tf.div(dir, dir.norm()) as tf.Tensor3D;
      const h = 1e-2;
      const lp = (await L(tf.add(fake, tf.mul(dirN, h)) as tf.Tensor3D).data())[0]!;
      const lm = (await L(tf.sub(fake, tf.mul(dirN, h)) as tf.Tensor3D).data())[0]!;
      const fd = (lp - lm) / (2 * h);
      const an = (await tf.sum(tf.mul(g, dirN)).data())[0]!;
      expect(Math.abs(fd - an)).toBeLessThan(tol.fd * Math.max(Math.abs(an), 1e-5));
      // The loop's optimizer, with no variable list, gets gradients for its variables and none for D's.
      const render = tf.variable(fake.clone(), true, `render-${backend}`);
      const { grads } = tf.variableGrads(() => adv.generatorLoss(render, condT));
      expect(Object.keys(grads)).toEqual([render.name]);
      render.dispose();
      adv.dispose();
    });

    it('leaks no tensors over discriminator steps and generator losses', async () => {
      const adv = new Adversary({ seed: 7, discriminator: small });
      const cond = grayImage();
      const real = [{ image: toyImage(0, true), condition: cond }];
      const fake = [{ image: toyImage(1, false), condition: cond }];
      await adv.stepOn(real, fake); // creates Adam's moments once
      const x = tf.tensor3d(toyImage(2, false).data, [S, S, 3]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        await adv.stepOn(real, fake);
        const g = tf.grad((y: tf.Tensor) => adv.generatorLoss(y as tf.Tensor3D, cond))(x);
        g.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      adv.dispose();
    });

    it("steps against the pool around the fake's timestep, and waits for a warm-up", async () => {
      const adv = new Adversary({ seed: 5, warmupEdits: 3, discriminator: small, pool: { size: 4, neighbourhood: 1, batch: 3 } });
      expect(adv.active(2)).toBe(false);
      expect(adv.active(3)).toBe(true);
      expect(await adv.step({ image: toyImage(1, false), condition: grayImage() }, { camera: 0, timestep: 5 })).toBeNull();
      adv.addReal(0, 4, toyImage(2, true), grayImage());
      adv.addReal(1, 5, toyImage(3, true), grayImage());
      const r = await adv.step({ image: toyImage(1, false), condition: grayImage() }, { camera: 0, timestep: 5 });
      expect(r).not.toBeNull();
      expect(r!.realCount).toBe(3);
      expect(adv.steps).toBe(1);
      expect(new Adversary({ enabled: false, warmupEdits: 0, discriminator: small }).active(100)).toBe(false);
      adv.dispose();
    });

    it('resumes exactly: export, import into a fresh adversary, and the next step matches bit for bit', async () => {
      const cfg = { seed: 6, discriminator: small, pool: { batch: 2 } };
      const cond = grayImage();
      const a = new Adversary(cfg);
      for (let t = 0; t < 4; t++) a.addReal(0, t, toyImage(30 + t, true), cond);
      for (let i = 0; i < 3; i++) await a.step({ image: toyImage(40 + i, false), condition: cond }, { camera: 0, timestep: 1 });
      const state = await a.exportState();
      const b = new Adversary({ ...cfg, seed: 99 });
      await b.importState(state);
      expect(b.steps).toBe(3);
      const ra = await a.step({ image: toyImage(50, false), condition: cond }, { camera: 0, timestep: 2 });
      const rb = await b.step({ image: toyImage(50, false), condition: cond }, { camera: 0, timestep: 2 });
      // Exact: the weights, spectral-norm vectors, Adam moments and Adam's running β^t all come back bit for bit.
      expect(rb!.loss).toBe(ra!.loss);
      const sa = await a.exportState();
      const sb = await b.exportState();
      for (const k of Object.keys(sa.tensors)) {
        const x = sa.tensors[k]!.data;
        const y = sb.tensors[k]!.data;
        let m = 0;
        for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
        expect(m, k).toBe(0);
      }
      // Adam's running β^t is restored as saved, not recomputed as pow(β, t) (which differs in the last bits on
      // some backends after many steps); a state with odd values shows which one happened.
      expect(state.accBeta).toBeDefined();
      const c = new Adversary(cfg);
      await c.importState({ ...state, accBeta: [0.123, 0.456] });
      expect((await c.exportState()).accBeta).toEqual([Math.fround(0.123), Math.fround(0.456)]);
      c.dispose();
      const missing = { ...state, tensors: { ...state.tensors } };
      delete missing.tensors['block0/W'];
      await expect(new Adversary(cfg).importState(missing)).rejects.toThrow(/missing tensor block0\/W/);
      a.dispose();
      b.dispose();
    });
  });

  describe('real pool', () => {
    it('keeps the latest target per timestep, evicts the stalest, samples the neighbourhood reproducibly', () => {
      const pool = new RealPool(realPoolConfigSchema.parse({ size: 3, neighbourhood: 1, batch: 5 }), 1);
      const img = (v: number) => grayImage(v);
      pool.put(0, 0, img(0.1), img(0));
      pool.put(0, 1, img(0.2), img(0));
      pool.put(0, 2, img(0.3), img(0));
      pool.put(0, 1, img(0.25), img(0)); // replaces t=1, now the freshest
      pool.put(0, 5, img(0.5), img(0)); // evicts t=0, the stalest
      pool.put(1, 1, img(0.9), img(0));
      expect(pool.size).toBe(4);
      expect(pool.candidates(0, 1).map((e) => [e.timestep, e.target.data[0]])).toEqual([
        [1, Math.fround(0.25)],
        [2, Math.fround(0.3)],
      ]);
      expect(pool.candidates(0, 4).map((e) => e.timestep)).toEqual([5]);
      expect(pool.candidates(2, 1)).toEqual([]);
      const s1 = pool.sample(0, 1).map((e) => e.timestep);
      const p2 = new RealPool(realPoolConfigSchema.parse({ size: 3, neighbourhood: 1, batch: 5 }), 1);
      p2.restore(pool.entries(), new RealPool(realPoolConfigSchema.parse({}), 1).rng.state);
      expect(p2.sample(0, 1).map((e) => e.timestep)).toEqual(s1);
      expect(s1.every((t) => t === 1 || t === 2)).toBe(true);
      expect(() => pool.put(0, 9, img(0), { width: 2, height: 2, data: new Float32Array(12) })).toThrow(/camera 0, timestep 9/);
    });
  });
}
