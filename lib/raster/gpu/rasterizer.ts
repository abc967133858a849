/**
 * `GaussianRasterizer`: the differentiable rasterizer on GPU buffers. It owns the pipelines and the
 * scratch buffers (grown on demand, reused across frames); what a backward pass needs from its forward
 * pass lives in a `ForwardState` whose buffers come from an allocator (our own by default, tfjs's pool for
 * `lib/raster/rasterize.ts`), so several forwards can be in flight before their backwards.
 *
 * Encoding is synchronous once `prepare(settings)` has compiled the pipelines, so a tfjs customGrad
 * forward function can call it.
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
import { ExclusiveScanPlan, getPipeline, grid, type GpuProfiler } from '../../gpu/index.js';
import type { Camera, Projected, RasterSettings, ShDegree } from '../types.js';
import { BindGroupCache } from './bindings.js';
import { FRAME_BYTES, frameInfo, packFrame, type FrameInfo } from './frame.js';
import { projectBackwardWgsl, reducePartialsWgsl } from './project-backward.wgsl.js';
import { FUSED_PROJECT_STORAGE_BUFFERS, projectKeysWgsl, projectSplitWgsl, projectWgsl, type ProjectLayout } from './project.wgsl.js';
import { GRAD_FIELDS, backwardShape, rasterizeBackwardWgsl, type BackwardShape } from './rasterize-backward.wgsl.js';
import { OUT_CHANNELS, blendVariant, rasterizeForwardWgsl, type BlendVariant } from './rasterize.wgsl.js';
import { PassRecorder } from './recorder.js';
import { RadixSortPlan, sortConfig, type SortConfig } from './sort.js';
import { META, emitWgsl, finalizeWgsl, setupWgsl, tilesWgsl } from './tiles.wgsl.js';

/** Gaussian parameters on the GPU, packed float32 as in `Gaussians` (types.ts). */
export interface GaussianBuffers {
  count: number;
  shDegree: ShDegree; // stored degree: sh holds (shDegree+1)² coefficients per channel
  means: GPUBuffer; // [N,3]
  logScales: GPUBuffer; // [N,3]
  quats: GPUBuffer; // [N,4]
  opacityLogits: GPUBuffer; // [N]
  sh: GPUBuffer; // [N,K,3]
}

/** Allocates a storage buffer of at least `bytes` (zero-initialised not required). */
export type Allocate = (bytes: number, label: string) => GPUBuffer;

/** Everything a forward pass leaves for its backward pass, plus its outputs. */
export interface ForwardState {
  n: number;
  shDegree: ShDegree;
  cam: Camera;
  settings: RasterSettings;
  variant: BlendVariant;
  info: FrameInfo;
  capacity: number; // keys the buffers hold
  frame: ArrayBuffer; // the uniform's bytes (rewritten before the backward)
  // Outputs.
  image: GPUBuffer; // [H,W,5] r, g, b, alpha, depth
  nContrib: GPUBuffer; // [H,W] u32
  radii: GPUBuffer; // [N] i32
  // For the backward pass (and the stage tests).
  proj: GPUBuffer; // [N] Proj (48 bytes)
  tilesTouched: GPUBuffer; // [N] u32
  rects: GPUBuffer; // [N] vec2u
  depthSorted: GPUBuffer; // [N] Gaussian ids by depth
  offsets: GPUBuffer; // [N+1] exclusive scan of tilesTouched in depth order; [N] = M
  keyGid: GPUBuffer; // [capacity] Gaussian id per sorted key
  keyEmit: GPUBuffer; // [capacity] emit index per sorted key
  ranges: GPUBuffer; // [numTiles] (start, end)
  finalT: GPUBuffer; // [H,W]
  lastIdx: GPUBuffer; // [H,W]
  wabeSums: GPUBuffer | null; // [H,W,4] renormalised WABE only
  /** Buffers this state allocated, in allocation order (for release / adoption as tensors). */
  owned: GPUBuffer[];
}

export interface GradBuffers {
  means: GPUBuffer; // [N,3]
  logScales: GPUBuffer; // [N,3]
  quats: GPUBuffer; // [N,4]
  opacityLogits: GPUBuffer; // [N]
  sh: GPUBuffer; // [N,K,3]
  means2D: GPUBuffer; // [N,2]
}

export interface RasterizerOptions {
  /** Use the non-subgroup kernels even where subgroups exist (tests of the fallback). */
  noSubgroups?: boolean;
  /** Initial key capacity; default 8 keys per Gaussian, at least 64 Ki. */
  initialCapacity?: number;
  /** Keep capacity at or above this many keys per Gaussian before any frame has been seen. */
  keysPerGaussianGuess?: number;
  /**
   * Projection as one kernel or two (project.wgsl.ts). Default: fused where the device allows its 11
   * storage buffers per stage (Dawn on Node), split otherwise (browsers: 8, or 10 on Chromium).
   */
  projectLayout?: ProjectLayout;
}

export interface PrepareOptions {
  /**
   * Compile only the forward kernels (a viewer): the backward kernels bind up to 13 storage buffers per
   * stage, more than browsers allow, and cost compile time that rendering never uses.
   */
  forwardOnly?: boolean;
}

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

interface Pipes {
  project: GPUComputePipeline;
  /** The split layout's second projection kernel; null when fused. */
  projectKeys: GPUComputePipeline | null;
  gather: GPUComputePipeline;
  setup: GPUComputePipeline;
  emit: GPUComputePipeline;
  finalize: GPUComputePipeline;
  rasterize: GPUComputePipeline;
  /** Null when prepared forward-only. */
  bwd: { backward: GPUComputePipeline; reducePartials: GPUComputePipeline; projectBackward: GPUComputePipeline } | null;
}

const variantKey = (v: BlendVariant) => `${v.wabe ? 'wabe' : 'alpha'}${v.renorm ? '-renorm' : ''}${v.wabeGrad ? '-grad' : ''}`;
const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

export class GaussianRasterizer {
  readonly sortCfg: SortConfig;
  readonly bwdShape: BackwardShape;
  readonly projectLayout: ProjectLayout;
  private readonly pipes = new Map<string, Pipes>();
  private readonly binds: BindGroupCache;
  private readonly frameUniform: GPUBuffer;
  private readonly dummy: GPUBuffer;
  // Scratch, grown on demand.
  private nAlloc = 0;
  private depthKeys: [GPUBuffer, GPUBuffer] | null = null;
  private depthValsB: GPUBuffer | null = null;
  private depthSort: RadixSortPlan | null = null;
  private offsetsScan: ExclusiveScanPlan | null = null;
  private capAlloc = 0;
  private tileKeys: [GPUBuffer, GPUBuffer] | null = null;
  private tileVals: [GPUBuffer, GPUBuffer] | null = null;
  private emitGid: GPUBuffer | null = null;
  private tileSort: RadixSortPlan | null = null;
  private partialsCap = 0;
  private partials: GPUBuffer | null = null;
  private sumsN = 0;
  private sums: GPUBuffer | null = null;
  private readonly meta: GPUBuffer;
  // Capacity policy.
  private capacity = 0;
  private wantedCapacity = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly freeStaging: GPUBuffer[] = [];
  private warnedOverflow = false;
  readonly stats: RasterizerStats = { frames: 0, overflowFrames: 0, lastKeys: 0, maxKeys: 0, capacity: 0, liveBytes: 0, peakBytes: 0 };
  private readonly sizes = new Map<GPUBuffer, number>();

  constructor(
    readonly ctx: GpuContext,
    private readonly opts: RasterizerOptions = {},
  ) {
    const minSg = (ctx.adapter.info as unknown as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
    this.sortCfg = sortConfig(ctx, opts.noSubgroups);
    this.projectLayout =
      opts.projectLayout ?? (ctx.device.limits.maxStorageBuffersPerShaderStage >= FUSED_PROJECT_STORAGE_BUFFERS ? 'fused' : 'split');
    this.bwdShape = backwardShape(this.sortCfg.subgroups, minSg);
    this.binds = new BindGroupCache(ctx.device);
    this.frameUniform = ctx.device.createBuffer({ size: FRAME_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'raster-frame' });
    this.dummy = this.alloc(16, 'raster-dummy');
    this.meta = this.alloc(META.words * 4, 'raster-meta', BufferUsage.STORAGE | BufferUsage.INDIRECT | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
    if (opts.initialCapacity) this.wantedCapacity = opts.initialCapacity;
  }

  // ---------------------------------------------------------------------------------------------------
  // Memory.

  /** Allocates a storage buffer counted in `stats` (the default allocator for states). */
  readonly allocate: Allocate = (bytes, label) => this.alloc(bytes, label);

  private alloc(bytes: number, label: string, usage: number = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const b = this.ctx.device.createBuffer({ size, usage, label });
    this.track(b, size);
    return b;
  }

  /** Counts a buffer allocated elsewhere (tfjs's pool) in this rasterizer's memory statistics. */
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

  /** Releases a state's buffers (raw API). */
  releaseState(st: ForwardState): void {
    for (const b of st.owned) this.release(b);
    st.owned.length = 0;
  }

  // ---------------------------------------------------------------------------------------------------
  // Pipelines.

  /**
   * Compiles the pipelines for `settings`' blending variant (and the shared ones); with `forwardOnly`,
   * only those of the forward pass (a later full prepare adds the backward kernels).
   */
  async prepare(settings: RasterSettings, popts: PrepareOptions = {}): Promise<void> {
    const v = blendVariant(settings);
    const key = variantKey(v);
    const have = this.pipes.get(key);
    if (have && (have.bwd || popts.forwardOnly)) return;
    const { device } = this.ctx;
    const sortBlock = { SORT_BLOCK: this.sortCfg.wg * this.sortCfg.kpt };
    const split = this.projectLayout === 'split';
    const forward = Promise.all([
      getPipeline(device, { code: split ? projectSplitWgsl : projectWgsl, entryPoint: 'project', label: split ? 'project-split' : 'project' }),
      split ? getPipeline(device, { code: projectKeysWgsl, entryPoint: 'projectKeys', label: 'project-keys' }) : null,
      getPipeline(device, { code: tilesWgsl, entryPoint: 'gatherCounts', constants: sortBlock, label: 'gather-counts' }),
      getPipeline(device, { code: setupWgsl, entryPoint: 'setup', constants: sortBlock, label: 'tiles-setup' }),
      getPipeline(device, { code: emitWgsl, entryPoint: 'emit', label: 'emit' }),
      getPipeline(device, { code: finalizeWgsl, entryPoint: 'finalize', label: 'finalize' }),
      getPipeline(device, { code: rasterizeForwardWgsl(v), entryPoint: 'rasterize', label: `rasterize-${key}` }),
      new RadixSortPlan(this.ctx, 1, this.sortCfg).prepare(),
      new ExclusiveScanPlan(this.ctx, 1).prepare(),
    ]);
    const backward = popts.forwardOnly
      ? Promise.resolve(null)
      : Promise.all([
          getPipeline(device, { code: rasterizeBackwardWgsl(v, this.bwdShape), entryPoint: 'rasterizeBackward', label: `rasterize-backward-${key}` }),
          getPipeline(device, { code: reducePartialsWgsl, entryPoint: 'reducePartials', label: 'reduce-partials' }),
          getPipeline(device, { code: projectBackwardWgsl, entryPoint: 'projectBackward', label: 'project-backward' }),
        ]).then(([backward, reducePartials, projectBackward]) => ({ backward, reducePartials, projectBackward }));
    const [[project, projectKeys, gather, setup, emit, finalize, rasterize], bwd] = await Promise.all([forward, backward]);
    this.pipes.set(key, { project, projectKeys, gather, setup, emit, finalize, rasterize, bwd });
  }

  private pipesFor(v: BlendVariant): Pipes {
    const p = this.pipes.get(variantKey(v));
    if (!p) throw new Error(`GaussianRasterizer: pipelines for blend variant '${variantKey(v)}' are not compiled; call await rasterizer.prepare(settings) first`);
    return p;
  }

  // ---------------------------------------------------------------------------------------------------
  // Scratch.

  private ensureN(n: number): void {
    if (n <= this.nAlloc && this.depthSort && this.offsetsScan) return;
    const N = Math.max(1024, nextPow2(n));
    for (const b of this.depthKeys ?? []) this.release(b);
    this.release(this.depthValsB);
    this.depthSort?.destroy();
    this.offsetsScan?.destroy();
    this.depthKeys = [this.alloc(N * 4, 'depth-keys-a'), this.alloc(N * 4, 'depth-keys-b')];
    this.depthValsB = this.alloc(N * 4, 'depth-vals-b');
    this.depthSort = new RadixSortPlan(this.ctx, N, this.sortCfg);
    this.offsetsScan = new ExclusiveScanPlan(this.ctx, N + 1);
    this.nAlloc = N;
  }

  private ensureCapacity(n: number): number {
    const guess = Math.max(1 << 16, n * (this.opts.keysPerGaussianGuess ?? 8));
    const want = Math.max(this.wantedCapacity || guess, 1024);
    if (want > this.capAlloc || !this.tileSort) {
      const cap = Math.ceil(want / 1024) * 1024; // not a power of two: at 10⁷ keys that would waste gigabytes
      for (const b of [...(this.tileKeys ?? []), ...(this.tileVals ?? [])]) this.release(b);
      this.release(this.emitGid);
      this.tileSort?.destroy();
      this.tileKeys = [this.alloc(cap * 4, 'tile-keys-a'), this.alloc(cap * 4, 'tile-keys-b')];
      this.tileVals = [this.alloc(cap * 4, 'tile-vals-a'), this.alloc(cap * 4, 'tile-vals-b')];
      this.emitGid = this.alloc(cap * 4, 'emit-gid');
      this.tileSort = new RadixSortPlan(this.ctx, cap, this.sortCfg);
      this.capAlloc = cap;
    }
    this.capacity = this.capAlloc;
    this.stats.capacity = this.capacity;
    return this.capacity;
  }

  private ensureSums(n: number): GPUBuffer {
    if (!this.sums || this.sumsN < n) {
      this.release(this.sums);
      this.sumsN = Math.max(1024, nextPow2(n));
      this.sums = this.alloc(this.sumsN * GRAD_FIELDS * 4, 'grad-sums');
    }
    return this.sums;
  }

  private ensurePartials(cap: number): GPUBuffer {
    if (!this.partials || this.partialsCap < cap) {
      this.release(this.partials);
      this.partials = this.alloc(cap * GRAD_FIELDS * 4, 'grad-partials');
      this.partialsCap = cap;
    }
    return this.partials;
  }

  // ---------------------------------------------------------------------------------------------------
  // Forward.

  /**
   * Encodes and submits the forward pass. `allocate` provides the state's buffers (default: tracked
   * buffers of this rasterizer). Returns at once; outputs are ready for work submitted afterwards.
   */
  forward(
    g: GaussianBuffers,
    cam: Camera,
    settings: RasterSettings,
    opts: { allocate?: Allocate; profiler?: GpuProfiler; reuse?: ForwardState } = {},
  ): ForwardState {
    const v = blendVariant(settings);
    const P = this.pipesFor(v);
    if (settings.tileSize !== 16) throw new Error(`GaussianRasterizer: tileSize must be 16, got ${settings.tileSize}`);
    if (!(cam.width > 0 && cam.height > 0)) throw new Error(`GaussianRasterizer: camera size ${cam.width}×${cam.height} is empty`);
    const n = g.count;
    const { device } = this.ctx;
    this.ensureN(n);
    const cap = this.ensureCapacity(n);
    const info = frameInfo(cam);
    if (info.gridW > 65535 || info.gridH > 65535) throw new Error('GaussianRasterizer: image too large');
    const frame = packFrame(cam, settings, n, g.shDegree, cap);
    const st = this.stateFor(n, g.shDegree, cam, settings, v, info, cap, frame, opts.allocate ?? this.allocate, opts.reuse);
    device.queue.writeBuffer(this.frameUniform, 0, frame);
    const prof = opts.profiler;
    const enc = device.createCommandEncoder({ label: 'raster-forward' });
    const rec = new PassRecorder(enc, prof);
    const U = this.frameUniform;
    const B = this.binds;

    // 1. Projection.
    let pass = rec.pass('project');
    const params: Record<number, GPUBuffer> = { 0: U, 1: g.means, 2: g.logScales, 3: g.quats, 4: g.opacityLogits, 5: g.sh, 6: st.proj, 11: st.rects };
    const sides: Record<number, GPUBuffer> = { 7: st.tilesTouched, 8: this.depthKeys![0], 9: st.depthSorted, 10: st.radii };
    pass.setPipeline(P.project);
    pass.setBindGroup(0, B.get(P.project, P.projectKeys ? params : { ...params, ...sides }));
    dispatchThreads(pass, n, 256);
    if (P.projectKeys) {
      pass = rec.pass('project');
      pass.setPipeline(P.projectKeys);
      pass.setBindGroup(0, B.get(P.projectKeys, { 0: U, 6: st.proj, ...sides, 11: st.rects }));
      dispatchThreads(pass, n, 256);
    }

    // 2. Depth sort (values: Gaussian ids, written by the projection).
    const ds = this.depthSort!.encode(rec, { keys: this.depthKeys!, vals: [st.depthSorted, this.depthValsB!] }, { fixed: n }, 32, { name: 'sort-depth' });
    if (ds.vals !== st.depthSorted) throw new Error('internal: depth sort did not end in its input buffer');

    // 3. Counts in depth order (and cleared tile ranges), their scan, the key count and the indirect
    //    dispatch sizes, emit.
    pass = rec.pass('tiles-count');
    pass.setPipeline(P.gather);
    pass.setBindGroup(0, B.get(P.gather, { 0: U, 1: st.depthSorted, 2: st.tilesTouched, 3: st.offsets, 4: st.ranges }));
    dispatchThreads(pass, Math.max(n + 1, info.numTiles), 256);
    this.offsetsScan!.encodeInPass(rec.pass('tiles-count'), st.offsets, n + 1);
    pass = rec.pass('tiles-count');
    pass.setPipeline(P.setup);
    pass.setBindGroup(0, B.get(P.setup, { 0: U, 1: st.offsets, 2: this.meta }));
    pass.dispatchWorkgroups(1);
    pass = rec.pass('tiles-emit');
    pass.setPipeline(P.emit);
    pass.setBindGroup(
      0,
      B.get(P.emit, { 0: U, 1: st.depthSorted, 2: st.offsets, 3: st.rects, 4: this.tileKeys![0], 5: this.emitGid!, 6: this.meta }),
    );
    pass.dispatchWorkgroupsIndirect(this.meta, META.keyArgs * 4);

    // 4. Stable sort of the keys by tile id (values: emit index, implicit on the first pass).
    const tileBits = Math.max(1, Math.ceil(Math.log2(info.numTiles)));
    const ts = this.tileSort!.encode(
      rec,
      { keys: this.tileKeys!, vals: this.tileVals! },
      { buffer: this.meta, offset: META.keys, indirect: this.meta, indirectOffset: META.sortArgs * 4 },
      tileBits,
      { valsIdentity: true, name: 'sort-tiles' },
    );

    // 5. Per sorted key: Gaussian id, emit index; tile ranges.
    pass = rec.pass('tiles-finalize');
    pass.setPipeline(P.finalize);
    pass.setBindGroup(0, B.get(P.finalize, { 1: this.meta, 2: ts.keys, 3: ts.vals, 4: this.emitGid!, 5: st.keyGid, 6: st.keyEmit, 7: st.ranges }));
    pass.dispatchWorkgroupsIndirect(this.meta, META.keyArgs * 4);

    // 6. Rasterize.
    pass = rec.pass('rasterize');
    pass.setPipeline(P.rasterize);
    const rb: Record<number, GPUBuffer> = {
      0: U,
      1: st.ranges,
      2: st.keyGid,
      3: st.proj,
      4: st.image,
      5: st.finalT,
      6: st.lastIdx,
      7: st.nContrib,
    };
    if (v.renorm) rb[8] = st.wabeSums!;
    pass.setBindGroup(0, B.get(P.rasterize, rb));
    pass.dispatchWorkgroups(info.gridW, info.gridH);
    rec.end();

    // Key count and overflow flag, read back asynchronously (staging buffers are recycled).
    const staging =
      this.freeStaging.pop() ?? device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'raster-meta-readback' });
    enc.copyBufferToBuffer(this.meta, META.keys * 4, staging, 0, 16);
    prof?.resolveInto(enc);
    device.queue.submit([enc.finish()]);
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
    return st;
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

  /** Waits for the key counts of all submitted frames; returns how many of them overflowed so far. */
  async settle(): Promise<RasterizerStats> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    return this.stats;
  }

  /**
   * Forward pass that is guaranteed complete: renders, waits for the key count and re-renders with a
   * larger capacity if the frame overflowed.
   */
  async render(g: GaussianBuffers, cam: Camera, settings: RasterSettings, opts: { allocate?: Allocate; profiler?: GpuProfiler } = {}): Promise<ForwardState> {
    await this.prepare(settings);
    for (;;) {
      const before = this.stats.overflowFrames;
      const st = this.forward(g, cam, settings, opts);
      await this.settle();
      if (this.stats.overflowFrames === before) return st;
      if (!opts.allocate) this.releaseState(st);
    }
  }

  private stateFor(
    count: number,
    shDegree: ShDegree,
    cam: Camera,
    settings: RasterSettings,
    variant: BlendVariant,
    info: FrameInfo,
    capacity: number,
    frame: ArrayBuffer,
    allocate: Allocate,
    reuse?: ForwardState,
  ): ForwardState {
    let n = count;
    const npx = info.width * info.height;
    n = Math.max(1, n); // bindings need room for one element even when there are no Gaussians
    const need: [keyof ForwardState, number][] = [
      ['image', npx * OUT_CHANNELS * 4],
      ['nContrib', npx * 4],
      ['radii', n * 4],
      ['proj', n * 48],
      ['tilesTouched', n * 4],
      ['rects', n * 8],
      ['depthSorted', n * 4],
      ['offsets', (n + 1) * 4],
      ['keyGid', capacity * 4],
      ['keyEmit', capacity * 4],
      ['ranges', info.numTiles * 8],
      ['finalT', npx * 4],
      ['lastIdx', npx * 4],
    ];
    if (variant.renorm) need.push(['wabeSums', npx * 16]);
    if (reuse && need.every(([k, bytes]) => reuse[k] && (reuse[k] as GPUBuffer).size >= bytes)) {
      return Object.assign(reuse, { n: count, shDegree, cam, settings, variant, info, capacity, frame });
    }
    if (reuse) this.releaseState(reuse);
    const owned: GPUBuffer[] = [];
    const st = { n: count, shDegree, cam, settings, variant, info, capacity, frame, wabeSums: null, owned } as unknown as ForwardState;
    for (const [k, bytes] of need) {
      const b = allocate(bytes, `state-${k}`);
      (st as unknown as Record<string, GPUBuffer>)[k] = b;
      owned.push(b);
    }
    return st;
  }

  // ---------------------------------------------------------------------------------------------------
  // Backward.

  /**
   * Encodes and submits the backward pass of `st` for the upstream gradient `dOut` ([H,W,5]: ∂L/∂(r, g,
   * b, alpha, depth)), writing the parameter gradients into `grads` (allocated by `allocate` if absent).
   */
  backward(
    st: ForwardState,
    g: GaussianBuffers,
    dOut: GPUBuffer,
    opts: { grads?: GradBuffers; allocate?: Allocate; profiler?: GpuProfiler } = {},
  ): GradBuffers {
    const P = this.pipesFor(st.variant).bwd;
    if (!P) throw new Error('GaussianRasterizer.backward: the rasterizer was prepared forward-only; call await rasterizer.prepare(settings) first');
    const { device } = this.ctx;
    if (g.count !== st.n) throw new Error(`GaussianRasterizer.backward: ${g.count} Gaussians, but the forward pass had ${st.n}`);
    const n = st.n;
    const K = (st.shDegree + 1) ** 2;
    const allocate = opts.allocate ?? this.allocate;
    const grads = opts.grads ?? {
      means: allocate(n * 12, 'grad-means'),
      logScales: allocate(n * 12, 'grad-log-scales'),
      quats: allocate(n * 16, 'grad-quats'),
      opacityLogits: allocate(n * 4, 'grad-opacity-logits'),
      sh: allocate(n * K * 12, 'grad-sh'),
      means2D: allocate(n * 8, 'grad-means2d'),
    };
    const partials = this.ensurePartials(st.capacity);
    const sums = this.ensureSums(n);
    device.queue.writeBuffer(this.frameUniform, 0, st.frame);
    const enc = device.createCommandEncoder({ label: 'raster-backward' });
    const rec = new PassRecorder(enc, opts.profiler);
    const U = this.frameUniform;
    let pass = rec.pass('rasterize-backward');
    pass.setPipeline(P.backward);
    const bb: Record<number, GPUBuffer> = {
      0: U,
      1: st.ranges,
      2: st.keyGid,
      3: st.keyEmit,
      4: st.proj,
      5: st.finalT,
      6: st.lastIdx,
      7: dOut,
      8: partials,
    };
    if (st.variant.renorm) bb[9] = st.wabeSums!;
    pass.setBindGroup(0, this.binds.get(P.backward, bb));
    pass.dispatchWorkgroups(st.info.gridW, st.info.gridH);
    pass = rec.pass('reduce-partials');
    pass.setPipeline(P.reducePartials);
    pass.setBindGroup(0, this.binds.get(P.reducePartials, { 0: U, 1: st.offsets, 2: partials, 3: sums }));
    dispatchThreads(pass, n * GRAD_FIELDS, 256);
    pass = rec.pass('project-backward');
    pass.setPipeline(P.projectBackward);
    pass.setBindGroup(
      0,
      this.binds.get(P.projectBackward, {
        0: U,
        1: g.means,
        2: g.logScales,
        3: g.quats,
        5: g.sh,
        6: st.proj,
        7: st.depthSorted,
        9: sums,
        10: grads.means,
        11: grads.logScales,
        12: grads.quats,
        13: grads.opacityLogits,
        14: grads.sh,
        15: grads.means2D,
      }),
    );
    dispatchThreads(pass, n, 128);
    rec.end();
    const prof = opts.profiler;
    prof?.resolveInto(enc);
    device.queue.submit([enc.finish()]);
    return grads;
  }

  destroy(): void {
    for (const b of this.freeStaging.splice(0)) b.destroy();
    for (const b of [...this.sizes.keys()]) this.release(b);
    this.frameUniform.destroy();
    this.depthSort?.destroy();
    this.offsetsScan?.destroy();
    this.tileSort?.destroy();
    this.binds.clear();
  }
}

function dispatchThreads(pass: GPUComputePassEncoder, threads: number, wg: number): void {
  const [x, y] = grid(Math.max(1, Math.ceil(threads / wg)));
  pass.dispatchWorkgroups(x, y);
}

/** Reads a state's stage-1 output back in the `Projected` layout (tests, tools). */
export async function readProjected(ctx: GpuContext, st: ForwardState): Promise<Projected> {
  const { download } = await import('../../gpu/buffers.js');
  const n = st.n;
  const raw = await download(ctx.device, st.proj, Float32Array, n * 12);
  const radii = await download(ctx.device, st.radii, Int32Array, n);
  const tilesTouched = await download(ctx.device, st.tilesTouched, Uint32Array, n);
  const out: Projected = {
    count: n,
    means2D: new Float32Array(2 * n),
    conics: new Float32Array(3 * n),
    radii,
    depths: new Float32Array(n),
    colors: new Float32Array(3 * n),
    opacities: new Float32Array(n),
    tilesTouched,
  };
  for (let i = 0; i < n; i++) {
    const o = 12 * i;
    out.means2D[2 * i] = raw[o]!;
    out.means2D[2 * i + 1] = raw[o + 1]!;
    out.depths[i] = raw[o + 2]!;
    out.opacities[i] = raw[o + 3]!;
    out.conics.set(raw.subarray(o + 4, o + 7), 3 * i);
    out.colors.set(raw.subarray(o + 8, o + 11), 3 * i);
  }
  return out;
}
