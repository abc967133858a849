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

/**
 * What each counted byte is for. The roles group buffers by what they scale with (keys, pixels, Gaussians),
 * which is what decides where a memory saving can come from.
 */
export const MEMORY_ROLES = {
  keyScratch: 'keys: tile sort + partials scratch',
  keyGid: 'keys: keyGid',
  tileSortPlan: 'tile sort plan',
  depthSort: 'depth sort',
  offsetsScan: 'offsets scan',
  pixelState: 'per-pixel state (image, finalT, lastIdx, nContrib, wabeSums)',
  gaussianState: 'per-Gaussian state (radii, proj, tilesTouched, rects, depthSorted, offsets, emitBase)',
  tileState: 'tile ranges and key-count meta',
  gradSums: 'gradient sums',
  grads: 'gradients',
  tracked: 'tracked (allocated elsewhere)',
  other: 'other',
} as const;
export type MemoryRole = (typeof MEMORY_ROLES)[keyof typeof MEMORY_ROLES];

/** Role of each ForwardState buffer (keyed by field: forwardState labels them `state-<field>`). */
const STATE_ROLES: Record<string, MemoryRole> = {
  image: MEMORY_ROLES.pixelState,
  nContrib: MEMORY_ROLES.pixelState,
  finalT: MEMORY_ROLES.pixelState,
  lastIdx: MEMORY_ROLES.pixelState,
  wabeSums: MEMORY_ROLES.pixelState,
  radii: MEMORY_ROLES.gaussianState,
  proj: MEMORY_ROLES.gaussianState,
  tilesTouched: MEMORY_ROLES.gaussianState,
  rects: MEMORY_ROLES.gaussianState,
  depthSorted: MEMORY_ROLES.gaussianState,
  offsets: MEMORY_ROLES.gaussianState,
  emitBase: MEMORY_ROLES.gaussianState,
  keyGid: MEMORY_ROLES.keyGid,
  ranges: MEMORY_ROLES.tileState,
};

/** The role of a buffer from its label (the labels this folder gives; anything else is 'other'). */
export function memoryRole(label: string): MemoryRole {
  if (label.startsWith('state-')) return STATE_ROLES[label.slice(6)] ?? MEMORY_ROLES.other;
  if (label.startsWith('grad-sums')) return MEMORY_ROLES.gradSums;
  if (label.startsWith('grad-')) return MEMORY_ROLES.grads;
  if (label.startsWith('depth-')) return MEMORY_ROLES.depthSort;
  if (label === 'key-scratch') return MEMORY_ROLES.keyScratch;
  if (label === 'raster-meta') return MEMORY_ROLES.tileState;
  return MEMORY_ROLES.other;
}

/** Counted allocations: what `stats.liveBytes` / `peakBytes` report, and by role what they hold now and held at the peak. */
export class RasterMemory {
  readonly stats: RasterizerStats = { frames: 0, overflowFrames: 0, lastKeys: 0, maxKeys: 0, capacity: 0, liveBytes: 0, peakBytes: 0 };
  private readonly sizes = new Map<GPUBuffer, { size: number; role: MemoryRole }>();
  private readonly live = new Map<MemoryRole, number>();
  private atPeak = new Map<MemoryRole, number>();

  constructor(private readonly device: GPUDevice) {}

  alloc(bytes: number, label: string, usage: number = STORAGE_RW, role: MemoryRole = memoryRole(label)): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.device.createBuffer({ size, usage, label });
    this.track(b, size, role);
    return b;
  }

  /** Counts a buffer allocated elsewhere (tfjs's pool). */
  track(b: GPUBuffer, size = b.size, role: MemoryRole = MEMORY_ROLES.tracked): void {
    this.sizes.set(b, { size, role });
    this.add(role, size);
  }

  /** Forgets a tracked buffer; destroys it unless `keep` (buffers tfjs owns). */
  release(b: GPUBuffer | null, keep = false): void {
    if (!b) return;
    const s = this.sizes.get(b);
    if (s !== undefined) {
      this.add(s.role, -s.size);
      this.sizes.delete(b);
    }
    if (!keep) b.destroy();
  }

  /** Counts (or, negative, uncounts) memory held outside plain buffers: the sort and scan plans' scratch. */
  count(bytes: number, role: MemoryRole): void {
    this.add(role, bytes);
  }

  private add(role: MemoryRole, bytes: number): void {
    this.live.set(role, (this.live.get(role) ?? 0) + bytes);
    this.stats.liveBytes += bytes;
    // The breakdown is copied only when the total sets a new high, so it is the composition of the peak.
    if (this.stats.liveBytes > this.stats.peakBytes) {
      this.stats.peakBytes = this.stats.liveBytes;
      this.atPeak = new Map(this.live);
    }
  }

  /** Bytes per role held now and at the peak (roles holding nothing left out); each sums to liveBytes / peakBytes. */
  breakdown(): { live: Partial<Record<MemoryRole, number>>; peak: Partial<Record<MemoryRole, number>> } {
    const rec = (m: Map<MemoryRole, number>) => Object.fromEntries([...m].filter(([, v]) => v !== 0)) as Partial<Record<MemoryRole, number>>;
    return { live: rec(this.live), peak: rec(this.atPeak) };
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
    this.depthSort = this.plan(new RadixSortPlan(this.ctx, N, this.sortCfg), MEMORY_ROLES.depthSort);
    this.offsetsScan = this.plan(new ExclusiveScanPlan(this.ctx, N + 1), MEMORY_ROLES.offsetsScan);
    this.nAlloc = N;
  }

  private readonly planRoles = new Map<{ bytes: number }, MemoryRole>();

  private plan<T extends { bytes: number }>(p: T, role: MemoryRole): T {
    this.mem.count(p.bytes, role);
    this.planRoles.set(p, role);
    return p;
  }

  private dropPlan(p: { bytes: number; destroy(): void } | null): void {
    if (!p) return;
    this.mem.count(-p.bytes, this.planRoles.get(p) ?? MEMORY_ROLES.other);
    this.planRoles.delete(p);
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
      this.tileSort = this.plan(new RadixSortPlan(this.ctx, cap, this.sortCfg), MEMORY_ROLES.tileSortPlan);
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
