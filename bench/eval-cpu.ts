/**
 * CPU side of an edit cell outside the GPU and the discriminator, on synthetic images at the full preset's
 * size (802×550): what lib/edit/evaluate.ts does per evaluated frame and per task's figures, what the offline
 * editor does per call (its ground-truth renders excluded: they are GPU work), and what the editing loop does
 * around each call (captured image, cache key, cache write, pooling). The same script runs on older commits:
 * where a newer helper is missing it calls what that commit's pipeline called.
 *
 *   npx tsx bench/eval-cpu.ts [--width 802] [--height 550] [--reps 5] [--gpu] [--out FILE]
 */
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Region } from '../lib/head/regions.js';
import { regionMetrics } from '../lib/metrics/regions.js';
import { editFrameSums, editScores, residualFlicker } from '../lib/metrics/edit-scores.js';
import { isMouthOpen } from '../lib/edit/evaluate.js';
import { errorImage } from '../lib/train/evaluate.js';
import { OfflineEditor, type EditGroundTruth, type GroundTruthEdit } from '../lib/edit/editors/offline.js';
import { editRequest } from '../lib/edit/editors/editor.js';
import { EditCache, editCacheKey } from '../lib/edit/editors/cache.js';
import { encodeGrayPng, encodePng, writePng, type RgbImage } from '../lib/util/image.js';
import { poolImage } from '../lib/edit/loop.js';
import { writeGridPng } from '../lib/image/grid.js';
import * as dataset from '../lib/data/dataset.js';
import type { DatasetFrame } from '../lib/data/dataset.js';
import { Rng } from '../lib/util/random.js';
import { median } from '../lib/gpu/timing.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';

async function main() {
  const o = new Command()
    .option('--width <n>', 'image width', '802')
    .option('--height <n>', 'image height', '550')
    .option('--reps <n>', 'timed repetitions (after one warm-up)', '5')
    .option('--out <file>', 'also write the medians as JSON')
    .option('--gpu', 'also time regionMetricsGpu (lib/metrics/regions-gpu.ts) on the device, and say which adapter')
    .parse()
    .opts<{ width: string; height: string; reps: string; out?: string; gpu?: boolean }>();
  const W = Number(o.width);
  const H = Number(o.height);
  const reps = Number(o.reps);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-eval-cpu-'));

  /** A head-like label map: an ellipse of skin with eyes, lips, an open mouth (teeth, tongue) and hair on top. */
  const labels = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const u = (x - W / 2) / (0.3 * W),
        v = (y - H / 2) / (0.45 * H);
      if (u * u + v * v > 1) continue;
      let r: number = Region.skin;
      if (v < -0.6) r = Region.hair;
      else if (Math.abs(v + 0.15) < 0.06 && Math.abs(Math.abs(u) - 0.35) < 0.12) r = Region.eyes;
      else if (Math.abs(u) < 0.3 && Math.abs(v - 0.5) < 0.12) r = Math.abs(v - 0.5) < 0.06 ? (v < 0.5 ? Region.teeth : Region.tongue) : Region.lips;
      labels[y * W + x] = r;
    }
  const rng = new Rng(1);
  // Smooth shading plus a little noise: compresses like a render, not like white noise.
  const image = (base: RgbImage | null, sigma: number): RgbImage => {
    const d = new Float32Array(W * H * 3);
    for (let p = 0; p < W * H; p++)
      for (let c = 0; c < 3; c++) {
        const i = 3 * p + c;
        const b = base ? base.data[i]! : labels[p] ? 0.45 + 0.25 * Math.sin(0.02 * (p % W) + c) * Math.cos(0.015 * Math.floor(p / W)) : 0.2;
        d[i] = Math.min(1, Math.max(0, b + sigma * (rng.next() - 0.5)));
      }
    return { width: W, height: H, data: d };
  };
  const gt = image(null, 0.02);
  const edited = image(gt, 0.06);
  const unedited = image(gt, 0.08);
  const captured = image(gt, 0.02);
  const edited2 = image(edited, 0.02);
  const unedited2 = image(unedited, 0.02);

  // One dataset frame on disk, as the writer stores it (8-bit RGB image, gray mask and labels).
  const frame = {
    camera: { width: W, height: H },
    image: path.join(tmp, 'image.png'),
    mask: path.join(tmp, 'mask.png'),
    labels: path.join(tmp, 'labels.png'),
  } as unknown as DatasetFrame;
  await fs.writeFile(frame.image, encodePng(captured));
  await fs.writeFile(frame.mask, encodeGrayPng({ width: W, height: H, data: Float32Array.from(labels, (l) => (l ? 1 : 0)) }));
  await fs.writeFile(frame.labels, encodeGrayPng({ width: W, height: H, data: Float32Array.from(labels) }, 1 / 255));
  const ds = dataset as Record<string, unknown>;
  const loadRgb =
    (ds.loadFrameRgb as ((f: DatasetFrame) => Promise<RgbImage>) | undefined) ?? (async (f: DatasetFrame) => (await dataset.loadFrameImages(f)).rgb);
  const loadLabels =
    (ds.loadFrameLabels as ((f: DatasetFrame) => Promise<Uint8Array>) | undefined) ?? (async (f: DatasetFrame) => (await dataset.loadFrameImages(f)).labels);

  // CPU time of the process (all its threads; the least over the repetitions) besides the median wall time: on a
  // shared machine other processes stretch the wall time, much less the CPU time a piece of work needs.
  const results: Record<string, Record<string, { cpuMs: number; wallMs: number }>> = {};
  let adapter: string | null = null;
  const row = (name: string, r: { cpuMs: number; wallMs: number }) =>
    console.log(`  ${name.padEnd(58)} ${r.cpuMs.toFixed(1).padStart(8)} ${r.wallMs.toFixed(1).padStart(8)}`);
  async function time(section: string, name: string, fn: () => unknown): Promise<void> {
    await fn();
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < reps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const r = { cpuMs: Math.min(...cpu), wallMs: median(wall) };
    (results[section] ??= {})[name] = r;
    row(name, r);
  }
  const total = (section: string, what: string) => {
    const rs = Object.values(results[section]!);
    const t = { cpuMs: rs.reduce((a, b) => a + b.cpuMs, 0), wallMs: rs.reduce((a, b) => a + b.wallMs, 0) };
    results[section]!.total = t;
    row(`= ${what}`, t);
  };

  console.log(
    `CPU parts of an edit cell at ${W}×${H}, ${reps} repetitions (node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)})`,
  );
  console.log(`${''.padEnd(60)}  CPU ms  wall ms\n${''.padEnd(60)}   (min)  (median)`);
  console.log('evaluation (lib/edit/evaluate.ts), per frame:');
  await time('evaluation', 'regionMetrics: PSNR + SSIM, image and 5 regions', () => regionMetrics(edited, gt, labels));
  if (o.gpu) {
    const { getGpu, describeAdapter } = await import('../lib/gpu/index.js');
    const { regionMetricsGpu } = await import('../lib/metrics/regions-gpu.js');
    const ctx = await getGpu();
    adapter = describeAdapter(ctx.report);
    console.log(`  (GPU: ${adapter})`);
    await regionMetricsGpu(edited, gt, labels); // pipelines
    await time('gpu', 'regionMetricsGpu: the same scores on the device (upload, 3 passes, readback)', () => regionMetricsGpu(edited, gt, labels));
  }
  await time('evaluation', 'isMouthOpen', () => isMouthOpen(labels, 0.002));
  await time('evaluation', 'editFrameSums + editScores', () => editScores(editFrameSums({ edited, unedited, captured, gt, labels }, [Region.teeth])));
  await time('evaluation', 'residualFlicker', () => residualFlicker({ edited, unedited, labels }, { edited: edited2, unedited: unedited2, labels }));
  await time('evaluation', 'captured image from disk', () => loadRgb(frame));
  await time('evaluation', "flicker: the neighbouring frame's labels from disk", () => loadLabels(frame));
  total('evaluation', 'per frame');
  console.log('evaluation figures, per task (3 rows):');
  await time('figures', '3 × (errorImage + 3 frame PNGs) + the grid PNG', async () => {
    const rows = [];
    for (let r = 0; r < 3; r++) {
      rows.push({ label: `row ${r}`, images: [unedited, edited, gt, errorImage(edited, gt)] });
      for (const [k, img] of [
        ['u', unedited],
        ['e', edited],
        ['g', gt],
      ] as const)
        await writePng(path.join(tmp, 'frames', `${r}-${k}.png`), img);
    }
    await writeGridPng({ columns: ['unedited', 'edited', 'GT edit', '|error| x4'], rows }, path.join(tmp, 'grid.png'));
  });

  console.log('offline editor, per call (ground-truth renders excluded):');
  const gtEdit: GroundTruthEdit = {
    original: gt,
    edited: (() => {
      const e = { width: W, height: H, data: gt.data.slice() };
      for (let p = 0; p < W * H; p++) if (labels[p] === Region.teeth) e.data.set([0.9, 0.75, 0.2], 3 * p);
      return e;
    })(),
    labels,
    target: { regions: [Region.teeth], colour: [0.9, 0.75, 0.2], albedo: { [Region.lips]: [0.6, 0.3, 0.3] } },
  };
  const ground: EditGroundTruth = { id: 'bench', lookup: async () => gtEdit };
  const editor = new OfflineEditor(ground, { seed: 0 });
  const req = editRequest({
    image: edited,
    original: captured,
    instruction: 'gold teeth',
    seed: 3,
    strength: 0.7,
    view: { subject: 'alice', camera: 2, timestep: 5 },
  });
  await time('editor', 'OfflineEditor.edit (a local edit, misplaced)', () => editor.edit(req));
  await time('editor', 'OfflineEditor.edit (skin: a large edit)', () => editor.edit({ ...req, view: { subject: 'alice', camera: 3, timestep: 1 } }));

  console.log('editing loop around each call (lib/edit/loop.ts editView, cache):');
  const cache = new EditCache(path.join(tmp, 'cache'));
  let k = 0;
  await time('loop', 'captured image from disk', () => loadRgb(frame));
  await time('loop', 'editCacheKey (sha256 of both images)', () => editCacheKey(editor.describe(), req));
  await time('loop', 'cache miss + put (PNG written, the 8-bit edit returned)', async () => {
    const key = `${(k++).toString(16).padStart(4, '0')}bench`;
    await cache.get(key, W, H);
    await cache.put(key, edited);
  });
  await time('loop', 'poolImage ×4 (the adversary, when on)', () => poolImage(edited, 4));
  total('loop', 'per edit');
  if (o.out)
    await writeJsonAtomic(o.out, {
      width: W,
      height: H,
      reps,
      node: process.version,
      cpus: os.cpus().length,
      load: os.loadavg()[0],
      adapter,
      results,
      date: new Date().toISOString(),
    });
  await fs.rm(tmp, { recursive: true, force: true });
}

// An open GPU device (--gpu) would keep the process alive.
void main().then(() => process.exit(0));
