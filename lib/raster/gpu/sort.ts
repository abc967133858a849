/**
 * GPU radix sort plan (stable, LSD, 8 bits per pass) over u32 keys with u32 values; see sort.wgsl.ts.
 * Scratch (histograms, scan) is allocated once for `maxKeys`; `encode` only records commands.
 */
import type { GpuContext } from '../../gpu/device.js';
import { BufferUsage } from '../../gpu/flags.js';
import { ExclusiveScanPlan, createStorage, getPipeline, grid, type Binding } from '../../gpu/index.js';
import { BindGroupCache } from './bindings.js';
import type { PassRecorder } from './recorder.js';
import { RADIX, radixHistogramWgsl, radixScatterWgsl } from './sort.wgsl.js';

export interface SortConfig {
  /** Use subgroup ballots for ranking (needs the 'subgroups' feature). */
  subgroups: boolean;
  /** Workgroup size and keys per thread per round. */
  wg: number;
  kpt: number;
  /** Most subgroups per workgroup (wg / smallest subgroup size). */
  nsg: number;
  /** Subgroups only: sort each block in workgroup memory before writing it out (sort.wgsl.ts). */
  local: boolean;
}

/**
 * Sort configuration for a device: WG = 8 subgroups (at most 256), so the rank table stays ≤ 16 KiB, and 16
 * keys per thread; with `local` (the block sorted in workgroup memory), 8 or 4 keys per thread where a
 * block would not fit (NVIDIA has 48 KiB under Vulkan: 8; browsers allow 32 KiB: 4).
 */
export function sortConfig(ctx: GpuContext, forceNoSubgroups = false, local = false): SortConfig {
  const info = ctx.adapter.info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const minSg = info.subgroupMinSize ?? 0;
  const fallback: SortConfig = { subgroups: false, wg: 64, kpt: 16, nsg: 1, local: false };
  if (!ctx.has.subgroups || forceNoSubgroups || !(minSg >= 4)) return fallback;
  const wg = Math.min(256, Math.max(64, 8 * (info.subgroupMaxSize ?? minSg)));
  const nsg = Math.max(1, Math.ceil(wg / minSg));
  // Adapters with small subgroups (SwiftShader in Chromium: 4 lanes, so NSG = 16) exceed the 32 KiB that
  // browsers allow; they take the ballot-free path.
  for (const kpt of local ? [16, 8, 4] : [16]) {
    if (scatterWorkgroupBytes(wg, kpt, nsg, local) <= ctx.device.limits.maxComputeWorkgroupStorageSize) return { subgroups: true, wg, kpt, nsg, local };
  }
  return fallback;
}

/**
 * The subgroup scatter's workgroup memory: digit bases, two rank tables of 256 × NSG and a ticket; `local`
 * adds two more digit tables and the block's keys and values.
 */
export function scatterWorkgroupBytes(wg: number, kpt: number, nsg: number, local: boolean): number {
  return 4 * 256 + 4 * 2 * 256 * nsg + 16 + (local ? 2 * 4 * 256 + 8 * wg * kpt : 0);
}

/** Where the key count comes from. */
export type SortCount = { fixed: number } | { buffer: GPUBuffer; offset: number /* u32 index */; indirect: GPUBuffer; indirectOffset: number /* bytes */ };

/** Buffers or ranges of buffers (several may be ranges of one buffer: the scatter binds all four read_write). */
export interface SortBuffers<T extends Binding = GPUBuffer> {
  keys: [T, T]; // [0] holds the input; the other is scratch
  vals: [T, T];
}

type SortPipes = { hist: GPUComputePipeline; scatter: GPUComputePipeline };
const readySortPipes = new WeakMap<GPUDevice, Map<string, SortPipes>>();
const cfgKey = (c: SortConfig) => `${c.subgroups}|${c.wg}|${c.kpt}|${c.nsg}|${c.local}`;

export class RadixSortPlan {
  readonly blockSize: number;
  readonly maxBlocks: number;
  private readonly hist: GPUBuffer;
  private readonly meta: GPUBuffer; // [0] = RADIX · numBlocks (the scan's count)
  private readonly noCount: GPUBuffer; // bound as the count source when the count is fixed
  private readonly scan: ExclusiveScanPlan;
  private readonly uniforms: GPUBuffer[] = []; // one per (pass, count source, identity) variant, rewritten on change
  private readonly uniformKeys: string[] = [];
  private pipes: SortPipes | null;
  private readonly binds: BindGroupCache;

  constructor(
    private readonly ctx: GpuContext,
    readonly maxKeys: number,
    readonly cfg: SortConfig,
  ) {
    this.blockSize = cfg.wg * cfg.kpt;
    this.maxBlocks = Math.max(1, Math.ceil(maxKeys / this.blockSize));
    this.hist = createStorage(ctx.device, RADIX * this.maxBlocks * 4, 'radix-hist');
    this.meta = createStorage(ctx.device, 16, 'radix-meta');
    this.noCount = createStorage(ctx.device, 16, 'radix-no-count');
    this.scan = new ExclusiveScanPlan(ctx, RADIX * this.maxBlocks);
    this.binds = new BindGroupCache(ctx.device);
    // Plans rebuilt after a capacity change are ready at once when their pipelines were compiled before.
    this.pipes = readySortPipes.get(ctx.device)?.get(cfgKey(cfg)) ?? null;
  }

  get ready(): boolean {
    return this.pipes !== null;
  }

  async prepare(): Promise<void> {
    const { device } = this.ctx;
    const constants = { WG: this.cfg.wg, KPT: this.cfg.kpt, ...(this.cfg.subgroups ? { NSG: this.cfg.nsg } : {}) };
    const hconst = { WG: this.cfg.wg, KPT: this.cfg.kpt };
    const [hist, scatter] = await Promise.all([
      getPipeline(device, { code: radixHistogramWgsl(this.cfg.subgroups, this.cfg.kpt), entryPoint: 'histogram', constants: hconst, label: 'radix-histogram' }),
      getPipeline(device, {
        code: radixScatterWgsl(this.cfg.subgroups, this.cfg.kpt, this.cfg.local),
        entryPoint: 'scatter',
        constants,
        label: 'radix-scatter',
      }),
      this.scan.prepare(),
    ]);
    this.pipes = { hist, scatter };
    let m = readySortPipes.get(device);
    if (!m) readySortPipes.set(device, (m = new Map()));
    m.set(cfgKey(this.cfg), this.pipes);
  }

  private uniform(pass: number, u: Uint32Array): GPUBuffer {
    const key = u.join(',');
    while (this.uniforms.length <= pass) {
      this.uniforms.push(this.ctx.device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: `radix-pass-${pass}` }));
      this.uniformKeys.push('');
    }
    if (this.uniformKeys[pass] !== key) {
      this.ctx.device.queue.writeBuffer(this.uniforms[pass]!, 0, u);
      this.uniformKeys[pass] = key;
    }
    return this.uniforms[pass]!;
  }

  /**
   * Records a sort of keys < 2^bits (the low ⌈bits/8⌉·8 bits are compared). Input in keys[0]/vals[0] (vals ignored when
   * `valsIdentity`: the values are then the input positions). Returns which buffers hold the result.
   * Passes come from `rec` under the stage name `name`.
   */
  encode<T extends Binding>(
    rec: PassRecorder,
    bufs: SortBuffers<T>,
    count: SortCount,
    bits: number,
    opts: { valsIdentity?: boolean; name?: string } = {},
  ): { keys: T; vals: T } {
    if (!this.pipes) throw new Error('RadixSortPlan: call await prepare() first');
    if ('fixed' in count && count.fixed > this.maxKeys) throw new RangeError(`sort: ${count.fixed} keys exceed the plan's ${this.maxKeys}`);
    const name = opts.name ?? 'sort';
    const passes = Math.max(1, Math.ceil(bits / 8));
    const fromBuffer = 'buffer' in count;
    const countBuf = fromBuffer ? count.buffer : this.noCount;
    let src = 0;
    for (let p = 0; p < passes; p++) {
      const identity = p === 0 && !!opts.valsIdentity;
      const u = this.uniform(
        p,
        new Uint32Array([8 * p, fromBuffer ? count.offset : 0, fromBuffer ? 0 : count.fixed, fromBuffer ? 1 : 0, identity ? 1 : 0, 0, 0, 0]),
      );
      const dst = 1 - src;
      // Histogram.
      let pass = rec.pass(`${name}:histogram`);
      pass.setPipeline(this.pipes.hist);
      pass.setBindGroup(0, this.binds.get(this.pipes.hist, { 0: u, 1: countBuf, 2: bufs.keys[src], 3: this.hist, 4: this.meta }));
      this.dispatch(pass, count);
      // Global offsets of each (digit, block).
      this.scan.encodeInPass(rec.pass(`${name}:scan`), this.hist, { buffer: this.meta, offset: 0 });
      // Scatter.
      pass = rec.pass(`${name}:scatter`);
      pass.setPipeline(this.pipes.scatter);
      pass.setBindGroup(
        0,
        this.binds.get(this.pipes.scatter, {
          0: u,
          1: countBuf,
          2: bufs.keys[src],
          3: bufs.vals[src],
          4: bufs.keys[dst],
          5: bufs.vals[dst],
          6: this.hist,
        }),
      );
      this.dispatch(pass, count);
      src = dst;
    }
    return { keys: bufs.keys[src], vals: bufs.vals[src] };
  }

  private dispatch(pass: GPUComputePassEncoder, count: SortCount): void {
    if ('fixed' in count) {
      const [x, y] = grid(Math.max(1, Math.ceil(count.fixed / this.blockSize)));
      pass.dispatchWorkgroups(x, y);
    } else {
      pass.dispatchWorkgroupsIndirect(count.indirect, count.indirectOffset);
    }
  }

  /** Bytes of GPU memory the plan allocates up front (histograms and their scan; not its few 32-byte uniforms). */
  get bytes(): number {
    return this.hist.size + this.meta.size + this.noCount.size + this.scan.bytes;
  }

  destroy(): void {
    this.hist.destroy();
    this.meta.destroy();
    this.noCount.destroy();
    this.scan.destroy();
    for (const u of this.uniforms) u.destroy();
    this.binds.clear();
  }
}
