/**
 * Where an edit cell's time goes: one Table 1 cell (initial pass + the editing loop + evaluation on the three
 * tasks) per method, end to end, split into editor, render for the editor, training steps, evaluation and
 * setup/I-O; and the per-step phases (render, loss, optimiser, generator loss, discriminator step), each
 * GPU-synchronised, medians over `--steps` samples on one view with that method's config.
 *
 *   gae bench edit [--preset tiny|full] [--data DIR] [--frames N] [--avatar PLY|RUN]
 *                         [--recon-iterations N] [--methods ours,ga-in2n] [--edit gold-teeth] [--steps N] [--out FILE]
 *
 * The dataset is synthesised into `--data` when that folder does not exist. Without `--avatar`, a reconstruction
 * of `--recon-iterations` steps is trained first (its time is reported, not counted in a cell). Each method gets
 * its own empty edit cache, so every 2D edit is made (as in the first arm of a grid). Writes
 * results/bench/edit-cell-<device>.json, including each cell's scores so runs before and after a change can be
 * compared. The split is exact with one 2D edit in flight (the default here, `--edits-in-flight 1`): with more,
 * the in-process editor's work lands wherever the loop next waits, so the editor/render/training lines blur.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeAdapter, median } from '../lib/gpu/index.js';
import { useTfjsWebGpu } from '../lib/gpu/tfjs.js';
import { ensureDataset } from '../lib/data/ensure.js';
import { synthConfig } from '../lib/data/writer.js';
import { reconConfig, RECON_PRESETS } from '../lib/train/config.js';
import { AvatarSession } from '../lib/avatar/session.js';
import { trainAvatar } from '../lib/train/recon.js';
import { imageLoss } from '../lib/train/image-loss.js';
import { Adam } from '../lib/train/adam.js';
import { AvatarModel, PARAM_GROUPS, type ParamGroup } from '../lib/avatar/model.js';
import { loadAvatar } from '../lib/avatar/load.js';
import { prepareRasterize, rasterize } from '../lib/raster/rasterize.js';
import { rasterSettings } from '../lib/raster/types.js';
import { Adversary } from '../lib/adversarial/adversary.js';
import { editAvatar, editedRenderSettings, editViews, makeEditor, poolImage, renderAvatar } from '../lib/edit/loop.js';
import { evaluateEdit } from '../lib/edit/evaluate.js';
import { methodConfig } from '../lib/edit/run.js';
import { METHOD_PRESETS, type EditConfig, type MethodName } from '../lib/edit/config.js';
import type { EditRequest, ImageEditor } from '../lib/edit/editors/editor.js';
import type { RgbImage } from '../lib/util/image.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';

const o = new Command()
  .option('--preset <name>', 'tiny (lavapipe, CI) or full (GPU)', 'full')
  .option('--data <dir>', 'dataset (synthesised here when absent; default data/synthetic/bench-<preset>)')
  .option('--frames <n>', "training timesteps of a synthesised dataset (default: the preset's)")
  .option('--avatar <path>', 'reconstructed avatar (.ply or run directory); default: train one first')
  .option('--recon-iterations <n>', 'iterations of that reconstruction (default 600, tiny 10)')
  .option('--methods <list>', 'comma-separated methods (lib/edit/config.ts METHOD_PRESETS)', 'ours,ga-in2n')
  .option('--edit <id>', 'edit id (lib/head/edits.ts)', 'gold-teeth')
  .option('--iterations <n>', "editing steps (default: the preset's)")
  .option('--steps <n>', 'samples per phase (default 20, tiny 2)')
  .option('--out <file>', 'output JSON (default results/bench/edit-cell-<device>.json)')
  .option('--edits-in-flight <n>', '2D edits in flight (lib/edit/edit-queue.ts); 1 keeps the time split exact', '1')
  .parse()
  .opts<{
    preset: string;
    data?: string;
    frames?: string;
    avatar?: string;
    reconIterations?: string;
    methods: string;
    edit: string;
    iterations?: string;
    steps?: string;
    out?: string;
    editsInFlight: string;
  }>();

if (o.preset !== 'tiny' && o.preset !== 'full') throw new Error(`--preset: "${o.preset}" is not tiny or full`);
const preset = o.preset;
const editsInFlight = Number(o.editsInFlight);
if (!Number.isInteger(editsInFlight) || editsInFlight < 1) throw new Error(`--edits-in-flight: "${o.editsInFlight}" is not a positive integer`);
const methods = o.methods.split(',').filter(Boolean) as MethodName[];
for (const m of methods) if (!(m in METHOD_PRESETS)) throw new Error(`--methods: "${m}" is not one of ${Object.keys(METHOD_PRESETS).join(', ')}`);
const samples = Number(o.steps ?? (preset === 'tiny' ? 2 : 20));
const warmup = preset === 'tiny' ? 1 : 3;

const ctx = await useTfjsWebGpu();
console.log(`adapter: ${describeAdapter(ctx.report)}`);
const sync = () => ctx.device.queue.onSubmittedWorkDone();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-edit-'));

// Setup (not part of a cell): dataset and reconstruction.
const dataDir = o.data ?? path.join('data', 'synthetic', `bench-${preset}`);
let t = performance.now();
const ds = await ensureDataset(ctx, dataDir, synthConfig(preset, { subject: 'alice', seed: 1, ...(o.frames ? { frames: Number(o.frames) } : {}) }));
const synthSeconds = ds.created ? (performance.now() - t) / 1000 : null;
let avatar = o.avatar ?? null;
let recon: { iterations: number; seconds: number; gaussians: number } | null = null;
if (!avatar) {
  const iterations = Number(o.reconIterations ?? (preset === 'tiny' ? 10 : 600));
  avatar = path.join(tmp, 'recon');
  const r = await trainAvatar(
    reconConfig({ ...RECON_PRESETS[preset], name: 'bench-edit-recon', data: dataDir, iterations, checkpoint: { every: iterations, keep: 1 } }),
    { runDir: avatar },
  );
  recon = { iterations, seconds: r.seconds, gaussians: r.gaussians };
  console.log(`reconstruction: ${iterations} iterations in ${r.seconds.toFixed(1)} s (${r.gaussians} Gaussians)`);
}

/** The editor a config names, timed: what the loop waits on per 2D edit. */
class TimedEditor implements ImageEditor {
  seconds = 0;
  calls = 0;
  constructor(readonly inner: ImageEditor) {}
  get id(): string {
    return this.inner.id;
  }
  describe() {
    return this.inner.describe();
  }
  async edit(req: EditRequest): Promise<RgbImage> {
    const t0 = performance.now();
    try {
      return await this.inner.edit(req);
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
      this.calls++;
    }
  }
}

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < samples + warmup; i++) {
    await sync();
    const t0 = performance.now();
    await fn();
    await sync();
    if (i >= warmup) ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** Per-step phases of the editing loop with `config`, on its first view. */
async function phases(config: EditConfig, session: AvatarSession): Promise<Record<string, number>> {
  const views = editViews(session, config);
  const f = views[0]!;
  const frames = session.boundFramesOf(f);
  const background = session.background({ background: null });
  const train = rasterSettings({
    shDegree: session.avatar.shDegree,
    background,
    blend: config.wabe.enabled ? 'wabe' : 'alpha',
    wabe: { beta: config.wabe.beta, stopGradient: config.wabe.stopGradient, renormalize: config.wabe.renormalize },
  });
  await prepareRasterize(train);
  const target = await session.target(f);
  const moving = config.optimize.map((g) => session.avatar.vars[g]);
  const lrs = Object.fromEntries(PARAM_GROUPS.map((g) => [g, config.optimize.includes(g) ? 1e-12 : 0])) as Record<ParamGroup, number>;
  const adam = new Adam();
  const down = config.adversarialDownsample;
  const pool = (x: tf.Tensor3D) => (down === 1 ? x : (tf.squeeze(tf.avgPool(tf.expandDims(x, 0) as tf.Tensor4D, down, down, 'valid'), [0]) as tf.Tensor3D));
  const adversary = config.adversarial.enabled ? new Adversary(config.adversarial) : null;
  let cond: tf.Tensor3D | null = null;
  let real: RgbImage | null = null;
  if (adversary) {
    real = poolImage(await renderAvatar(session.avatar, frames, f, rasterSettings({ shDegree: session.avatar.shDegree, background })), down);
    cond = tf.tensor3d(real.data, [real.height, real.width, 3]);
  }
  const step = (withAdv: boolean) => {
    const { value, grads } = tf.variableGrads(() => {
      const out = rasterize(session.avatar.world(frames), f.camera, train);
      tf.dispose([out.radii, out.nContrib]);
      const img = imageLoss(out.color, target, config.loss.lambdaDssim);
      tf.dispose([img.l1, img.ssim]);
      if (!withAdv) return img.total;
      return img.total.add(adversary!.generatorLoss(pool(out.color), cond!)) as tf.Scalar;
    }, moving);
    const byName: Record<string, tf.Tensor> = {};
    for (const g of config.optimize) byName[g] = grads[session.avatar.vars[g].name]!;
    adam.apply(session.avatar.vars, byName, lrs);
    tf.dispose([value, ...Object.values(grads)]);
  };
  const r: Record<string, number> = {
    render: await timeIt(() => tf.tidy(() => void rasterize(session.avatar.world(frames), f.camera, train))),
    'loss forward+backward': await (async () => {
      const x = tf.tidy(() => rasterize(session.avatar.world(frames), f.camera, train).color);
      const ms = await timeIt(() => tf.dispose(tf.grad((c: tf.Tensor) => imageLoss(c as tf.Tensor3D, target, config.loss.lambdaDssim).total)(x)));
      x.dispose();
      return ms;
    })(),
    optimiser: await timeIt(() => {
      const g: Record<string, tf.Tensor> = {};
      for (const k of config.optimize) g[k] = tf.zerosLike(session.avatar.vars[k]);
      adam.apply(session.avatar.vars, g, lrs);
      tf.dispose(Object.values(g));
    }),
    'step without adversary': await timeIt(() => step(false)),
  };
  if (adversary) {
    const reals = Array.from({ length: config.adversarial.pool.batch }, () => ({ image: real!, condition: real! }));
    r['step with generator loss'] = await timeIt(() => step(true));
    r['discriminator step'] = await timeIt(async () => {
      const fake = tf.tidy(() => pool(rasterize(session.avatar.world(frames), f.camera, train).color));
      await adversary.stepOn(reals, [{ image: fake, condition: cond! }]);
      fake.dispose();
    });
    r['discriminator step / step without adversary'] = (r['step with generator loss']! + r['discriminator step']!) / r['step without adversary']!;
    adversary.dispose();
    cond!.dispose();
  }
  adam.dispose();
  return r;
}

const cells: Record<string, unknown>[] = [];
for (const method of methods) {
  const config = methodConfig(method, preset, {
    data: dataDir,
    avatar,
    seed: 0,
    edit: { id: o.edit },
    editor: { cacheDir: path.join(tmp, `cache-${method}`) },
    ...(o.iterations ? { iterations: Number(o.iterations) } : {}),
  });
  const runDir = path.join(tmp, `edit-${method}`);
  // The editor needs a session for the dataset's ground truth; the phases reuse it (the unedited avatar).
  const session = await AvatarSession.open(dataDir, await loadAvatar(avatar));
  const editor = new TimedEditor(makeEditor(config, ctx, session));
  console.log(`\n${method}: editing (${config.iterations} steps, ${editViews(session, config).length} views)`);
  t = performance.now();
  const summary = await editAvatar(config, { runDir, editor, editsInFlight });
  const editWall = (performance.now() - t) / 1000;
  t = performance.now();
  const edited = await AvatarSession.open(config.data, await loadAvatar(runDir));
  const original = new AvatarModel(await loadAvatar(config.avatar));
  const scores = await evaluateEdit(ctx, edited, {
    editId: config.edit.id,
    splits: config.eval.splits,
    framesPerSplit: config.eval.framesPerSplit,
    mouthOpenFraction: config.eval.mouthOpenFraction,
    original,
    blend: editedRenderSettings(config, rasterSettings()),
    embedder: null,
    figureDir: path.join(runDir, 'renders'),
  });
  original.dispose();
  edited.dispose();
  const evalSeconds = (performance.now() - t) / 1000;
  const p = await phases(config, session);
  session.dispose();
  const breakdown = {
    editor: editor.seconds,
    'render for the editor, captured image, pooling': summary.editSeconds - editor.seconds,
    'training steps (render, loss, discriminator, optimiser, logging, checkpoints)': summary.seconds - summary.editSeconds,
    evaluation: evalSeconds,
    'setup and I/O (avatar, dataset, pipelines)': editWall - summary.seconds,
  };
  const wall = editWall + evalSeconds;
  console.log(`${method}: cell ${wall.toFixed(1)} s`);
  for (const [k, v] of Object.entries(breakdown)) console.log(`  ${k.padEnd(80)} ${v.toFixed(2)} s`);
  console.log(`  per step (GPU-synchronised medians, ms):`);
  for (const [k, v] of Object.entries(p)) console.log(`    ${k.padEnd(78)} ${v.toFixed(k.includes('/') ? 2 : 3)}`);
  cells.push({
    method,
    edit: o.edit,
    iterations: summary.steps,
    edits: summary.edits,
    editorCalls: editor.calls,
    wallSeconds: wall,
    secondsBreakdown: breakdown,
    trainingMsPerStep: (1000 * (summary.seconds - summary.editSeconds)) / summary.steps,
    phaseMedianMs: p,
    scores: scores.map((s) => ({ task: s.task, frames: s.frames, psnr: s.psnr, ssim: s.ssim, regions: s.regions })),
  });
}

const res = {
  adapter: ctx.report,
  preset,
  data: dataDir,
  synthSeconds,
  avatar: o.avatar ?? null,
  recon,
  samples,
  cells,
  editsInFlight,
  env: { GAE_DAWN_FAST: process.env.GAE_DAWN_FAST ?? null },
  date: new Date().toISOString(),
};
const out = o.out ?? `results/bench/edit-cell-${ctx.report.device || ctx.report.vendor}.json`;
await writeJsonAtomic(out, res);
console.log(`wrote ${out}`);
await fs.rm(tmp, { recursive: true, force: true });
process.exit(0);
