/**
 * Prefix sums and reductions on the GPU. Plans allocate their scratch once for an upper bound on the
 * element count and can then be encoded any number of times into larger command buffers.
 */
import type { GpuContext } from './device.js';
import { createStorage, upload, download, write } from './buffers.js';
import { BufferUsage } from './flags.js';
import { bindGroup, dispatch1D, getPipeline } from './pipelines.js';
import { SCAN_BLOCK, reduceWgsl, scanWgsl } from './kernels/scan.wgsl.js';

/** Where the element count comes from: a number known on the CPU, or a u32 in a GPU buffer. */
export type Count = number | { buffer: GPUBuffer; offset: number /* in u32 elements */ };

function levelSizes(maxN: number): number[] {
  // sizes[l] = number of elements at level l; stop once a level fits in one block.
  const sizes = [Math.max(1, maxN)];
  while (sizes[sizes.length - 1]! > SCAN_BLOCK) sizes.push(Math.ceil(sizes[sizes.length - 1]! / SCAN_BLOCK));
  sizes.push(1);
  return sizes;
}

abstract class HierarchicalPlan {
  protected readonly sizes: number[];
  protected readonly levels: GPUBuffer[] = []; // uniforms, one per level
  protected readonly dummyCount: GPUBuffer;

  constructor(
    protected readonly ctx: GpuContext,
    readonly maxN: number,
  ) {
    this.sizes = levelSizes(maxN);
    this.dummyCount = upload(ctx.device, new Uint32Array([0]));
    for (let l = 0; l < this.sizes.length; l++) {
      this.levels.push(ctx.device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: `scan-level-${l}` }));
    }
  }

  private lastCount: string | null = null;

  protected setCount(count: Count): GPUBuffer {
    if (typeof count === 'number' && count > this.maxN) {
      throw new RangeError(`count ${count} exceeds the plan's maxN ${this.maxN}`);
    }
    // Unchanged counts need no queue write, so a plan whose count lives on the GPU can be encoded any
    // number of times per submit (the radix sort encodes its scan once per pass).
    const key = typeof count === 'number' ? `n${count}` : `b${count.offset}`;
    if (key === this.lastCount) return typeof count === 'number' ? this.dummyCount : count.buffer;
    this.lastCount = key;
    for (let l = 0; l < this.levels.length; l++) {
      const u = typeof count === 'number' ? new Uint32Array([l, 0, count, 0]) : new Uint32Array([l, count.offset, 0, 1]);
      write(this.ctx.device, this.levels[l]!, u);
    }
    return typeof count === 'number' ? this.dummyCount : count.buffer;
  }

  destroy(): void {
    for (const b of this.levels) b.destroy();
    this.dummyCount.destroy();
  }
}

/**
 * In-place exclusive prefix sum of u32. After `encode`, `totalBuffer` holds the sum of all elements at
 * u32 index `totalOffset` (the total is the last level's single block sum).
 *
 * Note: `encode` writes uniforms through the queue when the count changes, so encode one plan at most once
 * per submit unless its count is the same every time (e.g. read from the same GPU buffer slot).
 *
 * `prepare()` once, then `encodeSync` encodes without awaiting (for callers that must stay synchronous,
 * such as a tfjs customGrad forward function).
 */
type ScanPipes = { scan: GPUComputePipeline; add: GPUComputePipeline };
const readyScanPipes = new WeakMap<GPUDevice, ScanPipes>();

export class ExclusiveScanPlan extends HierarchicalPlan {
  private readonly sums: GPUBuffer[] = [];
  // Once any plan on a device is prepared, later plans are ready at construction.
  private pipes: ScanPipes | null = readyScanPipes.get(this.ctx.device) ?? null;
  private readonly binds = new WeakMap<GPUBuffer, WeakMap<GPUBuffer, { scan: GPUBindGroup[]; add: GPUBindGroup[] }>>();

  constructor(ctx: GpuContext, maxN: number) {
    super(ctx, maxN);
    for (let l = 1; l < this.sizes.length; l++) {
      // Level l's data holds the block sums of level l-1; its last slot receives the grand total.
      this.sums.push(createStorage(ctx.device, this.sizes[l]! * 4, `scan-sums-${l}`));
    }
  }

  get totalBuffer(): GPUBuffer {
    return this.sums[this.sums.length - 1]!;
  }
  readonly totalOffset = 0;

  async prepare(): Promise<void> {
    const { device } = this.ctx;
    const scan = await getPipeline(device, { code: scanWgsl, entryPoint: 'scan_blocks', label: 'scan_blocks' });
    const add = await getPipeline(device, { code: scanWgsl, entryPoint: 'add_offsets', label: 'add_offsets' });
    this.pipes = { scan, add };
    readyScanPipes.set(device, this.pipes);
  }

  async encode(enc: GPUCommandEncoder, data: GPUBuffer, count: Count, timestampWrites?: GPUComputePassTimestampWrites): Promise<void> {
    if (!this.pipes) await this.prepare();
    this.encodeSync(enc, data, count, timestampWrites);
  }

  encodeSync(enc: GPUCommandEncoder, data: GPUBuffer, count: Count, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = enc.beginComputePass({ label: 'exclusive-scan', timestampWrites });
    this.encodeInPass(pass, data, count);
    pass.end();
  }

  /** Records the scan's dispatches into an open compute pass (fewer passes, less encoding overhead). */
  encodeInPass(pass: GPUComputePassEncoder, data: GPUBuffer, count: Count): void {
    if (!this.pipes) throw new Error('ExclusiveScanPlan: call await prepare() first');
    const { device } = this.ctx;
    const { scan, add } = this.pipes;
    const countBuf = this.setCount(count);
    const L = this.sums.length;
    const dataAt = (l: number) => (l === 0 ? data : this.sums[l - 1]!);
    // Bind groups are cached per (data, count) buffer pair: callers re-encode the same buffers every frame.
    let byCount = this.binds.get(data);
    if (!byCount) this.binds.set(data, (byCount = new WeakMap()));
    let groups = byCount.get(countBuf);
    if (!groups) {
      groups = { scan: [], add: [] };
      for (let l = 0; l < L; l++) {
        const res = { 0: dataAt(l), 1: this.sums[l]!, 2: this.levels[l]!, 3: countBuf };
        groups.scan.push(bindGroup(device, scan, res));
        groups.add.push(bindGroup(device, add, res));
      }
      byCount.set(countBuf, groups);
    }
    for (let l = 0; l < L; l++) {
      pass.setPipeline(scan);
      pass.setBindGroup(0, groups.scan[l]!);
      dispatch1D(pass, Math.ceil(this.sizes[l]! / SCAN_BLOCK));
    }
    for (let l = L - 2; l >= 0; l--) {
      pass.setPipeline(add);
      pass.setBindGroup(0, groups.add[l]!);
      dispatch1D(pass, Math.ceil(this.sizes[l]! / SCAN_BLOCK));
    }
  }

  /** Bytes of GPU memory the plan holds (its level sums, uniforms and count slot). */
  get bytes(): number {
    return this.sums.reduce((a, b) => a + b.size, 0) + this.levels.reduce((a, b) => a + b.size, 0) + this.dummyCount.size;
  }

  override destroy(): void {
    super.destroy();
    for (const b of this.sums) b.destroy();
  }
}

/** Sum of `count` f32 or u32 values; the result lands at u32 index 0 of `result`. */
export class SumPlan extends HierarchicalPlan {
  private readonly partials: GPUBuffer[] = [];

  constructor(
    ctx: GpuContext,
    maxN: number,
    readonly type: 'f32' | 'u32',
  ) {
    super(ctx, maxN);
    for (let l = 1; l < this.sizes.length; l++) this.partials.push(createStorage(ctx.device, this.sizes[l]! * 4, `sum-partials-${l}`));
  }

  get result(): GPUBuffer {
    return this.partials[this.partials.length - 1]!;
  }

  async encode(enc: GPUCommandEncoder, src: GPUBuffer, count: Count, timestampWrites?: GPUComputePassTimestampWrites): Promise<void> {
    const { device } = this.ctx;
    const countBuf = this.setCount(count);
    const code = reduceWgsl(this.type);
    const red = await getPipeline(device, { code, entryPoint: 'reduce_blocks', label: `reduce_${this.type}` });
    const pass = enc.beginComputePass({ label: 'sum-reduce', timestampWrites });
    for (let l = 0; l < this.partials.length; l++) {
      pass.setPipeline(red);
      const input = l === 0 ? src : this.partials[l - 1]!;
      pass.setBindGroup(0, bindGroup(device, red, { 0: input, 1: this.partials[l]!, 2: this.levels[l]!, 3: countBuf }));
      dispatch1D(pass, Math.ceil(this.sizes[l]! / SCAN_BLOCK));
    }
    pass.end();
  }

  override destroy(): void {
    super.destroy();
    for (const b of this.partials) b.destroy();
  }
}

/** Convenience: exclusive scan of a CPU array on the GPU (tests, small jobs). */
export async function exclusiveScan(ctx: GpuContext, input: Uint32Array): Promise<{ scanned: Uint32Array; total: number }> {
  const { device } = ctx;
  const data = upload(device, input);
  const plan = new ExclusiveScanPlan(ctx, input.length);
  const enc = device.createCommandEncoder();
  await plan.encode(enc, data, input.length);
  device.queue.submit([enc.finish()]);
  const scanned = await download(device, data, Uint32Array, input.length);
  const total = (await download(device, plan.totalBuffer, Uint32Array, 1))[0]!;
  data.destroy();
  plan.destroy();
  return { scanned, total };
}

/** Convenience: sum of a CPU array on the GPU. */
export async function gpuSum(ctx: GpuContext, input: Float32Array | Uint32Array): Promise<number> {
  const { device } = ctx;
  const type = input instanceof Float32Array ? 'f32' : 'u32';
  const src = upload(device, input);
  const plan = new SumPlan(ctx, input.length, type);
  const enc = device.createCommandEncoder();
  await plan.encode(enc, src, input.length);
  device.queue.submit([enc.finish()]);
  const out = type === 'f32' ? await download(device, plan.result, Float32Array, 1) : await download(device, plan.result, Uint32Array, 1);
  src.destroy();
  plan.destroy();
  return out[0]!;
}
