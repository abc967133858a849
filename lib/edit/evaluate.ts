/**
 * How close an edited avatar comes to the ground-truth edit (docs/method.md §6–§7), on the three tasks
 * of the paper's Table 1 (novel view, self-reenactment, cross-identity reenactment):
 *
 *   - PSNR / SSIM to the GT edit (the head re-rendered with the edited texture) over the whole image and per
 *     region (head, mouth interior, eyes, skin, lips), regions pooled over frames;
 *   - the same restricted to frames with the mouth open (the mouth interior covers at least
 *     `mouthOpenFraction` of the image), where WABE's effect on teeth and tongue is visible;
 *   - scores that do not reuse the 2D editor (lib/metrics/edit-scores.ts): leakage onto the regions that
 *     neighbour the edited ones, preservation of unedited regions against the unedited avatar, edit strength,
 *     and flicker of the edit residual (edited − unedited avatar) against the neighbouring timestep;
 *   - CLIP-S / CLIP-C when an embedder is given, else null with a note (never a stand-in's numbers).
 *
 * Frames (lib/data/sampling.ts, one seed for every arm and run so that arms pair frame by frame):
 * `framesPerSplit` stratified over the split's cameras × timesteps (the whole-image and region scores), plus
 * up to `mouthOpenFrames` stratified over the split's mouth-open frames (the mouth-open scores). Every frame's
 * scores are kept (`perFrame`, keyed by a frame id) for paired comparisons between arms.
 */
import * as path from 'node:path';
import type { GpuContext } from '../gpu/device.js';
import { prepareRasterize } from '../raster/rasterize.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { loadFrameLabels, loadFrameRgb, type SplitName } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import { poolRegionScores, type RegionScore } from '../metrics/regions.js';
import { evaluationRegionMetrics } from '../metrics/regions-gpu.js';
import { editFrameSums, editScores, poolEditSums, residualFlicker, type EditFrameSums } from '../metrics/edit-scores.js';
import { metricNames, REPORT_REGIONS } from '../metrics/names.js';
import { frameId, type DatasetFrame } from '../data/dataset.js';
import { clipScores, type Embedder, type EditPair } from '../metrics/clip.js';
import { editSpec } from '../head/edits.js';
import { ORIGINAL_CAPTION } from '../head/edits.js';
import { writeGridPng } from '../image/grid.js';
import { writePng, type RgbImage } from '../util/image.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { mouthBox } from '../data/views.js';
import { AvatarModel } from '../avatar/model.js';
import type { AvatarSession } from '../avatar/session.js';
import { TASK_OF_SPLIT, errorImage } from '../train/evaluate.js';
import { stratifiedSample } from '../data/sampling.js';
import { renderAvatar } from './loop.js';
import { mouthInteriorCounts, mouthInteriorPixels, mouthOpenFromCount } from '../data/mouth-interior.js';

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
  /** Mean change of the edit residual (edited − unedited avatar) to the neighbouring timestep; null without the unedited avatar. */
  flicker: number | null;
  /** Colour error on the guarded neighbours of the edited regions (all, and per region); lower is better. */
  leakage: number | null;
  leakageRegions: Record<string, number>;
  /** PSNR (dB) of unedited head regions against the unedited avatar; null without it. */
  preservation: number | null;
  /** Projection of the avatar's change onto the ground-truth change in the edited regions (1 = full edit). */
  editStrength: number | null;
  /** Every evaluated frame's scores (metric names as lib/metrics/names.ts), to pair arms by frame id. */
  perFrame: FrameScore[];
  clipS: number | null;
  clipC: number | null;
  clipNote?: string;
}

/** One evaluated frame's scores. */
export interface FrameScore {
  /** `<split>/t<timestep>/<camera id>`: the same frame in every arm and seed. */
  id: string;
  timestep: number;
  camera: string;
  mouthOpen: boolean;
  /** In the stratified sample of the split (the whole-image and region means); else a mouth-open extra. */
  inSample: boolean;
  metrics: Record<string, number | null>;
}

export interface EvaluateEditOptions {
  editId: string;
  splits: SplitName[];
  /** Frames per split stratified over cameras × timesteps (0 = all). */
  framesPerSplit: number;
  /** Mouth-open frames per split, stratified over the split's mouth-open frames (default 0: none added). */
  mouthOpenFrames?: number;
  /** Seed of both samples (default 0). */
  sampleSeed?: number;
  /** Frames per split (the first evaluated ones) that also render a neighbouring timestep for flicker (default 16). */
  flickerFrames?: number;
  mouthOpenFraction: number;
  /** Blending of the edited avatar (default alpha). */
  blend?: Pick<RasterSettings, 'blend' | 'wabe'>;
  /**
   * Blending of the unedited avatar (default alpha): the one it was reconstructed with, so that O in the
   * preservation, edit-strength and flicker scores is the avatar as it looked before the edit. An avatar
   * reconstructed with WABE looks like itself only under WABE.
   */
  originalBlend?: Pick<RasterSettings, 'blend' | 'wabe'>;
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
  return mouthOpenFromCount(mouthInteriorPixels(labels), labels.length, fraction);
}

/**
 * The frames to evaluate in a split: the stratified sample, then mouth-open extras (in their sampling order).
 * `datasetDir` caches the frames' mouth-interior pixel counts (lib/data/mouth-interior.ts); null decodes every map.
 */
export async function evaluationFrames(
  frames: DatasetFrame[],
  o: Pick<EvaluateEditOptions, 'framesPerSplit' | 'mouthOpenFrames' | 'sampleSeed' | 'mouthOpenFraction'>,
  datasetDir: string | null = null,
): Promise<{ frame: DatasetFrame; inSample: boolean }[]> {
  const seed = o.sampleSeed ?? 0;
  const sample = stratifiedSample(frames, o.framesPerSplit, seed);
  const open: DatasetFrame[] = [];
  // Every frame's mouth-interior count (cached: a PNG decode each otherwise), only when mouth-open extras are asked for.
  if ((o.mouthOpenFrames ?? 0) > 0) {
    const counts = await mouthInteriorCounts(frames, datasetDir);
    frames.forEach((f, i) => {
      if (mouthOpenFromCount(counts[i]!.mouth, counts[i]!.pixels, o.mouthOpenFraction)) open.push(f);
    });
  }
  const extra = (o.mouthOpenFrames ?? 0) > 0 ? stratifiedSample(open, o.mouthOpenFrames!, seed) : [];
  const inSample = new Set(sample);
  const out = sample.map((frame) => ({ frame, inSample: true }));
  for (const frame of extra) if (!inSample.has(frame)) out.push({ frame, inSample: false });
  return out;
}

export async function evaluateEdit(ctx: GpuContext, session: AvatarSession, o: EvaluateEditOptions): Promise<EditTaskScores[]> {
  const spec = editSpec(o.editId);
  const background = session.background({ background: null });
  const plain = rasterSettings({ shDegree: session.avatar.shDegree, background });
  const settings = o.blend ? { ...plain, blend: o.blend.blend, wabe: o.blend.wabe } : plain;
  const originalSettings = o.originalBlend ? { ...plain, blend: o.originalBlend.blend, wabe: o.originalBlend.wabe } : plain;
  await prepareRasterize(plain);
  await prepareRasterize(settings);
  await prepareRasterize(originalSettings);
  const out: EditTaskScores[] = [];
  const frameIndex: FigureFrame[] = [];
  // Figure files compress on Node's thread pool while the next frames are scored; awaited before returning.
  const writes: Promise<unknown>[] = [];
  const write = (p: Promise<unknown>) =>
    writes.push(
      p.then(
        () => null,
        (e: unknown) => ({ error: e }),
      ),
    );
  const fin = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? null : x);
  // Every split's frames first, so the progress callback knows the total.
  const pickedBySplit = new Map<SplitName, { frame: DatasetFrame; inSample: boolean }[]>();
  for (const split of o.splits) {
    if (split === 'train') throw new Error('evaluateEdit: splits: the training split is not an evaluation task');
    pickedBySplit.set(split, await evaluationFrames(session.dataset.splits[split].frames, o, session.dataset.dir));
  }
  const total = [...pickedBySplit.values()].reduce((n, p) => n + p.length, 0);
  let done = 0;
  for (const split of o.splits) {
    if (split === 'train') continue; // refused above
    const splitFrames = session.dataset.splits[split].frames;
    const picked = pickedBySplit.get(split)!;
    const sampled: Record<string, RegionScore>[] = [];
    const open: Record<string, RegionScore>[] = [];
    const sums: EditFrameSums[] = [];
    const flickers: number[] = [];
    const perFrame: FrameScore[] = [];
    const byCamera = new Map<number, { t: number; edited: RgbImage; original: RgbImage }[]>();
    const rows: { label: string; images: RgbImage[] }[] = [];
    const clipPairs: EditPair[][] = [];
    const figureEvery = Math.max(1, Math.floor(picked.length / (o.figureRows ?? 3)));
    const flickerFrames = o.flickerFrames ?? 16;
    const render = (avatar: AvatarModel, f: DatasetFrame, s: RasterSettings) => renderAvatar(avatar, session.boundFramesOf(f), f, s);
    for (const [i, { frame, inSample }] of picked.entries()) {
      // Issued together: the GPU queues the renders back to back and the PNG read overlaps them, instead of a
      // round trip (submit, wait, read back) per image.
      const [edited, gt, capturedRgb, unedited] = await Promise.all([
        render(session.avatar, frame, settings),
        renderGroundTruth(ctx, session.dataset, frame, o.editId),
        loadFrameRgb(frame),
        o.original ? render(o.original, frame, originalSettings) : null,
      ]);
      const captured = { rgb: capturedRgb };
      const scores = await evaluationRegionMetrics(edited, gt.rgb, gt.labels);
      const mouthOpen = isMouthOpen(gt.labels, o.mouthOpenFraction);
      if (inSample) sampled.push(scores);
      if (mouthOpen) open.push(scores);
      o.onFrame?.(++done, total);
      const frameSums = editFrameSums({ edited, unedited, captured: captured.rgb, gt: gt.rgb, labels: gt.labels }, spec.regions);
      sums.push(frameSums);
      const e = editScores(frameSums);
      // Flicker: the same camera's neighbouring timestep (the next, else the previous).
      let flicker: number | null = null;
      if (o.original && unedited && i < flickerFrames) {
        const same = splitFrames.filter((f) => f.cameraIndex === frame.cameraIndex);
        const next = same.find((f) => f.timestep === frame.timestep + 1) ?? same.find((f) => f.timestep === frame.timestep - 1);
        if (next) {
          const [labels, nextEdited, nextUnedited] = await Promise.all([
            loadFrameLabels(next),
            render(session.avatar, next, settings),
            render(o.original, next, originalSettings),
          ]);
          flicker = residualFlicker({ edited, unedited, labels: gt.labels }, { edited: nextEdited, unedited: nextUnedited, labels });
          if (flicker !== null) flickers.push(flicker);
        }
      }
      const m: Record<string, number | null> = {
        [metricNames.psnr('image')]: fin(scores.image!.psnr),
        [metricNames.ssim('image')]: fin(scores.image!.ssim),
        [metricNames.leakage()]: e.leakage,
        [metricNames.preservation]: e.preservation,
        [metricNames.editStrength]: e.editStrength,
        [metricNames.flicker('head')]: flicker,
      };
      for (const [r, v] of Object.entries(e.leakageRegions)) m[metricNames.leakage(r)] = v;
      for (const r of REPORT_REGIONS) {
        m[metricNames.psnr(r)] = fin(scores[r]?.psnr);
        m[metricNames.ssim(r)] = fin(scores[r]?.ssim);
        m[metricNames.psnrOpen(r)] = mouthOpen ? fin(scores[r]?.psnr) : null;
      }
      perFrame.push({ id: frameId(frame), timestep: frame.timestep, camera: frame.cameraId, mouthOpen, inSample, metrics: m });
      let seq = byCamera.get(frame.cameraIndex);
      if (!seq) byCamera.set(frame.cameraIndex, (seq = []));
      seq.push({ t: frame.timestep, edited, original: captured.rgb });
      if (o.figureDir && i % figureEvery === 0 && rows.length < (o.figureRows ?? 3)) {
        const before = unedited ?? captured.rgb;
        rows.push({ label: `t${frame.timestep} ${frame.cameraId}`, images: [before, edited, gt.rgb, errorImage(edited, gt.rgb)] });
        // The same frames as separate files, so that reports can put methods side by side (lib/report/compare.ts).
        const name = `${split}-t${frame.timestep}-${frame.cameraId}`;
        const files = { unedited: `${name}-unedited.png`, edited: `${name}-edited.png`, gt: `${name}-gt.png` };
        write(writePng(path.join(o.figureDir, 'frames', files.unedited), before));
        write(writePng(path.join(o.figureDir, 'frames', files.edited), edited));
        write(writePng(path.join(o.figureDir, 'frames', files.gt), gt.rgb));
        const W = frame.camera.width;
        const mouth = mouthBox(gt.labels, W, frame.camera.height, 0.35);
        frameIndex.push({ split, task: TASK_OF_SPLIT[split], timestep: frame.timestep, camera: frame.cameraId, files, mouthBox: mouth });
      }
    }
    for (const seq of byCamera.values()) {
      seq.sort((a, b) => a.t - b.t);
      if (seq.length >= 2) clipPairs.push(seq.map((s) => ({ edited: s.edited, original: s.original })));
    }
    const clip = await clipScores(o.embedder ?? null, clipPairs, { edit: spec.caption, original: ORIGINAL_CAPTION });
    const mean = (fs: Record<string, RegionScore>[], k: 'psnr' | 'ssim') => (fs.length ? fs.reduce((a, f) => a + f.image![k], 0) / fs.length : null);
    const pooled = editScores(poolEditSums(sums));
    // The whole-image and region means come from the stratified sample alone (mouth-open extras would bias them).
    const general = sampled.length ? sampled : open;
    out.push({
      split,
      task: TASK_OF_SPLIT[split],
      frames: picked.length,
      mouthOpenFrames: open.length,
      psnr: mean(general, 'psnr')!,
      ssim: mean(general, 'ssim')!,
      regions: poolRegionScores(general),
      mouthOpen: { psnr: mean(open, 'psnr'), ssim: mean(open, 'ssim'), regions: open.length ? poolRegionScores(open) : {} },
      flicker: flickers.length ? flickers.reduce((a, b) => a + b, 0) / flickers.length : null,
      leakage: pooled.leakage,
      leakageRegions: pooled.leakageRegions as Record<string, number>,
      preservation: pooled.preservation,
      editStrength: pooled.editStrength,
      clipS: clip.clipS,
      clipC: clip.clipC,
      ...(clip.note ? { clipNote: clip.note } : {}),
      perFrame,
    });
    if (o.figureDir && rows.length > 0) {
      write(writeGridPng({ columns: ['unedited', 'edited', 'GT edit', '|error| x4'], rows }, path.join(o.figureDir, `edit-${split}.png`)));
    }
  }
  for (const r of await Promise.all(writes)) if (r) throw (r as { error: unknown }).error;
  if (o.figureDir && frameIndex.length) await writeJsonAtomic(path.join(o.figureDir, 'frames', 'frames.json'), frameIndex);
  return out;
}
