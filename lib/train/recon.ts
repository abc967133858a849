/**
 * Reconstruction: GaussianAvatars' training of an animatable avatar from a multi-view sequence
 * (docs/method.md §2). Each step renders one training view (camera × timestep) of the avatar posed
 * by that timestep's mesh, and takes an Adam step on the local Gaussian parameters against
 * (1 − λ)·L1 + λ·(1 − SSIM) plus the position and scale regularisers. Adaptive density control, opacity
 * resets and the SH-degree warm-up follow 3DGS; the first two are a strategy with hooks around the step
 * (strategy.ts). Everything stays on the GPU except densification, which runs on the CPU every few hundred
 * steps.
 *
 * A run directory holds the resolved config, metrics.jsonl and checkpoints; the run driver (driver.ts)
 * resumes a killed run from its last checkpoint, and it then produces the same result as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { prepareRasterize, rasterize } from '../raster/rasterize.js';
import { rasterSettings, type RasterSettings } from '../raster/types.js';
import { wabeBlend } from '../raster/wabe-config.js';
import { loadHeadModel } from '../head/model.js';
import { renderedTriangles } from '../head/atlas.js';
import { AvatarModel, PARAM_GROUPS, type ParamGroup } from '../avatar/model.js';
import { AvatarSession } from '../avatar/session.js';
import { loadDataset } from '../data/dataset.js';
import { initBoundGaussians, type BoundGaussians } from '../avatar/gaussians.js';
import type { DensifyStats } from '../avatar/densify.js';
import { readAvatarPly, writeAvatarPly } from '../avatar/io.js';
import { loadAvatar } from '../avatar/load.js';
import { Adam, adamFromBlobs, adamToBlobs, type AdamMoments, type AdamState } from './adam.js';
import { blobOf, packBlobs, unpackBlobs, type Blobs } from '../util/blobs.js';
import { expLr } from './schedule.js';
import { imageLoss } from './image-loss.js';
import { regularizers } from './regularizers.js';
import { RunDir, type CheckpointRef } from './rundir.js';
import { driveRun, type RunLoop, type RunOptions } from './driver.js';
import { DensifyStrategy, sceneExtent, type DensifyStrategyState } from './strategy.js';
import { assertFiniteVars } from './finite.js';
import { warmRasterizer } from './evaluate.js';
import type { ReconConfig } from './config.js';
import { Rng } from '../util/random.js';

export interface TrainOptions extends RunOptions {
  /** Called after each frame of the final evaluation (progress). */
  onEvalFrame?: (done: number, total: number) => void;
  /**
   * A finished run is evaluated again (eval.json and done.json rewritten) instead of answered from done.json:
   * for runs scored by an older evaluation (before 2026-12-08 a WABE reconstruction was scored under alpha blending).
   */
  reevaluate?: boolean;
}

export interface TrainSummary {
  runDir: string;
  steps: number;
  gaussians: number;
  seconds: number;
  itersPerSecond: number;
  resumedFrom: number | null;
}

/** Everything about the avatar's training that a checkpoint must restore besides parameters and moments. */
interface TrainerState {
  step: number;
  rngState: number;
  viewStack: number[];
  opacityResets: number;
}

/** Gaussians at initialisation, bound to the mesh's rendered triangles only (overlay layers get none). */
export function initialGaussians(config: ReconConfig, bindable: Uint32Array): BoundGaussians {
  const g = initBoundGaussians(bindable.length, {
    perTriangle: config.init.perTriangle,
    opacity: config.init.opacity,
    shDegree: config.shDegree as BoundGaussians['shDegree'],
    seed: config.seed,
  });
  for (let n = 0; n < g.count; n++) g.binding[n] = bindable[g.binding[n]!]!;
  return g;
}

/** The per-step learning rates (position decays exponentially over the run, as 3DGS). */
export function learningRates(config: ReconConfig, step: number): Record<ParamGroup, number> {
  const lr = config.lr;
  return {
    means: expLr(step, { init: lr.means, final: config.lrFinal.means, maxSteps: config.iterations }),
    shDc: lr.shDc,
    shRest: lr.shRest,
    opacityLogits: lr.opacityLogits,
    logScales: lr.logScales,
    quats: lr.quats,
  };
}

/**
 * (1 − λ)·L1 + λ·(1 − SSIM) + GaussianAvatars' position and scale regularisers. Returns the scalar and its
 * parts (the parts are for logging, not differentiable). On the webgpu backend the image term and the
 * regularisers are fused kernels (image-loss.ts, regularizers.ts), tested against the tfjs compositions.
 */
export function reconstructionLoss(
  config: Pick<ReconConfig, 'loss'>,
  render: tf.Tensor3D,
  target: tf.Tensor3D,
  avatar: AvatarModel,
): { total: tf.Scalar; l1: tf.Scalar; dssim: tf.Scalar } {
  const c = config.loss;
  const img = imageLoss(render, target, c.lambdaDssim);
  const dssim = tf.tidy(() => tf.scalar(1).sub(img.ssim) as tf.Scalar);
  img.ssim.dispose();
  let total = img.total;
  if (c.lambdaPosition > 0 || c.lambdaScale > 0) {
    total = total.add(regularizers(avatar.vars.means as tf.Tensor2D, avatar.vars.logScales as tf.Tensor2D, c)) as tf.Scalar;
  }
  return { total, l1: img.l1, dssim };
}

function settingsFor(step: number, config: ReconConfig, background: [number, number, number]): RasterSettings {
  return rasterSettings({ shDegree: Math.min(config.shDegree, Math.floor(step / config.shUpEvery)), background, ...wabeBlend(config.wabe) });
}

/** The next view index from a shuffled stack, refilled with a fresh permutation each epoch (3DGS). */
export function nextView(rng: Rng, stack: number[], count: number): number {
  if (stack.length === 0) {
    // A fresh random permutation each epoch (3DGS pops views from a shuffled stack).
    for (let i = 0; i < count; i++) stack.push(i);
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [stack[i], stack[j]] = [stack[j]!, stack[i]!];
    }
  }
  return stack.pop()!;
}

/** The densification statistics a checkpoint keeps, in the order the older raw layout stored them. */
const DENSIFY_STATS = ['gradAccum', 'denom', 'maxRadii2D'] as const;

/** The files of a reconstruction checkpoint; the Gaussians' count `n` ties the statistics to avatar.ply. */
async function checkpointFiles(session: AvatarSession, adam: Adam, strategy: DensifyStrategy, st: TrainerState): Promise<Record<string, string | Uint8Array>> {
  const g = await session.avatar.get();
  const a = adamToBlobs(await adam.state());
  const { stats: s } = await strategy.state();
  const n = s.denom.length;
  const blobs: Blobs = { ...a.blobs };
  for (const k of DENSIFY_STATS) blobs[`stats/${k}`] = { shape: [n], data: s[k] };
  return {
    'avatar.ply': writeAvatarPly(g),
    'optimizer.bin': packBlobs(blobs),
    'state.json': JSON.stringify({ trainer: st, adam: { options: a.options, moments: a.moments }, stats: { n } }),
  };
}

async function loadCheckpoint(
  dir: string,
  triangleCount: number,
  bindable: Uint32Array,
): Promise<{ g: BoundGaussians; adam: Adam; stats: DensifyStats; st: TrainerState }> {
  const stateFile = path.join(dir, 'state.json');
  const meta = JSON.parse(await fs.readFile(stateFile, 'utf8')) as {
    trainer: TrainerState;
    adam: { options: AdamState['options']; moments: AdamMoments };
    stats: { n: number };
  };
  const plyFile = path.join(dir, 'avatar.ply');
  const g = readAvatarPly(new Uint8Array(await fs.readFile(plyFile)), plyFile, triangleCount, bindable);
  const binFile = path.join(dir, 'optimizer.bin');
  const bin = new Uint8Array(await fs.readFile(binFile));
  const n = meta.stats.n;
  if (n !== g.count) throw new Error(`${stateFile}: stats for ${n} Gaussians, avatar.ply has ${g.count}`);
  const blobs = reconCheckpointBlobs(bin, binFile, meta.adam.moments, n);
  const adam = Adam.fromState(adamFromBlobs(meta.adam.options, meta.adam.moments, blobs, binFile));
  const stats = Object.fromEntries(DENSIFY_STATS.map((k) => [k, blobOf(blobs, `stats/${k}`, binFile, n)])) as unknown as DensifyStats;
  return { g, adam, stats, st: meta.trainer };
}

/**
 * A reconstruction checkpoint's optimizer.bin as named blobs: Adam's 'm/<group>' and 'v/<group>', and the
 * densification statistics 'stats/gradAccum', 'stats/denom', 'stats/maxRadii2D' of `n` Gaussians.
 * Checkpoints written before 2026-11-27 hold the same floats raw, with no index: each group's m then v in
 * state.json's order, then the three statistics. They are read too, so that those runs still resume. A raw file
 * is exactly its floats and a packed one has an index on top, so the size tells them apart.
 */
export function reconCheckpointBlobs(bin: Uint8Array, file: string, moments: AdamMoments, n: number): Blobs {
  const sizes = Object.entries(moments).map(([name, m]) => [name, m.shape, m.shape.reduce((a, b) => a * b, 1)] as const);
  const rawFloats = sizes.reduce((a, [, , size]) => a + 2 * size, 0) + 3 * n;
  if (bin.length !== 4 * rawFloats) return unpackBlobs(bin, file);
  const f = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let o = 0;
  const take = (k: number) => f.slice(o, (o += k));
  const blobs: Blobs = {};
  for (const [name, shape, size] of sizes) {
    blobs[`m/${name}`] = { shape, data: take(size) };
    blobs[`v/${name}`] = { shape, data: take(size) };
  }
  for (const k of DENSIFY_STATS) blobs[`stats/${k}`] = { shape: [n], data: take(n) };
  return blobs;
}

/** Trains (or resumes) a reconstruction run. */
export async function trainAvatar(config: ReconConfig, opts: TrainOptions): Promise<TrainSummary> {
  const log = opts.log ?? (() => {});
  const ctx = await useTfjsWebGpu();
  const r = await driveRun(
    {
      config,
      meta: { adapter: ctx.report },
      what: 'training',
      start: (run, latest) => reconLoop(run, latest, config, log),
    },
    opts,
  );
  const summary: TrainSummary = {
    runDir: r.run.root,
    steps: r.steps,
    gaussians: 0,
    seconds: r.seconds,
    itersPerSecond: (r.steps - r.startStep) / r.seconds,
    resumedFrom: r.resumedFrom,
  };
  if (await r.run.latestCheckpoint()) summary.gaussians = (await loadAvatar(r.run.root)).count;
  return summary;
}

/** The reconstruction's step and checkpoints, started fresh or from `latest`. */
async function reconLoop(run: RunDir, latest: CheckpointRef | null, config: ReconConfig, log: (msg: string) => void): Promise<RunLoop> {
  const head = await loadHeadModel();
  let adam: Adam;
  let st: TrainerState;
  let session: AvatarSession;
  let init: DensifyStrategyState | undefined;
  if (latest) {
    const ck = await loadCheckpoint(latest.dir, head.triangleCount, renderedTriangles(head));
    session = await AvatarSession.open(config.data, ck.g);
    adam = ck.adam;
    init = { stats: ck.stats, opacityResets: ck.st.opacityResets };
    st = ck.st;
    log(`resuming ${run.root} from step ${st.step} (${ck.g.count} Gaussians)`);
  } else {
    session = await AvatarSession.open(config.data, (b) => initialGaussians(config, b));
    adam = new Adam();
    st = { step: 0, rngState: new Rng(config.seed).state, viewStack: [], opacityResets: 0 };
    log(`training ${run.root}: ${session.avatar.count} Gaussians on ${session.bindable.length} triangles`);
  }
  const strategy = new DensifyStrategy(config, session, adam, log, init);
  const views = session.dataset.splits.train.frames;
  if (views.length === 0) throw new Error(`${session.dataset.splits.train.file}: no training frames`);
  const background = session.background(config);
  const rng = new Rng(0);
  rng.state = st.rngState;
  for (let d = 0; d <= config.shDegree; d++) await prepareRasterize(settingsFor(d * config.shUpEvery, config, background));

  return {
    startStep: st.step,
    begin: async () => {
      const first = views[0]!;
      await warmRasterizer(session.avatar, session.boundFramesOf(first), first.camera, settingsFor(st.step, config, background));
    },
    step: async (step, { logNow, logMetrics }) => {
      const view = views[nextView(rng, st.viewStack, views.length)]!;
      const cam = view.camera;
      const target = await session.target(view);
      const frames = session.boundFramesOf(view);
      const settings = settingsFor(step, config, background);
      const side = strategy.beforeStep();
      let radii: tf.Tensor1D | null = null;
      let parts: { l1: tf.Scalar; dssim: tf.Scalar } | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const world = session.avatar.world(frames);
        const out = rasterize(world, cam, settings, side);
        radii = tf.keep(out.radii);
        out.nContrib.dispose();
        const loss = reconstructionLoss(config, out.color, target, session.avatar);
        if (logNow) parts = { l1: tf.keep(loss.l1), dssim: tf.keep(loss.dssim) };
        return loss.total;
      }, Object.values(session.avatar.vars));
      const byName: Record<string, tf.Tensor> = {};
      for (const g of PARAM_GROUPS) byName[g] = grads[session.avatar.vars[g].name]!;
      adam.apply(session.avatar.vars, byName, learningRates(config, step));
      await assertFiniteVars(session.avatar.vars, step + 1, run.root, { grads: byName });
      strategy.afterBackward(side, radii, cam);
      tf.dispose([...Object.values(grads), radii as tf.Tensor | null].filter((t): t is tf.Tensor => t !== null));
      st.step = step + 1;

      if (logNow) {
        const p = parts as { l1: tf.Scalar; dssim: tf.Scalar } | null;
        const [loss, l1, dssim] = await Promise.all([value.data(), p!.l1.data(), p!.dssim.data()]);
        tf.dispose([p!.l1, p!.dssim]);
        await logMetrics(st.step, {
          loss: loss[0]!,
          l1: l1[0]!,
          dssim: dssim[0]!,
          gaussians: session.avatar.count,
          lrPosition: learningRates(config, step).means,
          shDegree: settings.shDegree,
        });
      }
      value.dispose();

      await strategy.afterStep(st.step);
      st.opacityResets = strategy.opacityResets;
      st.rngState = rng.state;
    },
    checkpoint: () => checkpointFiles(session, adam, strategy, st),
    dispose: () => {
      strategy.dispose();
      adam.dispose();
      session.dispose();
    },
  };
}

/** The scene's radius (lib/train/strategy.ts), kept here for the modules that import it from the trainer. */
export { sceneExtent };

export interface ReconstructionResult {
  train: TrainSummary;
  eval: import('./evaluate.js').SplitScores[];
}

/**
 * The whole reconstruction job: train (or resume), evaluate on the three tasks, write `eval.json` and the
 * GT | render | error figures into the run directory, and mark it done. A finished run is not retrained.
 */
export async function runReconstruction(config: ReconConfig, opts: TrainOptions): Promise<ReconstructionResult> {
  const { evaluateAvatar } = await import('./evaluate.js');
  // Every input is checked before the run directory exists: a bad dataset must not leave a config.json
  // behind that blocks the corrected rerun.
  await loadDataset(config.data);
  const run = await RunDir.open(opts.runDir, config, {}, opts.log);
  try {
    return await reconstructIn(run, config, opts, evaluateAvatar);
  } finally {
    await run.close();
  }
}

async function reconstructIn(
  run: RunDir,
  config: ReconConfig,
  opts: TrainOptions,
  evaluateAvatar: typeof import('./evaluate.js').evaluateAvatar,
): Promise<ReconstructionResult> {
  let train: TrainSummary;
  if (await run.isDone()) {
    const done = JSON.parse(await fs.readFile(run.file('done.json'), 'utf8')) as { train: TrainSummary; eval: ReconstructionResult['eval'] };
    if (!opts.reevaluate) return { train: done.train, eval: done.eval };
    train = done.train;
  } else {
    train = await trainAvatar(config, opts);
    if (train.steps < config.iterations) return { train, eval: [] };
  }
  const g = await loadAvatar(run.root);
  const session = await AvatarSession.open(config.data, g);
  const blend = wabeBlend(config.wabe);
  try {
    const scores = await evaluateAvatar(session, {
      splits: config.eval.splits,
      framesPerSplit: config.eval.framesPerSplit,
      background: session.background(config),
      shDegree: config.shDegree,
      blend,
      figureDir: run.file('renders'),
      ...(opts.onEvalFrame ? { onFrame: opts.onEvalFrame } : {}),
    });
    const { writeJsonAtomic } = await import('../util/atomic.js');
    await writeJsonAtomic(run.file('eval.json'), {
      lpips: 'not computed: LPIPS needs pretrained weights, unavailable offline',
      blend,
      splits: scores,
    });
    await run.markDone({ train, eval: scores });
    return { train, eval: scores };
  } finally {
    session.dispose();
  }
}
