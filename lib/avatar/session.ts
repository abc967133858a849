/**
 * An avatar being fitted to a dataset: the head model, the dataset, the bound Gaussians and the caches every
 * loop over its views needs (posed triangle frames, captured images on the GPU). Reconstruction, editing,
 * their evaluations and the tests each open one.
 */
import * as tf from '@tensorflow/tfjs';
import { loadHeadModel, type HeadModel } from '../head/model.js';
import { poseHead } from '../head/pose.js';
import { triangleFrames, type TriangleFrames } from '../head/frames.js';
import { renderedTriangles } from '../head/atlas.js';
import { loadDataset, type DatasetFrame, type SyntheticDataset } from '../data/dataset.js';
import { ResidentFrames, frameKey } from '../data/resident-frames.js';
import { AvatarModel, FrameCache, type PoseFrames } from './model.js';
import type { BoundGaussians } from './gaussians.js';

/** A training session: the pieces the loop, the editing method and the tests share. */
export class AvatarSession {
  readonly frameCache = new FrameCache(64);
  private readonly triCache = new Map<string, TriangleFrames>();
  private readonly imageCache = new Map<string, tf.Tensor3D>(); // unpacked targets, least recently used first
  /** Captured frames on the GPU (8-bit), loaded on first use. */
  readonly frames = new ResidentFrames();

  private constructor(
    readonly head: HeadModel,
    readonly dataset: SyntheticDataset,
    readonly avatar: AvatarModel,
    readonly bindable: Uint32Array,
    private readonly imageCapacity: number,
  ) {}

  static async open(dataDir: string, g: BoundGaussians | ((bindable: Uint32Array) => BoundGaussians), imageCapacity = 16): Promise<AvatarSession> {
    const [head, dataset] = await Promise.all([loadHeadModel(), loadDataset(dataDir)]);
    const bindable = renderedTriangles(head);
    const gaussians = typeof g === 'function' ? g(bindable) : g;
    return new AvatarSession(head, dataset, new AvatarModel(gaussians), bindable, imageCapacity);
  }

  /** The posed mesh's triangle frames for a head pose (cached by sequence and timestep). */
  triangleFramesOf(frame: Pick<DatasetFrame, 'sequence' | 'timestep' | 'head'>): TriangleFrames {
    const key = `${frame.sequence}:${frame.timestep}`;
    let f = this.triCache.get(key);
    if (!f) {
      f = triangleFrames(poseHead(this.head, frame.head), this.head.faces);
      this.triCache.set(key, f);
    }
    return f;
  }

  /** The posed mesh's frame table for `avatar.world(...)` (cached by sequence and timestep). */
  boundFramesOf(frame: Pick<DatasetFrame, 'sequence' | 'timestep' | 'head'>): PoseFrames {
    return this.frameCache.get(`${frame.sequence}:${frame.timestep}`, () => this.triangleFramesOf(frame));
  }

  /**
   * The captured image of a frame as a [H,W,3] tensor, owned by the session: valid until `imageCapacity` other
   * frames have been asked for. Every frame stays on the GPU as 8-bit data after its first use (`frames`), so
   * this is one unpacking dispatch at most, never an upload.
   */
  async target(frame: DatasetFrame): Promise<tf.Tensor3D> {
    const key = frameKey(frame);
    const hit = this.imageCache.get(key);
    if (hit) {
      this.imageCache.delete(key);
      this.imageCache.set(key, hit);
      return hit;
    }
    const t = await this.frames.target(frame);
    const raced = this.imageCache.get(key); // another call unpacked it meanwhile
    if (raced) {
      t.dispose();
      return raced;
    }
    this.imageCache.set(key, t);
    while (this.imageCache.size > this.imageCapacity) {
      const [k, old] = this.imageCache.entries().next().value as [string, tf.Tensor3D];
      old.dispose();
      this.imageCache.delete(k);
    }
    return t;
  }

  /** The RGB background renders are composited on: the config's, else the dataset's. */
  // `readonly unknown[]`: tslab's TypeScript 5.0 infers the config schema's RGB tuple with a rest element.
  background(config: { background: readonly unknown[] | null }): [number, number, number] {
    const b = config.background ?? this.dataset.meta.render.background;
    return [Number(b[0]), Number(b[1]), Number(b[2])];
  }

  dispose(): void {
    this.frameCache.clear();
    for (const t of this.imageCache.values()) t.dispose();
    this.imageCache.clear();
    this.frames.dispose();
    this.avatar.dispose();
  }
}
