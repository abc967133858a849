/**
 * `GaussianRasterizer`: the differentiable rasterizer on GPU buffers, the one public class of this folder.
 * It compiles the pipelines per blending variant (pipes.ts), owns the scratch buffers and the key capacity
 * (capacity.ts), and encodes and submits the forward (forward.ts) and backward (backward.ts) passes. What a
 * backward pass needs from its forward pass lives in a `ForwardState` (state.ts) whose buffers come from an
 * allocator (our own by default, tfjs's pool for `lib/raster/rasterize.ts`), so several forwards can be in
 * flight before their backwards.
 *
 * Encoding is synchronous once `prepare(settings)` has compiled the pipelines, so a tfjs customGrad
 * forward function can call it.
 */
import type { GpuContext } from '../../gpu/device.js';
import { BufferUsage } from '../../gpu/flags.js';
import type { GpuProfiler } from '../../gpu/index.js';
import type { Camera, Projected, RasterSettings } from '../types.js';
import { encodeBackward } from './backward.js';
import { BindGroupCache } from './bindings.js';
import { RasterMemory, RasterScratch, type MemoryRole, type RasterizerStats } from './capacity.js';
import { encodeForward, type PassContext } from './forward.js';
import { FRAME_BYTES, frameInfo, packFrame } from './frame.js';
import { compilePipes, variantKey, type Pipes } from './pipes.js';
import { FUSED_PROJECT_STORAGE_BUFFERS, type ProjectLayout } from './project.wgsl.js';
import { backwardShape, type BackwardShape } from './rasterize-backward.wgsl.js';
import { blendVariant, type BlendVariant } from './rasterize.wgsl.js';
import { sortConfig, type SortConfig } from './sort.js';
import { checkBackwardBuffers, checkGaussianBuffers, forwardState, type Allocate, type ForwardState, type GaussianBuffers, type GradBuffers } from './state.js';

export type { Allocate, ForwardState, GaussianBuffers, GradBuffers } from './state.js';
export type { MemoryRole, RasterizerStats } from './capacity.js';
export { MEMORY_ROLES } from './capacity.js';

export interface RasterizerOptions {
  /** Use the non-subgroup kernels even where subgroups exist (tests of the fallback). */
  noSubgroups?: boolean;
  /** Radix sort blocks sorted in workgroup memory before they are written out (sort.wgsl.ts; opt-in). */
  localSortScatter?: boolean;
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

export class GaussianRasterizer {
  readonly sortCfg: SortConfig;
  readonly bwdShape: BackwardShape;
  readonly projectLayout: ProjectLayout;
  private readonly pipes = new Map<string, Pipes>();
  private readonly mem: RasterMemory;
  private readonly scratch: RasterScratch;
  private readonly pc: PassContext;

  constructor(
    readonly ctx: GpuContext,
    opts: RasterizerOptions = {},
  ) {
    const minSg = (ctx.adapter.info as unknown as { subgroupMinSize?: number }).subgroupMinSize ?? 0;
    this.sortCfg = sortConfig(ctx, opts.noSubgroups, opts.localSortScatter);
    this.projectLayout = opts.projectLayout ?? (ctx.device.limits.maxStorageBuffersPerShaderStage >= FUSED_PROJECT_STORAGE_BUFFERS ? 'fused' : 'split');
    this.bwdShape = backwardShape(this.sortCfg.subgroups, minSg);
    this.mem = new RasterMemory(ctx.device);
    this.scratch = new RasterScratch(ctx, this.mem, this.sortCfg, opts);
    this.pc = {
      device: ctx.device,
      frameUniform: ctx.device.createBuffer({ size: FRAME_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'raster-frame' }),
      scratch: this.scratch,
      binds: new BindGroupCache(ctx.device),
    };
  }

  get stats(): RasterizerStats {
    return this.mem.stats;
  }

  // ---------------------------------------------------------------------------------------------------
  // Memory.

  /** Allocates a storage buffer counted in `stats` (the default allocator for states). */
  readonly allocate: Allocate = (bytes, label) => this.mem.alloc(bytes, label);

  /** Counts a buffer allocated elsewhere (tfjs's pool) in this rasterizer's memory statistics. */
  track(b: GPUBuffer, size = b.size): void {
    this.mem.track(b, size);
  }

  /**
   * Bytes of the counted memory per role (capacity.ts, MEMORY_ROLES), now and at the moment of the peak:
   * where `stats.peakBytes` goes.
   */
  memoryBreakdown(): { live: Partial<Record<MemoryRole, number>>; peak: Partial<Record<MemoryRole, number>> } {
    return this.mem.breakdown();
  }

  /** Forgets a tracked buffer; destroys it unless `keep` (buffers tfjs owns). */
  release(b: GPUBuffer | null, keep = false): void {
    this.mem.release(b, keep);
  }

  /** Releases a state's buffers (raw API). */
  releaseState(st: ForwardState): void {
    for (const b of st.owned) this.mem.release(b);
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
    const have = this.pipes.get(variantKey(v));
    if (have && (have.bwd || popts.forwardOnly)) return;
    const cfg = { sortCfg: this.sortCfg, projectLayout: this.projectLayout, bwdShape: this.bwdShape };
    this.pipes.set(variantKey(v), await compilePipes(this.ctx, v, cfg, !!popts.forwardOnly));
  }

  private pipesFor(v: BlendVariant): Pipes {
    const p = this.pipes.get(variantKey(v));
    if (!p)
      throw new Error(`GaussianRasterizer: pipelines for blend variant '${variantKey(v)}' are not compiled; call await rasterizer.prepare(settings) first`);
    return p;
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
    checkGaussianBuffers(g, 'GaussianRasterizer.forward');
    const n = g.count;
    this.scratch.ensureN(n);
    const cap = this.scratch.ensureCapacity(n);
    const info = frameInfo(cam);
    if (info.gridW > 65535 || info.gridH > 65535) throw new Error('GaussianRasterizer: image too large');
    const frame = packFrame(cam, settings, n, g.shDegree, cap);
    const fields = { n, shDegree: g.shDegree, cam, settings, variant: v, info, capacity: cap, frame };
    const st = forwardState(fields, opts.allocate ?? this.allocate, (s) => this.releaseState(s), opts.reuse);
    this.ctx.device.queue.writeBuffer(this.pc.frameUniform, 0, frame);
    const { enc, staging } = encodeForward(this.pc, P, g, st, opts.profiler);
    this.ctx.device.queue.submit([enc.finish()]);
    this.scratch.watch(staging, cap);
    return st;
  }

  /** Waits for the key counts of all submitted frames; returns how many of them overflowed so far. */
  async settle(): Promise<RasterizerStats> {
    await this.scratch.settle();
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
    if (g.count !== st.n) throw new Error(`GaussianRasterizer.backward: ${g.count} Gaussians, but the forward pass had ${st.n}`);
    checkGaussianBuffers(g, 'GaussianRasterizer.backward');
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
    checkBackwardBuffers(st, grads, dOut, 'GaussianRasterizer.backward');
    this.ctx.device.queue.writeBuffer(this.pc.frameUniform, 0, st.frame);
    const enc = encodeBackward(this.pc, P, g, st, dOut, grads, opts.profiler);
    this.ctx.device.queue.submit([enc.finish()]);
    return grads;
  }

  destroy(): void {
    this.scratch.destroy();
    this.mem.releaseAll();
    this.pc.frameUniform.destroy();
    this.pc.binds.clear();
  }
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
