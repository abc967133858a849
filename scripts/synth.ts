/**
 * Renders a synthetic multi-view dataset of the ICT-FaceKit head (layout: lib/data/dataset.ts).
 *   npm run data:synth -- --subject alice --preset tiny
 *   npm run data:synth -- --subject alice --preset full --frames 60 --res 802x550 --out data/synthetic/alice
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { getGpu, releaseGpu, describeAdapter } from '../lib/gpu/index.js';
import { synthConfig, writeDataset, PRESETS, type PresetName } from '../lib/data/writer.js';

const program = new Command()
  .name('data:synth')
  .description('Render a synthetic multi-view head dataset with ground truth for edits')
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
  .option('--force', 'replace an existing folder', false);

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name}: expected an integer, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const preset = o.preset as PresetName;
  if (!(preset in PRESETS)) throw new Error(`--preset: expected tiny or full, got "${preset}"`);
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
    if (!m) throw new Error(`--res: expected WxH, e.g. 802x550, got "${o.res}"`);
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
  const bar = new cliProgress.SingleBar({ format: ' {bar} {value}/{total} frames | {eta_formatted} left | {what}', hideCursor: true }, cliProgress.Presets.shades_classic);
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
}

main()
  .then(() => releaseGpu())
  .catch(async (e) => {
    console.error(`data:synth: ${(e as Error).message}`);
    await releaseGpu();
    process.exit(1);
  });
