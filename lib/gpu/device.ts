/**
 * The one place that opens a WebGPU device, in Node (Dawn, the `webgpu` package) or in a browser
 * (`navigator.gpu`). Everything on the GPU in this workbench — our WGSL kernels and tfjs's `webgpu`
 * backend — shares the device returned here, so tensors and raw buffers can be handed between them
 * without a round trip through the CPU.
 */

/** Where a run happened; recorded in every run directory and benchmark file. */
export interface AdapterReport {
  vendor: string; // e.g. "nvidia", "mesa"
  architecture: string;
  device: string;
  description: string; // e.g. "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 19.1.7, 256 bits)"
  backend: 'dawn-node' | 'browser';
  /** Node only: whether Dawn ran with the fast toggles (the default) or its safe defaults (GAE_DAWN_SAFE=1). */
  dawn?: DawnMode;
  /** True for CPU rasterisers (lavapipe/llvmpipe, SwiftShader, WARP): their timings say nothing about GPUs. */
  software: boolean;
  features: string[];
  limits: {
    maxStorageBufferBindingSize: number; // bytes
    maxBufferSize: number; // bytes
    maxComputeWorkgroupStorageSize: number; // bytes
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
  };
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: AdapterReport;
  /** Optional features we asked for and got. Kernels branch on these, never on the vendor. */
  has: { timestampQuery: boolean; subgroups: boolean; shaderF16: boolean };
}

export interface GpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn toggles for Node, e.g. `enable-dawn-features=dump_shaders`. */
  dawnFlags?: string[];
  /** Refuse software adapters (benchmarks on the GPU machine set this so a missing driver cannot pass silently). */
  requireHardware?: boolean;
}

export class NoGpuAdapterError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter found (${detail}).\n` +
        'To get one:\n' +
        '  - with a GPU: install its driver and a Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1),\n' +
        '  - without a GPU: install Mesa lavapipe, a CPU Vulkan driver, by running `bash scripts/setup.sh`\n' +
        '    (Debian 12 needs Mesa >= 24 from bookworm-backports; the script adds it).\n' +
        'Check with `npm run selfcheck`.',
    );
    this.name = 'NoGpuAdapterError';
  }
}

const SOFTWARE_PATTERNS = /llvmpipe|lavapipe|swiftshader|software|warp|basic render/i;

/** Limits we raise to the adapter's maximum: the rasterizer's sort buffers and SH tables grow with N. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindingsPerBindGroup',
  'maxBindGroups',
  'maxTextureDimension2D',
  'maxUniformBufferBindingSize',
] as const;

const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

let current: Promise<GpuContext> | null = null;
const ownInstances = new Set<GPU>();
let heldGpu: GPU | null = null;

async function nodeGpu(flags: string[]): Promise<GPU> {
  // Dawn's node binding is loaded lazily so that browser bundles never see it.
  const mod = (await import('webgpu')) as unknown as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  return mod.create(flags);
}

// Through globalThis so this module also type-checks without the DOM lib (tslab compiles with Node's libs).
const g = globalThis as unknown as { window?: unknown; navigator?: { gpu?: GPU } };

/**
 * Dawn's default for Node runs, and why (docs: README "Dawn toggles").
 *
 * Node runs turn off two of Dawn's protections unless GAE_DAWN_SAFE=1:
 *  - `skip_validation`: WebGPU's CPU-side check of every command. It guards against a caller's misuse of
 *    the API (wrong buffer usage, a binding too small, a destroyed buffer), and with our ~40 small
 *    dispatches per rasterizer frame it costs 1.1-1.9 ms per forward on the H200, more than the GPU work at
 *    100k Gaussians. The commands our code encodes do not depend on data, only on sizes; the tests and CI
 *    run with validation on (GAE_DAWN_SAFE=1, vitest.config.ts and .ci/run), so a misuse fails there.
 *  - `disable_robustness`: the clamping of every storage-buffer index in every shader (about 20% of the
 *    rasterizer's backward on the GPU). Our kernels keep each access in bounds themselves: every thread
 *    returns past its element count, indices read from buffers (sorted ids, key ranges, emit offsets) are
 *    produced in range by earlier stages, and the rasterizer checks on the CPU that each bound buffer holds
 *    what its kernels index (GaussianRasterizer's `checkSizes`). test/gpu/dawn-toggles.test.ts renders with
 *    both settings on one scene and requires bit-identical images and gradients: with an out-of-bounds
 *    access the clamped and unclamped reads would differ. tfjs's kernels guard their outputs by shape;
 *    its gather trusts its indices, and ours are checked where they are loaded (the avatar's binding).
 * Workgroup-memory zeroing stays on: tfjs's kernels are not ours to audit for it.
 *
 * Browsers ignore all this (they never let a page turn robustness off).
 */
export const FAST_DAWN_TOGGLES = 'enable-dawn-features=allow_unsafe_apis,skip_validation,disable_robustness';

/** 'fast' (the toggles above, the Node default) or 'safe' (Dawn's defaults: GAE_DAWN_SAFE=1, tests, CI). */
export type DawnMode = 'fast' | 'safe';

/** The mode the environment asks for; GAE_DAWN_FAST=1 (the old opt-in) is accepted and now the default. */
export function dawnMode(env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {}): DawnMode {
  return env.GAE_DAWN_SAFE === '1' ? 'safe' : 'fast';
}

function envDawnFlags(): string[] {
  return dawnMode() === 'fast' ? [FAST_DAWN_TOGGLES] : [];
}

function isBrowser(): boolean {
  return g.window !== undefined && g.navigator?.gpu !== undefined;
}

/** Opens the shared device once per process; later calls return the same context. */
export function getGpu(opts: GpuOptions = {}): Promise<GpuContext> {
  current ??= openGpu(opts).catch((e) => {
    current = null;
    throw e;
  });
  return current;
}

async function openGpu(opts: GpuOptions): Promise<GpuContext> {
  const browser = isBrowser();
  let gpu: GPU;
  try {
    gpu = browser ? g.navigator!.gpu! : await nodeGpu([...(opts.dawnFlags ?? []), ...envDawnFlags()]);
  } catch (e) {
    throw new NoGpuAdapterError(`could not load Dawn: ${(e as Error).message}`);
  }
  heldGpu = gpu;
  opened = await openOn(gpu, opts, browser ? undefined : dawnMode());
  return opened;
}

async function openOn(gpu: GPU, opts: GpuOptions, dawn: DawnMode | undefined): Promise<GpuContext> {
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoGpuAdapterError('requestAdapter returned null');

  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  const al = adapter.limits as unknown as Record<string, number>;
  for (const name of RAISED_LIMITS) if (typeof al[name] === 'number') requiredLimits[name] = al[name];

  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    console.error(`[webgpu] uncaptured ${err.constructor.name}: ${err.message}`);
  });

  const info = adapter.info;
  const description = info.description || info.device || '';
  const report: AdapterReport = {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || '',
    device: info.device || '',
    description,
    backend: dawn ? 'dawn-node' : 'browser',
    ...(dawn ? { dawn } : {}),
    software:
      SOFTWARE_PATTERNS.test(`${description} ${info.device} ${info.architecture}`) ||
      ((info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false),
    features: [...device.features].sort(),
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
    },
  };
  if (opts.requireHardware && report.software) {
    throw new NoGpuAdapterError(`only a software adapter is present: ${report.vendor} ${description}`);
  }
  return {
    device,
    adapter,
    report,
    has: {
      timestampQuery: device.features.has('timestamp-query'),
      subgroups: device.features.has('subgroups'),
      shaderF16: device.features.has('shader-f16'),
    },
  };
}

/**
 * A device of its own Dawn instance in the given mode, whatever the environment says (Node only): the test
 * that holds the fast toggles to the safe defaults renders on one of each. The caller destroys the device.
 */
export async function openDawnDevice(mode: DawnMode, opts: GpuOptions = {}): Promise<GpuContext> {
  if (isBrowser()) throw new Error('openDawnDevice: Dawn toggles exist only in Node');
  const gpu = await nodeGpu([...(opts.dawnFlags ?? []), ...(mode === 'fast' ? [FAST_DAWN_TOGGLES] : [])]);
  const ctx = await openOn(gpu, opts, mode);
  // The device dies with its instance when the GPU object is collected: keep it until the device is destroyed.
  ownInstances.add(gpu);
  void ctx.device.lost.then(() => ownInstances.delete(gpu));
  return ctx;
}

let opened: GpuContext | null = null;

/** The already-open shared device, for synchronous code paths (tfjs kernels); throws if none is open. */
export function getGpuSync(): GpuContext {
  if (!opened) throw new Error('no GPU device is open yet: await getGpu() (or useTfjsWebGpu()) first');
  return opened;
}

/** One line for logs: `nvidia nvidia-h100-80gb-hbm3 / NVIDIA: 580.159.04 (hardware, dawn-node)`. */
export function describeAdapter(r: AdapterReport): string {
  // Dawn's NVIDIA description is the driver version; the device id names the card.
  // Browsers often withhold both (Chromium's SwiftShader reports only its architecture).
  const what = [r.device, r.description].filter((s) => s.length > 0).join(' / ') || r.architecture;
  return `${r.vendor} ${what} (${r.software ? 'software' : 'hardware'}, ${r.backend})`;
}

/** The report as (property, value) rows, for tables in notebooks and reports. */
export function adapterRows(r: AdapterReport): { property: string; value: string }[] {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return [
    { property: 'adapter', value: describeAdapter(r) },
    { property: 'vendor', value: r.vendor },
    { property: 'architecture', value: r.architecture },
    { property: 'device', value: r.device },
    { property: 'description', value: r.description },
    ...(r.dawn ? [{ property: 'Dawn toggles', value: r.dawn === 'fast' ? `fast (${FAST_DAWN_TOGGLES})` : 'safe (Dawn defaults)' }] : []),
    { property: 'software rasteriser', value: r.software ? 'yes (timings say nothing about GPUs)' : 'no' },
    { property: 'features', value: r.features.join(', ') },
    { property: 'maxStorageBufferBindingSize', value: mib(r.limits.maxStorageBufferBindingSize) },
    { property: 'maxBufferSize', value: mib(r.limits.maxBufferSize) },
    { property: 'maxComputeWorkgroupStorageSize', value: `${r.limits.maxComputeWorkgroupStorageSize} B` },
    { property: 'maxComputeInvocationsPerWorkgroup', value: String(r.limits.maxComputeInvocationsPerWorkgroup) },
    { property: 'maxComputeWorkgroupsPerDimension', value: String(r.limits.maxComputeWorkgroupsPerDimension) },
    { property: 'maxStorageBuffersPerShaderStage', value: String(r.limits.maxStorageBuffersPerShaderStage) },
  ];
}

/**
 * Destroys the device and drops Dawn's instance so Node can exit: dawn.node keeps the event loop
 * alive for as long as the object returned by `create` is reachable.
 */
export async function releaseGpu(): Promise<void> {
  if (!current) return;
  const ctx = await current.catch(() => null);
  current = null;
  opened = null;
  if (ctx) {
    await ctx.device.queue.onSubmittedWorkDone();
    ctx.device.destroy();
  }
  heldGpu = null;
}

/**
 * A second device from the shared device's GPU instance, with the spec's default limits unless `limits`
 * raises some, and without optional features unless asked: what a browser hands out before any limit is
 * raised (tests of the viewer's forward path use it). The caller destroys it; getGpu() must be open.
 */
export async function openDefaultLimitsDevice(features: GPUFeatureName[] = [], limits: Record<string, number> = {}): Promise<GpuContext> {
  const base = await getGpu();
  if (!heldGpu) throw new Error('openDefaultLimitsDevice: no GPU instance is held');
  const adapter = await heldGpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new NoGpuAdapterError('requestAdapter returned null for a second device');
  const requiredFeatures = features.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits: limits });
  return {
    device,
    adapter,
    report: { ...base.report, features: [...device.features].sort() },
    has: {
      timestampQuery: device.features.has('timestamp-query'),
      subgroups: device.features.has('subgroups'),
      shaderF16: device.features.has('shader-f16'),
    },
  };
}

/** For code that must know whether a device is already open (e.g. not to open one just to report). */
export function gpuIsOpen(): boolean {
  return current !== null && heldGpu !== null;
}
