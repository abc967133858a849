/**
 * Real-time rendering of an animatable avatar: frames per second of deform (blendshapes + jaw/neck) +
 * bind (triangle frames → world Gaussians) + rasterize (forward), GPU-synchronised, at 802×550 (the
 * GaussianAvatars training size) over a talking sequence.
 *
 *   gae bench avatar --ply results/runs/.../avatar.ply     # a trained avatar
 *   gae bench avatar --per-triangle 2                      # a generated one (N = 2 × triangles)
 *
 * Writes results/bench/avatar-<vendor>.json (atomically): frame ms synchronised each frame (median, p90) and
 * back to back (fps = throughput, as a viewer renders), per-stage GPU times from timestamp queries, the
 * Gaussian count, the adapter.
 */
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { GpuProfiler, describeAdapter, getGpu, median, releaseGpu } from '../lib/gpu/index.js';
import { loadHeadModel } from '../lib/head/model.js';
import { renderedTriangles } from '../lib/head/atlas.js';
import { makeSequence } from '../lib/data/sequences.js';
import { initBoundGaussians } from '../lib/avatar/gaussians.js';
import { readAvatarPly } from '../lib/avatar/io.js';
import { AvatarRenderer } from '../lib/avatar/gpu-render.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../lib/raster/camera.js';
import { rasterSettings } from '../lib/raster/types.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';
import { Rng } from '../lib/util/random.js';

const program = new Command()
  .name('bench:avatar')
  .option('--ply <file>', 'avatar .ply (local parameters + binding_0); default: a generated avatar')
  .option('--per-triangle <k>', 'Gaussians per triangle of the generated avatar', '2')
  .option('--res <WxH>', 'resolution', '802x550')
  .option('--frames <k>', 'timed frames', '300')
  .option('--warmup <k>', 'warm-up frames', '20')
  .option('--safe', 'Dawn with validation and robustness on (as GAE_DAWN_SAFE=1; the default is the fast toggles, lib/gpu/device.ts)')
  .option('--out <file>', 'output JSON (default results/bench/avatar-<vendor>.json)');
program.parse();
const o = program.opts<{ ply?: string; perTriangle: string; res: string; frames: string; warmup: string; safe?: boolean; out?: string }>();
const [W, H] = o.res.split('x').map(Number) as [number, number];

if (o.safe) process.env.GAE_DAWN_SAFE = '1';
const ctx = await getGpu({ dawnFlags: ['disable-dawn-features=timestamp_quantization'] });
console.log(`adapter: ${describeAdapter(ctx.report)}`);
const head = await loadHeadModel();
let g;
if (o.ply) {
  g = readAvatarPly(new Uint8Array(await fs.readFile(o.ply)), o.ply, head.triangleCount, renderedTriangles(head));
} else {
  const tris = renderedTriangles(head);
  g = initBoundGaussians(tris.length, { perTriangle: Number(o.perTriangle), shDegree: 3, opacity: 0.7, seed: 1 });
  const rng = new Rng(2);
  for (let n = 0; n < g.count; n++) {
    g.binding[n] = tris[g.binding[n]!]!;
    for (let i = 0; i < 3; i++) g.logScales[3 * n + i] = -0.6 + 0.2 * rng.normal();
  }
}
const seq = makeSequence({ frames: 120, seed: 4, identity: new Float32Array(20), kind: 'train' });
const cam = makeCamera(intrinsicsFromFov(W, H, 22), lookAt([0, 0.0, 0.75], [0, -0.005, 0.02]));
const settings = rasterSettings({ shDegree: g.shDegree, background: [1, 1, 1] });
const r = new AvatarRenderer(ctx, head, g);
await r.prepare(settings);
const { device } = ctx;
const frames = Number(o.frames),
  warmup = Number(o.warmup);
const times: number[] = [];
for (let i = 0; i < warmup + frames; i++) {
  const p = seq.params[i % seq.params.length]!;
  const t0 = performance.now();
  await r.render(p, cam, settings);
  await device.queue.onSubmittedWorkDone();
  if (i >= warmup) times.push(performance.now() - t0);
}
// Throughput: frames submitted back to back (as a viewer renders), one synchronisation at the end.
const tB = performance.now();
for (let i = 0; i < frames; i++) await r.render(seq.params[i % seq.params.length]!, cam, settings);
await device.queue.onSubmittedWorkDone();
const backToBackMs = (performance.now() - tB) / frames;
// Per-stage GPU times on separate runs (timestamps add a little overhead).
const stages = new Map<string, number[]>();
for (let i = 0; i < 30; i++) {
  const prof = new GpuProfiler(ctx, 64);
  prof.begin();
  await r.render(seq.params[i % seq.params.length]!, cam, settings, prof);
  const enc = device.createCommandEncoder();
  prof.resolveInto(enc);
  device.queue.submit([enc.finish()]);
  const t = await prof.read();
  for (const [k, v] of t.passes) stages.set(k, [...(stages.get(k) ?? []), v]);
  prof.destroy();
}
const sorted = [...times].sort((a, b) => a - b);
const med = median(times);
const result = {
  adapter: ctx.report,
  gaussians: r.count,
  source: o.ply ?? `generated, ${o.perTriangle} per rendered triangle`,
  resolution: [W, H],
  frames,
  dawn: ctx.report.dawn === 'safe' ? 'safe (GAE_DAWN_SAFE=1)' : 'default (no flags: the fast toggles, lib/gpu/device.ts)',
  frameMs: { median: med, p90: sorted[Math.floor(0.9 * (sorted.length - 1))], backToBack: backToBackMs },
  fps: 1000 / backToBackMs,
  fpsSynchronisedEachFrame: 1000 / med,
  stagesMs: Object.fromEntries([...stages].map(([k, v]) => [k, median(v)])),
  note: 'deform (blendshapes + jaw/neck) + bind + rasterize forward, one submit per frame, synchronised each frame',
  date: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
const out = o.out ?? `results/bench/avatar-${ctx.report.vendor}.json`;
await writeJsonAtomic(out, result);
console.log(`wrote ${out}`);
r.destroy();
await releaseGpu();
process.exit(0);
