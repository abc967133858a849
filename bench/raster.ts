/**
 * Rasterizer benchmark on the scene `bench-N-WxH` (docs/bench-scene.md).
 *
 *   gae bench raster                                     # N ∈ {100k, 1M} × {802×550, 1920×1080}
 *   gae bench raster --n 10000 --res 802x550 --runs 5 # a quick subset (lavapipe)
 *
 * Per configuration: median wall-clock milliseconds of the forward pass and of forward + backward over
 * `--runs` runs after `--warmup` warm-ups, each synchronised with the GPU (encode + submit + wait); per-stage
 * GPU times from timestamp queries (medians over `--profile-runs` separate runs); the key count; peak GPU
 * memory of our allocations; the checksum Σ w·image with the scene's loss weights. Results are merged by
 * configuration into results/bench/raster-<adapter vendor>.json (written atomically).
 */
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { FAST_DAWN_TOGGLES, GpuProfiler, dawnMode, describeAdapter, download, getGpu, median, releaseGpu, timeSynced, upload } from '../lib/gpu/index.js';
import { benchCamera, benchGaussians, benchLossWeights } from '../lib/raster/bench-scene.js';
import { GaussianRasterizer, MEMORY_ROLES, type GaussianBuffers, type MemoryRole } from '../lib/raster/gpu/rasterizer.js';
import { renderReferenceWithGrad } from '../lib/raster/reference/index.js';
import { rasterSettings } from '../lib/raster/types.js';
import { randomScene } from '../lib/raster/scenes.js';
import { writeJsonAtomic } from '../lib/util/atomic.js';

/**
 * The peers on the same scenes, fixed anchors for the ratios: measured once, all in one run, on one NVIDIA
 * H200 (median of 30 after 5 warm-ups, CUDA events around the Python call; same image as ours).
 */
const PEERS_SOURCE = 'issue 15, measured 2026-12-02 on one NVIDIA H200 (median of 30 after 5 warm-ups, CUDA events)';
type Peer = { forward: number; forwardBackward: number; mib: number };
const PEERS: Record<string, Record<'3dgs' | 'gsplat-1.5.3-unpacked' | 'gsplat-1.5.3-packed', Peer>> = {
  '100000@802x550': {
    '3dgs': { forward: 0.53, forwardBackward: 3.26, mib: 127 },
    'gsplat-1.5.3-unpacked': { forward: 1.13, forwardBackward: 2.16, mib: 109 },
    'gsplat-1.5.3-packed': { forward: 0.89, forwardBackward: 3.19, mib: 156 },
  },
  '100000@1920x1080': {
    '3dgs': { forward: 1.21, forwardBackward: 13.83, mib: 252 },
    'gsplat-1.5.3-unpacked': { forward: 1.43, forwardBackward: 3.52, mib: 182 },
    'gsplat-1.5.3-packed': { forward: 1.34, forwardBackward: 4.0, mib: 204 },
  },
  '1000000@802x550': {
    '3dgs': { forward: 1.25, forwardBackward: 6.2, mib: 1062 },
    'gsplat-1.5.3-unpacked': { forward: 1.23, forwardBackward: 3.12, mib: 776 },
    'gsplat-1.5.3-packed': { forward: 1.64, forwardBackward: 4.68, mib: 998 },
  },
  '1000000@1920x1080': {
    '3dgs': { forward: 3.09, forwardBackward: 21.11, mib: 1524 },
    'gsplat-1.5.3-unpacked': { forward: 2.46, forwardBackward: 5.95, mib: 886 },
    'gsplat-1.5.3-packed': { forward: 3.0, forwardBackward: 7.54, mib: 1104 },
  },
};

/** The best peer figure per quantity (each quantity's own best, possibly from different peers). */
function bestPeer(scene: string): (Peer & { by: Record<keyof Peer, string> }) | null {
  const peers = PEERS[scene];
  if (!peers) return null;
  const best = (k: keyof Peer) => Object.entries(peers).reduce((a, b) => (b[1][k] < a[1][k] ? b : a));
  const [f, fb, m] = [best('forward'), best('forwardBackward'), best('mib')];
  return { forward: f[1].forward, forwardBackward: fb[1].forwardBackward, mib: m[1].mib, by: { forward: f[0], forwardBackward: fb[0], mib: m[0] } };
}

/** The paper's CUDA rasterizer on an H100 (milliseconds; an earlier session's anchors), for the ratios. */
const CUDA_H100: Record<string, { forward: number; forwardBackward: number }> = {
  '100000@802x550': { forward: 0.64, forwardBackward: 4.25 },
  '100000@1920x1080': { forward: 1.31, forwardBackward: 15.9 },
  '1000000@802x550': { forward: 1.42, forwardBackward: 7.2 },
  '1000000@1920x1080': { forward: 3.48, forwardBackward: 24.2 },
};

const program = new Command()
  .name('bench:raster')
  .option('--n <list>', 'Gaussian counts, comma separated', '100000,1000000')
  .option('--res <list>', 'resolutions WxH, comma separated', '802x550,1920x1080')
  .option('--runs <k>', 'timed runs', '30')
  .option('--warmup <k>', 'warm-up runs', '5')
  .option('--profile-runs <k>', 'runs with timestamp queries for the per-stage times', '10')
  .option('--out <file>', 'output JSON (default results/bench/raster-<vendor>.json)')
  .option('--require-hardware', 'refuse software adapters')
  .option('--no-subgroups', 'use the kernels without subgroup operations')
  .option('--local-scatter', 'radix sort blocks sorted in workgroup memory before they are written out (opt-in variant)')
  .option('--check', 'first compare a small scene against the float64 reference (image and gradients)')
  .option('--dawn <flags>', 'extra Dawn flags, e.g. enable-dawn-features=disable_workgroup_init', '')
  .option('--safe', 'Dawn with validation and robustness on (as GAE_DAWN_SAFE=1; the default is the fast toggles, lib/gpu/device.ts)');
program.parse();
const opts = program.opts<{
  n: string;
  res: string;
  runs: string;
  warmup: string;
  profileRuns: string;
  out?: string;
  requireHardware?: boolean;
  subgroups: boolean;
  localScatter?: boolean;
  check?: boolean;
  dawn: string;
  safe?: boolean;
}>();

const ns = opts.n.split(',').map((s) => Math.round(Number(s)));
const resolutions = opts.res.split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`--res: '${s}' is not WxH`);
  return [Number(m[1]), Number(m[2])] as [number, number];
});
const runs = Number(opts.runs),
  warmup = Number(opts.warmup),
  profileRuns = Number(opts.profileRuns);

// Dawn quantises timestamps (to tens of microseconds) unless told not to; stage times need the resolution.
if (opts.safe) process.env.GAE_DAWN_SAFE = '1';
const extraFlags = opts.dawn.split(' ').filter((f) => f.length > 0);
const dawnFlags = ['disable-dawn-features=timestamp_quantization', ...extraFlags];
// 'default' is what a user gets with no flags: the fast toggles (lib/gpu/device.ts); 'safe' is GAE_DAWN_SAFE=1.
const mode = [dawnMode() === 'safe' ? 'safe' : 'default', ...extraFlags].join(' ');
const modeName = `${mode}${opts.subgroups ? '' : ', no subgroups'}${opts.localScatter ? ', local scatter' : ''}`;
const rasterizerOptions = { noSubgroups: !opts.subgroups, localSortScatter: !!opts.localScatter };
const ctx = await getGpu({ requireHardware: opts.requireHardware, dawnFlags });
const { device } = ctx;
console.log(
  `adapter: ${describeAdapter(ctx.report)} | vendor=${ctx.report.vendor} | subgroups=${ctx.has.subgroups && opts.subgroups} | timestamps=${ctx.has.timestampQuery} | dawn: ${dawnFlags.join(' ')}`,
);
const outPath = opts.out ?? `results/bench/raster-${ctx.report.vendor.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.json`;

const settings = rasterSettings({ shDegree: 3, blend: 'alpha', background: [0, 0, 0] });
const results: Record<string, unknown>[] = [];
const check = opts.check ? await checkAgainstReference() : null;

/** Relative errors of image and gradients against the float64 reference on small random scenes. */
async function checkAgainstReference(): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  const variants = {
    alpha: rasterSettings({ shDegree: 3, background: [0.2, 0.4, 0.6] }),
    'wabe-grad-renorm': rasterSettings({ shDegree: 3, blend: 'wabe', wabe: { beta: 6, stopGradient: false, renormalize: true } }),
  };
  for (const [name, s] of Object.entries(variants)) {
    const { g: g64, cam } = randomScene(7, { count: 3000, width: 160, height: 120, shDegree: 3 });
    const g = {
      ...g64,
      means: Float32Array.from(g64.means),
      logScales: Float32Array.from(g64.logScales),
      quats: Float32Array.from(g64.quats),
      opacityLogits: Float32Array.from(g64.opacityLogits),
      sh: Float32Array.from(g64.sh),
    };
    const gb: GaussianBuffers = {
      count: g.count,
      shDegree: 3,
      means: upload(device, g.means),
      logScales: upload(device, g.logScales),
      quats: upload(device, g.quats),
      opacityLogits: upload(device, g.opacityLogits),
      sh: upload(device, g.sh),
    };
    const npx = cam.width * cam.height;
    const dC = Float64Array.from({ length: 3 * npx }, (_, i) => Math.sin(i * 0.37));
    const dA = Float64Array.from({ length: npx }, (_, i) => Math.cos(i * 0.11));
    const packed = new Float32Array(5 * npx);
    for (let p = 0; p < npx; p++) packed.set([dC[3 * p]!, dC[3 * p + 1]!, dC[3 * p + 2]!, dA[p]!, 0], 5 * p);
    const r = new GaussianRasterizer(ctx, rasterizerOptions);
    const st = await r.render(gb, cam, s);
    const dOut = upload(device, packed);
    const grads = r.backward(st, gb, dOut);
    const ref = renderReferenceWithGrad(g, cam, s, dC, dA);
    const img = await download(device, st.image, Float32Array, 5 * npx);
    const color = Float32Array.from({ length: 3 * npx }, (_, i) => img[5 * Math.floor(i / 3) + (i % 3)]!);
    const res: Record<string, number> = { color: relErr(color, ref.out.color) };
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'means2D'] as const) {
      res[k] = relErr(await download(device, grads[k], Float32Array, ref.grads[k].length), ref.grads[k]);
    }
    out[name] = res;
    const bad = res.color! > 1e-5 || Object.entries(res).some(([k, e]) => k !== 'color' && e > 1e-3);
    console.log(
      `check ${name}: ${Object.entries(res)
        .map(([k, e]) => `${k} ${e.toExponential(2)}`)
        .join(', ')}${bad ? '  <-- FAILED' : ''}`,
    );
    r.destroy();
    for (const b of [gb.means, gb.logScales, gb.quats, gb.opacityLogits, gb.sh, dOut]) b.destroy();
  }
  return out;
}

/** The bench's own role: the Gaussians and dOut it uploads plus the gradients the rasterizer allocates, as gsplat's figure counts them. */
const INPUTS_AND_GRADS = 'inputs and gradients';
const KEY_ROLES = new Set<string>([MEMORY_ROLES.keyScratch, MEMORY_ROLES.keyGid, MEMORY_ROLES.tileSortPlan]);
const PIXEL_ROLES = new Set<string>([MEMORY_ROLES.pixelState, MEMORY_ROLES.tileState]);

/**
 * Where the peak's bytes go: the rasterizer's roles at its peak with the inputs (live throughout, so the
 * sum is `peakBytes`) merged into its gradients; each role also per unit of what it scales with (per key of
 * the M keys the scene has, not of the capacity, so the headroom shows).
 */
function memoryAtPeak(
  peak: Partial<Record<MemoryRole, number>>,
  inputBytes: number,
  units: { keys: number; pixels: number; gaussians: number },
): Record<string, { bytes: number; mib: number; per: 'key' | 'pixel' | 'Gaussian'; bytesPerUnit: number }> {
  const roles: Record<string, number> = { ...peak };
  roles[INPUTS_AND_GRADS] = inputBytes + (roles[MEMORY_ROLES.grads] ?? 0);
  delete roles[MEMORY_ROLES.grads];
  const out: ReturnType<typeof memoryAtPeak> = {};
  for (const [role, bytes] of Object.entries(roles).sort((a, b) => b[1] - a[1])) {
    const per = KEY_ROLES.has(role) ? 'key' : PIXEL_ROLES.has(role) ? 'pixel' : 'Gaussian';
    const u = per === 'key' ? units.keys : per === 'pixel' ? units.pixels : units.gaussians;
    out[role] = { bytes, mib: bytes / 2 ** 20, per, bytesPerUnit: bytes / Math.max(1, u) };
  }
  return out;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

for (const n of ns) {
  for (const [W, H] of resolutions) {
    const scene = `${n}@${W}x${H}`;
    const key = `${scene}|${modeName}`;
    const t0 = performance.now();
    const g = benchGaussians(n, W, H);
    const cam = benchCamera(W, H);
    const w = benchLossWeights(W, H);
    const genMs = performance.now() - t0;
    const gb: GaussianBuffers = {
      count: n,
      shDegree: 3,
      means: upload(device, g.means),
      logScales: upload(device, g.logScales),
      quats: upload(device, g.quats),
      opacityLogits: upload(device, g.opacityLogits),
      sh: upload(device, g.sh),
    };
    const packed = new Float32Array(5 * W * H);
    for (let p = 0; p < W * H; p++) packed.set([w[3 * p]!, w[3 * p + 1]!, w[3 * p + 2]!], 5 * p);
    const dOut = upload(device, packed);
    const inputBytes = [gb.means, gb.logScales, gb.quats, gb.opacityLogits, gb.sh, dOut].reduce((a, b) => a + b.size, 0);

    const r = new GaussianRasterizer(ctx, rasterizerOptions);
    await r.prepare(settings);
    const st = await r.render(gb, cam, settings); // sizes the key capacity for this scene
    const grads = r.backward(st, gb, dOut);
    const fwd = () => void r.forward(gb, cam, settings, { reuse: st });
    const fwdBwd = () => {
      r.forward(gb, cam, settings, { reuse: st });
      r.backward(st, gb, dOut, { grads });
    };
    for (let i = 0; i < warmup; i++) await timeSynced(device, fwdBwd);
    const forwardMs: number[] = [];
    const forwardCpuMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      forwardMs.push(
        await timeSynced(device, () => {
          const t = performance.now();
          fwd();
          forwardCpuMs.push(performance.now() - t); // encode + submit, CPU side
        }),
      );
    }
    const fbMs: number[] = [];
    for (let i = 0; i < runs; i++) fbMs.push(await timeSynced(device, fwdBwd));
    // Steady state, as a training loop runs: `runs` iterations submitted back to back, one wait at the end
    // (the per-run numbers above include one CPU–GPU round trip each).
    const pipelined = async (f: () => void) =>
      (await timeSynced(device, () => {
        for (let i = 0; i < runs; i++) f();
      })) / runs;
    const forwardPipelinedMs = await pipelined(fwd);
    const fbPipelinedMs = await pipelined(fwdBwd);

    // Per-stage GPU times.
    const stages = new Map<string, number[]>();
    const gpuTotal: number[] = [];
    const prof = new GpuProfiler(ctx, 64);
    for (let i = 0; i < profileRuns && prof.enabled; i++) {
      prof.begin();
      r.forward(gb, cam, settings, { reuse: st, profiler: prof });
      r.backward(st, gb, dOut, { grads, profiler: prof });
      const t = await prof.read();
      gpuTotal.push(t.totalMs);
      for (const [k, v] of t.passes) stages.set(k, [...(stages.get(k) ?? []), v]);
    }
    prof.destroy();
    const stats = await r.settle();

    // Checksum of the last image: Σ w · colour.
    const img = await download(device, st.image, Float32Array, 5 * W * H);
    let checksum = 0;
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) checksum += w[3 * p + c]! * img[5 * p + c]!;
    let alphaMean = 0;
    for (let p = 0; p < W * H; p++) alphaMean += img[5 * p + 3]!;
    alphaMean /= W * H;
    const gradBytes = Object.values(grads).reduce((a, b) => a + b.size, 0);
    const memory = memoryAtPeak(r.memoryBreakdown().peak, inputBytes, { keys: stats.maxKeys, pixels: W * H, gaussians: n });
    const roleSum = Object.values(memory).reduce((a, b) => a + b.bytes, 0);
    if (roleSum !== stats.peakBytes + inputBytes)
      throw new Error(`internal: memory roles sum to ${roleSum} bytes, the peak is ${stats.peakBytes + inputBytes}`);

    const cuda = CUDA_H100[scene];
    const best = bestPeer(scene);
    const res = {
      key,
      scene,
      mode: modeName,
      dawnFlags,
      n,
      width: W,
      height: H,
      keys: stats.maxKeys,
      keyCapacity: stats.capacity,
      overflowFrames: stats.overflowFrames,
      forwardMs: median(forwardMs),
      forwardBackwardMs: median(fbMs),
      forwardMsMin: Math.min(...forwardMs),
      forwardBackwardMsMin: Math.min(...fbMs),
      forwardPipelinedMs,
      forwardCpuMs: median(forwardCpuMs),
      forwardBackwardPipelinedMs: fbPipelinedMs,
      gpuForwardBackwardMs: gpuTotal.length ? median(gpuTotal) : null,
      stagesMs: Object.fromEntries([...stages].map(([k, v]) => [k, median(v)])),
      peakBytes: stats.peakBytes + inputBytes,
      peakBytesRasterizer: stats.peakBytes,
      inputAndGradBytes: inputBytes + gradBytes,
      memoryAtPeak: memory,
      checksum,
      alphaMean,
      peers: PEERS[scene] ?? null,
      bestPeer: best,
      ratioToBestPeer: best
        ? {
            forward: median(forwardMs) / best.forward,
            forwardBackward: median(fbMs) / best.forwardBackward,
            memory: (stats.peakBytes + inputBytes) / 2 ** 20 / best.mib,
          }
        : null,
      cudaH100: cuda ?? null,
      ratioToCuda: cuda ? { forward: median(forwardMs) / cuda.forward, forwardBackward: median(fbMs) / cuda.forwardBackward } : null,
      sceneGenerationMs: genMs,
      runs,
      warmup,
      date: new Date().toISOString(),
    };
    results.push(res);
    const stageLine = Object.entries(res.stagesMs)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    console.log(
      `${key}: forward ${res.forwardMs.toFixed(3)} ms, forward+backward ${res.forwardBackwardMs.toFixed(3)} ms` +
        ` (pipelined ${forwardPipelinedMs.toFixed(3)} / ${fbPipelinedMs.toFixed(3)}; GPU ${res.gpuForwardBackwardMs?.toFixed(3)} fwd+bwd; CPU encode+submit fwd ${res.forwardCpuMs.toFixed(3)})` +
        (cuda ? ` (×${res.ratioToCuda!.forward.toFixed(2)} / ×${res.ratioToCuda!.forwardBackward.toFixed(2)} of CUDA on the H100)` : '') +
        ` | keys ${res.keys} | peak ${(res.peakBytes / 2 ** 20).toFixed(1)} MiB | checksum ${checksum.toFixed(4)}\n  stages (GPU ms): ${stageLine}`,
    );
    console.log(
      `  peak ${(res.peakBytes / 2 ** 20).toFixed(1)} MiB: ` +
        Object.entries(memory)
          .map(([k, v]) => `${k} ${v.mib.toFixed(1)} (${v.bytesPerUnit.toFixed(1)} B/${v.per})`)
          .join(', '),
    );
    if (best) {
      const r = res.ratioToBestPeer!;
      const goal = (x: number, g: number) => (x <= g ? 'meets' : 'misses');
      console.log(
        `  vs best peer (${PEERS_SOURCE}): forward ×${r.forward.toFixed(2)} of ${best.forward} ms (${best.by.forward}; goal ≤ 1: ${goal(r.forward, 1)}), ` +
          `forward+backward ×${r.forwardBackward.toFixed(2)} of ${best.forwardBackward} ms (${best.by.forwardBackward}; goal ≤ 0.8: ${goal(r.forwardBackward, 0.8)}), ` +
          `memory ×${r.memory.toFixed(2)} of ${best.mib} MiB (${best.by.mib}; goal ≤ 1: ${goal(r.memory, 1)})`,
      );
    }
    r.releaseState(st);
    for (const b of [gb.means, gb.logScales, gb.quats, gb.opacityLogits, gb.sh, dOut]) b.destroy();
    r.destroy();
  }
}

// Merge with earlier results of other configurations.
let previous: { results?: { key: string }[]; check?: unknown } = {};
try {
  previous = JSON.parse(await fs.readFile(outPath, 'utf8'));
} catch {
  /* first run */
}
const merged = new Map<string, unknown>((previous.results ?? []).map((x) => [x.key, x]));
for (const x of results) merged.set(x.key as string, x);
let commit: string | null = null;
try {
  const { execSync } = await import('node:child_process');
  commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  /* not a git checkout (the GPU machine's bundle) */
}
await writeJsonAtomic(outPath, {
  commit,
  benchmark: 'bench-N-WxH (docs/bench-scene.md), alpha blending, SH degree 3, black background',
  adapter: ctx.report,
  adapterLine: describeAdapter(ctx.report),
  subgroups: ctx.has.subgroups && opts.subgroups,
  modes: {
    default: `no flags: Dawn with the Node default toggles (${FAST_DAWN_TOGGLES}), lib/gpu/device.ts`,
    safe: 'GAE_DAWN_SAFE=1 (--safe): Dawn defaults, validation and robustness on',
  },
  peers: { source: PEERS_SOURCE, scenes: PEERS },
  check: check ?? previous.check ?? null,
  timing:
    'forwardMs/forwardBackwardMs: median wall clock of one run (encode + submit + onSubmittedWorkDone); *PipelinedMs: `runs` runs submitted back to back, one wait, per run; gpuForwardBackwardMs and stagesMs: timestamp queries (median of profiled runs)',
  memory:
    'peakBytes: the rasterizer peak (its own counted allocations, lib/raster/gpu/capacity.ts) plus the inputs (Gaussians, dOut); memoryAtPeak: those bytes by role at the moment of the peak (they sum to peakBytes), ' +
    "'inputs and gradients' as inputAndGradBytes counts them; bytesPerUnit per key of the scene's M keys (not of the capacity), per pixel, or per Gaussian. " +
    'Device-independent except the sort plans, whose digit histograms follow the sort block (wg × kpt, from the subgroup size)',
  results: [...merged.values()],
});
console.log(`wrote ${outPath}`);
await releaseGpu();
