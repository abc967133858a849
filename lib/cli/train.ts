/** `gae train`: reconstruct an avatar from a dataset into a run directory (resumable), then evaluate it. */
import type { Command } from 'commander';
import { CliError, intOption, readConfigOverrides, stepPrinter } from './modules.js';

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'reconstruct an animatable Gaussian avatar (GaussianAvatars) from a synthetic dataset, then evaluate it on novel view, self- and cross-identity reenactment; rerunning resumes from the last checkpoint',
    )
    .requiredOption('--data <dir>', 'dataset folder (gae synth)')
    .option('--run <dir>', 'run directory', '')
    .option('--preset <name>', 'tiny | full: schedule defaults', 'full')
    .option('--config <file>', 'JSON reconstruction config (overrides the preset)')
    .option('--iterations <n>', 'training iterations', intOption('--iterations', { min: 1 }))
    .option('--seed <n>', 'seed', intOption('--seed'))
    .option('--reevaluate', 'evaluate a finished run again (rewrites its eval.json and done.json) instead of printing its stored scores')
    .action(async (o: { data: string; run: string; preset: string; config?: string; iterations?: number; seed?: number; reevaluate?: boolean }) => {
      const { reconConfig, RECON_PRESETS } = await import('../train/config.js');
      const { mergeConfig } = await import('../util/config.js');
      const { catchStopSignals } = await import('../train/stop.js');
      const { runReconstruction } = await import('../train/recon.js');
      const { releaseGpu } = await import('../gpu/device.js');
      const preset = (RECON_PRESETS as Record<string, object>)[o.preset];
      if (!preset) throw new CliError(`--preset: '${o.preset}' is not one of ${Object.keys(RECON_PRESETS).join(', ')}`, 2);
      const fromFile = await readConfigOverrides(o.config);
      let config;
      try {
        config = reconConfig(
          mergeConfig(preset, fromFile, { data: o.data, iterations: o.iterations, seed: o.seed }) as Parameters<typeof reconConfig>[0],
          o.config ?? 'gae train',
        );
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      const runDir = o.run || `results/runs/recon/${config.name}-seed${config.seed}`;
      const stop = catchStopSignals();
      let r;
      try {
        r = await runReconstruction(config, {
          runDir,
          log: (m) => process.stdout.write(`${m}\n`),
          onStep: stepPrinter(),
          stop,
          ...(o.reevaluate ? { reevaluate: true } : {}),
        });
      } finally {
        stop.dispose();
      }
      for (const e of r.eval)
        process.stdout.write(`${e.task.padEnd(18)} PSNR ${e.psnr.toFixed(2)} dB  SSIM ${e.ssim.toFixed(4)}  (${e.frames} frames; LPIPS not computed)\n`);
      process.stdout.write(`${runDir}: ${r.train.gaussians} Gaussians, ${r.train.itersPerSecond.toFixed(2)} it/s\n`);
      await releaseGpu();
    });
}
