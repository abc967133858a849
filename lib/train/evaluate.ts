/**
 * Evaluation of an avatar on the three tasks of the paper's Table 1 (docs/method.md §6):
 *   novel view        — `val`:   held-out cameras × training expressions
 *   self-reenactment  — `test`:  training cameras × held-out expressions of the same subject
 *   cross-identity    — `cross`: training cameras × another person's expressions and poses
 * with PSNR and SSIM over the whole image and per region (lib/metrics). LPIPS needs network weights that
 * cannot be had offline: it is reported as missing (null) with a note, never estimated.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { prepareRasterize, rasterize, sharedRasterizer } from '../raster/rasterize.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { loadFrameImages, type DatasetFrame, type SplitName } from '../data/dataset.js';
import { stratifiedSample } from '../data/sampling.js';
import { poolRegionScores, type RegionScore } from '../metrics/regions.js';
import { evaluationRegionMetrics } from '../metrics/regions-gpu.js';
import { writeGridPng } from '../image/grid.js';
import type { RgbImage } from '../util/image.js';
import type { AvatarSession } from '../avatar/session.js';
import type { AvatarModel, PoseFrames } from '../avatar/model.js';
import type { Camera } from '../raster/types.js';

export const TASK_OF_SPLIT: Record<Exclude<SplitName, 'train'>, string> = {
  val: 'novel-view',
  test: 'self-reenactment',
  cross: 'cross-identity',
};

export interface SplitScores {
  split: SplitName;
  task: string;
  frames: number;
  psnr: number;
  ssim: number;
  /** Not computed: LPIPS needs pretrained network weights, unavailable offline. */
  lpips: null;
  regions: Record<string, { psnr: number; ssim: number; pixels: number }>;
}

/**
 * Renders an avatar posed by `frames` (no gradient) and reads colour and alpha back. tfjs's webgpu `dataSync` needs
 * a DOM canvas, so reads are async. Complete by construction: a frame whose tile keys overflowed the rasterizer's
 * capacity (lib/raster/gpu/capacity.ts) is rendered again once the capacity has grown, so that the 2D editor, the
 * evaluation and the figures never see a frame with missing tiles (the first frame of a process used to be one).
 */
export async function renderModel(
  avatar: AvatarModel,
  frames: PoseFrames,
  camera: Camera,
  settings: RasterSettings,
): Promise<{ color: RgbImage; alpha: Float32Array }> {
  for (let attempt = 0; ; attempt++) {
    const r = sharedRasterizer();
    const before = r?.stats.overflowFrames ?? 0;
    const out = tf.tidy(() => {
      const x = rasterize(avatar.world(frames), camera, settings);
      x.radii.dispose();
      x.nContrib.dispose();
      x.depth.dispose();
      return { color: x.color, alpha: x.alpha };
    });
    const [color, alpha] = (await Promise.all([out.color.data(), out.alpha.data()])) as Float32Array[];
    tf.dispose([out.color, out.alpha]);
    const st = r ? await r.settle() : null;
    if (st && st.overflowFrames !== before) {
      // Capacity grows ×1.5 past each report, so a few attempts suffice unless it cannot grow (buffer size limit).
      if (attempt >= 4)
        throw new Error(
          `renderModel: a ${camera.width}x${camera.height} frame still overflows the rasterizer's ${st.capacity} tile keys after ${attempt + 1} attempts`,
        );
      continue;
    }
    return { color: { width: camera.width, height: camera.height, data: Float32Array.from(color!) }, alpha: Float32Array.from(alpha!) };
  }
}

/**
 * Sizes the rasterizer's key capacity for this avatar before a training loop's first step (fresh or resumed): a
 * step renders synchronously inside the gradient tape and cannot re-render, so without this the first step of a
 * full-preset run trained on a frame with missing tiles (724,790 keys needed, 391,168 room at ~49k Gaussians).
 */
export async function warmRasterizer(avatar: AvatarModel, frames: PoseFrames, camera: Camera, settings: RasterSettings): Promise<void> {
  await renderModel(avatar, frames, camera, settings);
}

/** Renders one frame of the session's avatar (no gradient). */
export function renderFrame(session: AvatarSession, frame: DatasetFrame, settings: RasterSettings): Promise<{ color: RgbImage; alpha: Float32Array }> {
  return renderModel(session.avatar, session.boundFramesOf(frame), frame.camera, settings);
}

/** |a − b| averaged over channels, scaled ×4 for visibility, as a grey image. */
export function errorImage(a: RgbImage, b: RgbImage): RgbImage {
  const out = new Float32Array(a.data.length);
  for (let p = 0; p < a.width * a.height; p++) {
    const e = Math.min(
      1,
      (4 / 3) *
        (Math.abs(a.data[3 * p]! - b.data[3 * p]!) + Math.abs(a.data[3 * p + 1]! - b.data[3 * p + 1]!) + Math.abs(a.data[3 * p + 2]! - b.data[3 * p + 2]!)),
    );
    out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = e;
  }
  return { width: a.width, height: a.height, data: out };
}

export interface EvaluateOptions {
  splits: SplitName[];
  /** Frames per split, stratified over cameras × timesteps (lib/data/sampling.ts); 0 = all. */
  framesPerSplit: number;
  /** Seed of the frame sample (default 0: every run of a dataset scores the same frames). */
  sampleSeed?: number;
  background: [number, number, number];
  shDegree: number;
  /**
   * Blending the avatar is rendered with (default alpha): the one it was trained under. An avatar fitted under
   * WABE looks like itself only under WABE, so scoring it with alpha blending measures the change of blending,
   * not the fit.
   */
  blend?: Pick<RasterSettings, 'blend' | 'wabe'>;
  /** Writes `<figureDir>/eval-<split>.png` (GT | render | error for a few frames). */
  figureDir?: string;
  figureRows?: number;
  /** Called after each evaluated frame, counting over all splits (progress). */
  onFrame?: (done: number, total: number) => void;
}

export async function evaluateAvatar(session: AvatarSession, o: EvaluateOptions): Promise<SplitScores[]> {
  const settings = rasterSettings({ shDegree: o.shDegree, background: o.background, ...(o.blend ?? {}) });
  await prepareRasterize(settings);
  const results: SplitScores[] = [];
  const total = o.splits.reduce((n, s) => n + stratifiedSample(session.dataset.splits[s].frames, o.framesPerSplit, o.sampleSeed ?? 0).length, 0);
  let done = 0;
  for (const split of o.splits) {
    const frames = stratifiedSample(session.dataset.splits[split].frames, o.framesPerSplit, o.sampleSeed ?? 0);
    const perFrame: Record<string, RegionScore>[] = [];
    const rows: { label: string; images: RgbImage[] }[] = [];
    const figureEvery = Math.max(1, Math.floor(frames.length / (o.figureRows ?? 3)));
    for (const [i, frame] of frames.entries()) {
      const gt = await loadFrameImages(frame);
      const { color } = await renderFrame(session, frame, settings);
      perFrame.push(await evaluationRegionMetrics(color, gt.rgb, gt.labels));
      o.onFrame?.(++done, total);
      if (o.figureDir && i % figureEvery === 0 && rows.length < (o.figureRows ?? 3)) {
        rows.push({ label: `t${frame.timestep} ${frame.cameraId}`, images: [gt.rgb, color, errorImage(color, gt.rgb)] });
      }
    }
    // Whole-image scores are means over frames (the field's convention); regions, which can be a few
    // pixels in one frame, pool their squared error over all frames' pixels.
    const pooled = poolRegionScores(perFrame);
    const mean = (k: 'psnr' | 'ssim') => perFrame.reduce((a, f) => a + f.image![k], 0) / perFrame.length;
    results.push({
      split,
      task: split === 'train' ? 'train' : TASK_OF_SPLIT[split],
      frames: frames.length,
      psnr: mean('psnr'),
      ssim: mean('ssim'),
      lpips: null,
      regions: pooled,
    });
    if (o.figureDir && rows.length > 0) {
      await writeGridPng({ columns: ['ground truth', 'render', '|error| x4'], rows }, path.join(o.figureDir, `eval-${split}.png`));
    }
  }
  return results;
}
