/**
 * Where a discriminator step's time goes (the adversarial term of the editing loop, docs/method.md §5), on a
 * synthetic batch at the editing loop's discriminator input size, without a dataset or an avatar.
 *
 *   gae bench discriminator [--preset tiny|full] [--size HxW] [--real N] [--steps N] [--out FILE]
 *
 * full: 275×401 (802×550 renders pooled ×2, as `adversarialDownsample: 2` gives), 4 reals + 1 fake, the
 * discriminator of the edit preset of the same name (lib/edit/config.ts `EDIT_PRESETS`). tiny: 48×64, runs in well under a minute on
 * lavapipe.
 *
 * 1. Phases of one step, each GPU-synchronised, medians over `--steps` after a warm-up: the input batch
 *    (upload of the pool's CPU images, image ⊕ condition, [-1, 1]), power iteration, the live weights (σ and
 *    W/σ), forward + hinge loss, forward + backward (tf.variableGrads, no update), Adam on given gradients,
 *    the snapshot for the generator loss, one readback of a scalar after the GPU is idle, and the whole
 *    `Adversary.stepOn` (which also reads its loss and scores back).
 * 2. Per conv layer at its real input shape: tfjs's forward, the input gradient (ours and tfjs's
 *    conv2dTranspose), the filter gradient (ours), each with GMAC/s, so a slow kernel shows against its work.
 * 3. Per whole step: tfjs programs dispatched (by program), pipelines tfjs compiled, readbacks.
 * Each timing also has this process's CPU time beside it (see `timeIt`). `--input-grad tfjs` runs the step's
 * phases with tfjs's conv2dTranspose as the input gradient instead of ours (lib/adversarial/conv.ts); `--fused` with
 * each block as conv.ts's `convBlock` (one forward kernel, two backward).
 * Writes results/bench/discriminator-<device>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { describeAdapter, median } from '../lib/gpu/index.js';
import { flushTfjs, useTfjsWebGpu } from '../lib/gpu/tfjs.js';
import { Adversary, toBatch } from '../lib/adversarial/adversary.js';
import { hingeDiscriminatorLoss } from '../lib/adversarial/losses.js';
import * as conv from '../lib/adversarial/conv.js';
import { Rng } from '../lib/util/random.js';
import type { RgbImage } from '../lib/util/image.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';
import { EDIT_PRESETS } from '../lib/edit/config.js';

const o = new Command()
  .option('--preset <name>', 'tiny (lavapipe, CI) or full (GPU)', 'full')
  .option('--size <HxW>', "discriminator input size (default: the preset's, 275x401 or 48x64)")
  .option('--real <n>', 'real samples per step (the pool batch; one fake is added)', '4')
  .option('--steps <n>', 'samples per phase (default 10, tiny 2)')
  .option('--no-layers', 'skip the per-layer kernel timings')
  .option('--input-grad <kind>', "the step's conv input gradient: tiled (ours) or tfjs (conv2dTranspose)", 'tiled')
  .option('--fused', 'each block (conv, bias, LeakyReLU) as one forward and two backward kernels (discriminator.fused)')
  .option('--out <file>', 'output JSON (default results/bench/discriminator-<device>.json)')
  .parse()
  .opts<{ preset: string; size?: string; real: string; steps?: string; layers: boolean; inputGrad: string; fused?: boolean; out?: string }>();

if (o.preset !== 'tiny' && o.preset !== 'full') throw new Error(`--preset: "${o.preset}" is not tiny or full`);
const [H, W] = (o.size ?? (o.preset === 'tiny' ? '48x64' : '275x401')).split('x').map(Number) as [number, number];
if (!(H > 0 && W > 0)) throw new Error(`--size: "${o.size}" is not HxW`);
if (o.inputGrad !== 'tiled' && o.inputGrad !== 'tfjs') throw new Error(`--input-grad: "${o.inputGrad}" is not tiled or tfjs`);
// Absent before the option existed (a bench run against an older checkout).
if (conv.convOptions) conv.convOptions.inputGrad = o.inputGrad;
const nReal = Number(o.real);
const samples = Number(o.steps ?? (o.preset === 'tiny' ? 2 : 10));
const warmup = 1;

const ctx = await useTfjsWebGpu();
console.log(`adapter: ${describeAdapter(ctx.report)}`);
// tfjs holds back up to 15 dispatches before it submits; without the flush a sync could return before them.
const sync = () => {
  flushTfjs();
  return ctx.device.queue.onSubmittedWorkDone();
};

// Counters on tfjs's backend: programs run, pipelines compiled, GPU → CPU reads.
interface BackendHooks {
  runWebGPUProgram: (program: { constructor: { name: string } }, ...rest: unknown[]) => unknown;
  read: (...a: unknown[]) => Promise<unknown>;
  pipelineCache: Record<string, unknown>;
}
const be = tf.backend() as unknown as BackendHooks;
const programs = new Map<string, number>();
let reads = 0;
{
  const run = be.runWebGPUProgram.bind(be);
  be.runWebGPUProgram = (p, ...rest) => {
    programs.set(p.constructor.name, (programs.get(p.constructor.name) ?? 0) + 1);
    return run(p, ...rest);
  };
  const read = be.read.bind(be);
  be.read = (...a) => {
    reads++;
    return read(...a);
  };
}

/**
 * This process's CPU time (all threads) during each timed call, medians like the wall times. On a software
 * adapter (lavapipe) the GPU's work runs on this process's threads, so this counts the work done even when
 * other processes share the cores and stretch the wall clock; on a GPU it is only the CPU's side.
 */
const cpuMs: Record<string, number> = {};
let lastCpu = 0;

async function timeIt(fn: () => Promise<void> | void, n = samples): Promise<number> {
  const ts: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    await sync();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    await sync();
    const c = process.cpuUsage(c0);
    if (i >= warmup) {
      ts.push(performance.now() - t0);
      cs.push((c.user + c.system) / 1000);
    }
  }
  lastCpu = median(cs);
  return median(ts);
}
/** timeIt, recording the CPU time under `name`. */
async function phase(name: string, fn: () => Promise<void> | void, n = samples): Promise<number> {
  const ms = await timeIt(fn, n);
  cpuMs[name] = lastCpu;
  return ms;
}

const rng = new Rng(1);
const image = (): RgbImage => ({ width: W, height: H, data: Float32Array.from({ length: W * H * 3 }, () => rng.next()) });
const reals = Array.from({ length: nReal }, () => ({ image: image(), condition: image() }));
const fake = { image: tf.tensor3d(image().data, [H, W, 3]), condition: tf.tensor3d(image().data, [H, W, 3]) };
// The discriminator the editing loop builds at this preset (full: 32 channels, 3 blocks), not the schema's default.
const preset = EDIT_PRESETS[o.preset].adversarial;
const adv = new Adversary({ ...preset, discriminator: { ...preset.discriminator, fused: o.fused ?? false } });
const D = adv.discriminator;

/** The step's input batch as Adversary builds it: reals then the fake, image ⊕ condition in [-1, 1]. */
const inputs = (): tf.Tensor4D =>
  tf.tidy(() => {
    const one = (s: { image: RgbImage | tf.Tensor3D; condition: RgbImage | tf.Tensor3D }) =>
      tf.concat([toBatch(s.image, 'image'), toBatch(s.condition, 'condition')], 3);
    return tf.sub(tf.mul(tf.concat([...reals.map(one), one(fake)], 0), 2), 1) as tf.Tensor4D;
  });
const lossOf = (x: tf.Tensor4D) => {
  const logits = D.forward(x, D.liveWeights(), { inputGrad: false });
  const [r, f] = tf.split(logits, [nReal, logits.shape[0] - nReal], 0);
  return hingeDiscriminatorLoss(r!, f!);
};

await adv.stepOn(reals, [fake]); // Adam's moments, every pipeline
const x = inputs();
const vars = D.trainableVariables;
const phases: Record<string, number> = {
  'input batch (upload, image ⊕ condition)': await phase('input batch (upload, image ⊕ condition)', () => inputs().dispose()),
  'power iteration': await phase('power iteration', () => D.powerIterate()),
  'live weights (σ, W/σ)': await phase('live weights (σ, W/σ)', () => tf.dispose(tf.tidy(() => D.liveWeights().W.map((t) => t.clone())))),
  'forward + loss': await phase('forward + loss', () => tf.tidy(() => void lossOf(x))),
  'forward + backward': await phase('forward + backward', () => {
    const { value, grads } = tf.variableGrads(() => lossOf(x), vars);
    tf.dispose([value, ...Object.values(grads)]);
  }),
};
{
  const { value, grads } = tf.variableGrads(() => lossOf(x), vars);
  value.dispose();
  // Zero gradients: Adam's update is the same work, and the weights stay where they are.
  const zeros: tf.NamedTensorMap = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.zerosLike(g)]));
  tf.dispose(Object.values(grads));
  phases['optimiser (Adam)'] = await phase('optimiser (Adam)', () =>
    adv.optimizer.applyGradients(zeros as unknown as tf.NamedTensorMap & Record<string, tf.Variable>),
  );
  tf.dispose(Object.values(zeros));
}
phases['snapshot for the generator loss'] = await phase('snapshot for the generator loss', () => {
  const s = D.snapshot();
  tf.dispose([...s.W, ...s.b.filter((t): t is tf.Tensor1D => t !== null)]);
});
phases['readback of a scalar (GPU idle)'] = await phase('readback of a scalar (GPU idle)', async () => {
  const s = tf.scalar(1).add(1);
  await s.data();
  s.dispose();
});
// GPU time of tfjs's own programs in one forward + backward (timestamp queries, where the adapter has them):
// what is left of the wall time is our kernels (conv.ts), dispatch and waiting.
let tfjsGpu: { kernelMs: number; byProgram: Record<string, number> } | null = null;
try {
  await sync();
  const t = await tf.time(() => {
    const { value, grads } = tf.variableGrads(() => lossOf(x), vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const byProgram: Record<string, number> = {};
  const info = (t as unknown as { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.() ?? '';
  for (const part of info.split(', ')) {
    const m = /^(.*): ([\d.e+-]+)$/.exec(part);
    if (m) byProgram[m[1]!] = (byProgram[m[1]!] ?? 0) + Number(m[2]);
  }
  tfjsGpu = { kernelMs: t.kernelMs as number, byProgram };
  console.log(`  tfjs programs' GPU time in forward + backward: ${(t.kernelMs as number).toFixed(2)} ms ${JSON.stringify(byProgram)}`);
} catch (e) {
  console.log(`  no tfjs GPU timing: ${(e as Error).message}`);
}
const pipelines0 = Object.keys(be.pipelineCache).length;
programs.clear();
reads = 0;
phases['whole step (Adversary.stepOn)'] = await phase('whole step (Adversary.stepOn)', () => adv.stepOn(reals, [fake]).then(() => undefined));
const perStep = samples + warmup;
const counters = {
  tfjsProgramsPerStep: [...programs.values()].reduce((a, b) => a + b, 0) / perStep,
  byProgram: Object.fromEntries([...programs.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / perStep])),
  tfjsPipelinesCompiledDuringSteps: Object.keys(be.pipelineCache).length - pipelines0,
  readbacksPerStep: reads / perStep,
};
x.dispose();

console.log(
  `discriminator step, batch ${nReal}+1 at ${H}x${W}x6, ${o.fused ? 'fused blocks' : `input gradient ${o.inputGrad}`} (GPU-synchronised medians over ${samples}, ms):`,
);
console.log(`  ${''.padEnd(44)} ${'wall'.padStart(10)} ${'process CPU'.padStart(12)}`);
for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(44)} ${v.toFixed(2).padStart(10)} ${cpuMs[k]!.toFixed(0).padStart(12)}`);
console.log(
  `  tfjs programs per step ${counters.tfjsProgramsPerStep}, pipelines compiled while stepping ${counters.tfjsPipelinesCompiledDuringSteps}, readbacks per step ${counters.readbacksPerStep}`,
);

// Per layer, at the shapes of this batch.
const layers: Record<string, unknown>[] = [];
if (o.layers) {
  const B = nReal + 1;
  let shape: [number, number, number, number] = [B, H, W, 6];
  const gmacs = (macs: number, ms: number) => macs / 1e6 / ms;
  for (const l of D.layers) {
    const f = l.W as tf.Tensor4D;
    const s = l.stride;
    const xi = tf.randomNormal(shape) as tf.Tensor4D;
    const y = tf.conv2d(xi, f, s, 'same');
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const macs = y.size * f.shape[0] * f.shape[1] * f.shape[2];
    const r: Record<string, unknown> = { layer: l.key, input: shape, filter: f.shape, stride: s, mmac: macs / 1e6 };
    const time = async (k: string, fn: () => tf.Tensor) => {
      r[`${k}Ms`] = await timeIt(() => fn().dispose(), Math.min(samples, 3));
      r[`${k}CpuMs`] = lastCpu;
      r[`${k}GmacPerS`] = gmacs(macs, r[`${k}Ms`] as number);
    };
    await time('forward', () => tf.conv2d(xi, f, s, 'same'));
    // The whole block as the discriminator runs it (conv, bias, LeakyReLU) in tfjs, and as one kernel of ours.
    const bias = tf.randomNormal([f.shape[3]]) as tf.Tensor1D;
    const slope = l.activation ? D.config.leakySlope : null;
    await time('blockForwardTfjs', () =>
      tf.tidy(() => {
        const z = tf.add(tf.conv2d(xi, f, s, 'same'), bias);
        return slope === null ? z : tf.leakyRelu(z, slope);
      }),
    );
    await time('blockForwardTiled', () => conv.conv2dForward(xi, f, s, { bias, leakySlope: slope }));
    bias.dispose();
    await time('inputGrad', () => conv.conv2dInputGrad(dy, f, shape, s));
    await time('inputGradTfjs', () => tf.conv2dTranspose(dy, f, shape, s, 'same'));
    await time('filterGrad', () => conv.conv2dFilterGrad(xi, dy, f.shape as [number, number, number, number], s));
    layers.push(r);
    const f2 = (k: string) => `${(r[`${k}Ms`] as number).toFixed(2)} ms (CPU ${(r[`${k}CpuMs`] as number).toFixed(0)})`;
    console.log(
      `  ${l.key.padEnd(7)} x[${shape}] f[${f.shape}] ${(macs / 1e6).toFixed(0)} MMAC: forward ${f2('forward')} (block: tfjs ${f2('blockForwardTfjs')}, tiled ${f2('blockForwardTiled')}), input grad ${f2('inputGrad')} (tfjs ${f2('inputGradTfjs')}), filter grad ${f2('filterGrad')}`,
    );
    shape = y.shape as [number, number, number, number];
    tf.dispose([xi, y, dy]);
  }
}

const res = {
  adapter: ctx.report,
  preset: o.preset,
  input: [nReal + 1, H, W, 6],
  inputGrad: o.inputGrad,
  discriminator: adv.config.discriminator,
  samples,
  phaseMedianMs: phases,
  phaseProcessCpuMs: cpuMs,
  counters,
  tfjsGpu,
  layers,
  date: new Date().toISOString(),
};
adv.dispose();
tf.dispose([fake.image, fake.condition]);
const out = o.out ?? `results/bench/discriminator-${ctx.report.device || ctx.report.vendor}.json`;
await writeJsonAtomic(out, res);
console.log(`wrote ${out}`);
process.exit(0);
