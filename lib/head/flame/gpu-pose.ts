/**
 * FLAME posing for batches of frames on the GPU (kernels/lbs.wgsl.ts; float64 reference in lbs.ts). The
 * blendshape and pose-corrective basis ((K + 36) × V × 3 float32, 27 MB for FLAME with teeth) is uploaded
 * once per poser; per frame the CPU computes only the joints and their transforms.
 */
import type { GpuContext } from '../../gpu/device.js';
import { createStorage, download, upload, uniform } from '../../gpu/buffers.js';
import { bindGroup, getPipeline } from '../../gpu/pipelines.js';
import type { GpuProfiler } from '../../gpu/timing.js';
import { FLAME_LBS_WG, flameLbsWgsl } from './kernels/lbs.wgsl.js';
import { flameFrame, type FlameParams } from './lbs.js';
import type { FlameModel } from './model.js';

const POSE_BASIS = 36;

export class GpuFlamePoser {
  private readonly neutral: GPUBuffer;
  private readonly basis: GPUBuffer;
  private readonly weights: GPUBuffer;
  private readonly K: number;

  /** `staticOffset` [V,3] (metres) is the subject's per-vertex offset, added to the template. */
  constructor(
    private readonly ctx: GpuContext,
    readonly model: FlameModel,
    readonly staticOffset?: Float32Array,
  ) {
    const { device } = ctx;
    const n3 = model.vertexCount * 3;
    if (staticOffset && staticOffset.length !== n3) throw new Error(`GpuFlamePoser: staticOffset has ${staticOffset.length} values, expected ${n3}`);
    const neutral = Float32Array.from(model.template);
    if (staticOffset) for (let i = 0; i < n3; i++) neutral[i] = model.template[i]! + staticOffset[i]!;
    this.neutral = upload(device, neutral, undefined, 'flame-neutral');
    const Kc = model.shapeCount + model.exprCount;
    this.K = Kc + POSE_BASIS;
    const basis = new Float32Array(this.K * n3);
    basis.set(model.shapedirs, 0);
    basis.set(model.posedirs, Kc * n3);
    this.basis = upload(device, basis, undefined, 'flame-basis');
    this.weights = upload(device, Float32Array.from(model.weights), undefined, 'flame-weights');
  }

  /** Per-frame coefficients [K] and transforms [64] (5 joint affines, translation, pad). */
  private frameInputs(p: FlameParams): { coeffs: Float32Array; xf: Float32Array } {
    const fr = flameFrame(this.model, p, this.staticOffset);
    const coeffs = new Float32Array(this.K);
    coeffs.set(fr.betas, 0);
    coeffs.set(fr.poseFeature, fr.betas.length);
    const xf = new Float32Array(64);
    xf.set(fr.transforms, 0);
    xf.set(fr.translation, 60);
    return { coeffs, xf };
  }

  /**
   * Encodes the posing of `frames` into `enc`, writing [F, V, 3] float32 (metres) into `verts`, a new
   * storage buffer that the caller owns. Call `release()` once the encoder's work has been submitted.
   */
  async encode(enc: GPUCommandEncoder, frames: FlameParams[]): Promise<{ verts: GPUBuffer; release: () => void }> {
    const { device } = this.ctx;
    const F = frames.length;
    const V = this.model.vertexCount;
    if (F === 0) throw new Error('GpuFlamePoser: no frames');
    if (F > 65535) throw new Error(`GpuFlamePoser: at most 65535 frames per batch, got ${F}`);
    const coeffs = new Float32Array(F * this.K);
    const xf = new Float32Array(F * 64);
    frames.forEach((p, f) => {
      const i = this.frameInputs(p);
      coeffs.set(i.coeffs, f * this.K);
      xf.set(i.xf, f * 64);
    });
    const pipeline = await getPipeline(device, { code: flameLbsWgsl, entryPoint: 'main', label: 'flame-lbs' });
    const dims = uniform(device, new Uint32Array([V, F, this.K, 0]), 'flame-dims');
    const cBuf = upload(device, coeffs, undefined, 'flame-coeffs');
    const tBuf = upload(device, xf, undefined, 'flame-transforms');
    const out = createStorage(device, F * V * 3 * 4, 'flame-posed');
    const pass = enc.beginComputePass({ label: 'flame-lbs' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup(device, pipeline, { 0: dims, 1: this.neutral, 2: this.basis, 3: this.weights, 4: cBuf, 5: tBuf, 6: out }));
    pass.dispatchWorkgroups(Math.ceil(V / FLAME_LBS_WG), F);
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
   * Encodes one frame's posing into `out` ([V,3] float32, caller-owned) with persistent parameter
   * buffers (no allocation per frame). Queue writes land before the next submit: one frame per submit.
   */
  async encodeFrame(enc: GPUCommandEncoder, p: FlameParams, out: GPUBuffer, profiler?: GpuProfiler): Promise<void> {
    const { device } = this.ctx;
    if (!this.frameBuffers) {
      this.frameBuffers = {
        dims: uniform(device, new Uint32Array([this.model.vertexCount, 1, this.K, 0]), 'flame-frame-dims'),
        coeffs: createStorage(device, this.K * 4, 'flame-frame-coeffs'),
        transforms: createStorage(device, 64 * 4, 'flame-frame-transforms'),
        pipeline: await getPipeline(device, { code: flameLbsWgsl, entryPoint: 'main', label: 'flame-lbs' }),
        groups: new Map(),
      };
    }
    const fb = this.frameBuffers;
    let group = fb.groups.get(out);
    if (!group) {
      group = bindGroup(device, fb.pipeline, { 0: fb.dims, 1: this.neutral, 2: this.basis, 3: this.weights, 4: fb.coeffs, 5: fb.transforms, 6: out });
      fb.groups.set(out, group);
    }
    const { coeffs, xf } = this.frameInputs(p);
    device.queue.writeBuffer(fb.coeffs, 0, coeffs);
    device.queue.writeBuffer(fb.transforms, 0, xf);
    const pass = enc.beginComputePass({ label: 'flame-lbs', timestampWrites: profiler?.writes('pose') });
    pass.setPipeline(fb.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(this.model.vertexCount / FLAME_LBS_WG), 1);
    pass.end();
  }

  /** Posed meshes of `frames`, read back: Float32Array [F, V, 3], metres. */
  async pose(frames: FlameParams[]): Promise<Float32Array> {
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
