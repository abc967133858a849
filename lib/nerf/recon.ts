/**
 * Reconstruction of the NeRF avatar from a synthetic multi-view sequence (INSTA's training, on our data):
 * each step draws one training view (camera × timestep), `raysPerBatch` random pixels of it, marches them
 * through that timestep's posed mesh, and takes an Adam step on the field (tables at `lr`, MLPs at
 * `lr · mlpLrScale`, both decaying log-linearly to `lrFinal`) against the photometric loss plus the mask
 * term |alpha − mask|. The occupancy grid is refreshed every `occupancy.every` steps after its warm-up.
 *
 * Run directories are lib/train's (RunDir): config.json, metrics.jsonl, checkpoints (field, Adam moments,
 * occupancy estimate, RNG state), done.json, and eval.json with the three evaluation tasks. A killed run
 * resumes from its last checkpoint (the hash tables' gradient sums use atomics, so the resumed run matches
 * an uninterrupted one statistically, not bit for bit).
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { loadDataset, loadFrameImages, type DatasetFrame, type SplitName, type SyntheticDataset } from '../data/dataset.js';
import { Adam, adamFromBlobs, adamToBlobs, type AdamMoments, type AdamOptions } from '../train/adam.js';
import { RunDir } from '../train/rundir.js';
import { expLr } from '../train/schedule.js';
import { TASK_OF_SPLIT, errorImage, type SplitScores } from '../train/evaluate.js';
import { stratifiedSample } from '../data/sampling.js';
import { poolRegionScores, type RegionScore } from '../metrics/regions.js';
import { evaluationRegionMetrics } from '../metrics/regions-gpu.js';
import { writeGridPng } from '../image/grid.js';
import { blobOf, packBlobs, unpackBlobs, type Blobs } from '../util/blobs.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { RgbImage } from '../util/image.js';
import type { Camera } from '../raster/types.js';
import { Rng } from '../util/random.js';
import type { NerfReconConfig } from './config.js';
import { NerfAvatar, type PoseRef } from './avatar.js';
import { FIELD_PARAMS, fieldShapes, type FieldParam } from './field.js';
import { disposeMarch } from './march.js';
import { N_EXPRESSION } from '../head/model.js';

export interface NerfTrainOptions {
  runDir: string;
  onStep?: (step: number, total: number) => void;
  /** Stop after this step (tests that kill a run midway); the run is resumable afterwards. */
  stopAfter?: number;
  log?: (msg: string) => void;
}

export interface NerfTrainSummary {
  runDir: string;
  steps: number;
  seconds: number;
  itersPerSecond: number;
  resumedFrom: number | null;
}

interface NerfTrainerState {
  step: number;
  rngState: number;
  occupancyUpdates: number;
}

export const CHECKPOINT_STATE = 'state.json';
export const CHECKPOINT_BLOBS = 'params.bin';

export function poseOf(frame: Pick<DatasetFrame, 'sequence' | 'timestep' | 'head'>): PoseRef {
  return { key: `${frame.sequence}:${frame.timestep}`, head: frame.head };
}

export function backgroundOf(config: Pick<NerfReconConfig, 'background'>, dataset: SyntheticDataset): [number, number, number] {
  const b = config.background ?? dataset.meta.render.background;
  return [b[0]!, b[1]!, b[2]!];
}

/** The subject's identity (the canonical mesh's), from the training sequence. */
export function subjectIdentity(dataset: SyntheticDataset): Float32Array {
  const t = dataset.splits.train.timesteps[0];
  if (!t) throw new Error(`${dataset.splits.train.file}: no timesteps`);
  return Float32Array.from(t.head.identity);
}

/** Per-parameter learning rates at `step`. */
export function nerfLearningRates(config: NerfReconConfig, step: number): Record<FieldParam, number> {
  const t = config.train;
  const base = expLr(step, { init: t.lr, final: t.lrFinal, maxSteps: t.iterations });
  const out = {} as Record<FieldParam, number>;
  for (const n of FIELD_PARAMS) out[n] = n === 'tables' ? base : base * t.mlpLrScale;
  return out;
}

/** Training images as [H·W,3] colour and [H·W] mask tensors, cached by frame. */
class TargetCache {
  private readonly cache = new Map<string, { rgb: tf.Tensor2D; mask: tf.Tensor1D }>();
  constructor(private readonly capacity = 256) {}
  async get(frame: DatasetFrame): Promise<{ rgb: tf.Tensor2D; mask: tf.Tensor1D }> {
    const key = `${frame.split}:${frame.index}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const img = await loadFrameImages(frame);
    const n = img.rgb.width * img.rgb.height;
    const t = { rgb: tf.tensor2d(img.rgb.data, [n, 3]), mask: tf.tensor1d(img.alpha) };
    this.cache.set(key, t);
    while (this.cache.size > this.capacity) {
      const [k, old] = this.cache.entries().next().value as [string, { rgb: tf.Tensor2D; mask: tf.Tensor1D }];
      tf.dispose([old.rgb, old.mask]);
      this.cache.delete(k);
    }
    return t;
  }
  dispose(): void {
    for (const t of this.cache.values()) tf.dispose([t.rgb, t.mask]);
    this.cache.clear();
  }
}

/** The loss of a batch of rays (differentiable): photometric (L1 or MSE) + maskWeight · |alpha − mask|. */
export function rayLoss(
  config: Pick<NerfReconConfig, 'train'>,
  color: tf.Tensor2D,
  alpha: tf.Tensor1D,
  target: tf.Tensor2D,
  mask: tf.Tensor1D | null,
): tf.Scalar {
  const diff = color.sub(target);
  let loss = (config.train.loss === 'l1' ? diff.abs().mean() : diff.square().mean()) as tf.Scalar;
  if (mask && config.train.maskWeight > 0) loss = loss.add(alpha.sub(mask).abs().mean().mul(config.train.maskWeight)) as tf.Scalar;
  return loss;
}

async function saveCheckpoint(run: RunDir, avatar: NerfAvatar, adam: Adam, st: NerfTrainerState): Promise<void> {
  const params = await avatar.field.snapshot();
  const occ = await avatar.occupancy.snapshot();
  const a = adamToBlobs(await adam.state());
  const blobs: Blobs = { ...a.blobs, occupancy: { shape: [occ.estimate.length], data: occ.estimate } };
  const shapes = fieldShapes(avatar.config.field, N_EXPRESSION);
  for (const n of FIELD_PARAMS) blobs[`field/${n}`] = { shape: shapes[n], data: params[n] };
  await run.saveCheckpoint(st.step, {
    [CHECKPOINT_STATE]: JSON.stringify({ ...st, occupancyUpdates: occ.updates, adam: { options: a.options, moments: a.moments } }, null, 1),
    [CHECKPOINT_BLOBS]: packBlobs(blobs),
  });
  await run.pruneCheckpoints(2);
}

export interface NerfCheckpoint {
  state: NerfTrainerState;
  params: Record<FieldParam, Float32Array>;
  occupancy: Float32Array;
  adam: { options: AdamOptions; moments: AdamMoments; blobs: Blobs; file: string };
}

export async function loadNerfCheckpoint(dir: string, config: NerfReconConfig): Promise<NerfCheckpoint> {
  const stateFile = path.join(dir, CHECKPOINT_STATE),
    binFile = path.join(dir, CHECKPOINT_BLOBS);
  const j = JSON.parse(await fs.readFile(stateFile, 'utf8')) as NerfTrainerState & { adam: { options: AdamOptions; moments: AdamMoments } };
  for (const k of ['step', 'rngState', 'occupancyUpdates'] as const) if (typeof j[k] !== 'number') throw new Error(`${stateFile}: ${k}: expected a number`);
  const blobs = unpackBlobs(new Uint8Array(await fs.readFile(binFile)), binFile);
  const shapes = fieldShapes(config.field, N_EXPRESSION);
  const params = {} as Record<FieldParam, Float32Array>;
  for (const n of FIELD_PARAMS)
    params[n] = blobOf(
      blobs,
      `field/${n}`,
      binFile,
      shapes[n].reduce((a, b) => a * b, 1),
    );
  const occupancy = blobOf(blobs, 'occupancy', binFile, config.occupancy.resolution ** 3);
  return { state: { step: j.step, rngState: j.rngState, occupancyUpdates: j.occupancyUpdates }, params, occupancy, adam: { ...j.adam, blobs, file: binFile } };
}

/**
 * One optimisation step on the rays through `pixels` of one view: march, shade, loss, Adam. Returns the
 * loss (null when no sample was kept: no gradient then) and the kept sample count.
 */
export async function nerfStep(
  avatar: NerfAvatar,
  adam: Adam,
  config: NerfReconConfig,
  pose: PoseRef,
  camera: Camera,
  target: { rgb: tf.Tensor2D; mask: tf.Tensor1D | null }, // [H·W,3], [H·W]
  pixels: Uint32Array,
  jitterSeed: number,
  background: [number, number, number],
  step: number,
): Promise<{ value: tf.Scalar | null; count: number }> {
  const m = await avatar.march(pose, camera, pixels, jitterSeed);
  const count = m.count;
  if (count === 0) {
    disposeMarch(m);
    return { value: null, count };
  }
  const { value, grads } = tf.tidy(() => {
    const ids = tf.tensor1d(Int32Array.from(pixels), 'int32');
    const tgt = tf.gather(target.rgb, ids) as tf.Tensor2D;
    const msk = target.mask ? (tf.gather(target.mask, ids) as tf.Tensor1D) : null;
    return tf.variableGrads(() => {
      const o = avatar.shade(m, background, pose);
      return rayLoss(config, o.color, o.alpha, tgt, msk);
    }, avatar.field.variables());
  });
  const params: Record<string, tf.Variable> = {};
  const byParam: Record<string, tf.Tensor> = {};
  for (const n of FIELD_PARAMS) {
    params[n] = avatar.field.params[n];
    byParam[n] = grads[avatar.field.params[n].name]!;
  }
  adam.apply(params, byParam, nerfLearningRates(config, step));
  tf.dispose(Object.values(grads));
  disposeMarch(m);
  return { value, count };
}

/** Trains (or resumes) a NeRF avatar in `opts.runDir`. */
export async function trainNerf(config: NerfReconConfig, opts: NerfTrainOptions): Promise<NerfTrainSummary> {
  const log = opts.log ?? (() => {});
  const ctx = await useTfjsWebGpu();
  const run = await RunDir.open(opts.runDir, config, { adapter: ctx.report, method: 'insta-nerf' });
  const dataset = await loadDataset(config.data);
  const latest = await run.latestCheckpoint();
  const ck = latest ? await loadNerfCheckpoint(latest.dir, config) : null;
  const avatar = await NerfAvatar.create(config, subjectIdentity(dataset), ck?.params);
  let adam: Adam;
  let st: NerfTrainerState;
  if (ck) {
    avatar.occupancy.load({ estimate: ck.occupancy, updates: ck.state.occupancyUpdates });
    adam = Adam.fromState(adamFromBlobs(ck.adam.options, ck.adam.moments, ck.adam.blobs, ck.adam.file));
    st = ck.state;
    await run.truncateMetrics(st.step);
    log(`resuming ${run.root} from step ${st.step}`);
  } else {
    adam = new Adam();
    st = { step: 0, rngState: new Rng(config.train.seed).state, occupancyUpdates: 0 };
    log(`training ${run.root}: NeRF avatar on ${avatar.triangles.length} triangles`);
  }
  const resumedFrom = ck ? st.step : null;
  const views = dataset.splits.train.frames;
  if (views.length === 0) throw new Error(`${dataset.splits.train.file}: no training frames`);
  const background = backgroundOf(config, dataset);
  const targets = new TargetCache();
  const rng = new Rng(0);
  rng.state = st.rngState;
  const t0 = performance.now();
  const startStep = st.step;
  const R = config.train.raysPerBatch;
  try {
    while (st.step < config.train.iterations) {
      const step = st.step;
      if (avatar.occupancy.due(step)) avatar.occupancy.update(avatar.field, (config.train.seed * 7919 + step) >>> 0);
      const frame = views[rng.int(views.length)]!;
      const npx = frame.camera.width * frame.camera.height;
      const pixels = Uint32Array.from({ length: R }, () => rng.int(npx));
      const pose = poseOf(frame);
      const target = await targets.get(frame);
      const { value, count } = await nerfStep(
        avatar,
        adam,
        config,
        pose,
        frame.camera,
        target,
        pixels,
        (config.train.seed * 1000003 + step) >>> 0,
        background,
        step,
      );
      const lrs = nerfLearningRates(config, step);
      st.step = step + 1;
      st.rngState = rng.state;
      if (step % config.train.logEvery === 0 || st.step === config.train.iterations) {
        const loss = value ? (await value.data())[0]! : null;
        await run.logMetrics(step, { loss, samples: count, occupied: await avatar.occupancy.occupiedFraction(), lr: lrs.tables });
      }
      value?.dispose();
      opts.onStep?.(st.step, config.train.iterations);
      if (st.step % config.train.checkpointEvery === 0 || st.step === config.train.iterations) await saveCheckpoint(run, avatar, adam, st);
      if (opts.stopAfter !== undefined && st.step >= opts.stopAfter) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const steps = st.step - startStep;
    const summary: NerfTrainSummary = { runDir: run.root, steps: st.step, seconds, itersPerSecond: steps / Math.max(seconds, 1e-9), resumedFrom };
    if (st.step >= config.train.iterations) await run.markDone({ ...summary });
    return summary;
  } finally {
    targets.dispose();
    adam.dispose();
    avatar.dispose();
  }
}

/** Opens a trained run's avatar (its latest checkpoint) for rendering, evaluation or editing. */
export async function loadNerfAvatar(runDir: string): Promise<{ avatar: NerfAvatar; config: NerfReconConfig; dataset: SyntheticDataset }> {
  const config = JSON.parse(await fs.readFile(path.join(runDir, 'config.json'), 'utf8')) as NerfReconConfig;
  const run = await RunDir.open(runDir, config);
  const latest = await run.latestCheckpoint();
  if (!latest) throw new Error(`${run.file('checkpoints')}: no checkpoint to load`);
  const dataset = await loadDataset(config.data);
  const ck = await loadNerfCheckpoint(latest.dir, config);
  const avatar = await NerfAvatar.create(config, subjectIdentity(dataset), ck.params);
  avatar.occupancy.load({ estimate: ck.occupancy, updates: ck.state.occupancyUpdates });
  return { avatar, config, dataset };
}

export interface NerfEvalOptions {
  splits: SplitName[];
  framesPerSplit: number;
  background: [number, number, number];
  chunkRays: number;
  /** Writes `<figureDir>/eval-<split>.png` (ground truth | render | error). */
  figureDir?: string;
  figureRows?: number;
}

/** PSNR/SSIM (whole image and per region) of the avatar on each split, as lib/train/evaluate.ts reports them. */
export async function evaluateNerf(avatar: NerfAvatar, dataset: SyntheticDataset, o: NerfEvalOptions): Promise<SplitScores[]> {
  const results: SplitScores[] = [];
  for (const split of o.splits) {
    const frames = stratifiedSample(dataset.splits[split].frames, o.framesPerSplit, 0);
    const perFrame: Record<string, RegionScore>[] = [];
    const rows: { label: string; images: RgbImage[] }[] = [];
    const figureEvery = Math.max(1, Math.floor(frames.length / (o.figureRows ?? 3)));
    for (const [i, frame] of frames.entries()) {
      const gt = await loadFrameImages(frame);
      const { color } = await avatar.renderImage(poseOf(frame), frame.camera, o.background, o.chunkRays);
      perFrame.push(await evaluationRegionMetrics(color, gt.rgb, gt.labels));
      if (o.figureDir && i % figureEvery === 0 && rows.length < (o.figureRows ?? 3)) {
        rows.push({ label: `t${frame.timestep} ${frame.cameraId}`, images: [gt.rgb, color, errorImage(color, gt.rgb)] });
      }
    }
    const pooled = poolRegionScores(perFrame);
    const mean = (k: 'psnr' | 'ssim') => perFrame.reduce((a, f) => a + f.image![k], 0) / Math.max(1, perFrame.length);
    results.push({
      split,
      task: split === 'train' ? 'train' : TASK_OF_SPLIT[split],
      frames: frames.length,
      psnr: mean('psnr'),
      ssim: mean('ssim'),
      lpips: null,
      regions: pooled,
    });
    if (o.figureDir && rows.length > 0)
      await writeGridPng({ columns: ['ground truth', 'render', '|error| x4'], rows }, path.join(o.figureDir, `eval-${split}.png`));
  }
  return results;
}

/** Trains (or resumes) and evaluates: eval.json and renders/eval-<split>.png in the run directory. */
export async function runNerfReconstruction(config: NerfReconConfig, opts: NerfTrainOptions): Promise<{ summary: NerfTrainSummary; scores: SplitScores[] }> {
  const summary = await trainNerf(config, opts);
  const { avatar, dataset } = await loadNerfAvatar(summary.runDir);
  try {
    const scores = await evaluateNerf(avatar, dataset, {
      splits: config.evaluation.splits,
      framesPerSplit: config.evaluation.framesPerSplit,
      background: backgroundOf(config, dataset),
      chunkRays: config.evaluation.chunkRays,
      figureDir: path.join(summary.runDir, 'renders'),
    });
    await writeJsonAtomic(path.join(summary.runDir, 'eval.json'), { summary, scores });
    return { summary, scores };
  } finally {
    avatar.dispose();
  }
}
