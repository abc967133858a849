/**
 * How close an edited avatar comes to the ground-truth edit (../shared/method.md §6–§7), on the three tasks
 * of the paper's Table 1 (novel view, self-reenactment, cross-identity reenactment):
 *
 *   - PSNR / SSIM to the GT edit (the head re-rendered with the edited texture) over the whole image and per
 *     region (head, mouth interior, eyes, skin, lips), regions pooled over frames;
 *   - the same restricted to frames with the mouth open (the mouth interior covers at least
 *     `mouthOpenFraction` of the image), where WABE's effect on teeth and tongue is visible;
 *   - temporal flicker of the edit residual (edited render − captured original) between successive
 *     evaluated frames of one camera;
 *   - CLIP-S / CLIP-C when an embedder is given, else null with a note (never a stand-in's numbers).
 */
import * as path from 'node:path';
import type { GpuContext } from '../gpu/device.js';
import { prepareRasterize } from '../raster/rasterize.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { loadFrameImages, type SplitName } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import { REGION_GROUPS } from '../data/regions.js';
import { regionMetrics, poolRegionScores, regionMask, type RegionScore } from '../metrics/regions.js';
import { temporalFlicker } from '../metrics/temporal.js';
import { clipScores, type Embedder, type EditPair } from '../metrics/clip.js';
import { editSpec } from '../head/edits.js';
import { ORIGINAL_CAPTION } from '../head/edits.js';
import { writeGridPng } from '../report/grid.js';
import { writePng, type RgbImage } from '../util/image.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { mouthBox } from '../data/views.js';
import { AvatarModel } from '../avatar/model.js';
import type { AvatarSession } from '../train/recon.js';
import { TASK_OF_SPLIT, spread, errorImage } from '../train/evaluate.js';
import { renderAvatar } from './loop.js';

export interface EditTaskScores {
  split: SplitName;
  task: string;
  frames: number;
  /** Frames counted as mouth-open. */
  mouthOpenFrames: number;
  /** Whole-image means over frames; regions pooled over frames' pixels. */
  psnr: number;
  ssim: number;
  regions: Record<string, RegionScore>;
  /** The same scores on the mouth-open frames only (empty when there are none). */
  mouthOpen: { psnr: number | null; ssim: number | null; regions: Record<string, RegionScore> };
  /** Mean frame-to-frame change of the edit residual (lower is steadier); null with fewer than 2 frames per camera. */
  flicker: number | null;
  clipS: number | null;
  clipC: number | null;
  clipNote?: string;
}

export interface EvaluateEditOptions {
  editId: string;
  splits: SplitName[];
  framesPerSplit: number;
  mouthOpenFraction: number;
  /** Blending of the edited avatar (default alpha); the unedited one is always rendered with alpha blending. */
  blend?: Pick<RasterSettings, 'blend' | 'wabe'>;
  /** The unedited avatar, rendered beside the edit in the figures (and as CLIP's 'original'). */
  original?: AvatarModel;
  embedder?: Embedder | null;
  /** Writes `<figureDir>/edit-<split>.png`: unedited | edited | GT edit | |error| ×4. */
  figureDir?: string;
  figureRows?: number;
  /** Called after each evaluated frame, counting over all splits (progress). */
  onFrame?: (done: number, total: number) => void;
}

/** One evaluated frame saved for figures: `<figureDir>/frames/<file>`, with a box around lips and mouth. */
export interface FigureFrame {
  split: SplitName;
  task: string;
  timestep: number;
  camera: string;
  files: { unedited: string; edited: string; gt: string };
  /** Pixels around the lips and mouth interior (null when the mouth is out of view). */
  mouthBox: { x: number; y: number; width: number; height: number } | null;
}

/** Whether a frame's mouth interior covers at least `fraction` of the image. */
export function isMouthOpen(labels: Uint8Array, fraction: number): boolean {
  const m = regionMask(labels, REGION_GROUPS.mouthInterior!);
  let n = 0;
  for (let p = 0; p < m.length; p++) n += m[p]!;
  return n >= fraction * labels.length && n > 0;
}

export async function evaluateEdit(ctx: GpuContext, session: AvatarSession, o: EvaluateEditOptions): Promise<EditTaskScores[]> {
  const spec = editSpec(o.editId);
  const background = session.background({ background: null });
  const plain = rasterSettings({ shDegree: session.avatar.shDegree, background });
  const settings = o.blend ? { ...plain, blend: o.blend.blend, wabe: o.blend.wabe } : plain;
  await prepareRasterize(plain);
  await prepareRasterize(settings);
  const out: EditTaskScores[] = [];
  const frameIndex: FigureFrame[] = [];
  const total = o.splits.reduce((n, s) => n + (s === 'train' ? 0 : spread(session.dataset.splits[s].frames, o.framesPerSplit).length), 0);
  let done = 0;
  for (const split of o.splits) {
    if (split === 'train') throw new Error('evaluateEdit: splits: the training split is not an evaluation task');
    const frames = spread(session.dataset.splits[split].frames, o.framesPerSplit);
    const all: Record<string, RegionScore>[] = [];
    const open: Record<string, RegionScore>[] = [];
    const byCamera = new Map<number, { t: number; edited: RgbImage; original: RgbImage; labels: Uint8Array; alpha: Float32Array }[]>();
    const rows: { label: string; images: RgbImage[] }[] = [];
    const clipPairs: EditPair[][] = [];
    const figureEvery = Math.max(1, Math.floor(frames.length / (o.figureRows ?? 3)));
    for (const [i, frame] of frames.entries()) {
      const edited = await renderAvatar(session.avatar, session.boundFramesOf(frame), frame, settings);
      const gt = await renderGroundTruth(ctx, session.dataset, frame, o.editId);
      const captured = await loadFrameImages(frame);
      const scores = regionMetrics(edited, gt.rgb, gt.labels);
      all.push(scores);
      o.onFrame?.(++done, total);
      if (isMouthOpen(gt.labels, o.mouthOpenFraction)) open.push(scores);
      let seq = byCamera.get(frame.cameraIndex);
      if (!seq) byCamera.set(frame.cameraIndex, (seq = []));
      seq.push({ t: frame.timestep, edited, original: captured.rgb, labels: gt.labels, alpha: captured.alpha });
      if (o.figureDir && i % figureEvery === 0 && rows.length < (o.figureRows ?? 3)) {
        const before = o.original ? await renderAvatar(o.original, session.boundFramesOf(frame), frame, plain) : captured.rgb;
        rows.push({ label: `t${frame.timestep} ${frame.cameraId}`, images: [before, edited, gt.rgb, errorImage(edited, gt.rgb)] });
        // The same frames as separate files, so that reports can put methods side by side (lib/report/compare.ts).
        const name = `${split}-t${frame.timestep}-${frame.cameraId}`;
        const files = { unedited: `${name}-unedited.png`, edited: `${name}-edited.png`, gt: `${name}-gt.png` };
        await writePng(path.join(o.figureDir, 'frames', files.unedited), before);
        await writePng(path.join(o.figureDir, 'frames', files.edited), edited);
        await writePng(path.join(o.figureDir, 'frames', files.gt), gt.rgb);
        const W = frame.camera.width;
        const mouth = mouthBox(gt.labels, W, frame.camera.height, 0.35);
        frameIndex.push({ split, task: TASK_OF_SPLIT[split], timestep: frame.timestep, camera: frame.cameraId, files, mouthBox: mouth });
      }
    }
    let flickers: number[] = [];
    for (const seq of byCamera.values()) {
      seq.sort((a, b) => a.t - b.t);
      if (seq.length < 2) continue;
      const r = temporalFlicker(seq.map((s) => ({ edited: s.edited, original: s.original, foreground: s.alpha, labels: s.labels })), { groups: false });
      if (Number.isFinite(r.mean)) flickers.push(r.mean);
      clipPairs.push(seq.map((s) => ({ edited: s.edited, original: s.original })));
    }
    const clip = await clipScores(o.embedder ?? null, clipPairs, { edit: spec.caption, original: ORIGINAL_CAPTION });
    const mean = (fs: Record<string, RegionScore>[], k: 'psnr' | 'ssim') => (fs.length ? fs.reduce((a, f) => a + f.image![k], 0) / fs.length : null);
    out.push({
      split,
      task: TASK_OF_SPLIT[split],
      frames: frames.length,
      mouthOpenFrames: open.length,
      psnr: mean(all, 'psnr')!,
      ssim: mean(all, 'ssim')!,
      regions: poolRegionScores(all),
      mouthOpen: { psnr: mean(open, 'psnr'), ssim: mean(open, 'ssim'), regions: open.length ? poolRegionScores(open) : {} },
      flicker: flickers.length ? flickers.reduce((a, b) => a + b, 0) / flickers.length : null,
      clipS: clip.clipS,
      clipC: clip.clipC,
      ...(clip.note ? { clipNote: clip.note } : {}),
    });
    if (o.figureDir && rows.length > 0) {
      await writeGridPng({ columns: ['unedited', 'edited', 'GT edit', '|error| x4'], rows }, path.join(o.figureDir, `edit-${split}.png`));
    }
    flickers = [];
  }
  if (o.figureDir && frameIndex.length) await writeJsonAtomic(path.join(o.figureDir, 'frames', 'frames.json'), frameIndex);
  return out;
}

