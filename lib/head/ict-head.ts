/**
 * ICT-FaceKit behind the head interface (head.ts): the model, rig and GPU poser the workbench already had,
 * with regions from the model's materials. Nothing here changes how ICT-FaceKit poses.
 */
import type { GpuContext } from '../gpu/device.js';
import { renderedTriangles } from './atlas.js';
import { GpuHeadPoser } from './gpu-pose.js';
import { Region, type Head, type HeadLandmarkPoints } from './head.js';
import { headLandmarks } from './landmarks.js';
import { Material, type HeadModel } from './model.js';
import { checkParams, neutralParams, poseHead, type HeadParams } from './pose.js';

/** Region of each ICT-FaceKit material (lips are painted on M_Face, so they count as skin here). */
const MATERIAL_REGION: Record<number, number> = {
  [Material.M_Face]: Region.skin,
  [Material.M_BackHead]: Region.hair,
  [Material.M_GumsTongue]: Region.tongue,
  [Material.M_Teeth]: Region.teeth,
  [Material.M_ScleraLeft]: Region.eyes,
  [Material.M_IrisLeft]: Region.eyes,
  [Material.M_ScleraRight]: Region.eyes,
  [Material.M_IrisRight]: Region.eyes,
  [Material.M_LacrimalFluid]: Region.eyes,
  [Material.M_EyeBlend]: Region.eyes,
  [Material.M_EyeOcclusion]: Region.eyes,
  [Material.M_EyeLashes]: Region.eyes,
};

export class IctHead implements Head<HeadParams> {
  readonly kind = 'ict-facekit';
  readonly regionSource = 'ICT-FaceKit materials';
  private regions?: Uint8Array;

  constructor(readonly model: HeadModel) {}

  get vertexCount(): number {
    return this.model.vertexCount;
  }
  get triangleCount(): number {
    return this.model.triangleCount;
  }
  get faces(): Uint32Array {
    return this.model.faces;
  }
  neutralParams(): HeadParams {
    return neutralParams();
  }
  checkParams(p: HeadParams, where?: string): void {
    checkParams(p, where);
  }
  pose(p: HeadParams, out?: Float32Array): Float32Array {
    return poseHead(this.model, p, out);
  }
  gpuPoser(ctx: GpuContext): GpuHeadPoser {
    return new GpuHeadPoser(ctx, this.model);
  }
  triangleRegions(): Uint8Array {
    this.regions ??= Uint8Array.from(this.model.faceMaterial, (m) => MATERIAL_REGION[m] ?? Region.skin);
    return this.regions;
  }
  boundTriangles(): Uint32Array {
    return renderedTriangles(this.model);
  }
  landmarks(): HeadLandmarkPoints {
    const lm = headLandmarks(this.model);
    let y = 0;
    for (const v of lm.mouthY) y += v;
    return { eyeLeft: lm.eyeLeft.centre, eyeRight: lm.eyeRight.centre, noseTip: lm.noseTip, mouth: [0, y / lm.mouthY.length, lm.mouthFrontZ] };
  }
}
