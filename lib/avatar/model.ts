/**
 * The avatar during optimisation: its local Gaussian parameters as tfjs variables (one per optimiser
 * group, as GaussianAvatars' param groups), the binding on the CPU, and the map from a posed mesh to the
 * world-space tensors the rasterizer takes.
 */
import * as tf from '@tensorflow/tfjs';
import type { GaussianTensors } from '../raster/rasterize.js';
import { shCoeffs } from '../raster/types.js';
import { bindToWorld, disposeFrames, frameQuats, gatherFrames, type BoundFrames, type TriangleFrames } from './binding.js';
import type { BoundGaussians } from './gaussians.js';

/** Optimiser groups, named as in 3DGS / GaussianAvatars. */
export const PARAM_GROUPS = ['means', 'shDc', 'shRest', 'opacityLogits', 'logScales', 'quats'] as const;
export type ParamGroup = (typeof PARAM_GROUPS)[number];

export class AvatarModel {
  vars!: Record<ParamGroup, tf.Variable>;
  binding!: Int32Array;
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
  world(frames: BoundFrames): GaussianTensors {
    const w = bindToWorld({ means: this.vars.means as tf.Tensor2D, logScales: this.vars.logScales as tf.Tensor2D, quats: this.vars.quats as tf.Tensor2D }, frames);
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
  }
}

/**
 * Uploaded, gathered frames per key (e.g. timestep), rebuilt when the avatar's Gaussians change. Keeps
 * at most `capacity` entries (each is N × 17 floats on the GPU).
 */
export class FrameCache {
  private readonly entries = new Map<string, { version: number; frames: BoundFrames }>();
  private readonly quats = new Map<string, Float32Array>();

  constructor(private readonly capacity = 8) {}

  get(key: string, model: AvatarModel, compute: () => TriangleFrames): BoundFrames {
    const hit = this.entries.get(key);
    if (hit && hit.version === model.version) {
      // Refresh recency.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.frames;
    }
    if (hit) {
      disposeFrames(hit.frames);
      this.entries.delete(key);
    }
    const tri = compute();
    let q = this.quats.get(key);
    if (!q) {
      q = frameQuats(tri.rotations);
      this.quats.set(key, q);
    }
    const frames = gatherFrames(tri, model.binding, q);
    this.entries.set(key, { version: model.version, frames });
    while (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, { frames: BoundFrames }];
      disposeFrames(old.frames);
      this.entries.delete(oldKey);
    }
    return frames;
  }

  clear(): void {
    for (const e of this.entries.values()) disposeFrames(e.frames);
    this.entries.clear();
  }
}
