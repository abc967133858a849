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
import { loadDataset, loadFrameImages, type DatasetFrame, type SyntheticDataset } from '../data/dataset.js';
import { AvatarModel, FrameCache, type PoseFrames } from './model.js';
import type { BoundGaussians } from './gaussians.js';

/** A training session: the pieces the loop, the editing method and the tests share. */
export class AvatarSession {
  readonly frameCache = new FrameCache(64);
  private readonly triCache = new Map<string, TriangleFrames>();
  private readonly imageCache = new Map<number, tf.Tensor3D>();

  private constructor(
    readonly head: HeadModel,
    readonly dataset: SyntheticDataset,
    readonly avatar: AvatarModel,
    readonly bindable: Uint32Array,
    private readonly imageCapacity: number,
  ) {}

  static async open(dataDir: string, g: BoundGaussians | ((bindable: Uint32Array) => BoundGaussians), imageCapacity = 256): Promise<AvatarSession> {
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

  /** The captured image of a frame as a [H,W,3] tensor (kept on the GPU, least recently used evicted). */
  async target(frame: DatasetFrame): Promise<tf.Tensor3D> {
    const key = frame.split === 'train' ? frame.index : -1 - frame.index - 1_000_000 * ['val', 'test', 'cross'].indexOf(frame.split);
    const hit = this.imageCache.get(key);
    if (hit) {
      this.imageCache.delete(key);
      this.imageCache.set(key, hit);
      return hit;
    }
    const img = await loadFrameImages(frame);
    const t = tf.tensor3d(img.rgb.data, [img.rgb.height, img.rgb.width, 3]);
    this.imageCache.set(key, t);
    while (this.imageCache.size > this.imageCapacity) {
      const [k, old] = this.imageCache.entries().next().value as [number, tf.Tensor3D];
      old.dispose();
      this.imageCache.delete(k);
    }
    return t;
  }

  /** The RGB background renders are composited on: the config's, else the dataset's. */
  background(config: { background: readonly number[] | null }): [number, number, number] {
    const b = config.background ?? this.dataset.meta.render.background;
    return [b[0]!, b[1]!, b[2]!];
  }

  dispose(): void {
    this.frameCache.clear();
    for (const t of this.imageCache.values()) t.dispose();
    this.imageCache.clear();
    this.avatar.dispose();
  }
}
