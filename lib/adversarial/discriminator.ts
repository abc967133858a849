/// <reference types="@webgpu/types" />
// (First, so that tfjs-core's older nested @webgpu/types does not shadow the project's when this file is compiled first.)
/**
 * The conditional PatchGAN discriminator (pix2pix-style, docs/method.md §5): input = image ⊕ condition
 * (6 channels, NHWC), `layers` strided 4×4 conv blocks with LeakyReLU, then a 4×4 stride-1 conv to one
 * channel: one real/fake logit per patch (a 32×32 input with 3 blocks gives 4×4 patches).
 *
 * Spectral norm (Miyato et al. 2018): each conv weight W, seen as the matrix W₂ = reshape(W, [kh·kw·cin, cout]),
 * is used as W / σ with σ = vᵀ W₂ u, where u and v are the current power-iteration estimates of the top
 * right and left singular vectors; u and v are constants to the gradient (they are not trainable), and are
 * refined by `powerIterate` once per discriminator step.
 *
 * Speed: the convolutions take their gradients from conv.ts (tiled kernels; tfjs's own filter gradient gives
 * each weight one serial thread over every output position, its input gradient is a naive per-output loop),
 * and compute only those that are needed (no filter gradient on a frozen snapshot, no input gradient for
 * the data entering the discriminator step). With `fused`, each block is conv.ts's `convBlock` instead.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/random.js';
import type { DiscriminatorConfig } from './config.js';
import { conv2dSame, convBlock } from './conv.js';

interface ConvLayer {
  /** Stable name inside this discriminator (state export). */
  key: string;
  W: tf.Variable<tf.Rank.R4>; // [4,4,cin,cout]
  b: tf.Variable<tf.Rank.R1> | null; // [cout]
  u: tf.Variable<tf.Rank.R2> | null; // [cout,1] spectral norm: right singular vector estimate
  v: tf.Variable<tf.Rank.R2> | null; // [4·4·cin,1] left singular vector estimate
  stride: number;
  instanceNorm: boolean;
  activation: boolean;
}

/** Weights as the forward pass uses them (spectrally normalised where configured). */
export interface EffectiveWeights {
  W: tf.Tensor4D[];
  b: (tf.Tensor1D | null)[];
  /** A detached snapshot: no gradient will be asked for W, so the convs skip the filter gradient. */
  frozen?: boolean;
}

let instances = 0;

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.add(tf.norm(x), 1e-12));
}

export class PatchDiscriminator {
  readonly layers: ConvLayer[] = [];
  private readonly scope: string;

  constructor(
    readonly config: DiscriminatorConfig,
    readonly inChannels = 6,
    seed = 0,
  ) {
    this.scope = `patchgan${instances++}`;
    const rng = new Rng(seed);
    const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => std * rng.normal());
    const k = 4;
    let cin = inChannels;
    const blocks = config.layers;
    for (let i = 0; i <= blocks; i++) {
      const last = i === blocks;
      const cout = last ? 1 : config.channels * Math.min(2 ** i, 8);
      const instanceNorm = !last && i > 0 && config.norm === 'instance';
      const key = last ? 'out' : `block${i}`;
      const W = tf.variable(tf.tensor4d(normal(k * k * cin * cout, config.initStd), [k, k, cin, cout]), true, `${this.scope}/${key}/W`);
      // A bias right before instance norm is cancelled by the mean subtraction.
      const b = instanceNorm ? null : (tf.variable(tf.zeros([cout]), true, `${this.scope}/${key}/b`) as tf.Variable<tf.Rank.R1>);
      let u: tf.Variable<tf.Rank.R2> | null = null;
      let v: tf.Variable<tf.Rank.R2> | null = null;
      if (config.norm === 'spectral') {
        const u0 = normal(cout, 1);
        const n0 = Math.hypot(...u0) || 1;
        u = tf.variable(
          tf.tensor2d(
            u0.map((x) => x / n0),
            [cout, 1],
          ),
          false,
          `${this.scope}/${key}/u`,
        );
        v = tf.variable(tf.zeros([k * k * cin, 1]), false, `${this.scope}/${key}/v`) as tf.Variable<tf.Rank.R2>;
      }
      this.layers.push({ key, W, b, u, v, stride: last ? 1 : 2, instanceNorm, activation: !last });
      cin = cout;
    }
    // A random u underestimates σ; start from a converged estimate, then one iteration per step tracks it.
    if (config.norm === 'spectral') this.powerIterate(20);
  }

  /** The trainable variables (conv weights and biases), for the discriminator's optimizer only. */
  get trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => (l.b ? [l.W, l.b] : [l.W]));
  }

  /** Every variable with its stable key (state export). */
  namedVariables(): [string, tf.Variable][] {
    return this.layers.flatMap((l) => {
      const out: [string, tf.Variable][] = [[`${l.key}/W`, l.W]];
      if (l.b) out.push([`${l.key}/b`, l.b]);
      if (l.u && l.v) out.push([`${l.key}/u`, l.u], [`${l.key}/v`, l.v]);
      return out;
    });
  }

  /** Refines each layer's singular-vector estimates (no-op without spectral norm). */
  powerIterate(iterations = this.config.powerIterations): void {
    if (this.config.norm !== 'spectral') return;
    tf.tidy(() => {
      for (const l of this.layers) {
        const W2 = tf.reshape(l.W, [-1, l.W.shape[3]]) as tf.Tensor2D;
        let u: tf.Tensor2D = l.u!;
        let v: tf.Tensor2D = l.v!;
        for (let i = 0; i < iterations; i++) {
          v = l2normalize(tf.matMul(W2, u));
          u = l2normalize(tf.matMul(W2, v, true, false));
        }
        l.u!.assign(u);
        l.v!.assign(v);
      }
    });
  }

  /** σ = vᵀ W₂ u of layer i: the estimate of W's largest singular value, differentiable in W. */
  sigma(i: number): tf.Scalar {
    const l = this.layers[i]!;
    if (!l.u || !l.v) throw new Error('sigma: this discriminator has no spectral norm');
    return tf.tidy(() => {
      const W2 = tf.reshape(l.W, [-1, l.W.shape[3]]) as tf.Tensor2D;
      return tf.sum(tf.mul(l.v!, tf.matMul(W2, l.u!)));
    });
  }

  /** The weights the forward pass uses, built from the live variables (differentiable in them). */
  liveWeights(): EffectiveWeights {
    return {
      W: this.layers.map((l, i) => (l.u ? tf.div(l.W, this.sigma(i)) : l.W) as tf.Tensor4D),
      b: this.layers.map((l) => l.b),
    };
  }

  /**
   * A detached copy of the effective weights: tensors with no path back to the variables, so a loss built
   * on them gives gradients to its input only (the editing loop's optimizer cannot move D). Dispose it.
   */
  snapshot(): EffectiveWeights {
    const W = tf.tidy(() => this.liveWeights().W.map((t) => t.clone()));
    return { W, b: this.layers.map((l) => (l.b ? (l.b.clone() as tf.Tensor1D) : null)), frozen: true };
  }

  /**
   * Patch logits [B,h,w,1] of x = image ⊕ condition [B,H,W,inChannels]. `inputGrad: false` when x is data
   * that no gradient has to reach (the discriminator step): the first layer then skips its input gradient,
   * the largest one (full resolution).
   */
  forward(x: tf.Tensor4D, weights: EffectiveWeights, opts: { inputGrad?: boolean } = {}): tf.Tensor4D {
    if (x.shape[3] !== this.inChannels) throw new Error(`discriminator: input has ${x.shape[3]} channels, expected ${this.inChannels}`);
    return tf.tidy(() => {
      let h = x;
      this.layers.forEach((l, i) => {
        const grads = { w: !weights.frozen, x: i > 0 || (opts.inputGrad ?? true) };
        const b = weights.b[i];
        if (this.config.fused && b && !l.instanceNorm) {
          h = convBlock(h, weights.W[i]!, b, l.stride, l.activation ? this.config.leakySlope : null, grads);
          return;
        }
        h = conv2dSame(h, weights.W[i]!, l.stride, grads);
        if (b) h = tf.add(h, b);
        if (l.instanceNorm) {
          const { mean, variance } = tf.moments(h, [1, 2], true);
          h = tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5)));
        }
        if (l.activation) h = tf.leakyRelu(h, this.config.leakySlope);
      });
      return h;
    });
  }

  dispose(): void {
    for (const [, v] of this.namedVariables()) v.dispose();
  }
}

export function disposeWeights(w: EffectiveWeights | null): void {
  if (!w) return;
  tf.dispose(w.W);
  tf.dispose(w.b.filter((t): t is tf.Tensor1D => t !== null));
}
