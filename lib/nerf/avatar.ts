/**
 * The NeRF avatar (INSTA): a field in the canonical space of the subject's neutral mesh, posed per frame by
 * the nearest-triangle deformation. It owns what rendering a frame needs: the head model and its carrying
 * triangles, the canonical frames and cube, the per-pose geometry (CPU grid + GPU buffers, LRU-cached by
 * pose key), the occupancy grid and the marcher.
 *
 *   const av = await NerfAvatar.create(config, identity);
 *   const m = await av.march(pose, camera, pixels, jitterSeed);   // samples (constants of a step)
 *   const { color } = av.shade(m, background, pose);              // differentiable w.r.t. av.field
 */
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import type { GpuContext } from '../gpu/device.js';
import { N_EXPRESSION, loadHeadModel, type HeadModel } from '../head/model.js';
import { neutralParams, poseHead, type HeadParams } from '../head/pose.js';
import { triangleFrames, type TriangleFrames } from '../head/frames.js';
import { renderedTriangles } from '../head/atlas.js';
import type { Camera } from '../raster/types.js';
import type { RgbImage } from '../util/image.js';
import type { NerfConfig } from './config.js';
import { poseGeometry, uploadDeformFrame, type DeformFrame } from './deform.js';
import { triangleVertices } from './deform-reference.js';
import { NerfField, initFieldArrays, type FieldParam } from './field.js';
import type { CanonicalBox } from './march-reference.js';
import { RayMarcher, disposeMarch, type MarchResult } from './march.js';
import { OccupancyGrid } from './occupancy.js';
import { renderSamples } from './render.js';
import type { Composited } from './composite.js';

/** A pose to render: its head parameters and a cache key (e.g. "sequence:timestep"). */
export interface PoseRef {
  key: string;
  head: HeadParams;
}

/** The cube around the canonical triangles grown by maxDist (plus 2 % so the border stays inside). */
export function canonicalCube(tris: Float32Array, maxDist: number): CanonicalBox {
  const lo = [Infinity, Infinity, Infinity],
    hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < tris.length; i += 3)
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, tris[i + a]!);
      hi[a] = Math.max(hi[a]!, tris[i + a]!);
    }
  const size = 1.02 * (Math.max(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!) + 2 * maxDist);
  const centre = [0, 1, 2].map((a) => (lo[a]! + hi[a]!) / 2);
  return { lo: centre.map((c) => c - size / 2) as [number, number, number], size };
}

export class NerfAvatar {
  private readonly frames = new Map<string, DeformFrame>();

  private constructor(
    readonly ctx: GpuContext,
    readonly config: NerfConfig,
    readonly head: HeadModel,
    readonly triangles: Uint32Array,
    readonly canonicalFrames: TriangleFrames,
    readonly box: CanonicalBox,
    readonly field: NerfField,
    readonly occupancy: OccupancyGrid,
    readonly marcher: RayMarcher,
    private readonly frameCapacity: number,
  ) {}

  /** A fresh avatar (or one holding `params`) for the subject with `identity`. */
  static async create(config: NerfConfig, identity: ArrayLike<number>, params?: Record<FieldParam, Float32Array>, frameCapacity = 64): Promise<NerfAvatar> {
    const ctx = await useTfjsWebGpu();
    const head = await loadHeadModel();
    const triangles = renderedTriangles(head);
    const canonVerts = poseHead(head, neutralParams(identity));
    const canonicalFrames = triangleFrames(canonVerts, head.faces);
    const box = canonicalCube(triangleVertices(canonVerts, head.faces, triangles), config.march.maxDist);
    const E = N_EXPRESSION;
    const field = new NerfField(config.field, E, params ?? initFieldArrays(config.field, E, config.train.seed));
    return new NerfAvatar(ctx, config, head, triangles, canonicalFrames, box, field, new OccupancyGrid(config.occupancy), new RayMarcher(ctx), frameCapacity);
  }

  /** The pose's deformation buffers (built on first use, least recently used evicted). */
  deformFrame(pose: PoseRef): DeformFrame {
    let f = this.frames.get(pose.key);
    if (f) {
      this.frames.delete(pose.key);
      this.frames.set(pose.key, f);
      return f;
    }
    const verts = poseHead(this.head, pose.head);
    f = uploadDeformFrame(this.ctx, poseGeometry(verts, this.head.faces, this.triangles, this.canonicalFrames, this.config.march.maxDist));
    this.frames.set(pose.key, f);
    while (this.frames.size > this.frameCapacity) {
      const [k, old] = this.frames.entries().next().value as [string, DeformFrame];
      // Destroy after the queue drains: a submitted march may still read the buffers.
      void this.ctx.device.queue.onSubmittedWorkDone().then(() => old.destroy());
      this.frames.delete(k);
    }
    return f;
  }

  /** Samples of the rays through `pixels` of `camera` for `pose` (jitterSeed null: mid-interval samples). */
  march(pose: PoseRef, camera: Camera, pixels: Uint32Array, jitterSeed: number | null): Promise<MarchResult> {
    return this.marcher.march(
      {
        camera,
        frame: this.deformFrame(pose),
        box: this.box,
        samples: this.config.march.samplesPerRay,
        jitterSeed,
        occupancy: this.occupancy.buffer(),
        occupancyResolution: this.occupancy.resolution,
      },
      pixels,
      pixels.length,
    );
  }

  /** Colour [R,3] and alpha [R] of marched samples; differentiable with respect to the field's parameters. */
  shade(m: MarchResult, background: [number, number, number], pose: PoseRef): Composited {
    const expr = this.field.expressionDims > 0 ? tf.tensor1d(Float32Array.from(pose.head.expression)) : undefined;
    const out = renderSamples(this.field, m, background, expr);
    return out;
  }

  /** A whole image (no gradient), `chunk` rays at a time. */
  async renderImage(pose: PoseRef, camera: Camera, background: [number, number, number], chunk = 1 << 14): Promise<{ color: RgbImage; alpha: Float32Array }> {
    const n = camera.width * camera.height;
    const color = new Float32Array(3 * n),
      alpha = new Float32Array(n);
    for (let s = 0; s < n; s += chunk) {
      const pixels = Uint32Array.from({ length: Math.min(chunk, n - s) }, (_, i) => s + i);
      const m = await this.march(pose, camera, pixels, null);
      const out = tf.tidy(() => {
        const o = this.shade(m, background, pose);
        return { color: o.color, alpha: o.alpha };
      });
      const [c, a] = await Promise.all([out.color.data(), out.alpha.data()]);
      color.set(c as Float32Array, 3 * s);
      alpha.set(a as Float32Array, s);
      tf.dispose([out.color, out.alpha]);
      disposeMarch(m);
    }
    return { color: { width: camera.width, height: camera.height, data: color }, alpha };
  }

  dispose(): void {
    for (const f of this.frames.values()) f.destroy();
    this.frames.clear();
    this.field.dispose();
    this.occupancy.dispose();
    this.marcher.destroy();
  }
}
