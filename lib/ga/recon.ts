/**
 * Reconstruction of an avatar on any head of the head interface (FLAME for GaussianAvatars subjects) from
 * posed, captured views: the same loss, learning rates, optimiser and differentiable rasterizer as
 * lib/train/recon.ts (docs/method.md §2), without its run directories, checkpoints and adaptive density
 * control — the Gaussian count stays at its initialisation. It lets an imported subject be reconstructed
 * at the tiny preset; lib/train's full trainer still takes only the synthetic ICT-FaceKit dataset.
 */
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { prepareRasterize, rasterize } from '../raster/rasterize.js';
import { rasterSettings, type Camera } from '../raster/types.js';
import { AvatarModel, PARAM_GROUPS, type PoseFrames } from '../avatar/model.js';
import { frameQuats, frameTable } from '../avatar/binding.js';
import type { BoundGaussians } from '../avatar/gaussians.js';
import { triangleFrames } from '../head/frames.js';
import type { Head } from '../head/head.js';
import { Adam } from '../train/adam.js';
import { initialGaussians, learningRates, nextView, reconstructionLoss } from '../train/recon.js';
import { reconConfig, RECON_PRESETS, type ReconConfigInput } from '../train/config.js';
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';

export interface PosedView<P> {
  camera: Camera;
  params: P;
  /** The capture, composited over `background`. */
  image: RgbImage;
  /** Views with the same key share a posed mesh (a timestep). */
  poseKey: string;
}

export interface HeadReconOptions {
  background: [number, number, number];
  /** Overrides of the tiny preset (iterations, lr, init, loss, seed, shDegree, shUpEvery). */
  config?: Partial<ReconConfigInput>;
  onStep?: (step: number, total: number, loss: number) => void;
}

export async function reconstructOnHead<P>(head: Head<P>, views: PosedView<P>[], opts: HeadReconOptions): Promise<BoundGaussians> {
  if (views.length === 0) throw new Error('reconstructOnHead: no views');
  await useTfjsWebGpu();
  const config = reconConfig({ ...RECON_PRESETS.tiny, data: '(in memory)', ...opts.config });
  const avatar = new AvatarModel(initialGaussians(config, head.boundTriangles()));
  const adam = new Adam();
  const frames = new Map<string, PoseFrames>();
  const targets = views.map((v) => tf.tensor3d(v.image.data, [v.image.height, v.image.width, 3]));
  const framesOf = (v: PosedView<P>): PoseFrames => {
    let f = frames.get(v.poseKey);
    if (!f) {
      const tri = triangleFrames(head.pose(v.params), head.faces);
      f = { table: tf.tensor2d(frameTable(tri, frameQuats(tri.rotations)), [tri.scales.length, 20]) };
      frames.set(v.poseKey, f);
    }
    return f;
  };
  const rng = new Rng(config.seed);
  const stack: number[] = [];
  try {
    for (let d = 0; d <= config.shDegree; d++) await prepareRasterize(rasterSettings({ shDegree: d, background: opts.background }));
    for (let step = 0; step < config.iterations; step++) {
      const i = nextView(rng, stack, views.length);
      const view = views[i]!;
      const settings = rasterSettings({
        shDegree: Math.min(config.shDegree, Math.floor(step / config.shUpEvery)),
        background: opts.background,
        blend: 'alpha',
      });
      const f = framesOf(view);
      const { value, grads } = tf.variableGrads(() => {
        const out = rasterize(avatar.world(f), view.camera, settings);
        out.nContrib.dispose();
        out.radii.dispose();
        const loss = reconstructionLoss(config, out.color, targets[i]!, avatar);
        loss.l1.dispose();
        loss.dssim.dispose();
        return loss.total;
      }, Object.values(avatar.vars));
      const byName: Record<string, tf.Tensor> = {};
      for (const g of PARAM_GROUPS) byName[g] = grads[avatar.vars[g].name]!;
      adam.apply(avatar.vars, byName, learningRates(config, step));
      tf.dispose(Object.values(grads));
      if (opts.onStep) opts.onStep(step + 1, config.iterations, (await value.data())[0]!);
      value.dispose();
    }
    return await avatar.get();
  } finally {
    tf.dispose(targets);
    for (const f of frames.values()) f.table.dispose();
    adam.dispose();
    avatar.dispose();
  }
}
