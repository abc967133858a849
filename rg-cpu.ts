import { getGpu, releaseGpu, upload } from './lib/gpu/index.js';
import { benchCamera, benchGaussians } from './lib/raster/bench-scene.js';
import { GaussianRasterizer } from './lib/raster/gpu/rasterizer.js';
import { rasterSettings } from './lib/raster/types.js';
const flags = process.argv[2] ? [process.argv[2]] : [];
const ctx = await getGpu({ dawnFlags: flags });
const { device } = ctx;
const n = Number(process.argv[3] ?? 2000), W = 802, H = 550;
const g = benchGaussians(n, W, H); const cam = benchCamera(W, H);
const gb = { count: n, shDegree: 3 as const, means: upload(device, g.means), logScales: upload(device, g.logScales), quats: upload(device, g.quats), opacityLogits: upload(device, g.opacityLogits), sh: upload(device, g.sh) };
const s = rasterSettings();
const r = new GaussianRasterizer(ctx);
await r.prepare(s);
const st = await r.render(gb, cam, s);
const dOut = upload(device, new Float32Array(5 * W * H).fill(0.1));
const grads = r.backward(st, gb, dOut);
await device.queue.onSubmittedWorkDone();
const tf: number[] = [], tb: number[] = [];
for (let i = 0; i < 20; i++) {
  let t0 = performance.now(); r.forward(gb, cam, s, { reuse: st }); tf.push(performance.now() - t0);
  if (i === 10) { const T = (globalThis as any).__T as [string, number][]; console.log(T.map(([k, v], j) => j ? `${k} ${(v - T[j-1]![1]).toFixed(3)}` : '').join(' | ')); }
  t0 = performance.now(); r.backward(st, gb, dOut, { grads }); tb.push(performance.now() - t0);
  await device.queue.onSubmittedWorkDone();
}
tf.sort((a,b)=>a-b); tb.sort((a,b)=>a-b);
console.log(flags.join(' ') || 'default', 'forward encode ms median', tf[10]!.toFixed(3), 'backward', tb[10]!.toFixed(3));
await releaseGpu();
