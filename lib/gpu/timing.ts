/**
 * GPU timing. With `timestamp-query` each named compute pass gets begin/end timestamps resolved on the
 * GPU (so stage times exclude submission and readback); without it we fall back to wall-clock time
 * around `queue.onSubmittedWorkDone()`, which measures the whole submission only.
 */
import type { GpuContext } from './device.js';
import { BufferUsage, MapMode } from './flags.js';

export interface PassTimes {
  /** Milliseconds per named pass (summed when a name repeats); empty when timestamps are unavailable. */
  passes: Map<string, number>;
  /** GPU time from the first pass's start to the last pass's end, or wall time in fallback mode. */
  totalMs: number;
  source: 'timestamp-query' | 'wall-clock';
}

/**
 * Collects timestamps for the compute passes of one submission.
 *   const prof = new GpuProfiler(ctx, 16);
 *   const pass = enc.beginComputePass({ timestampWrites: prof.writes('project') });
 *   ... submit ...; const t = await prof.read();
 */
export class GpuProfiler {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;
  private readonly names: string[] = [];
  private started = 0;

  constructor(
    private readonly ctx: GpuContext,
    private readonly maxPasses = 64,
  ) {
    if (ctx.has.timestampQuery) {
      this.querySet = ctx.device.createQuerySet({ type: 'timestamp', count: maxPasses * 2 });
      this.resolve = ctx.device.createBuffer({
        size: maxPasses * 2 * 8,
        usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
      });
    } else {
      this.querySet = null;
      this.resolve = null;
    }
  }

  get enabled(): boolean {
    return this.querySet !== null;
  }

  /** Marks the start of the measured work (used by the wall-clock fallback). */
  begin(): void {
    this.names.length = 0;
    this.started = performance.now();
  }

  /** `timestampWrites` for a pass named `name`, or undefined when timestamps are unavailable or exhausted. */
  writes(name: string): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet || this.names.length >= this.maxPasses) return undefined;
    const i = this.names.length;
    this.names.push(name);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Appends the resolve of all written timestamps; call on the last encoder before submit. */
  resolveInto(enc: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolve || this.names.length === 0) return;
    enc.resolveQuerySet(this.querySet, 0, this.names.length * 2, this.resolve, 0);
  }

  /** Waits for the GPU and returns per-pass times. */
  async read(): Promise<PassTimes> {
    const { device } = this.ctx;
    if (!this.querySet || !this.resolve || this.names.length === 0) {
      await device.queue.onSubmittedWorkDone();
      return { passes: new Map(), totalMs: performance.now() - this.started, source: 'wall-clock' };
    }
    const n = this.names.length * 2;
    const staging = device.createBuffer({ size: n * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(this.resolve, 0, staging, 0, n * 8);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MapMode.READ);
    const ts = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const passes = new Map<string, number>();
    let first = ts[0]!;
    let last = ts[1]!;
    for (let i = 0; i < this.names.length; i++) {
      const a = ts[2 * i]!;
      const b = ts[2 * i + 1]!;
      if (a < first) first = a;
      if (b > last) last = b;
      const ms = b >= a ? Number(b - a) / 1e6 : 0;
      passes.set(this.names[i]!, (passes.get(this.names[i]!) ?? 0) + ms);
    }
    return { passes, totalMs: Number(last - first) / 1e6, source: 'timestamp-query' };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
  }
}

/** Wall-clock milliseconds of `fn` including a full GPU sync at the end. */
export async function timeSynced(device: GPUDevice, fn: () => void | Promise<void>): Promise<number> {
  await device.queue.onSubmittedWorkDone();
  const t0 = performance.now();
  await fn();
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/** Median of a sample (benchmarks report medians: GPU timings have long upper tails). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
