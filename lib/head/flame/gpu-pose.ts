/**
 * FLAME posing for batches of frames on the GPU (kernels/lbs.wgsl.ts; float64 reference in lbs.ts). The
 * blendshape and pose-corrective basis ((K + 36) × V × 3 float32, 27 MB for FLAME with teeth) is uploaded
 * once per poser; per frame the CPU computes only the joints and their transforms.
 */
import type { GpuContext } from '../../gpu/device.js';
import { upload } from '../../gpu/buffers.js';
import type { GpuProfiler } from '../../gpu/timing.js';
import { GpuBlendPose } from '../gpu-blend-pose.js';
import { FLAME_LBS_WG, flameLbsWgsl } from './kernels/lbs.wgsl.js';
import { flameFrame, type FlameParams } from './lbs.js';
import type { FlameModel } from './model.js';

const POSE_BASIS = 36;

export class GpuFlamePoser {
  private readonly gpu: GpuBlendPose;

  /** `staticOffset` [V,3] (metres) is the subject's per-vertex offset, added to the template. */
  constructor(
    ctx: GpuContext,
    readonly model: FlameModel,
    readonly staticOffset?: Float32Array,
  ) {
    const { device } = ctx;
    const n3 = model.vertexCount * 3;
    if (staticOffset && staticOffset.length !== n3) throw new Error(`GpuFlamePoser: staticOffset has ${staticOffset.length} values, expected ${n3}`);
    const neutral = Float32Array.from(model.template);
    if (staticOffset) for (let i = 0; i < n3; i++) neutral[i] = model.template[i]! + staticOffset[i]!;
    const Kc = model.shapeCount + model.exprCount;
    const K = Kc + POSE_BASIS;
    const basis = new Float32Array(K * n3);
    basis.set(model.shapedirs, 0);
    basis.set(model.posedirs, Kc * n3);
    this.gpu = new GpuBlendPose(
      ctx,
      {
        owner: 'GpuFlamePoser',
        code: flameLbsWgsl,
        workgroupSize: FLAME_LBS_WG,
        label: 'flame-lbs',
        prefix: 'flame',
        vertexCount: model.vertexCount,
        coeffCount: K,
        transformCount: 64, // 5 joint affines (3×4), the translation, a pad
      },
      {
        neutral: upload(device, neutral, undefined, 'flame-neutral'),
        basis: upload(device, basis, undefined, 'flame-basis'),
        weights: upload(device, Float32Array.from(model.weights), undefined, 'flame-weights'),
      },
    );
  }

  /** A frame's coefficients [K] (β, pose feature) and transforms [64]. */
  private fill(p: FlameParams, coeffs: Float32Array, xf: Float32Array): void {
    const fr = flameFrame(this.model, p, this.staticOffset);
    coeffs.set(fr.betas, 0);
    coeffs.set(fr.poseFeature, fr.betas.length);
    xf.set(fr.transforms, 0);
    xf.set(fr.translation, 60);
  }

  /**
   * Encodes the posing of `frames` into `enc`, writing [F, V, 3] float32 (metres) into `verts`, a new
   * storage buffer that the caller owns. Call `release()` once the encoder's work has been submitted.
   */
  async encode(enc: GPUCommandEncoder, frames: FlameParams[]): Promise<{ verts: GPUBuffer; release: () => void }> {
    return this.gpu.encode(enc, frames, (p, _f, coeffs, xf) => this.fill(p, coeffs, xf));
  }

  /**
   * Encodes one frame's posing into `out` ([V,3] float32, caller-owned) with persistent parameter
   * buffers (no allocation per frame). Queue writes land before the next submit: one frame per submit.
   */
  async encodeFrame(enc: GPUCommandEncoder, p: FlameParams, out: GPUBuffer, profiler?: GpuProfiler): Promise<void> {
    return this.gpu.encodeFrame(enc, out, (coeffs, xf) => this.fill(p, coeffs, xf), profiler);
  }

  /** Posed meshes of `frames`, read back: Float32Array [F, V, 3], metres. */
  async pose(frames: FlameParams[]): Promise<Float32Array> {
    return this.gpu.readBack(frames.length, (enc) => this.encode(enc, frames));
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
