/**
 * Blendshapes and pose for batches of frames on the GPU (the same maths as pose.ts). The 73 × V × 3
 * basis (23 MB) is uploaded once per model and device.
 */
import type { GpuContext } from '../gpu/device.js';
import { createStorage, download, upload, uniform } from '../gpu/buffers.js';
import { bindGroup, getPipeline } from '../gpu/pipelines.js';
import type { GpuProfiler } from '../gpu/timing.js';
import type { HeadModel } from './model.js';
import { N_EXPRESSION, N_IDENTITY } from './model.js';
import { headRig } from './rig.js';
import { blendCoefficients, checkParams, poseTransforms, type HeadParams } from './pose.js';
import { BLEND_WG, blendWgsl } from './kernels/blend.wgsl.js';

const K = N_IDENTITY + N_EXPRESSION;

export class GpuHeadPoser {
  private readonly neutral: GPUBuffer;
  private readonly basis: GPUBuffer;
  private readonly weights: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    readonly model: HeadModel,
  ) {
    const { device } = ctx;
    const n3 = model.vertexCount * 3;
    this.neutral = upload(device, model.neutral, undefined, 'head-neutral');
    const basis = new Float32Array(K * n3);
    basis.set(model.identities, 0);
    basis.set(model.expressions, N_IDENTITY * n3);
    this.basis = upload(device, basis, undefined, 'head-basis');
    this.weights = upload(device, headRig(model).jawWeights, undefined, 'head-jaw-weights');
  }

  /**
   * Encodes the posing of `frames` into `enc`, writing [F, V, 3] float32 (metres) into `verts`, a new
   * storage buffer that the caller owns. Call `release()` once the encoder's work has been submitted.
   */
  async encode(enc: GPUCommandEncoder, frames: HeadParams[]): Promise<{ verts: GPUBuffer; release: () => void }> {
    const { device } = this.ctx;
    const F = frames.length;
    const V = this.model.vertexCount;
    if (F === 0) throw new Error('GpuHeadPoser: no frames');
    if (F > 65535) throw new Error(`GpuHeadPoser: at most 65535 frames per batch, got ${F}`);
    const rig = headRig(this.model);
    const coeffs = new Float32Array(F * K);
    const xf = new Float32Array(F * 24);
    frames.forEach((p, f) => {
      checkParams(p, `frames[${f}]`);
      coeffs.set(blendCoefficients(p), f * K);
      const t = poseTransforms(rig, p);
      xf.set(t.jaw, f * 24);
      xf.set(t.head, f * 24 + 12);
    });
    const pipeline = await getPipeline(device, { code: blendWgsl, entryPoint: 'main', label: 'head-blend' });
    const dims = uniform(device, new Uint32Array([V, F, K, 0]), 'head-blend-dims');
    const cBuf = upload(device, coeffs, undefined, 'head-coeffs');
    const tBuf = upload(device, xf, undefined, 'head-transforms');
    const out = createStorage(device, F * V * 3 * 4, 'head-posed');
    const pass = enc.beginComputePass({ label: 'head-blend' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup(device, pipeline, { 0: dims, 1: this.neutral, 2: this.basis, 3: this.weights, 4: cBuf, 5: tBuf, 6: out }));
    pass.dispatchWorkgroups(Math.ceil(V / BLEND_WG), F);
    pass.end();
    return { verts: out, release: () => [dims, cBuf, tBuf].forEach((b) => b.destroy()) };
  }

  private frameBuffers: {
    dims: GPUBuffer;
    coeffs: GPUBuffer;
    transforms: GPUBuffer;
    pipeline: GPUComputePipeline;
    groups: Map<GPUBuffer, GPUBindGroup>;
  } | null = null;

  /**
   * Encodes the posing of one frame into `out` ([V,3] float32, caller-owned), reusing persistent
   * parameter buffers: the per-frame path of real-time rendering, which must not allocate.
   * Queue writes land before the next submit, so encode at most one frame per submit.
   */
  async encodeFrame(enc: GPUCommandEncoder, p: HeadParams, out: GPUBuffer, profiler?: GpuProfiler): Promise<void> {
    const { device } = this.ctx;
    const V = this.model.vertexCount;
    checkParams(p);
    if (!this.frameBuffers) {
      this.frameBuffers = {
        dims: uniform(device, new Uint32Array([V, 1, K, 0]), 'head-frame-dims'),
        coeffs: createStorage(device, K * 4, 'head-frame-coeffs'),
        transforms: createStorage(device, 24 * 4, 'head-frame-transforms'),
        pipeline: await getPipeline(device, { code: blendWgsl, entryPoint: 'main', label: 'head-blend' }),
        groups: new Map(),
      };
    }
    const fb = this.frameBuffers;
    // Bind groups depend only on the output buffer: built once per target, not per frame.
    let group = fb.groups.get(out);
    if (!group) {
      group = bindGroup(device, fb.pipeline, { 0: fb.dims, 1: this.neutral, 2: this.basis, 3: this.weights, 4: fb.coeffs, 5: fb.transforms, 6: out });
      fb.groups.set(out, group);
    }
    const t = poseTransforms(headRig(this.model), p);
    const xf = new Float32Array(24);
    xf.set(t.jaw, 0);
    xf.set(t.head, 12);
    device.queue.writeBuffer(fb.coeffs, 0, blendCoefficients(p));
    device.queue.writeBuffer(fb.transforms, 0, xf);
    const pass = enc.beginComputePass({ label: 'head-blend', timestampWrites: profiler?.writes('pose') });
    pass.setPipeline(fb.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(V / BLEND_WG), 1);
    pass.end();
  }

  /** Posed meshes of `frames`, read back: Float32Array [F, V, 3], metres. */
  async pose(frames: HeadParams[]): Promise<Float32Array> {
    const { device } = this.ctx;
    const enc = device.createCommandEncoder();
    const { verts, release } = await this.encode(enc, frames);
    device.queue.submit([enc.finish()]);
    const data = await download(device, verts, Float32Array, frames.length * this.model.vertexCount * 3);
    verts.destroy();
    release();
    return data;
  }

  destroy(): void {
    if (this.frameBuffers) for (const b of [this.frameBuffers.dims, this.frameBuffers.coeffs, this.frameBuffers.transforms]) b.destroy();
    this.neutral.destroy();
    this.basis.destroy();
    this.weights.destroy();
  }
}
