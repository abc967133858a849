/**
 * Where a reconstruction step's time goes: each phase of one training step, GPU-synchronised after the
 * phase, medians over `--steps` steps on one dataset view (after warm-up).
 *
 *   gae bench train --data data/synthetic/alice [--steps 20] [--out file]
 *
 * Phases: bind (local → world, tfjs), rasterize forward, loss forward (L1 + D-SSIM + regularisers),
 * forward + backward (tf.variableGrads over the whole step), Adam update; plus a whole step without
 * intermediate syncs. Writes results/bench/train-step-<vendor>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { describeAdapter, median } from '../lib/gpu/index.js';
import { useTfjsWebGpu } from '../lib/gpu/tfjs.js';
import { reconConfig, RECON_PRESETS } from '../lib/train/config.js';
import { AvatarSession } from '../lib/avatar/session.js';
import { initialGaussians, learningRates, reconstructionLoss } from '../lib/train/recon.js';
import { Adam } from '../lib/train/adam.js';
import { PARAM_GROUPS } from '../lib/avatar/model.js';
import { prepareRasterize, rasterize } from '../lib/raster/rasterize.js';
import { rasterSettings } from '../lib/raster/types.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';

const o = new Command()
  .requiredOption('--data <dir>', 'dataset')
  .option('--steps <n>', 'timed steps per phase', '20')
  .option('--out <file>', 'output JSON')
  .parse()
  .opts<{ data: string; steps: string; out?: string }>();

const ctx = await useTfjsWebGpu();
console.log(`adapter: ${describeAdapter(ctx.report)}`);
const config = reconConfig({ ...RECON_PRESETS.full, data: o.data });
const s = await AvatarSession.open(config.data, (b) => initialGaussians(config, b));
const settings = rasterSettings({ shDegree: 3, background: s.background(config) });
await prepareRasterize(settings);
const view = s.dataset.splits.train.frames[0]!;
const target = await s.target(view);
const frames = s.boundFramesOf(view);
const adam = new Adam();
const sync = () => ctx.device.queue.onSubmittedWorkDone();
const steps = Number(o.steps);

async function timeIt(name: string, fn: () => Promise<void> | void): Promise<[string, number]> {
  const t: number[] = [];
  for (let i = 0; i < steps + 3; i++) {
    await sync();
    const t0 = performance.now();
    await fn();
    await sync();
    if (i >= 3) t.push(performance.now() - t0);
  }
  return [name, median(t)];
}

const step = () => {
  const { value, grads } = tf.variableGrads(() => {
    const out = rasterize(s.avatar.world(frames), view.camera, settings);
    out.radii.dispose();
    out.nContrib.dispose();
    return reconstructionLoss(config, out.color, target, s.avatar).total;
  }, Object.values(s.avatar.vars));
  return { value, grads };
};

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
  await timeIt('forward+backward', () => {
    const { value, grads } = step();
    tf.dispose([value, ...Object.values(grads)]);
  }),
  await timeIt('ssim-forward+backward', () => {
    const x = tf.variable(tf.randomUniform(target.shape), true, `ssimprobe${Math.random()}`);
    const { value, grads } = tf.variableGrads(() => reconstructionLoss({ loss: { ...config.loss, lambdaPosition: 0, lambdaScale: 0 } }, x as tf.Tensor3D, target, s.avatar).total, [x]);
    tf.dispose([value, ...Object.values(grads), x]);
  }),
  await timeIt('adam', () => {
    const g: Record<string, tf.Tensor> = {};
    for (const k of PARAM_GROUPS) g[k] = tf.onesLike(s.avatar.vars[k]);
    adam.apply(s.avatar.vars, g, learningRates(config, 100));
    tf.dispose(Object.values(g));
  }),
  await timeIt('step (no inner syncs)', () => {
    const { value, grads } = step();
    const byName: Record<string, tf.Tensor> = {};
    for (const k of PARAM_GROUPS) byName[k] = grads[s.avatar.vars[k].name]!;
    adam.apply(s.avatar.vars, byName, learningRates(config, 100));
    tf.dispose([value, ...Object.values(grads)]);
  }),
];
const res = {
  adapter: ctx.report,
  gaussians: s.avatar.count,
  resolution: [view.camera.width, view.camera.height],
  steps,
  medianMs: Object.fromEntries(results),
  tfjsNumTensors: tf.memory().numTensors,
  date: new Date().toISOString(),
};
console.log(JSON.stringify(res.medianMs, null, 2));
await writeJsonAtomic(o.out ?? `results/bench/train-step-${ctx.report.vendor}.json`, res);
process.exit(0);
