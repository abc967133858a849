/**
 * The README's main job on a fresh machine: a small end-to-end run on the built-in synthetic data.
 *   1. synthesises the tiny dataset (data/synthetic/demo) if absent,
 *   2. reconstructs an animatable avatar on it (a short tiny schedule; resumes if interrupted),
 *   3. evaluates novel view, self- and cross-identity reenactment,
 *   4. edits the avatar from a text instruction ("turn his teeth gold") with the `ours` method (WABE and the
 *      adversarial loss; the offline 2D editor) and scores it against the ground-truth edit,
 *   and writes renders and metrics under results/demo/, ending with the absolute path of summary.md.
 *   gae demo [--iterations N] [--edit-iterations N] [--no-edit]   (npm run demo)
 *
 * Sized to finish within 5 minutes on two CPU cores without a GPU (lavapipe): fewer reconstruction steps
 * than the tiny preset, a few frames per evaluation split, six edited views. Every phase prints progress
 * with its rate and ETA; Ctrl-C checkpoints and exits (rerunning resumes).
 */
import { Command } from 'commander';
import * as path from 'node:path';
import { describeAdapter } from '../gpu/index.js';
import { useTfjsWebGpu } from '../gpu/tfjs.js';
import { releaseGpu } from '../gpu/device.js';
import { exists, writeFileAtomic } from '../util/atomic.js';
import { synthConfig, writeDataset } from '../data/writer.js';
import { reconConfig, RECON_PRESETS } from '../train/config.js';
import { runReconstruction } from '../train/recon.js';
import { methodConfig, runEdit } from '../edit/run.js';
import { instructionOf } from '../edit/loop.js';
import { mergeConfig } from '../util/config.js';
import { formatDuration, intOption, progressPrinter } from './modules.js';
import { reportFailure, takeDebugFlag } from './errors.js';
import { catchStopSignals } from '../train/stop.js';

/** The demo's schedule: every size it changes from the tiny presets, in one place. */
const DEMO = {
  // About 2 CPU-seconds per step on lavapipe (49k Gaussians); the evaluation frames cost 0.5–1 s each.
  reconIterations: 100,
  editIterations: 30,
  editViews: 6,
  /** Frames per evaluation split (reconstruction and edit). */
  evalFrames: 4,
} as const;

const { argv, debug } = takeDebugFlag(process.argv);
const o = new Command()
  .name('demo')
  .option('--iterations <n>', 'reconstruction iterations', intOption('--iterations', { min: 1 }), DEMO.reconIterations)
  .option('--edit-iterations <n>', 'editing iterations', intOption('--edit-iterations', { min: 1 }), DEMO.editIterations)
  .option('--out <dir>', 'output folder', 'results/demo')
  .option('--data <dir>', 'dataset folder (synthesised there when absent)', 'data/synthetic/demo')
  .option('--edit <id>', 'edit of the synthetic data to apply after reconstruction', 'gold-teeth')
  .option('--no-edit', 'stop after the reconstruction')
  .parse(argv)
  .opts<{ iterations: number; editIterations: number; out: string; data: string; edit: string | false }>();

const t0 = performance.now();
const elapsed = () => formatDuration((performance.now() - t0) / 1000);
/** GAE_DEMO_CPU=1 adds the process's CPU seconds to each line (sizing the demo on a shared machine). */
const cpu = () => (process.env.GAE_DEMO_CPU ? ` cpu ${((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1)} s` : '');
const say = (m: string) => console.log(`[${elapsed()}${cpu()}] ${m}`);
const out = path.resolve(o.out);
const stop = catchStopSignals();

async function demo(): Promise<string> {
  const ctx = await useTfjsWebGpu();
  say(`adapter: ${describeAdapter(ctx.report)}`);
  const data = path.resolve(o.data);
  if (!(await exists(path.join(data, 'dataset.json')))) {
    say(`synthesising the tiny dataset into ${data}`);
    const p = progressPrinter(`[synth] frames`, { unit: 'frames', write: say });
    await writeDataset(ctx, data, synthConfig('tiny', { subject: 'demo', seed: 1 }), { onProgress: (d, n) => (d > 0 ? p(d, n) : undefined) });
  }
  const config = reconConfig(
    mergeConfig(RECON_PRESETS.tiny, { name: 'demo', data, iterations: o.iterations, eval: { framesPerSplit: DEMO.evalFrames } }) as Parameters<
      typeof reconConfig
    >[0],
    'demo',
  );
  const runDir = path.join(out, 'recon');
  say(`reconstructing (${config.iterations} steps) into ${runDir}`);
  const r = await runReconstruction(config, {
    runDir,
    log: say,
    onStep: progressPrinter('[recon] step', { write: say }),
    onEvalFrame: progressPrinter('[recon] evaluating frame', { unit: 'frames', write: say }),
    stop,
  });
  const lines = [
    `# Demo: reconstruction and a text edit on the tiny synthetic dataset`,
    ``,
    `Adapter: ${describeAdapter(ctx.report)}. ${r.train.steps} iterations, ${r.train.gaussians} Gaussians, ${r.train.itersPerSecond.toFixed(2)} it/s.`,
    ``,
    `| task | frames | PSNR (dB) | SSIM | LPIPS |`,
    `| --- | ---: | ---: | ---: | --- |`,
    ...r.eval.map((e) => `| ${e.task} | ${e.frames} | ${e.psnr.toFixed(2)} | ${e.ssim.toFixed(4)} | not computed (no weights offline) |`),
    ``,
    `Renders (ground truth | render | error ×4): ${r.eval.map((e) => `[${e.split}](recon/renders/eval-${e.split}.png)`).join(', ')}.`,
    ``,
  ];
  for (const e of r.eval) say(`${e.task.padEnd(18)} PSNR ${e.psnr.toFixed(2)} dB  SSIM ${e.ssim.toFixed(4)}  (${e.frames} frames)`);
  say(`renders: ${path.join(runDir, 'renders')}`);
  if (o.edit) {
    // The editing method on the avatar just built: the tiny schedule, `ours` (WABE + adversarial loss).
    const edit = methodConfig(
      'ours',
      'tiny',
      {
        data,
        avatar: runDir,
        edit: { id: o.edit },
        iterations: o.editIterations,
        views: { maxViews: DEMO.editViews },
        editor: { cacheDir: path.join(out, 'edit-cache') },
        eval: { framesPerSplit: DEMO.evalFrames },
      },
      'demo',
    );
    const editDir = path.join(out, 'edit');
    say(`editing: "${instructionOf(edit)}" (${edit.views.maxViews} views, ${edit.iterations} steps) into ${editDir}`);
    const e = await runEdit(edit, {
      runDir: editDir,
      log: say,
      onInitialEdit: progressPrinter('[edit] initial pass, view', { unit: 'views', write: say }),
      onStep: progressPrinter('[edit] step', { write: say }),
      onEvalFrame: progressPrinter('[edit] evaluating frame', { unit: 'frames', write: say }),
      stop,
    });
    const f = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));
    lines.push(
      `## Edit: "${instructionOf(edit)}" (method \`ours\`, ${e.edit.steps} steps, ${e.edit.edits} 2D edits, ${e.edit.seconds.toFixed(0)} s)`,
      ``,
      `PSNR (dB) of the edited avatar against the ground-truth edit:`,
      ``,
      `| task | frames | image | head | mouth interior | skin |`,
      `| --- | ---: | ---: | ---: | ---: | ---: |`,
      ...e.eval.map(
        (s) => `| ${s.task} | ${s.frames} | ${f(s.psnr)} | ${f(s.regions.head?.psnr)} | ${f(s.regions.mouthInterior?.psnr)} | ${f(s.regions.skin?.psnr)} |`,
      ),
      ``,
      `Renders (unedited | edited | GT edit | error ×4): ${e.eval.map((s) => `[${s.split}](edit/renders/edit-${s.split}.png)`).join(', ')}.`,
      ``,
    );
    for (const s of e.eval) say(`edit ${s.task.padEnd(18)} PSNR to GT edit ${f(s.psnr)} dB (mouth interior ${f(s.regions.mouthInterior?.psnr)})`);
    say(`renders: ${path.join(editDir, 'renders')}`);
  }
  lines.push(`Wall time: ${elapsed()} (m:ss).`, ``);
  const summary = path.join(out, 'summary.md');
  await writeFileAtomic(summary, lines.join('\n'));
  return summary;
}

// No top-level await: tslab runs lib/ as CommonJS (test/notebooks/tslab-compat.test.ts).
async function main(): Promise<void> {
  try {
    const summary = await demo();
    say(`done; summary: ${summary}`);
  } catch (e) {
    reportFailure(e, 'demo', debug);
  } finally {
    stop.dispose();
    await releaseGpu().catch(() => {});
  }
  process.exit(process.exitCode ?? 0);
}
void main();
