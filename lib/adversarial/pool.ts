/**
 * The discriminator's pool of real samples: for each camera, the latest edited target of each timestep
 * with its condition (the unedited avatar's render of that camera and timestep). A discriminator step for
 * the fake at (camera, t) draws its reals from the same camera's timesteps within t ± neighbourhood, so D
 * learns the edit's appearance rather than one frame's noise (method.md §5).
 */
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';
import type { RealPoolConfig } from './config.js';

export interface PoolEntry {
  camera: number;
  timestep: number;
  target: RgbImage; // the latest 2D-edited target of this view
  condition: RgbImage; // the unedited avatar's render of this view
  /** Update order, for eviction. */
  stamp: number;
}

export class RealPool {
  private readonly byCamera = new Map<number, Map<number, PoolEntry>>();
  private stamp = 0;
  readonly rng: Rng;

  constructor(
    readonly config: RealPoolConfig,
    seed = 0,
  ) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  /** Records the latest target of (camera, timestep), replacing an older one; evicts the camera's stalest entry. */
  put(camera: number, timestep: number, target: RgbImage, condition: RgbImage): void {
    if (target.width !== condition.width || target.height !== condition.height) {
      throw new Error(
        `real pool: target ${target.width}x${target.height} and condition ${condition.width}x${condition.height} differ (camera ${camera}, timestep ${timestep})`,
      );
    }
    let cam = this.byCamera.get(camera);
    if (!cam) this.byCamera.set(camera, (cam = new Map()));
    cam.set(timestep, { camera, timestep, target, condition, stamp: this.stamp++ });
    while (cam.size > this.config.size) {
      let oldest: PoolEntry | null = null;
      for (const e of cam.values()) if (!oldest || e.stamp < oldest.stamp) oldest = e;
      cam.delete(oldest!.timestep);
    }
  }

  get size(): number {
    let n = 0;
    for (const cam of this.byCamera.values()) n += cam.size;
    return n;
  }

  /** The same camera's entries within timestep ± neighbourhood, by timestep. */
  candidates(camera: number, timestep: number): PoolEntry[] {
    const cam = this.byCamera.get(camera);
    if (!cam) return [];
    const r = this.config.neighbourhood;
    return [...cam.values()].filter((e) => Math.abs(e.timestep - timestep) <= r).sort((a, b) => a.timestep - b.timestep);
  }

  /** `count` (default config.batch) entries drawn uniformly with replacement; empty if none qualify. */
  sample(camera: number, timestep: number, count = this.config.batch): PoolEntry[] {
    const c = this.candidates(camera, timestep);
    if (c.length === 0) return [];
    return Array.from({ length: count }, () => c[this.rng.int(c.length)]!);
  }

  entries(): PoolEntry[] {
    return [...this.byCamera.values()].flatMap((m) => [...m.values()]).sort((a, b) => a.stamp - b.stamp);
  }

  /** Restores entries (in stamp order) and the sampler's state, as exported by `entries()` and `rng.state`. */
  restore(entries: PoolEntry[], rngState: number): void {
    this.byCamera.clear();
    for (const e of [...entries].sort((a, b) => a.stamp - b.stamp)) this.put(e.camera, e.timestep, e.target, e.condition);
    this.rng.state = rngState >>> 0;
  }
}
