/**
 * Hands out compute passes for named stages. Without a profiler every stage shares one compute pass
 * (Dawn still orders the dispatches inside it), which keeps per-frame encoding cheap; with a profiler each
 * call opens its own pass with timestamp writes, so stages can be timed (repeated names are summed).
 */
import type { GpuProfiler } from '../../gpu/index.js';

export class PassRecorder {
  private current: GPUComputePassEncoder | null = null;

  constructor(
    readonly enc: GPUCommandEncoder,
    private readonly prof?: GpuProfiler,
  ) {}

  pass(name: string): GPUComputePassEncoder {
    if (this.prof?.enabled) {
      this.end();
      this.current = this.enc.beginComputePass({ label: name, timestampWrites: this.prof.writes(name) });
      return this.current;
    }
    return (this.current ??= this.enc.beginComputePass({ label: 'raster' }));
  }

  /** Ends the open pass (before copies, or before finishing the encoder). */
  end(): void {
    this.current?.end();
    this.current = null;
  }
}
