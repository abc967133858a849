/**
 * Real-time rendering of a FLAME avatar (GaussianAvatars' mesh with teeth): frames per second of FLAME
 * posing (blendshapes, pose correctives, LBS; WGSL) + bind + rasterize (forward), GPU-synchronised, at
 * 802×550 over a talking sequence. The same measurement as bench/avatar.ts, on the FLAME head.
 *
 *   gae bench flame --flame flame2023.pkl --ply point_cloud.ply   # your FLAME and a trained avatar
 *   gae bench flame                                                      # a FLAME-sized stand-in model
 *
 * Writes results/bench/flame-<vendor>.json (atomically): frame ms synchronised each frame (median, p90) and
 * back to back, per-stage GPU times, the Gaussian count, the mesh size, the adapter.
 */
import { Command } from 'commander';
import { GpuProfiler, describeAdapter, getGpu, median, releaseGpu } from '../lib/gpu/index.js';
import { loadFlame, parseFlame } from '../lib/head/flame/model.js';
import { FlameHead } from '../lib/head/flame/head.js';
import type { FlameParams } from '../lib/head/flame/lbs.js';
import { tinyFlame, tinyFlamePickle } from '../lib/ga/demo-flame.js';
import { readGaAvatar } from '../lib/ga/avatar.js';
import { initBoundGaussians } from '../lib/avatar/gaussians.js';
import { AvatarRenderer } from '../lib/avatar/gpu-render.js';
import { intrinsicsFromFov, lookAt, makeCamera } from '../lib/raster/camera.js';
import { rasterSettings } from '../lib/raster/types.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';
import { Rng } from '../lib/util/random.js';

const program = new Command()
  .name('bench:flame')
  .option('--flame <pkl>', 'FLAME model (flame2023.pkl / generic_model.pkl); default: a FLAME-sized stand-in')
  .option('--ply <file>', 'GaussianAvatars point_cloud.ply; default: a generated avatar')
  .option('--per-triangle <k>', 'Gaussians per triangle of the generated avatar', '10')
  .option('--res <WxH>', 'resolution', '802x550')
  .option('--frames <k>', 'timed frames', '300')
  .option('--warmup <k>', 'warm-up frames', '20')
  .option('--out <file>', 'output JSON (default results/bench/flame-<vendor>.json)');
program.parse();
const o = program.opts<{ flame?: string; ply?: string; perTriangle: string; res: string; frames: string; warmup: string; out?: string }>();
const [W, H] = o.res.split('x').map(Number) as [number, number];

const ctx = await getGpu({ dawnFlags: ['disable-dawn-features=timestamp_quantization'] });
console.log(`adapter: ${describeAdapter(ctx.report)}`);
let head: FlameHead;
if (o.flame) {
  head = new FlameHead(await loadFlame(o.flame));
} else {
  const fx = tinyFlame(1, { rings: 70, segments: 72 });
  head = new FlameHead(parseFlame(tinyFlamePickle(fx), 'stand-in', { lipRings: fx.lipRings }), { lipRings: fx.lipRings });
}
const model = head.model;
let g;
if (o.ply) {
  g = await readGaAvatar(o.ply, head.triangleCount);
} else {
  g = initBoundGaussians(head.triangleCount, { perTriangle: Number(o.perTriangle), shDegree: 3, opacity: 0.7, seed: 1 });
  const rng = new Rng(2);
  for (let n = 0; n < g.count; n++) for (let i = 0; i < 3; i++) g.logScales[3 * n + i] = -0.6 + 0.2 * rng.normal();
}
// A talking sequence: expressions and jaw oscillate, the head turns.
const seq: FlameParams[] = Array.from({ length: 120 }, (_, t) => {
  const p = head.neutralParams();
  for (let k = 0; k < 10; k++) p.expr[k] = Math.sin(0.2 * t + k);
  p.jaw = [0.15 * (1 + Math.sin(0.5 * t)), 0, 0];
  p.neck = [0.05 * Math.sin(0.1 * t), 0.3 * Math.sin(0.05 * t), 0];
  return p;
});
const cam = makeCamera(intrinsicsFromFov(W, H, 22), lookAt([0, 0.0, 0.75], [0, 0, 0]));
const settings = rasterSettings({ shDegree: g.shDegree, background: [1, 1, 1] });
const r = new AvatarRenderer(ctx, head, g);
await r.prepare(settings, { forwardOnly: true });
const { device } = ctx;
const frames = Number(o.frames),
  warmup = Number(o.warmup);
const times: number[] = [];
for (let i = 0; i < warmup + frames; i++) {
  const t0 = performance.now();
  await r.render(seq[i % seq.length]!, cam, settings);
  await device.queue.onSubmittedWorkDone();
  if (i >= warmup) times.push(performance.now() - t0);
}
const tB = performance.now();
for (let i = 0; i < frames; i++) await r.render(seq[i % seq.length]!, cam, settings);
await device.queue.onSubmittedWorkDone();
const backToBackMs = (performance.now() - tB) / frames;
const stages = new Map<string, number[]>();
for (let i = 0; i < 30; i++) {
  const prof = new GpuProfiler(ctx, 64);
  prof.begin();
  await r.render(seq[i % seq.length]!, cam, settings, prof);
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
  head: { model: o.flame ?? 'FLAME-sized stand-in (lib/ga/demo-flame.ts, 70×72)', vertices: model.vertexCount, triangles: model.triangleCount },
  gaussians: r.count,
  source: o.ply ?? `generated, ${o.perTriangle} per triangle`,
  resolution: [W, H],
  frames,
  frameMs: { median: med, p90: sorted[Math.floor(0.9 * (sorted.length - 1))], backToBack: backToBackMs },
  fps: 1000 / backToBackMs,
  fpsSynchronisedEachFrame: 1000 / med,
  stagesMs: Object.fromEntries([...stages].map(([k, v]) => [k, median(v)])),
  note: 'FLAME posing (blendshapes, pose correctives, LBS; joints on the CPU) + bind + rasterize forward, one submit per frame',
  date: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
const out = o.out ?? `results/bench/flame-${ctx.report.vendor}.json`;
await writeJsonAtomic(out, result);
console.log(`wrote ${out}`);
r.destroy();
await releaseGpu();
process.exit(0);
