/**
 * INSTA + Instruct-NeRF2NeRF: the editing loop of lib/edit (docs/method.md §3) with the NeRF avatar's field
 * as the optimised parameters. The loop's settings are an EditConfig (lib/edit/config.ts), so this arm shares
 * every schedule, view selection, editor and evaluation setting with `ga-in2n`; what differs is the
 * representation (rays through a NeRF instead of rasterized Gaussians, hence an L1 ray loss instead of
 * L1 + D-SSIM on whole images) and no WABE or adversary (neither exists for the NeRF baseline).
 *
 * Each `editEvery` steps the next view (cycling through the thinned training views) is rendered from the
 * current field and replaced by the editor's output; each step fits `raysPerBatch` random rays of one view's
 * current target. Evaluation renders the three tasks and scores them against the ground-truth edit, with the
 * metric names of lib/edit (PSNR/SSIM per region, on all frames and on mouth-open frames).
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import type { GpuContext } from '../gpu/device.js';
import { loadFrameImages, type SplitName, type SyntheticDataset } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import type { EditConfig } from '../edit/config.js';
import { strengthRangeOf } from '../edit/config.js';
import { CachedEditor } from '../edit/editors/cache.js';
import type { ImageEditor } from '../edit/editors/editor.js';
import { sampleStrength } from '../edit/editors/editor.js';
import { editSeed, makeEditor, viewEditRequest } from '../edit/loop.js';
import { isMouthOpen } from '../edit/evaluate.js';
import { metricNames, REPORT_REGIONS } from '../metrics/names.js';
import { poolRegionScores, type RegionScore } from '../metrics/regions.js';
import { evaluationRegionMetrics } from '../metrics/regions-gpu.js';
import { Adam } from '../train/adam.js';
import { RunDir } from '../train/rundir.js';
import { TASK_OF_SPLIT } from '../train/evaluate.js';
import { stratifiedSample } from '../data/sampling.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';
import type { NerfAvatar } from './avatar.js';
import { backgroundOf, loadNerfAvatar, nerfStep, poseOf } from './recon.js';
import type { NerfReconConfig } from './config.js';

export interface NerfEditSettings {
  /** Learning rate of every field parameter while editing (constant). */
  lr: number;
  /** Rays per optimisation step (default: the reconstruction's). */
  raysPerBatch?: number;
}

export const NERF_EDIT_DEFAULTS: NerfEditSettings = { lr: 2e-3 };

export interface NerfEditSummary {
  steps: number;
  edits: number;
  seconds: number;
  editSeconds: number;
}

export interface NerfEditTaskScores {
  split: SplitName;
  task: string;
  frames: number;
  psnr: number | null;
  ssim: number | null;
  regions: Record<string, RegionScore>;
  mouthOpen: { frames: number; regions: Record<string, RegionScore> };
}

/** The editor an EditConfig names, on the dataset (the offline editor's ground truth) — as lib/edit's makeEditor. */
export function nerfEditor(config: EditConfig, ctx: GpuContext, dataset: SyntheticDataset): ImageEditor {
  return makeEditor(config, ctx, { dataset });
}

/**
 * Edits the NeRF avatar of the reconstruction run `config.avatar` into `runDir` (config, metrics, done.json,
 * eval.json). Not resumable: a killed edit restarts (its 2D edits come back from the edit cache).
 */
export async function editNerf(
  config: EditConfig,
  settings: NerfEditSettings,
  opts: { runDir: string; log?: (m: string) => void; onStep?: (s: number, n: number) => void; signal?: AbortSignal },
): Promise<{ edit: NerfEditSummary; eval: NerfEditTaskScores[] }> {
  const log = opts.log ?? (() => {});
  const ctx = await useTfjsWebGpu();
  const run = await RunDir.open(opts.runDir, { edit: config, nerf: settings }, { adapter: ctx.report, method: 'insta-in2n' });
  const { avatar, config: recon, dataset } = await loadNerfAvatar(config.avatar);
  const editor = new CachedEditor(nerfEditor(config, ctx, dataset), config.editor.cacheDir);
  // The same views as the Gaussian arms' editViews (lib/edit/loop.ts).
  const views = stratifiedSample(dataset.splits.train.frames, config.views.maxViews, config.seed);
  if (views.length === 0) throw new Error(`${dataset.splits.train.file}: no training frames to edit`);
  const background = backgroundOf(recon, dataset);
  const subject = dataset.meta.subject;
  const stepConfig: NerfReconConfig = { ...recon, train: { ...recon.train, lr: settings.lr, lrFinal: settings.lr, loss: 'l1', maskWeight: 0 } };
  const R = settings.raysPerBatch ?? recon.train.raysPerBatch;
  const targets = new Map<number, tf.Tensor2D>();
  const rng = new Rng(config.seed);
  const adam = new Adam();
  const strengthRange = strengthRangeOf(config);
  let edits = 0,
    editSeconds = 0;
  const t0 = performance.now();
  const editView = async (v: number) => {
    const t = performance.now();
    const f = views[v]!;
    const image = (await avatar.renderImage(poseOf(f), f.camera, background, recon.evaluation.chunkRays)).color;
    const orig = (await loadFrameImages(f)).rgb;
    const req = viewEditRequest(config, subject, f, image, orig, editSeed(config.seed, edits), sampleStrength(rng, strengthRange));
    const edited = await editor.edit(req);
    targets.get(v)?.dispose();
    targets.set(v, tf.tensor2d(edited.data, [edited.width * edited.height, 3]));
    edits++;
    editSeconds += (performance.now() - t) / 1000;
  };
  try {
    log(`editing ${run.root}: "${config.edit.instruction ?? config.edit.id}" on ${views.length} views (NeRF)`);
    if (config.views.initialPass) for (let v = 0; v < views.length; v++) await editView(v);
    let next = config.views.initialPass ? 0 : 0;
    for (let step = 0; step < config.iterations; step++) {
      if (opts.signal?.aborted) throw new Error('editNerf: aborted');
      if (step % config.editEvery === 0 && !(config.views.initialPass && step === 0)) {
        await editView(next);
        next = (next + 1) % views.length;
      }
      const edited = [...targets.keys()];
      if (edited.length === 0) continue;
      const v = edited[rng.int(edited.length)]!;
      const f = views[v]!;
      const pixels = Uint32Array.from({ length: R }, () => rng.int(f.camera.width * f.camera.height));
      const { value, count } = await nerfStep(
        avatar,
        adam,
        stepConfig,
        poseOf(f),
        f.camera,
        { rgb: targets.get(v)!, mask: null },
        pixels,
        (config.seed * 7919 + step) >>> 0,
        background,
        step,
      );
      if (step % config.log.every === 0 || step === config.iterations - 1) {
        await run.logMetrics(step, { loss: value ? (await value.data())[0]! : null, samples: count, edits });
      }
      value?.dispose();
      opts.onStep?.(step + 1, config.iterations);
    }
    const edit: NerfEditSummary = { steps: config.iterations, edits, seconds: (performance.now() - t0) / 1000, editSeconds };
    const scores = await evaluateNerfEdit(ctx, avatar, dataset, {
      editId: config.edit.id,
      splits: config.eval.splits,
      framesPerSplit: config.eval.framesPerSplit,
      mouthOpenFraction: config.eval.mouthOpenFraction,
      background,
      chunkRays: recon.evaluation.chunkRays,
    });
    await writeJsonAtomic(run.file('eval.json'), { edit: config.edit.id, splits: scores });
    await run.markDone({ edit, eval: scores });
    return { edit, eval: scores };
  } finally {
    for (const t of targets.values()) t.dispose();
    adam.dispose();
    avatar.dispose();
  }
}

/** PSNR/SSIM of the NeRF's renders against the ground-truth edit, per task, as lib/edit/evaluate.ts scores them. */
export async function evaluateNerfEdit(
  ctx: GpuContext,
  avatar: NerfAvatar,
  dataset: SyntheticDataset,
  o: { editId: string; splits: SplitName[]; framesPerSplit: number; mouthOpenFraction: number; background: [number, number, number]; chunkRays: number },
): Promise<NerfEditTaskScores[]> {
  const out: NerfEditTaskScores[] = [];
  for (const split of o.splits) {
    if (split === 'train') throw new Error('evaluateNerfEdit: splits: the training split is not an evaluation task');
    const frames = stratifiedSample(dataset.splits[split].frames, o.framesPerSplit, 0);
    const all: Record<string, RegionScore>[] = [];
    const open: Record<string, RegionScore>[] = [];
    for (const frame of frames) {
      const edited: RgbImage = (await avatar.renderImage(poseOf(frame), frame.camera, o.background, o.chunkRays)).color;
      const gt = await renderGroundTruth(ctx, dataset, frame, o.editId);
      const scores = await evaluationRegionMetrics(edited, gt.rgb, gt.labels);
      all.push(scores);
      if (isMouthOpen(gt.labels, o.mouthOpenFraction)) open.push(scores);
    }
    const mean = (k: 'psnr' | 'ssim') => (all.length ? all.reduce((a, f) => a + f.image![k], 0) / all.length : null);
    out.push({
      split,
      task: TASK_OF_SPLIT[split],
      frames: frames.length,
      psnr: mean('psnr'),
      ssim: mean('ssim'),
      regions: poolRegionScores(all),
      mouthOpen: { frames: open.length, regions: open.length ? poolRegionScores(open) : {} },
    });
  }
  return out;
}

/** Task → metric table with lib/edit's metric names (CLIP and flicker are not computed for this arm: null). */
export function nerfCellMetrics(scores: NerfEditTaskScores[], edit: NerfEditSummary): Record<string, Record<string, number | null>> {
  const fin = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? null : x);
  const out: Record<string, Record<string, number | null>> = {};
  for (const s of scores) {
    const m: Record<string, number | null> = {
      [metricNames.psnr('image')]: fin(s.psnr),
      [metricNames.ssim('image')]: fin(s.ssim),
      [metricNames.flicker('head')]: null,
      [metricNames.clipS]: null,
      [metricNames.clipC]: null,
      [metricNames.editSeconds]: fin(edit.seconds),
    };
    for (const r of REPORT_REGIONS) {
      m[metricNames.psnr(r)] = fin(s.regions[r]?.psnr);
      m[metricNames.ssim(r)] = fin(s.regions[r]?.ssim);
      m[metricNames.psnrOpen(r)] = fin(s.mouthOpen.regions[r]?.psnr);
    }
    out[s.task] = m;
  }
  return out;
}

export const EDIT_RUN_DIR = 'edit';
export function editRunDir(cellDir: string): string {
  return path.join(cellDir, EDIT_RUN_DIR);
}
