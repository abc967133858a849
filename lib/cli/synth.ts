/**
 * `gae synth`: render a synthetic multi-view dataset of the ICT-FaceKit head, with ground truth for edits
 * (layout: lib/data/dataset.ts). `npm run data:synth` runs it too.
 */
import type { Command } from 'commander';
import { CliError } from './modules.js';

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`--${name}: expected an integer, got "${v}"`, 2);
  return n;
}

/** Adds the synth options and action to `cmd` (the gae subcommand, or the npm script's own program). */
export function synthCommand(cmd: Command): Command {
  return cmd
    .description('render a synthetic multi-view head dataset (ICT-FaceKit) with ground truth for edits')
    .requiredOption('--subject <name>', 'subject name (folder name)')
    .option('--preset <preset>', 'tiny | full', 'tiny')
    .option('--frames <n>', 'training timesteps (held-out and cross sequences get half as many, at least 2)')
    .option('--test-frames <n>', 'held-out (self-reenactment) timesteps')
    .option('--cross-frames <n>', 'cross-identity timesteps')
    .option('--res <WxH>', 'image resolution, e.g. 802x550')
    .option('--cameras <n>', 'number of cameras')
    .option('--held-out <list>', 'comma-separated held-out camera indices')
    .option('--seed <n>', 'subject seed (identity, texture, sequences, camera jitter)', '1')
    .option('--supersample <n>', 'anti-aliasing factor')
    .option('--tile <n>', 'texture atlas tile size (the atlas is 4n × 3n)')
    .option('--out <dir>', 'output folder (default data/synthetic/<subject>)')
    .option('--force', 'replace an existing folder', false)
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { default: cliProgress } = await import('cli-progress');
      const { getGpu, releaseGpu, describeAdapter } = await import('../gpu/index.js');
      const { synthConfig, writeDataset, PRESETS } = await import('../data/writer.js');
      type PresetName = keyof typeof PRESETS;
      const preset = o.preset as PresetName;
      if (!(preset in PRESETS)) throw new CliError(`--preset: expected tiny or full, got "${preset}"`, 2);
      const over: Parameters<typeof synthConfig>[1] = { subject: o.subject as string, seed: int(o.seed as string, 'seed')! };
      const set = <K extends keyof typeof over>(k: K, v: (typeof over)[K] | undefined) => {
        if (v !== undefined) over[k] = v;
      };
      set('frames', int(o.frames as string, 'frames'));
      set('testFrames', int(o.testFrames as string, 'test-frames'));
      set('crossFrames', int(o.crossFrames as string, 'cross-frames'));
      set('cameras', int(o.cameras as string, 'cameras'));
      set('supersample', int(o.supersample as string, 'supersample'));
      set('tileSize', int(o.tile as string, 'tile'));
      if (o.res) {
        const m = /^(\d+)x(\d+)$/.exec(o.res as string);
        if (!m) throw new CliError(`--res: expected WxH, e.g. 802x550, got "${o.res}"`, 2);
        over.width = Number(m[1]);
        over.height = Number(m[2]);
      }
      if (o.heldOut) over.heldOut = (o.heldOut as string).split(',').map((s) => int(s.trim(), 'held-out')!);
      const cfg = synthConfig(preset, over);
      const out = (o.out as string | undefined) ?? `data/synthetic/${cfg.subject}`;
      const ctx = await getGpu();
      console.log(`adapter: ${describeAdapter(ctx.report)}`);
      console.log(
        `subject ${cfg.subject} (seed ${cfg.seed}), ${cfg.cameras} cameras (held out: ${cfg.heldOut.join(',')}), ${cfg.width}x${cfg.height}, ` +
          `timesteps train ${cfg.frames} / held-out ${cfg.testFrames} / cross ${cfg.crossFrames} → ${out}`,
      );
      const bar = new cliProgress.SingleBar(
        { format: ' {bar} {value}/{total} frames | {eta_formatted} left | {what}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      const t0 = performance.now();
      let started = false;
      await writeDataset(ctx, out, cfg, {
        replace: o.force === true,
        onProgress: (done, total, what) => {
          if (!started) {
            bar.start(total, 0, { what });
            started = true;
          }
          bar.update(done, { what });
        },
      }).finally(() => bar.stop());
      console.log(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await releaseGpu();
    });
}

export function register(program: Command): void {
  synthCommand(program.command('synth'));
}
