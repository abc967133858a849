/**
 * The viewer's frame time in a real browser: starts the viewer server, opens the page in headless
 * Chromium with continuous rendering while the driving sequence plays, and reads the page's GPU time per
 * frame (timestamp-query around pose + bind + rasterize; the copy to the canvas is not included).
 *
 *   gae bench viewer <run dir or .ply> [--seconds 20] [--size 802x550] [--present webgpu|readback]
 *
 * Writes results/bench/viewer-<vendor>.json: median and p90 GPU ms per frame, the fps they imply, frames
 * completed per second of wall clock (includes presentation and, with readback, the copy to the CPU).
 * Chromium flags: lib/viewer/chromium.ts, plus --chromium-arg for a GPU machine's needs.
 */
import { Command } from 'commander';
import { median } from '../lib/gpu/timing.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';
import { startViewerServer } from '../lib/viewer/server.js';
import { CHROMIUM, HEADLESS_WEBGPU_ARGS, haveChromium } from '../lib/viewer/chromium.js';

const o = new Command()
  .name('bench:viewer')
  .argument('<avatar>', 'run directory or avatar .ply')
  .option('--seconds <s>', 'measured seconds', '20')
  .option('--warmup <s>', 'seconds before measuring', '5')
  .option('--size <WxH>', 'canvas size', '802x550')
  .option('--present <mode>', 'readback (2D canvas; works headless anywhere) or webgpu (GPU canvas; blank or crashing in some headless setups)', 'readback')
  .option('--chromium-arg <arg...>', 'extra Chromium flags')
  .option('--out <file>', 'output JSON (default results/bench/viewer-<vendor>.json)')
  .parse();
const [avatar] = o.args as [string];
const opts = o.opts<{ seconds: string; warmup: string; size: string; present: string; chromiumArg?: string[]; out?: string }>();
if (!haveChromium()) throw new Error(`no Chromium at ${CHROMIUM} (scripts/setup.sh --full installs it; or set GAE_CHROMIUM)`);
const [W, H] = opts.size.split('x').map(Number) as [number, number];

type Hook = {
  error: string | null;
  ready: boolean;
  frames: number;
  gpuHistory: number[];
  adapter: string;
  projectLayout: string;
  gaussians: number;
  fps: { source: string };
};
const viewer = await startViewerServer({ avatar, width: W, height: H });
const { chromium } = await import('playwright-core');
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...HEADLESS_WEBGPU_ARGS, ...(opts.chromiumArg ?? [])], headless: true });
try {
  const page = await browser.newPage({ viewport: { width: W + 440, height: H + 200 } });
  await page.goto(`${viewer.url}?continuous=1&play=1&present=${opts.present}`);
  await page.waitForFunction(
    () => {
      const v = (globalThis as unknown as { __viewer: Hook }).__viewer;
      return v.error !== null || (v.ready && v.frames > 2);
    },
    null,
    { timeout: 300_000 },
  );
  const read = () =>
    page.evaluate(() => {
      const v = (globalThis as unknown as { __viewer: Hook }).__viewer;
      return {
        error: v.error,
        frames: v.frames,
        history: [...v.gpuHistory],
        adapter: v.adapter,
        layout: v.projectLayout,
        gaussians: v.gaussians,
        source: v.fps.source,
      };
    });
  await new Promise((r) => setTimeout(r, Number(opts.warmup) * 1000));
  const a = await read();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, Number(opts.seconds) * 1000));
  const b = await read();
  const secs = (Date.now() - t0) / 1000;
  if (b.error) throw new Error(`viewer page: ${b.error}`);
  const frames = b.frames - a.frames;
  const gpu = b.history.slice(-Math.min(frames, b.history.length));
  const sorted = [...gpu].sort((x, y) => x - y);
  const result = {
    adapter: b.adapter,
    browser: `${browser.version()} (${CHROMIUM}, ${[...HEADLESS_WEBGPU_ARGS, ...(opts.chromiumArg ?? [])].join(' ')})`,
    size: [W, H],
    gaussians: b.gaussians,
    projectLayout: b.layout,
    present: opts.present,
    timing: b.source,
    frames,
    gpuMsMedian: gpu.length ? median(gpu) : null,
    gpuMsP90: sorted.length ? sorted[Math.floor(0.9 * (sorted.length - 1))]! : null,
    gpuFps: gpu.length ? 1000 / median(gpu) : null,
    wallFps: frames / secs,
  };
  console.log(JSON.stringify(result, null, 2));
  const vendor = (b.adapter.split(' ')[0] || 'unknown').toLowerCase();
  const out = opts.out ?? `results/bench/viewer-${vendor}.json`;
  await writeJsonAtomic(out, result);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await viewer.close();
}
