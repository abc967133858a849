/**
 * FLAME behind the head interface (head.ts): one subject's FLAME head (the model, the subject's static
 * offset, optional vertex masks), posed by the float64 reference on the CPU and by GpuFlamePoser on the GPU.
 */
import type { GpuContext } from '../../gpu/device.js';
import type { Head, HeadLandmarkPoints } from '../head.js';
import type { Vec3 } from '../math.js';
import { GpuFlamePoser } from './gpu-pose.js';
import { checkFlameParams, neutralFlameParams, poseFlame, type FlameParams } from './lbs.js';
import { FLAME_JOINT_COUNT, type FlameModel } from './model.js';
import { regionsFromGeometry, regionsFromMasks, type FlameMasks } from './regions.js';
import { FLAME_LIP_RING_LOWER, FLAME_LIP_RING_UPPER, FLAME_VERTEX_COUNT, type LipRings } from './teeth.js';

export interface FlameHeadOptions {
  /** The subject's per-vertex offset [V,3] (GaussianAvatars' static_offset), metres; zero if absent. */
  staticOffset?: Float32Array;
  /** FLAME_masks.pkl, read by loadFlameMasks: regions from FLAME's own masks instead of geometry. */
  masks?: FlameMasks;
  /** The lip rings (FLAME's own for the 5023-vertex topology). */
  lipRings?: LipRings;
}

export class FlameHead implements Head<FlameParams> {
  readonly kind = 'flame';
  readonly regionSource: string;
  readonly staticOffset?: Float32Array;
  private readonly rings: LipRings;
  private regions?: Uint8Array;

  constructor(
    readonly model: FlameModel,
    private readonly opts: FlameHeadOptions = {},
  ) {
    const n = model.vertexCount * 3;
    if (opts.staticOffset && opts.staticOffset.length !== n) {
      throw new Error(`FlameHead: staticOffset has ${opts.staticOffset.length / 3} vertices, expected ${model.vertexCount}`);
    }
    this.staticOffset = opts.staticOffset;
    const rings = opts.lipRings ?? (model.baseVertexCount === FLAME_VERTEX_COUNT ? { upper: FLAME_LIP_RING_UPPER, lower: FLAME_LIP_RING_LOWER } : undefined);
    if (!rings) throw new Error(`FlameHead: ${model.file} is not FLAME's 5023-vertex topology: pass lipRings`);
    this.rings = rings;
    this.regionSource = opts.masks ? 'FLAME_masks.pkl' : 'geometry (eye-joint skinning, lip rings)';
  }

  get vertexCount(): number {
    return this.model.vertexCount;
  }
  get triangleCount(): number {
    return this.model.triangleCount;
  }
  get faces(): Uint32Array {
    return this.model.faces;
  }
  neutralParams(): FlameParams {
    return neutralFlameParams(this.model);
  }
  checkParams(p: FlameParams, where?: string): void {
    checkFlameParams(this.model, p, where);
  }
  pose(p: FlameParams, out?: Float32Array): Float32Array {
    return poseFlame(this.model, p, this.staticOffset, out);
  }
  gpuPoser(ctx: GpuContext): GpuFlamePoser {
    return new GpuFlamePoser(ctx, this.model, this.staticOffset);
  }
  triangleRegions(): Uint8Array {
    this.regions ??= this.opts.masks ? regionsFromMasks(this.model, this.opts.masks) : regionsFromGeometry(this.model, this.rings);
    return this.regions;
  }
  /** Every triangle: GaussianAvatars binds Gaussians to all of FLAME's faces and its teeth. */
  boundTriangles(): Uint32Array {
    return Uint32Array.from({ length: this.triangleCount }, (_, t) => t);
  }
  landmarks(): HeadLandmarkPoints {
    const m = this.model;
    const P = this.pose(this.neutralParams());
    const eyes: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    let nose: Vec3 = [0, 0, -Infinity];
    for (let v = 0; v < m.baseVertexCount; v++) {
      const w = m.weights.subarray(v * FLAME_JOINT_COUNT, (v + 1) * FLAME_JOINT_COUNT);
      const e = w[3]! > 0.5 ? 0 : w[4]! > 0.5 ? 1 : -1;
      if (e >= 0) {
        for (let c = 0; c < 3; c++) eyes[e]![c] += P[3 * v + c]!;
        eyes[e]![3]++;
      } else if (P[3 * v + 2]! > nose[2]) nose = [P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!];
    }
    const centre = (e: number[]): Vec3 => (e[3]! > 0 ? [e[0]! / e[3]!, e[1]! / e[3]!, e[2]! / e[3]!] : [0, 0, 0]);
    const [a, b] = [centre(eyes[0]!), centre(eyes[1]!)];
    const mouth: Vec3 = [0, 0, 0];
    const ring = [...Array.from(this.rings.upper), ...Array.from(this.rings.lower)];
    for (const v of ring) for (let c = 0; c < 3; c++) mouth[c] += P[3 * v + c]! / ring.length;
    // +x is the subject's left.
    return a[0] >= b[0] ? { eyeLeft: a, eyeRight: b, noseTip: nose, mouth } : { eyeLeft: b, eyeRight: a, noseTip: nose, mouth };
  }
}
