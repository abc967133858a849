/**
 * Blendshapes and pose for batches of frames on the GPU (the same maths as pose.ts). The 73 × V × 3
 * basis (23 MB) is uploaded once per model and device.
 */
import type { GpuContext } from '../gpu/device.js';
import { upload } from '../gpu/buffers.js';
import type { GpuProfiler } from '../gpu/timing.js';
import { GpuBlendPose } from './gpu-blend-pose.js';
import type { HeadModel } from './model.js';
import { N_EXPRESSION, N_IDENTITY } from './model.js';
import { headRig, type HeadRig } from './rig.js';
import { blendCoefficients, checkParams, poseTransforms, type HeadParams } from './pose.js';
import { BLEND_WG, blendWgsl } from './kernels/blend.wgsl.js';

const K = N_IDENTITY + N_EXPRESSION;

/** A frame's coefficients [K] and transforms [24]: jaw and head, 3×4 each. */
function fill(rig: HeadRig, p: HeadParams, coeffs: Float32Array, xf: Float32Array): void {
  coeffs.set(blendCoefficients(p));
  const t = poseTransforms(rig, p);
  xf.set(t.jaw, 0);
  xf.set(t.head, 12);
}

export class GpuHeadPoser {
  private readonly gpu: GpuBlendPose;

  constructor(
    ctx: GpuContext,
    readonly model: HeadModel,
  ) {
    const { device } = ctx;
    const n3 = model.vertexCount * 3;
    const basis = new Float32Array(K * n3);
    basis.set(model.identities, 0);
    basis.set(model.expressions, N_IDENTITY * n3);
    this.gpu = new GpuBlendPose(
      ctx,
      {
        owner: 'GpuHeadPoser',
        code: blendWgsl,
        workgroupSize: BLEND_WG,
        label: 'head-blend',
        prefix: 'head',
        vertexCount: model.vertexCount,
        coeffCount: K,
        transformCount: 24,
      },
      {
        neutral: upload(device, model.neutral, undefined, 'head-neutral'),
        basis: upload(device, basis, undefined, 'head-basis'),
        weights: upload(device, headRig(model).jawWeights, undefined, 'head-jaw-weights'),
      },
    );
  }

  /**
   * Encodes the posing of `frames` into `enc`, writing [F, V, 3] float32 (metres) into `verts`, a new
   * storage buffer that the caller owns. Call `release()` once the encoder's work has been submitted.
   */
  async encode(enc: GPUCommandEncoder, frames: HeadParams[]): Promise<{ verts: GPUBuffer; release: () => void }> {
    const rig = headRig(this.model);
    return this.gpu.encode(enc, frames, (p, f, coeffs, xf) => {
      checkParams(p, `frames[${f}]`);
      fill(rig, p, coeffs, xf);
    });
  }

  /**
   * Encodes the posing of one frame into `out` ([V,3] float32, caller-owned), reusing persistent
   * parameter buffers: the per-frame path of real-time rendering, which must not allocate.
   * Queue writes land before the next submit, so encode at most one frame per submit.
   */
  async encodeFrame(enc: GPUCommandEncoder, p: HeadParams, out: GPUBuffer, profiler?: GpuProfiler): Promise<void> {
    checkParams(p);
    return this.gpu.encodeFrame(enc, out, (coeffs, xf) => fill(headRig(this.model), p, coeffs, xf), profiler);
  }

  /** Posed meshes of `frames`, read back: Float32Array [F, V, 3], metres. */
  async pose(frames: HeadParams[]): Promise<Float32Array> {
    return this.gpu.readBack(frames.length, (enc) => this.encode(enc, frames));
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
