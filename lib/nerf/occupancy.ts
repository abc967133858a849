/**
 * The occupancy grid for empty-space skipping (instant-NGP): a G³ grid over the canonical cube holding a
 * running estimate of each cell's density. Every `every` steps after `warmup`, one jittered point per cell
 * is evaluated; the estimate becomes max(decay · old, σ_new), and cells at or below `threshold` are skipped
 * by the marcher. Until the first update every cell is occupied.
 */
import * as tf from '@tensorflow/tfjs';
import { tensorBuffer } from '../gpu/tfjs.js';
import type { OccupancyConfig } from './config.js';
import type { NerfField } from './field.js';

/**
 * 1.0 where estimate > threshold, else 0.0, as float32 data on the GPU. Not tf.cast(bool): tfjs-webgpu 4.22
 * keeps a bool → float32 cast's int32 buffer, so the marcher would read the integer 1 as a denormal float.
 */
function flagsOf(estimate: tf.Tensor1D, threshold: number): tf.Tensor1D {
  return tf.tidy(() => tf.where(tf.greater(estimate, threshold), tf.onesLike(estimate), tf.zerosLike(estimate)) as tf.Tensor1D);
}

export class OccupancyGrid {
  readonly resolution: number;
  private estimate: tf.Tensor1D; // [G³] σ estimate, 1/m
  private flags: tf.Tensor1D; // [G³] 1 = occupied
  private readonly centres: tf.Tensor2D; // [G³,3] cell centres in [0,1]³, x fastest
  updates = 0;

  constructor(readonly cfg: OccupancyConfig) {
    const G = (this.resolution = cfg.resolution);
    const c = new Float32Array(3 * G ** 3);
    for (let z = 0, i = 0; z < G; z++) for (let y = 0; y < G; y++) for (let x = 0; x < G; x++, i++) c.set([(x + 0.5) / G, (y + 0.5) / G, (z + 0.5) / G], 3 * i);
    this.centres = tf.tensor2d(c, [G ** 3, 3]);
    this.estimate = tf.fill([G ** 3], 1e30) as tf.Tensor1D;
    this.flags = tf.ones([G ** 3]) as tf.Tensor1D;
  }

  /** Whether `step` is an update step. */
  due(step: number): boolean {
    return step >= this.cfg.warmup && (step - this.cfg.warmup) % this.cfg.every === 0;
  }

  /** Re-estimates every cell from one jittered sample of the field (chunks of `chunk` points). */
  update(field: NerfField, seed: number, chunk = 1 << 18): void {
    const G = this.resolution,
      n = G ** 3;
    const next = tf.tidy(() => {
      const jitter = tf.randomUniform([n, 3], -0.5 / G, 0.5 / G, 'float32', seed);
      const pts = this.centres.add(jitter) as tf.Tensor2D;
      const parts: tf.Tensor1D[] = [];
      for (let s = 0; s < n; s += chunk) parts.push(field.density(pts.slice([s, 0], [Math.min(chunk, n - s), 3]) as tf.Tensor2D));
      const sigma = parts.length === 1 ? parts[0]! : tf.concat(parts);
      const old = this.updates === 0 ? tf.zeros([n]) : this.estimate.mul(this.cfg.decay);
      return tf.maximum(old, sigma) as tf.Tensor1D;
    });
    this.estimate.dispose();
    this.flags.dispose();
    this.estimate = next;
    this.flags = flagsOf(next, this.cfg.threshold);
    this.updates++;
  }

  /** The flags' GPU buffer for the marcher (valid until the next update). */
  buffer(): GPUBuffer {
    return tensorBuffer(this.flags);
  }

  async occupiedFraction(): Promise<number> {
    return (await tf.mean(this.flags).data())[0]!;
  }

  async snapshot(): Promise<{ estimate: Float32Array; updates: number }> {
    return { estimate: (await this.estimate.data()) as Float32Array, updates: this.updates };
  }

  load(s: { estimate: Float32Array; updates: number }): void {
    this.estimate.dispose();
    this.flags.dispose();
    this.estimate = tf.tensor1d(s.estimate);
    this.flags = flagsOf(this.estimate, this.cfg.threshold);
    this.updates = s.updates;
  }

  dispose(): void {
    tf.dispose([this.estimate, this.flags, this.centres]);
  }
}
