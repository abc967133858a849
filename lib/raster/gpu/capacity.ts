/**
 * The rasterizer's own GPU memory: every buffer it allocates is counted (live and peak bytes), scratch
 * buffers grow on demand and are reused across frames, and the key capacity follows the key counts that
 * frames report back.
 *
 * Key capacity. The number of (tile, Gaussian) keys M is only known on the GPU. Rather than read it back
 * every frame (a CPU–GPU round trip that stalls the queue, and impossible inside tfjs's synchronous
 * kernels), the key buffers are sized from a capacity, every pass over keys is an indirect dispatch sized
 * on the GPU, and the emit pass drops keys past the capacity and raises an overflow flag. Each frame copies
 * (M, overflow) to a staging buffer that is mapped asynchronously; the next frame after a report of M near
 * or over the capacity grows it (×1.5 headroom). A frame that overflowed is incomplete: `render()` (async)
 * checks and re-renders it; the synchronous paths count it in `stats.overflowFrames` and warn.
 */
import type { GpuContext } from '../../gpu/device.js';
import { BufferUsage, MapMode } from '../../gpu/flags.js';
import { ExclusiveScanPlan } from '../../gpu/index.js';
import { GRAD_FIELDS } from './rasterize-backward.wgsl.js';
import { RadixSortPlan, type SortConfig } from './sort.js';
import { META } from './tiles.wgsl.js';

export interface RasterizerStats {
  frames: number;
  overflowFrames: number;
  lastKeys: number; // M of the last frame reported back
  maxKeys: number;
  capacity: number;
  /** Bytes of GPU memory this rasterizer holds now, and the most it has held (own allocations). */
  liveBytes: number;
  peakBytes: number;
}

export interface CapacityOptions {
  /** Initial key capacity; default 8 keys per Gaussian, at least 64 Ki. */
  initialCapacity?: number;
  /** Keep capacity at or above this many keys per Gaussian before any frame has been seen. */
  keysPerGaussianGuess?: number;
}

const STORAGE_RW = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/** Counted allocations: what `stats.liveBytes` / `peakBytes` report. */
export class RasterMemory {
  readonly stats: RasterizerStats = { frames: 0, overflowFrames: 0, lastKeys: 0, maxKeys: 0, capacity: 0, liveBytes: 0, peakBytes: 0 };
  private readonly sizes = new Map<GPUBuffer, number>();

  constructor(private readonly device: GPUDevice) {}

  alloc(bytes: number, label: string, usage: number = STORAGE_RW): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.device.createBuffer({ size, usage, label });
    this.track(b, size);
    return b;
  }

  /** Counts a buffer allocated elsewhere (tfjs's pool). */
  track(b: GPUBuffer, size = b.size): void {
    this.sizes.set(b, size);
    this.stats.liveBytes += size;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.stats.liveBytes);
  }

  /** Forgets a tracked buffer; destroys it unless `keep` (buffers tfjs owns). */
  release(b: GPUBuffer | null, keep = false): void {
    if (!b) return;
    const s = this.sizes.get(b);
    if (s !== undefined) {
      this.stats.liveBytes -= s;
      this.sizes.delete(b);
    }
    if (!keep) b.destroy();
  }

  /** Counts (or, negative, uncounts) memory held outside plain buffers: the sort and scan plans' scratch. */
  count(bytes: number): void {
    this.stats.liveBytes += bytes;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.stats.liveBytes);
  }

  releaseAll(): void {
    for (const b of [...this.sizes.keys()]) this.release(b);
  }
}

/** Scratch buffers sized from N (depth sort, offsets scan, gradient sums) and from the key capacity. */
export class RasterScratch {
  // Sized from N.
  private nAlloc = 0;
  depthKeys: [GPUBuffer, GPUBuffer] | null = null;
  depthValsB: GPUBuffer | null = null;
  depthSort: RadixSortPlan | null = null;
  offsetsScan: ExclusiveScanPlan | null = null;
  private sumsN = 0;
  private sumsBuf: GPUBuffer | null = null;
  // Sized from the key capacity.
  private capAlloc = 0;
  /**
   * One buffer of GRAD_FIELDS words per key, used by both directions in turn (queue order separates them):
   * the forward's key scratch (tile keys and emit indices, ping and pong, and the emit pass's Gaussian
   * ids: 5 words per key, dead once the tile lists are final) in its first half, the backward's partials
   * in all of it. 40 bytes per key instead of 60.
   */
  private keyScratch: GPUBuffer | null = null;
  tileKeys: [GPUBufferBinding, GPUBufferBinding] | null = null;
  tileVals: [GPUBufferBinding, GPUBufferBinding] | null = null;
  emitGid: GPUBufferBinding | null = null;
  tileSort: RadixSortPlan | null = null;
  /** Key count, overflow flag and indirect dispatch sizes (META layout), written on the GPU. */
  readonly meta: GPUBuffer;
  // Capacity policy.
  private capacity = 0;
  private wantedCapacity = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly freeStaging: GPUBuffer[] = [];
  private warnedOverflow = false;

  constructor(
    private readonly ctx: GpuContext,
    private readonly mem: RasterMemory,
    private readonly sortCfg: SortConfig,
    private readonly opts: CapacityOptions = {},
  ) {
    this.meta = mem.alloc(META.words * 4, 'raster-meta', BufferUsage.STORAGE | BufferUsage.INDIRECT | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
    if (opts.initialCapacity) this.wantedCapacity = opts.initialCapacity;
  }

  get stats(): RasterizerStats {
    return this.mem.stats;
  }

  ensureN(n: number): void {
    if (n <= this.nAlloc && this.depthSort && this.offsetsScan) return;
    const N = Math.max(1024, nextPow2(n));
    for (const b of this.depthKeys ?? []) this.mem.release(b);
    this.mem.release(this.depthValsB);
    this.dropPlan(this.depthSort);
    this.dropPlan(this.offsetsScan);
    this.depthKeys = [this.mem.alloc(N * 4, 'depth-keys-a'), this.mem.alloc(N * 4, 'depth-keys-b')];
    this.depthValsB = this.mem.alloc(N * 4, 'depth-vals-b');
    this.depthSort = this.plan(new RadixSortPlan(this.ctx, N, this.sortCfg));
    this.offsetsScan = this.plan(new ExclusiveScanPlan(this.ctx, N + 1));
    this.nAlloc = N;
  }

  private plan<T extends { bytes: number }>(p: T): T {
    this.mem.count(p.bytes);
    return p;
  }

  private dropPlan(p: { bytes: number; destroy(): void } | null): void {
    if (!p) return;
    this.mem.count(-p.bytes);
    p.destroy();
  }

  /** Grows the key buffers to the wanted capacity (or the first guess for `n` Gaussians); returns it. */
  ensureCapacity(n: number): number {
    const guess = Math.max(1 << 16, n * (this.opts.keysPerGaussianGuess ?? 8));
    const want = Math.max(this.wantedCapacity || guess, 1024);
    if (want > this.capAlloc || !this.tileSort) {
      const cap = Math.ceil(want / 1024) * 1024; // not a power of two: at 10⁷ keys that would waste gigabytes
      this.mem.release(this.keyScratch);
      this.dropPlan(this.tileSort);
      const buffer = (this.keyScratch = this.mem.alloc(cap * GRAD_FIELDS * 4, 'key-scratch'));
      // cap is a multiple of 1024, so every range starts 256-byte aligned as storage bindings must.
      const part = (k: number): GPUBufferBinding => ({ buffer, offset: k * cap * 4, size: cap * 4 });
      this.tileKeys = [part(0), part(1)];
      this.tileVals = [part(2), part(3)];
      this.emitGid = part(4);
      this.tileSort = this.plan(new RadixSortPlan(this.ctx, cap, this.sortCfg));
      this.capAlloc = cap;
    }
    this.capacity = this.capAlloc;
    this.stats.capacity = this.capacity;
    return this.capacity;
  }

  /** [N, GRAD_FIELDS] per-Gaussian sums of the backward's partials. */
  sums(n: number): GPUBuffer {
    if (!this.sumsBuf || this.sumsN < n) {
      this.mem.release(this.sumsBuf);
      this.sumsN = Math.max(1024, nextPow2(n));
      this.sumsBuf = this.mem.alloc(this.sumsN * GRAD_FIELDS * 4, 'grad-sums');
    }
    return this.sumsBuf;
  }

  /**
   * [capacity, GRAD_FIELDS] per-(tile, Gaussian) partials of the backward, at each key's emit index: the
   * key scratch, at least `cap` keys long (the capacity only grows between a forward and its backward).
   */
  partials(cap: number): GPUBuffer {
    if (!this.keyScratch || this.capAlloc < cap) throw new Error(`internal: key scratch for ${this.capAlloc} keys, a state needs ${cap}`);
    return this.keyScratch;
  }

  /** Copies this frame's key count and overflow flag for an asynchronous readback (after the frame's passes). */
  encodeReadback(enc: GPUCommandEncoder): GPUBuffer {
    const staging =
      this.freeStaging.pop() ?? this.ctx.device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'raster-meta-readback' });
    enc.copyBufferToBuffer(this.meta, META.keys * 4, staging, 0, 16);
    return staging;
  }

  /** After the submit: maps `staging` and updates the capacity policy from the frame's key count. */
  watch(staging: GPUBuffer, cap: number): void {
    this.stats.frames++;
    const p = staging.mapAsync(MapMode.READ).then(
      () => {
        const [, total, overflow] = new Uint32Array(staging.getMappedRange(0, 16).slice(0));
        staging.unmap();
        this.freeStaging.push(staging);
        this.observe(total!, overflow! !== 0, cap);
        this.pending.delete(p);
      },
      () => {
        staging.destroy();
        this.pending.delete(p);
      },
    );
    this.pending.add(p);
  }

  private observe(total: number, overflow: boolean, cap: number): void {
    this.stats.lastKeys = total;
    this.stats.maxKeys = Math.max(this.stats.maxKeys, total);
    if (total > 0.8 * cap || total > this.capacity) this.wantedCapacity = Math.max(this.wantedCapacity, Math.ceil(total * 1.5));
    if (overflow) {
      this.stats.overflowFrames++;
      if (!this.warnedOverflow) {
        console.warn(
          `GaussianRasterizer: a frame needed ${total} tile keys but had room for ${cap}; it was rendered incomplete. ` +
            'Capacity grows for the next frames (render() re-renders such frames; prepare with a larger initialCapacity to avoid this).',
        );
        this.warnedOverflow = true;
      }
    }
  }

  /** Waits for the key counts of all submitted frames. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  destroy(): void {
    for (const b of this.freeStaging.splice(0)) b.destroy();
    this.dropPlan(this.depthSort);
    this.dropPlan(this.offsetsScan);
    this.dropPlan(this.tileSort);
    this.depthSort = this.offsetsScan = this.tileSort = null;
  }
}
