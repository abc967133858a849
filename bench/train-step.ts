/**
 * Where a reconstruction step's time goes, and how fast reconstruction runs.
 *
 *   gae bench train [--preset tiny|full] [--data DIR] [--frames N] [--steps N] [--iterations N] [--run DIR] [--out FILE]
 *
 * 1. Phases of one training step on one dataset view, each GPU-synchronised, medians over `--steps` steps after
 *    warm-up: bind (local → world), rasterize forward, loss forward (L1 + D-SSIM + regularisers, fused), the
 *    image loss forward + backward alone (fused, and the tfjs composition it replaces), forward + backward of the
 *    whole step, Adam, the target's fetch (resident on the GPU after its first use), and a whole step without
 *    inner syncs.
 * 2. Steady state: `--steps` × 5 whole steps (view sampling, targets, forward, backward, Adam) submitted back to
 *    back with one sync at the end → it/s.
 * 3. End to end: a reconstruction of `--iterations` steps from scratch (densification, opacity resets, logging,
 *    checkpoints, data) with trainAvatar → it/s. Its run directory (`--run`, default a temporary folder) holds an
 *    avatar that `gae bench edit --avatar <run>` can edit.
 *
 * The dataset is synthesised into `--data` first when that folder does not exist (`--frames` training timesteps).
 * Writes results/bench/train-step-<device>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeAdapter, median } from '../lib/gpu/index.js';
import { useTfjsWebGpu } from '../lib/gpu/tfjs.js';
import { reconConfig, RECON_PRESETS } from '../lib/train/config.js';
import { AvatarSession } from '../lib/avatar/session.js';
import { initialGaussians, learningRates, nextView, reconstructionLoss, trainAvatar } from '../lib/train/recon.js';
import { imageLoss, imageLossTfjs } from '../lib/train/image-loss.js';
import { Adam } from '../lib/train/adam.js';
import { PARAM_GROUPS } from '../lib/avatar/model.js';
import { prepareRasterize, rasterize } from '../lib/raster/rasterize.js';
import { rasterSettings } from '../lib/raster/types.js';
import { ensureDataset } from '../lib/data/ensure.js';
import { synthConfig } from '../lib/data/writer.js';
import { Rng } from '../lib/util/random.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';

const o = new Command()
  .option('--preset <name>', 'tiny (lavapipe, CI) or full (GPU)', 'full')
  .option('--data <dir>', 'dataset (synthesised here when absent; default data/synthetic/bench-<preset>)')
  .option('--frames <n>', "training timesteps of a synthesised dataset (default: the preset's)")
  .option('--steps <n>', 'timed steps per phase (default 20, tiny 2)')
  .option('--iterations <n>', 'steps of the end-to-end reconstruction (0 skips it; default 600, tiny 10)')
  .option('--run <dir>', 'run directory of the end-to-end reconstruction (default: a temporary folder, removed)')
  .option('--out <file>', 'output JSON (default results/bench/train-step-<device>.json)')
  .parse()
  .opts<{ preset: string; data?: string; frames?: string; steps?: string; iterations?: string; run?: string; out?: string }>();

if (o.preset !== 'tiny' && o.preset !== 'full') throw new Error(`--preset: "${o.preset}" is not tiny or full`);
const preset = o.preset;
const ctx = await useTfjsWebGpu();
console.log(`adapter: ${describeAdapter(ctx.report)}`);
const dataDir = o.data ?? path.join('data', 'synthetic', `bench-${preset}`);
const tSynth = performance.now();
const ds = await ensureDataset(ctx, dataDir, synthConfig(preset, { subject: 'alice', seed: 1, ...(o.frames ? { frames: Number(o.frames) } : {}) }));
const synthSeconds = ds.created ? (performance.now() - tSynth) / 1000 : null;
if (ds.created) console.log(`synthesised ${dataDir} in ${synthSeconds!.toFixed(1)} s`);

const config = reconConfig({ ...RECON_PRESETS[preset], data: dataDir });
const s = await AvatarSession.open(config.data, (b) => initialGaussians(config, b));
const settings = rasterSettings({ shDegree: 3, background: s.background(config) });
await prepareRasterize(settings);
const views = s.dataset.splits.train.frames;
const view = views[0]!;
const target = await s.target(view);
const frames = s.boundFramesOf(view);
const adam = new Adam();
const sync = () => ctx.device.queue.onSubmittedWorkDone();
const steps = Number(o.steps ?? (preset === 'tiny' ? 2 : 20));
// lavapipe renders the tiny preset's ~49k Gaussians in seconds a step: one warm-up there, three on a GPU.
const warmup = preset === 'tiny' ? 1 : 3;

async function timeIt(name: string, fn: () => Promise<void> | void): Promise<[string, number]> {
  const t: number[] = [];
  for (let i = 0; i < steps + warmup; i++) {
    await sync();
    const t0 = performance.now();
    await fn();
    await sync();
    if (i >= warmup) t.push(performance.now() - t0);
  }
  console.log(`${name.padEnd(34)} ${median(t).toFixed(3)} ms`);
  return [name, median(t)];
}

const lossOf = (t: tf.Tensor3D, v: typeof view) => {
  const f = s.boundFramesOf(v);
  const { value, grads } = tf.variableGrads(() => {
    const out = rasterize(s.avatar.world(f), v.camera, settings);
    out.radii.dispose();
    out.nContrib.dispose();
    const l = reconstructionLoss(config, out.color, t, s.avatar);
    tf.dispose([l.l1, l.dssim]);
    return l.total;
  }, Object.values(s.avatar.vars));
  return { value, grads };
};
const fullStep = async (v: typeof view) => {
  const t = await s.target(v);
  const { value, grads } = lossOf(t, v);
  const byName: Record<string, tf.Tensor> = {};
  for (const k of PARAM_GROUPS) byName[k] = grads[s.avatar.vars[k].name]!;
  adam.apply(s.avatar.vars, byName, learningRates(config, 100));
  tf.dispose([value, ...Object.values(grads)]);
};
const probe = tf.variable(tf.randomUniform(target.shape, 0, 1, 'float32', 7), true, 'bench-image-loss-probe') as tf.Variable<tf.Rank.R3>;

const results = [
  await timeIt('bind', () => {
    // opacityLogits is the variable itself: dispose only what the binding created.
    const w = tf.tidy(() => s.avatar.world(frames) as unknown as tf.NamedTensorMap);
    tf.dispose([w.means!, w.logScales!, w.quats!, w.sh!]);
  }),
  await timeIt('rasterize-forward', () =>
    tf.tidy(() => {
      rasterize(s.avatar.world(frames), view.camera, settings);
    }),
  ),
  await timeIt('loss-forward', () =>
    tf.tidy(() => {
      reconstructionLoss(config, rasterize(s.avatar.world(frames), view.camera, settings).color, target, s.avatar);
    }),
  ),
  await timeIt('image-loss forward+backward (fused)', () => {
    const { value, grads } = tf.variableGrads(() => imageLoss(probe, target, config.loss.lambdaDssim).total, [probe]);
    tf.dispose([value, ...Object.values(grads)]);
  }),
  await timeIt('image-loss forward+backward (tfjs)', () => {
    const { value, grads } = tf.variableGrads(() => imageLossTfjs(probe, target, config.loss.lambdaDssim), [probe]);
    tf.dispose([value, ...Object.values(grads)]);
  }),
  await timeIt('forward+backward', () => {
    const { value, grads } = lossOf(target, view);
    tf.dispose([value, ...Object.values(grads)]);
  }),
  await timeIt('adam', () => {
    const g: Record<string, tf.Tensor> = {};
    for (const k of PARAM_GROUPS) g[k] = tf.onesLike(s.avatar.vars[k]);
    adam.apply(s.avatar.vars, g, learningRates(config, 100));
    tf.dispose(Object.values(g));
  }),
  await timeIt('target (resident)', async () => {
    await s.target(view);
  }),
  await timeIt('step (no inner syncs)', () => fullStep(view)),
];

// Steady state: every view once (so all targets are resident, as after the first epoch), then a timed burst.
const rng = new Rng(0);
const stack: number[] = [];
const tWarm = performance.now();
for (const v of views) await s.target(v);
const firstTouchSeconds = (performance.now() - tWarm) / 1000;
const burst = steps * 5;
for (let i = 0; i < warmup; i++) await fullStep(views[nextView(rng, stack, views.length)]!);
await sync();
const t0 = performance.now();
for (let i = 0; i < burst; i++) await fullStep(views[nextView(rng, stack, views.length)]!);
await sync();
const steadyItersPerSecond = burst / ((performance.now() - t0) / 1000);
console.log(
  `steady state: ${steadyItersPerSecond.toFixed(1)} it/s over ${burst} steps (${s.avatar.count} Gaussians); first touch of ${views.length} targets ${firstTouchSeconds.toFixed(2)} s`,
);
const gaussians = s.avatar.count;
probe.dispose();
adam.dispose();
s.dispose();

// End to end: a fresh reconstruction.
const iterations = o.iterations !== undefined ? Number(o.iterations) : preset === 'tiny' ? 10 : 600;
let endToEnd: { iterations: number; seconds: number; itersPerSecond: number; gaussians: number; runDir: string | null } | null = null;
if (iterations > 0) {
  const runDir = o.run ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'bench-train-')));
  const rc = reconConfig({ ...RECON_PRESETS[preset], name: 'bench-train', data: dataDir, iterations, checkpoint: { every: iterations, keep: 1 } });
  const r = await trainAvatar(rc, { runDir });
  endToEnd = { iterations: r.steps, seconds: r.seconds, itersPerSecond: r.itersPerSecond, gaussians: r.gaussians, runDir: o.run ? runDir : null };
  console.log(`end to end: ${iterations} iterations in ${r.seconds.toFixed(1)} s = ${r.itersPerSecond.toFixed(1)} it/s (${r.gaussians} Gaussians)`);
  if (!o.run) await fs.rm(runDir, { recursive: true, force: true });
}

const res = {
  adapter: ctx.report,
  preset,
  data: dataDir,
  synthSeconds,
  gaussians,
  resolution: [view.camera.width, view.camera.height],
  steps,
  medianMs: Object.fromEntries(results),
  steadyState: { steps: burst, itersPerSecond: steadyItersPerSecond, trainingViews: views.length, firstTouchSeconds },
  endToEnd,
  env: { GAE_DAWN_FAST: process.env.GAE_DAWN_FAST ?? null },
  tfjsNumTensors: tf.memory().numTensors,
  date: new Date().toISOString(),
};
const out = o.out ?? `results/bench/train-step-${ctx.report.device || ctx.report.vendor}.json`;
await writeJsonAtomic(out, res);
console.log(`wrote ${out}`);
process.exit(0);
