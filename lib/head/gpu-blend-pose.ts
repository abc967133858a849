/**
 * Host side of the blend-and-pose kernels (kernels/blend-pose.wgsl.ts), shared by the ICT head and FLAME
 * posers (gpu-pose.ts, flame/gpu-pose.ts), which differ only in the model's basis and in how a frame's
 * parameters become coefficients and transforms. The model's buffers live as long as the poser; batches
 * get parameter buffers of their own, single frames reuse persistent ones so that the real-time path
 * does not allocate.
 */
import type { GpuContext } from '../gpu/device.js';
import { createStorage, download, upload, uniform } from '../gpu/buffers.js';
import { bindGroup, getPipeline } from '../gpu/pipelines.js';
import type { GpuProfiler } from '../gpu/timing.js';

export interface BlendPoseSpec {
  /** The poser's name, which errors start with. */
  owner: string;
  code: string;
  workgroupSize: number;
  /** The pipeline's and the passes' label. */
  label: string;
  /** What the labels of the parameter and output buffers start with. */
  prefix: string;
  vertexCount: number;
  /** Coefficients of the basis (K), and transform floats, per frame. */
  coeffCount: number;
  transformCount: number;
}

/** The model's buffers, uploaded by the poser (bindings 1 to 3); destroy() destroys them. */
export interface BlendPoseModelBuffers {
  neutral: GPUBuffer;
  basis: GPUBuffer;
  weights: GPUBuffer;
}

/** Writes one frame's coefficients [K] and transforms [transformCount]; both arrive zeroed or as last written. */
export type FrameFill = (coeffs: Float32Array, transforms: Float32Array) => void;

export class GpuBlendPose {
  private frameBuffers: {
    dims: GPUBuffer;
    coeffs: GPUBuffer;
    transforms: GPUBuffer;
    coeffsHost: Float32Array;
    transformsHost: Float32Array;
    pipeline: GPUComputePipeline;
    groups: Map<GPUBuffer, GPUBindGroup>;
  } | null = null;

  constructor(
    private readonly ctx: GpuContext,
    private readonly spec: BlendPoseSpec,
    private readonly model: BlendPoseModelBuffers,
  ) {}

  private pipeline(): Promise<GPUComputePipeline> {
    return getPipeline(this.ctx.device, { code: this.spec.code, entryPoint: 'main', label: this.spec.label });
  }

  private resources(dims: GPUBuffer, coeffs: GPUBuffer, transforms: GPUBuffer, out: GPUBuffer): Record<number, GPUBuffer> {
    return { 0: dims, 1: this.model.neutral, 2: this.model.basis, 3: this.model.weights, 4: coeffs, 5: transforms, 6: out };
  }

  /** HeadPoser.encode, with `fill(p, f, …)` writing frame f's inputs. */
  async encode<P>(
    enc: GPUCommandEncoder,
    frames: P[],
    fill: (p: P, f: number, coeffs: Float32Array, transforms: Float32Array) => void,
  ): Promise<{ verts: GPUBuffer; release: () => void }> {
    const { device } = this.ctx;
    const { owner, label, prefix, vertexCount: V, coeffCount: K, transformCount: T } = this.spec;
    const F = frames.length;
    if (F === 0) throw new Error(`${owner}: no frames`);
    if (F > 65535) throw new Error(`${owner}: at most 65535 frames per batch, got ${F}`);
    const coeffs = new Float32Array(F * K);
    const xf = new Float32Array(F * T);
    frames.forEach((p, f) => fill(p, f, coeffs.subarray(f * K, (f + 1) * K), xf.subarray(f * T, (f + 1) * T)));
    const pipeline = await this.pipeline();
    const dims = uniform(device, new Uint32Array([V, F, K, 0]), `${prefix}-dims`);
    const cBuf = upload(device, coeffs, undefined, `${prefix}-coeffs`);
    const tBuf = upload(device, xf, undefined, `${prefix}-transforms`);
    const out = createStorage(device, F * V * 3 * 4, `${prefix}-posed`);
    const pass = enc.beginComputePass({ label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup(device, pipeline, this.resources(dims, cBuf, tBuf, out)));
    pass.dispatchWorkgroups(Math.ceil(V / this.spec.workgroupSize), F);
    pass.end();
    return { verts: out, release: () => [dims, cBuf, tBuf].forEach((b) => b.destroy()) };
  }

  /** HeadPoser.encodeFrame, with `fill` writing the frame's inputs. */
  async encodeFrame(enc: GPUCommandEncoder, out: GPUBuffer, fill: FrameFill, profiler?: GpuProfiler): Promise<void> {
    const { device } = this.ctx;
    const { label, prefix, vertexCount: V, coeffCount: K, transformCount: T } = this.spec;
    if (!this.frameBuffers) {
      this.frameBuffers = {
        dims: uniform(device, new Uint32Array([V, 1, K, 0]), `${prefix}-frame-dims`),
        coeffs: createStorage(device, K * 4, `${prefix}-frame-coeffs`),
        transforms: createStorage(device, T * 4, `${prefix}-frame-transforms`),
        coeffsHost: new Float32Array(K),
        transformsHost: new Float32Array(T),
        pipeline: await this.pipeline(),
        groups: new Map(),
      };
    }
    const fb = this.frameBuffers;
    // Bind groups depend only on the output buffer: built once per target, not per frame.
    let group = fb.groups.get(out);
    if (!group) {
      group = bindGroup(device, fb.pipeline, this.resources(fb.dims, fb.coeffs, fb.transforms, out));
      fb.groups.set(out, group);
    }
    fill(fb.coeffsHost, fb.transformsHost);
    // writeBuffer copies the data now, so the host arrays can be refilled by the next frame.
    device.queue.writeBuffer(fb.coeffs, 0, fb.coeffsHost);
    device.queue.writeBuffer(fb.transforms, 0, fb.transformsHost);
    const pass = enc.beginComputePass({ label, timestampWrites: profiler?.writes('pose') });
    pass.setPipeline(fb.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(V / this.spec.workgroupSize), 1);
    pass.end();
  }

  /** HeadPoser.pose: the batch that `encode` records, submitted and read back ([F, V, 3]). */
  async readBack(frameCount: number, encode: (enc: GPUCommandEncoder) => Promise<{ verts: GPUBuffer; release: () => void }>): Promise<Float32Array> {
    const { device } = this.ctx;
    const enc = device.createCommandEncoder();
    const { verts, release } = await encode(enc);
    device.queue.submit([enc.finish()]);
    const data = await download(device, verts, Float32Array, frameCount * this.spec.vertexCount * 3);
    verts.destroy();
    release();
    return data;
  }

  destroy(): void {
    if (this.frameBuffers) for (const b of [this.frameBuffers.dims, this.frameBuffers.coeffs, this.frameBuffers.transforms]) b.destroy();
    this.model.neutral.destroy();
    this.model.basis.destroy();
    this.model.weights.destroy();
  }
}
