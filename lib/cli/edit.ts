/** `gae edit`: edit a reconstructed avatar from a text instruction into a run directory (resumable), then score it. */
import type { Command } from 'commander';
import { CliError, intOption, readConfigOverrides, stepPrinter } from './modules.js';

const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

export function register(program: Command): void {
  program
    .command('edit')
    .description(
      'edit an avatar with the Instruct-NeRF2NeRF loop (+ WABE, + conditional adversarial loss), then score it against the ground-truth edit on novel view, self- and cross-identity reenactment; rerunning resumes',
    )
    .requiredOption('--data <dir>', 'dataset folder (gae synth)')
    .requiredOption('--avatar <path>', 'reconstruction run directory (gae train) or avatar .ply')
    .requiredOption('--edit <id>', 'edit id of the synthetic data (gold-teeth, green-skin, red-lipstick, blue-eyes, cheek-tattoo)')
    .option('--instruction <text>', "text instruction (default: the edit's prompt)")
    .option('--method <name>', 'ours | ours-no-wabe | ours-no-adv | ga-in2n | oracle | identity (controls)', 'ours')
    .option('--preset <name>', 'tiny | full', 'full')
    .option('--config <file>', 'JSON EditConfig overrides (deep-merged over preset and method)')
    .option('--run <dir>', 'run directory (default results/runs/edit/<method>-<edit>-seed<seed>)', '')
    .option('--iterations <n>', 'optimisation steps', intOption('--iterations', { min: 1 }))
    .option('--seed <n>', 'seed', intOption('--seed', { min: 0 }))
    .option(
      '--edits-in-flight <n>',
      '2D edits requested before earlier answers apply (wall time only; 1 = wait for each)',
      intOption('--edits-in-flight', { min: 1 }),
    )
    .action(
      async (o: {
        data: string;
        avatar: string;
        edit: string;
        instruction?: string;
        method: string;
        preset: string;
        config?: string;
        run: string;
        iterations?: number;
        seed?: number;
        editsInFlight?: number;
      }) => {
        const { methodConfig, runEdit } = await import('../edit/run.js');
        const { mergeConfig } = await import('../util/config.js');
        const { catchStopSignals } = await import('../train/stop.js');
        const { releaseGpu } = await import('../gpu/device.js');
        const fromFile = await readConfigOverrides(o.config);
        let config;
        try {
          config = methodConfig(
            o.method as never,
            o.preset as never,
            mergeConfig(fromFile, {
              data: o.data,
              avatar: o.avatar,
              edit: { id: o.edit, instruction: o.instruction ?? null },
              iterations: o.iterations,
              seed: o.seed,
            }),
            o.config ?? 'gae edit',
          );
        } catch (e) {
          throw new CliError((e as Error).message, 2);
        }
        const runDir = o.run || `results/runs/edit/${o.method}-${o.edit}-seed${config.seed}`;
        const stop = catchStopSignals();
        let r;
        try {
          r = await runEdit(config, {
            runDir,
            log: (m) => process.stdout.write(`${m}\n`),
            onStep: stepPrinter(),
            onInitialEdit: stepPrinter((l) => process.stdout.write(`initial pass: ${l.replace('step ', 'view ')}\n`)),
            stop,
            editsInFlight: o.editsInFlight,
          });
        } finally {
          stop.dispose();
        }
        for (const e of r.eval) {
          process.stdout.write(
            `${e.task.padEnd(18)} PSNR to GT edit ${fmt(e.psnr)} dB (mouth interior ${fmt(e.regions.mouthInterior?.psnr)}; mouth-open frames ${e.mouthOpenFrames}: ${fmt(e.mouthOpen.regions.mouthInterior?.psnr)})  SSIM ${fmt(e.ssim, 4)}\n`,
          );
        }
        process.stdout.write(`${runDir}: ${r.edit.steps} steps, ${r.edit.edits} 2D edits, ${r.edit.seconds.toFixed(1)} s\n`);
        await releaseGpu();
      },
    );
}
