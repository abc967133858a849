/**
 * The NeRF avatar (lib/nerf, INSTA + Instruct-NeRF2NeRF baseline): training iterations per second and render
 * frames per second at 802×550, beside bench:avatar's Gaussian figures.
 *
 *   gae bench nerf                                      # fresh field, full preset; a short fit first
 *   gae bench nerf --run runs/nerf-recon                # a trained run (its config and checkpoint)
 *
 * Training: `--steps` optimisation steps (march + field + compositing + backward + Adam) of `raysPerBatch`
 * rays on a posed head of a generated talking sequence, synchronised by each step's readback of the kept
 * sample count (as in reconstruction). Without --run, no dataset is needed: the target is flat grey inside
 * the field's support with that support as mask, which is enough for the density to form a shell and the
 * occupancy grid to skip the rest, as in a real run. Rendering: whole frames through renderImage (chunks of
 * evaluation.chunkRays rays), GPU-synchronised per frame.
 *
 * Writes results/bench/nerf-<vendor>.json (atomically).
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { describeAdapter, median, releaseGpu } from '../lib/gpu/index.js';
import { getGpu } from '../lib/gpu/device.js';
import { useTfjsWebGpu } from '../lib/gpu/tfjs.js';
import { makeSequence } from '../lib/data/sequences.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../lib/raster/camera.js';
import { Adam } from '../lib/train/adam.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';
import { Rng } from '../lib/util/random.js';
import { nerfReconConfig, type NerfReconConfig } from '../lib/nerf/config.js';
import { NerfAvatar, type PoseRef } from '../lib/nerf/avatar.js';
import { loadNerfAvatar, nerfStep } from '../lib/nerf/recon.js';

const program = new Command()
  .name('bench:nerf')
  .option('--run <dir>', 'a trained NeRF reconstruction run directory; default: a fresh field')
  .option('--preset <name>', 'NeRF preset of a fresh field (tiny | full)', 'full')
  .option('--res <WxH>', 'resolution', '802x550')
  .option('--fit <k>', 'steps before timing (a fresh field learns the silhouette; occupancy updates)', '300')
  .option('--steps <k>', 'timed training steps', '100')
  .option('--frames <k>', 'timed rendered frames', '5')
  .option('--fast', 'Dawn without validation and robustness checks (trusted code)')
  .option('--out <file>', 'output JSON (default results/bench/nerf-<vendor>.json)');
program.parse();
const o = program.opts<{ run?: string; preset: string; res: string; fit: string; steps: string; frames: string; fast?: boolean; out?: string }>();
const [W, H] = o.res.split('x').map(Number) as [number, number];
if (o.preset !== 'tiny' && o.preset !== 'full') throw new Error(`--preset: "${o.preset}" is not tiny or full`);

const ctx = await getGpu(o.fast ? { dawnFlags: ['enable-dawn-features=allow_unsafe_apis,skip_validation,disable_robustness'] } : {});
await useTfjsWebGpu();
console.log(`adapter: ${describeAdapter(ctx.report)}`);

let avatar: NerfAvatar;
let config: NerfReconConfig;
if (o.run) {
  ({ avatar, config } = await loadNerfAvatar(o.run));
} else {
  config = nerfReconConfig(o.preset, { data: '(bench: no dataset)' });
  avatar = await NerfAvatar.create(config, new Float32Array(20));
}
const seq = makeSequence({ frames: 60, seed: 4, identity: new Float32Array(20), kind: 'train' });
const cam = makeCamera(intrinsicsFromFov(W, H, 22), lookAt([0, 0.0, 0.75], [0, -0.005, 0.02]));
const poses: PoseRef[] = seq.params.map((head, i) => ({ key: `bench:${i}`, head }));
const bg: [number, number, number] = [1, 1, 1];
const adam = new Adam();
const rng = new Rng(1);
const R = config.train.raysPerBatch;
// Target: grey inside the silhouette of the untrained field's support (every ray that keeps a sample).
const sil = await avatar.renderImage(poses[0]!, cam, bg, config.evaluation.chunkRays);
const mask = tf.tensor1d(sil.alpha.map((a) => (a > 1e-6 ? 1 : 0)));
const rgb = tf.tidy(
  () =>
    tf
      .tile(mask.reshape([-1, 1]), [1, 3])
      .mul(-0.5)
      .add(1) as tf.Tensor2D,
);

const step = async (i: number) => {
  if (avatar.occupancy.due(i)) avatar.occupancy.update(avatar.field, i);
  const pixels = Uint32Array.from({ length: R }, () => rng.int(W * H));
  const r = await nerfStep(avatar, adam, config, poses[i % poses.length]!, cam, { rgb, mask }, pixels, i, bg, i);
  r.value?.dispose();
  return r.count;
};
const fit = Number(o.fit);
for (let i = 0; i < fit; i++) await step(i);
const steps = Number(o.steps);
const stepMs: number[] = [];
const samples: number[] = [];
for (let i = fit; i < fit + steps; i++) {
  const t0 = performance.now();
  samples.push(await step(i));
  await ctx.device.queue.onSubmittedWorkDone();
  stepMs.push(performance.now() - t0);
}
const frameMs: number[] = [];
for (let i = 0; i < Number(o.frames) + 1; i++) {
  const t0 = performance.now();
  await avatar.renderImage(poses[i % poses.length]!, cam, bg, config.evaluation.chunkRays);
  await ctx.device.queue.onSubmittedWorkDone();
  if (i > 0) frameMs.push(performance.now() - t0); // the first builds the pose's grid
}
const result = {
  adapter: ctx.report,
  source: o.run ?? `fresh field (${o.preset} preset), ${fit} fitting steps on a grey silhouette`,
  resolution: [W, H],
  config: { field: config.field, march: config.march, occupancy: config.occupancy, raysPerBatch: R },
  dawn: o.fast ? 'fast' : 'default',
  train: { stepMs: median(stepMs), itersPerSecond: 1000 / median(stepMs), raysPerSecond: (1000 * R) / median(stepMs), keptSamplesPerStep: median(samples) },
  render: { frameMs: median(frameMs), fps: 1000 / median(frameMs), occupiedFraction: await avatar.occupancy.occupiedFraction() },
  note: 'training step = march (nearest-triangle deformation per sample) + hash encoding + MLPs + compositing + backward + Adam, synchronised per step; render = whole frame, chunked, synchronised; pose grids cached after their first use',
  date: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
const out = o.out ?? `results/bench/nerf-${ctx.report.vendor}.json`;
await writeJsonAtomic(out, result);
console.log(`wrote ${out}`);
avatar.dispose();
await releaseGpu();
process.exit(0);
