/// <reference types="@webgpu/types" />
// (First, so that tfjs-core's older nested @webgpu/types does not shadow the project's when this file is compiled first.)
/**
 * The conditional adversarial term of the editing loop (docs/method.md §5), as the loop will use it:
 *
 *   after each 2D edit of view (camera, t):   adversary.addReal(camera, t, editedTarget, uneditedRender)
 *   each avatar step, once active(edits):     loss += adversary.generatorLoss(render, uneditedRender)
 *   every dEvery steps (warm-up included):     await adversary.step({ image: render, condition }, { camera, t })
 *
 * Real = (latest 2D-edited target, condition) drawn from the pool around t; fake = (current render of the
 * edited avatar, condition); condition = the unedited avatar's render of the same camera and timestep.
 * The generator loss uses a detached snapshot of D's weights taken after each D step, so gradients reach the
 * render (and through it the avatar) but never D's variables, whatever variable list the loop's optimizer
 * uses. Works on any tfjs backend (webgpu via `useTfjsWebGpu()`, cpu).
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../util/image.js';
import { parseAdversarialConfig, type AdversarialConfig, type AdversarialConfigInput } from './config.js';
import { PatchDiscriminator, disposeWeights, type EffectiveWeights } from './discriminator.js';
import { hingeDiscriminatorLoss, hingeGeneratorLoss } from './losses.js';
import { RealPool, type PoolEntry } from './pool.js';

/** An image as a CPU RgbImage or a tensor [H,W,3] / [B,H,W,3] in [0, 1]. */
export type ImageLike = RgbImage | tf.Tensor3D | tf.Tensor4D;

export interface AdversarialSample {
  image: ImageLike;
  condition: ImageLike;
}

export interface DiscriminatorStepResult {
  /** The hinge loss before this step's update. */
  loss: number;
  /** mean D(real) and mean D(fake) before the update. */
  realScore: number;
  fakeScore: number;
  realCount: number;
}

export interface AdversaryState {
  steps: number;
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: { shape: number[]; data: Float32Array }[];
  pool: PoolEntry[];
  poolRng: number;
  /**
   * Adam's running β1^t and β2^t. tfjs's setWeights recomputes them as pow(β, t), which differs in the last
   * bits from the running product, so an exact resume restores them.
   */
  accBeta?: [number, number];
}

/** tfjs's AdamOptimizer keeps β^t in two private variables. */
type AdamInternals = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };

function isTensor(x: ImageLike): x is tf.Tensor3D | tf.Tensor4D {
  return x instanceof tf.Tensor;
}

/** [B,H,W,3] float32 tensor of an image-like (a new tensor; dispose it or call inside tidy). */
export function toBatch(x: ImageLike, what: string): tf.Tensor4D {
  if (isTensor(x)) {
    if (x.rank === 3) return tf.expandDims(x, 0) as tf.Tensor4D;
    if (x.rank === 4) return x.clone() as tf.Tensor4D;
    throw new Error(`${what}: expected a [H,W,3] or [B,H,W,3] tensor, got shape [${x.shape.join(',')}]`);
  }
  if (x.data.length !== x.width * x.height * 3) throw new Error(`${what}: ${x.data.length} values for ${x.width}x${x.height}x3`);
  return tf.tensor4d(x.data, [1, x.height, x.width, 3]);
}

function pairInput(image: ImageLike, condition: ImageLike, what: string): tf.Tensor4D {
  return tf.tidy(() => {
    const a = toBatch(image, `${what} image`);
    const c = toBatch(condition, `${what} condition`);
    if (a.shape[1] !== c.shape[1] || a.shape[2] !== c.shape[2] || a.shape[3] !== 3 || c.shape[3] !== 3) {
      throw new Error(`${what}: image [${a.shape.join(',')}] and condition [${c.shape.join(',')}] must both be [B,H,W,3] of one size`);
    }
    if (c.shape[0] !== a.shape[0] && c.shape[0] !== 1) throw new Error(`${what}: ${c.shape[0]} conditions for ${a.shape[0]} images`);
    const cb = c.shape[0] === a.shape[0] ? c : tf.tile(c, [a.shape[0], 1, 1, 1]);
    // D sees [-1, 1] inputs, as in pix2pix.
    return tf.sub(tf.mul(tf.concat([a, cb], 3), 2), 1) as tf.Tensor4D;
  });
}

export class Adversary {
  readonly config: AdversarialConfig;
  readonly discriminator: PatchDiscriminator;
  readonly pool: RealPool;
  readonly optimizer: tf.AdamOptimizer;
  /** Discriminator steps taken. */
  steps = 0;
  private frozen: EffectiveWeights | null = null;

  constructor(config: AdversarialConfigInput | AdversarialConfig = {}) {
    this.config = parseAdversarialConfig(config);
    this.discriminator = new PatchDiscriminator(this.config.discriminator, 6, this.config.seed);
    this.pool = new RealPool(this.config.pool, this.config.seed);
    this.optimizer = tf.train.adam(this.config.lr, this.config.beta1, this.config.beta2);
    this.refreshSnapshot();
  }

  /**
   * Whether the generator term is on after `editCount` 2D edits of the iterative dataset update (the
   * warm-up). The editing loop counts from the end of its initial pass and trains D during the warm-up.
   */
  active(editCount: number): boolean {
    return this.config.enabled && editCount >= this.config.warmupEdits;
  }

  /** Records the latest edited target of a view and its condition as a real sample. */
  addReal(camera: number, timestep: number, target: RgbImage, condition: RgbImage): void {
    this.pool.put(camera, timestep, target, condition);
  }

  /**
   * One discriminator step against reals drawn from the pool around (camera, timestep). Returns null when
   * the pool has nothing for that camera yet. The fake is treated as a constant.
   */
  async step(fake: AdversarialSample, at: { camera: number; timestep: number }): Promise<DiscriminatorStepResult | null> {
    const reals = this.pool.sample(at.camera, at.timestep);
    if (reals.length === 0) return null;
    return this.stepOn(
      reals.map((e) => ({ image: e.target, condition: e.condition })),
      [fake],
    );
  }

  /** One discriminator step on explicit real and fake samples (hinge loss, Adam). */
  async stepOn(real: AdversarialSample[], fake: AdversarialSample[]): Promise<DiscriminatorStepResult> {
    if (real.length === 0 || fake.length === 0) throw new Error('discriminator step: needs at least one real and one fake sample');
    const D = this.discriminator;
    D.powerIterate();
    const realIn = tf.tidy(
      () =>
        tf.concat(
          real.map((s, i) => pairInput(s.image, s.condition, `real sample ${i}`)),
          0,
        ) as tf.Tensor4D,
    );
    const fakeIn = tf.tidy(
      () =>
        tf.concat(
          fake.map((s, i) => pairInput(s.image, s.condition, `fake sample ${i}`)),
          0,
        ) as tf.Tensor4D,
    );
    if (realIn.shape[1] !== fakeIn.shape[1] || realIn.shape[2] !== fakeIn.shape[2]) {
      tf.dispose([realIn, fakeIn]);
      throw new Error(`discriminator step: real samples are ${realIn.shape[2]}x${realIn.shape[1]}, fake ${fakeIn.shape[2]}x${fakeIn.shape[1]}`);
    }
    const nReal = realIn.shape[0];
    const both = tf.concat([realIn, fakeIn], 0) as tf.Tensor4D;
    tf.dispose([realIn, fakeIn]);
    let scores: tf.Tensor1D | null = null;
    const cost = this.optimizer.minimize(
      () => {
        const logits = D.forward(both, D.liveWeights(), { inputGrad: false });
        const [r, f] = tf.split(logits, [nReal, logits.shape[0] - nReal], 0);
        scores = tf.keep(tf.stack([tf.mean(r!), tf.mean(f!)]) as tf.Tensor1D);
        return hingeDiscriminatorLoss(r!, f!);
      },
      true,
      D.trainableVariables,
    )!;
    both.dispose();
    this.steps++;
    this.refreshSnapshot();
    // One readback for the three numbers (each read waits for the GPU to finish the step).
    const packed = tf.tidy(() => tf.concat([tf.reshape(cost, [1]), scores!]));
    tf.dispose([cost, scores!]);
    const [loss, realScore, fakeScore] = await packed.data();
    packed.dispose();
    return { loss: loss!, realScore: realScore!, fakeScore: fakeScore!, realCount: nReal };
  }

  /** Patch logits of D on (image, condition) with the current (snapshot) weights; for monitoring. */
  scores(image: ImageLike, condition: ImageLike): tf.Tensor4D {
    return tf.tidy(() => this.discriminator.forward(pairInput(image, condition, 'scores'), this.frozen!));
  }

  /**
   * λ_adv · (−mean D(fake ⊕ condition)), a scalar differentiable w.r.t. `fake` (the avatar's render) and
   * constant in D's weights. Add it to the editing loss inside the loop's gradient scope.
   */
  generatorLoss(fake: ImageLike, condition: ImageLike): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.discriminator.forward(pairInput(fake, condition, 'generator loss'), this.frozen!);
      return tf.mul(hingeGeneratorLoss(logits), this.config.lambdaAdv) as tf.Scalar;
    });
  }

  /** The discriminator hinge loss on given samples with the snapshot weights (no update). */
  discriminatorLoss(real: AdversarialSample, fake: AdversarialSample): tf.Scalar {
    return tf.tidy(() =>
      hingeDiscriminatorLoss(
        this.discriminator.forward(pairInput(real.image, real.condition, 'real'), this.frozen!),
        this.discriminator.forward(pairInput(fake.image, fake.condition, 'fake'), this.frozen!),
      ),
    );
  }

  private refreshSnapshot(): void {
    const next = this.discriminator.snapshot();
    disposeWeights(this.frozen);
    this.frozen = next;
  }

  /** Everything a resumed run needs: weights, spectral-norm vectors, Adam moments, pool and its sampler. */
  async exportState(): Promise<AdversaryState> {
    const tensors: AdversaryState['tensors'] = {};
    for (const [k, v] of this.discriminator.namedVariables()) tensors[k] = { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
    const opt = await this.optimizer.getWeights();
    const optimizer = [];
    for (const w of opt) optimizer.push({ shape: w.tensor.shape.slice(), data: Float32Array.from(await w.tensor.data()) });
    opt[0]?.tensor.dispose(); // the iteration count is a fresh scalar; the rest are the optimizer's variables
    const acc = this.optimizer as unknown as AdamInternals;
    const accBeta: [number, number] | undefined = acc.accBeta1 && acc.accBeta2 ? [(await acc.accBeta1.data())[0]!, (await acc.accBeta2.data())[0]!] : undefined;
    return { steps: this.steps, tensors, optimizer, pool: this.pool.entries(), poolRng: this.pool.rng.state, ...(accBeta ? { accBeta } : {}) };
  }

  async importState(s: AdversaryState): Promise<void> {
    for (const [k, v] of this.discriminator.namedVariables()) {
      const t = s.tensors[k];
      if (!t) throw new Error(`adversary state: missing tensor ${k}`);
      if (t.shape.join(',') !== v.shape.join(',')) throw new Error(`adversary state: ${k} has shape [${t.shape}], expected [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
    }
    if (s.optimizer.length > 0) {
      // Positional: [iterations, first moments..., second moments...] in trainableVariables order. Adam's
      // setWeights also restores β^t from the iteration count.
      const named = s.optimizer.map((w, i) => ({ name: `w${i}`, tensor: tf.tensor(w.data, w.shape) }));
      await this.optimizer.setWeights(named);
      tf.dispose(named.map((n) => n.tensor));
      const acc = this.optimizer as unknown as AdamInternals;
      if (s.accBeta && acc.accBeta1 && acc.accBeta2) {
        acc.accBeta1.assign(tf.scalar(s.accBeta[0]));
        acc.accBeta2.assign(tf.scalar(s.accBeta[1]));
      }
    }
    this.steps = s.steps;
    this.pool.restore(s.pool, s.poolRng);
    this.refreshSnapshot();
  }

  dispose(): void {
    disposeWeights(this.frozen);
    this.frozen = null;
    this.discriminator.dispose();
    this.optimizer.dispose();
  }
}
