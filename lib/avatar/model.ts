/**
 * The avatar during optimisation: its local Gaussian parameters as tfjs variables (one per optimiser
 * group, as GaussianAvatars' param groups), the binding on the CPU, and the map from a posed mesh to the
 * world-space tensors the rasterizer takes.
 */
import * as tf from '@tensorflow/tfjs';
import type { GaussianTensors } from '../raster/rasterize.js';
import { shCoeffs } from '../raster/types.js';
import { bindToWorldTable, frameQuats, frameTable, type TriangleFrames } from './binding.js';
import type { BoundGaussians } from './gaussians.js';

/** Optimiser groups, named as in 3DGS / GaussianAvatars. */
export const PARAM_GROUPS = ['means', 'shDc', 'shRest', 'opacityLogits', 'logScales', 'quats'] as const;
export type ParamGroup = (typeof PARAM_GROUPS)[number];

export class AvatarModel {
  vars!: Record<ParamGroup, tf.Variable>;
  binding!: Int32Array;
  /** The binding on the backend, for the fused bind kernels. */
  bindingTensor!: tf.Tensor1D;
  shDegree!: number;
  /** Bumped whenever the set of Gaussians changes, so cached per-Gaussian frames are re-gathered. */
  version = 0;
  private static uid = 0;

  constructor(g: BoundGaussians) {
    this.set(g);
  }

  get count(): number {
    return this.binding.length;
  }

  /** Replaces all parameters (initialisation, densification, checkpoint restore). */
  set(g: BoundGaussians): void {
    const N = g.count;
    const K = shCoeffs(g.shDegree);
    // tfjs variable names are global: suffix them so a new set can exist before the old one is freed.
    const id = `${AvatarModel.uid++}`;
    const v = (t: tf.Tensor, name: ParamGroup) => tf.variable(t, true, `avatar${id}/${name}`);
    // Inside tidy: the temporaries go, the variables stay (tidy never disposes variables).
    const next: Record<ParamGroup, tf.Variable> = tf.tidy(() => {
      const sh = tf.tensor3d(g.sh, [N, K, 3]);
      return {
        means: v(tf.tensor2d(g.means, [N, 3]), 'means'),
        shDc: v(sh.slice([0, 0, 0], [N, 1, 3]), 'shDc'),
        shRest: v(K > 1 ? sh.slice([0, 1, 0], [N, K - 1, 3]) : tf.zeros([N, 0, 3]), 'shRest'),
        opacityLogits: v(tf.tensor2d(g.opacityLogits, [N, 1]), 'opacityLogits'),
        logScales: v(tf.tensor2d(g.logScales, [N, 3]), 'logScales'),
        quats: v(tf.tensor2d(g.quats, [N, 4]), 'quats'),
      };
    });
    if (this.vars) tf.dispose(Object.values(this.vars));
    this.vars = next;
    this.binding = Int32Array.from(g.binding);
    this.bindingTensor?.dispose();
    this.bindingTensor = tf.tensor1d(this.binding, 'int32');
    this.shDegree = g.shDegree;
    this.version++;
  }

  /** The parameters on the CPU (checkpoints, densification). */
  async get(): Promise<BoundGaussians> {
    const N = this.count;
    const K = shCoeffs(this.shDegree);
    const sh = tf.tidy(() => tf.concat([this.vars.shDc, this.vars.shRest], 1));
    const [means, logScales, quats, opacityLogits, shData] = await Promise.all([
      this.vars.means.data(),
      this.vars.logScales.data(),
      this.vars.quats.data(),
      this.vars.opacityLogits.data(),
      sh.data(),
    ]);
    sh.dispose();
    return {
      count: N,
      shDegree: this.shDegree as BoundGaussians['shDegree'],
      binding: Int32Array.from(this.binding),
      means: Float32Array.from(means),
      logScales: Float32Array.from(logScales),
      quats: Float32Array.from(quats),
      opacityLogits: Float32Array.from(opacityLogits),
      sh: Float32Array.from(shData).subarray(0, N * K * 3),
    };
  }

  /** World-space tensors for `rasterize`, differentiable w.r.t. the variables. Call inside a tape/tidy. */
  world(frames: PoseFrames): GaussianTensors {
    const w = bindToWorldTable(
      { means: this.vars.means as tf.Tensor2D, logScales: this.vars.logScales as tf.Tensor2D, quats: this.vars.quats as tf.Tensor2D },
      frames.table,
      this.bindingTensor,
    );
    return {
      means: w.means,
      logScales: w.logScales,
      quats: w.quats,
      opacityLogits: this.vars.opacityLogits,
      sh: tf.concat([this.vars.shDc, this.vars.shRest], 1),
    };
  }

  dispose(): void {
    tf.dispose(Object.values(this.vars));
    this.bindingTensor.dispose();
  }
}

/** One posed mesh's per-triangle frames on the backend (any binding reads them). */
export interface PoseFrames {
  table: tf.Tensor2D; // [T,20], layout in bind-train.wgsl.ts
}

/**
 * Frame tables per key (e.g. sequence and timestep), uploaded once: they do not depend on the binding, so
 * densification keeps them. Keeps at most `capacity` entries (each is T × 20 floats on the backend).
 */
export class FrameCache {
  private readonly entries = new Map<string, PoseFrames>();

  constructor(private readonly capacity = 64) {}

  get(key: string, compute: () => TriangleFrames): PoseFrames {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const tri = compute();
    const frames = { table: tf.tensor2d(frameTable(tri, frameQuats(tri.rotations)), [tri.scales.length, 20]) };
    this.entries.set(key, frames);
    while (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, PoseFrames];
      old.table.dispose();
      this.entries.delete(oldKey);
    }
    return frames;
  }

  clear(): void {
    for (const e of this.entries.values()) e.table.dispose();
    this.entries.clear();
  }
}
