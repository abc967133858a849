/** `gae nerf`: reconstruct the NeRF baseline avatar (INSTA-style) from a dataset, resumable, then evaluate it. */
import type { Command } from 'commander';
import { CliError, intOption, readConfigOverrides, stepPrinter } from './modules.js';

export function register(program: Command): void {
  program
    .command('nerf')
    .description(
      "reconstruct the NeRF baseline avatar (INSTA: hash-grid field in the mesh's canonical space) from a synthetic dataset, then evaluate it on novel view, self- and cross-identity reenactment; rerunning resumes from the last checkpoint",
    )
    .requiredOption('--data <dir>', 'dataset folder (gae synth)')
    .option('--run <dir>', 'run directory', '')
    .option('--preset <name>', 'tiny | full', 'full')
    .option('--config <file>', 'JSON NeRF config overrides (lib/nerf/config.ts)')
    .option('--iterations <n>', 'training iterations', intOption('--iterations', { min: 1 }))
    .action(async (o: { data: string; run: string; preset: string; config?: string; iterations?: number }) => {
      const { nerfReconConfig } = await import('../nerf/config.js');
      const { runNerfReconstruction } = await import('../nerf/recon.js');
      const { releaseGpu } = await import('../gpu/device.js');
      if (o.preset !== 'tiny' && o.preset !== 'full') throw new CliError(`--preset: '${o.preset}' is not tiny or full`, 2);
      const fromFile = (await readConfigOverrides(o.config)) as Record<string, Record<string, unknown>>;
      let config;
      try {
        config = nerfReconConfig(o.preset, {
          ...fromFile,
          data: o.data,
          ...(o.iterations ? { train: { ...(fromFile.train ?? {}), iterations: o.iterations } } : {}),
        });
      } catch (e) {
        throw new CliError((e as Error).message, 2);
      }
      const runDir = o.run || `results/runs/nerf/${o.preset}-seed${config.train.seed}`;
      const r = await runNerfReconstruction(config, { runDir, log: (m) => process.stdout.write(`${m}\n`), onStep: stepPrinter() });
      for (const e of r.scores)
        process.stdout.write(`${e.task.padEnd(18)} PSNR ${e.psnr.toFixed(2)} dB  SSIM ${e.ssim.toFixed(4)}  (${e.frames} frames; LPIPS not computed)\n`);
      process.stdout.write(`${runDir}: ${r.summary.itersPerSecond.toFixed(2)} it/s\n`);
      await releaseGpu();
    });
}
