/**
 * Adaptive density control as a strategy: the reconstruction loop calls its hooks around each step and the
 * strategy owns everything densification needs between them — the per-Gaussian gradient statistics (on the
 * GPU, read back only when it densifies or checkpoints) and the count of opacity resets (3DGS turns on
 * screen-size pruning after the first). The operations themselves are lib/avatar/densify.ts's; this file
 * decides when they run and keeps the optimiser's moments in step with the Gaussians they change.
 *
 * Hooks, in the order one step calls them:
 *   beforeStep()                    the rasterizer side channel the step's render fills (∂L/∂means2D)
 *   afterBackward(side, radii, cam) accumulates the view's statistics (after the optimiser step, whose
 *                                   values it does not touch)
 *   afterStep(done)                 with `done` steps taken: densify and prune, reset opacities, on
 *                                   3DGS's schedule
 */
import * as tf from '@tensorflow/tfjs';
import type { RasterizeSideChannel } from '../raster/rasterize.js';
import type { Camera } from '../raster/types.js';
import { PARAM_GROUPS } from '../avatar/model.js';
import type { AvatarSession } from '../avatar/session.js';
import { densifyAndPrune, resetOpacity, type DensifyStats } from '../avatar/densify.js';
import type { Adam } from './adam.js';
import { densifySchedule, type ReconConfig } from './config.js';

/** GPU-side densification statistics: accumulated without a readback every step. */
class GpuStats {
  gradAccum: tf.Tensor1D;
  denom: tf.Tensor1D;
  maxRadii: tf.Tensor1D;

  constructor(n: number, init?: DensifyStats) {
    this.gradAccum = init ? tf.tensor1d(init.gradAccum) : tf.zeros([n]);
    this.denom = init ? tf.tensor1d(init.denom) : tf.zeros([n]);
    this.maxRadii = init ? tf.tensor1d(init.maxRadii2D) : tf.zeros([n]);
  }

  add(means2DGrad: tf.Tensor2D, radii: tf.Tensor1D, width: number, height: number): void {
    const [g, d, m] = tf.tidy(() => {
      const r = radii.toFloat();
      const visible = r.greater(0).toFloat();
      const ndc = means2DGrad.mul(tf.tensor1d([width / 2, height / 2]));
      const norm = tf.norm(ndc, 'euclidean', 1);
      return [this.gradAccum.add(norm.mul(visible)), this.denom.add(visible), tf.maximum(this.maxRadii, r)];
    });
    tf.dispose([this.gradAccum, this.denom, this.maxRadii]);
    this.gradAccum = g as tf.Tensor1D;
    this.denom = d as tf.Tensor1D;
    this.maxRadii = m as tf.Tensor1D;
  }

  async read(): Promise<DensifyStats> {
    return {
      gradAccum: Float32Array.from(await this.gradAccum.data()),
      denom: Float32Array.from(await this.denom.data()),
      maxRadii2D: Float32Array.from(await this.maxRadii.data()),
    };
  }

  dispose(): void {
    tf.dispose([this.gradAccum, this.denom, this.maxRadii]);
  }
}

/** What a checkpoint keeps of the strategy. */
export interface DensifyStrategyState {
  stats: DensifyStats;
  opacityResets: number;
}

/** The scene's radius: the cameras' mean distance to their centroid (3DGS's cameras_extent, ×1.1). */
export function sceneExtent(session: Pick<AvatarSession, 'dataset'>): number {
  const cams = session.dataset.meta.cameras;
  const centres = cams.map((c) => {
    const m = c.world_to_camera;
    const t = [m[3]!, m[7]!, m[11]!];
    return [0, 1, 2].map((j) => -(m[j]! * t[0]! + m[4 + j]! * t[1]! + m[8 + j]! * t[2]!));
  });
  const mean = [0, 1, 2].map((j) => centres.reduce((a, c) => a + c[j]!, 0) / centres.length);
  const r = Math.max(...centres.map((c) => Math.hypot(c[0]! - mean[0]!, c[1]! - mean[1]!, c[2]! - mean[2]!)));
  return 1.1 * r;
}

/**
 * 3DGS's densification (clone, split, prune) and opacity resets for the reconstruction of `session`'s
 * avatar, optimised by `adam`. The statistics are gathered even with densification disabled, so that a
 * checkpoint holds the same floats whatever the switch says.
 */
export class DensifyStrategy {
  private stats: GpuStats;
  private resets: number;
  private readonly schedule: ReturnType<typeof densifySchedule>;

  constructor(
    private readonly config: ReconConfig,
    private readonly session: AvatarSession,
    private readonly adam: Adam,
    private readonly log: (msg: string) => void = () => {},
    init?: DensifyStrategyState,
  ) {
    this.stats = new GpuStats(session.avatar.count, init?.stats);
    this.resets = init?.opacityResets ?? 0;
    this.schedule = densifySchedule(config);
  }

  /** Opacity resets so far (screen-size pruning waits for the first, as 3DGS). */
  get opacityResets(): number {
    return this.resets;
  }

  /** The side channel for the step's rasterization: asks it for ∂L/∂means2D. */
  beforeStep(): RasterizeSideChannel {
    return {};
  }

  /** Accumulates the step's view; disposes the side channel's gradient (the caller still owns `radii`). */
  afterBackward(side: RasterizeSideChannel, radii: tf.Tensor1D | null, camera: Pick<Camera, 'width' | 'height'>): void {
    if (side.means2DGrad && radii) this.stats.add(side.means2DGrad, radii, camera.width, camera.height);
    side.means2DGrad?.dispose();
  }

  /** After the optimiser step, with `done` steps taken: densification and opacity reset when they are due. */
  async afterStep(done: number): Promise<void> {
    const c = this.config.densify;
    const sched = this.schedule;
    if (!c.enabled || done < sched.from || done > sched.until) return;
    if (done % sched.every === 0 && done > sched.from) await this.densify(done);
    if (done % sched.opacityResetEvery === 0) await this.resetOpacity();
  }

  private async densify(done: number): Promise<void> {
    const c = this.config.densify;
    const session = this.session;
    const g = await session.avatar.get();
    const s = await this.stats.read();
    const scales = session.triangleFramesOf(session.dataset.splits.train.frames[0]!).scales;
    const r = densifyAndPrune(g, s, scales, {
      gradThreshold: c.gradThreshold,
      percentDense: c.percentDense,
      extent: sceneExtent(session),
      minOpacity: c.minOpacity,
      maxScreenSize: this.resets > 0 ? c.maxScreenSize : null,
      seed: this.config.seed * 1_000_003 + done,
      maxCount: c.maxGaussians,
    });
    session.avatar.set(r.gaussians);
    const keep = tf.tensor1d(r.keep, 'int32');
    for (const name of PARAM_GROUPS) {
      this.adam.selectRows(name, keep);
      this.adam.appendRows(name, r.appended);
    }
    keep.dispose();
    this.stats.dispose();
    this.stats = new GpuStats(r.gaussians.count);
    this.log(`step ${done}: densified → ${r.gaussians.count} (cloned ${r.cloned}, split ${r.split}, pruned ${r.pruned})`);
  }

  private async resetOpacity(): Promise<void> {
    const g = await this.session.avatar.get();
    resetOpacity(g, this.config.densify.opacityResetMax);
    this.session.avatar.vars.opacityLogits.assign(tf.tensor2d(g.opacityLogits, [g.count, 1]));
    this.adam.resetGroup('opacityLogits');
    this.resets++;
  }

  /** The statistics and reset count, for a checkpoint. */
  async state(): Promise<DensifyStrategyState> {
    return { stats: await this.stats.read(), opacityResets: this.resets };
  }

  dispose(): void {
    this.stats.dispose();
  }
}
