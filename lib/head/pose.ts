/**
 * A frame of the head: identity and expression blendshapes, then the jaw and the neck.
 *
 *   v_blend = neutral + Σ_k identity_k · identities[k] + Σ_j expression_j · expressions[j]
 *   v_jaw   = v_blend + w_jaw · (R_jaw (v_blend − J) + J − v_blend)            (linear blend skinning)
 *   v       = R_neck (v_jaw − N) + N + translation
 *
 * J, N and w_jaw come from `headRig` (rig.ts). Rotations are axis-angle vectors in the model frame,
 * radians: jaw = [θ, 0, 0] with θ > 0 opens the mouth (the same sense as the jawOpen blendshape, which
 * itself rotates the lower teeth by about 0.44 rad); neck = [pitch, yaw, roll] about x (nod down for
 * θ > 0), y (turn toward the subject's left) and z.
 */
import type { HeadModel } from './model.js';
import { N_EXPRESSION, N_IDENTITY } from './model.js';
import { headRig, type HeadRig } from './rig.js';
import { axisAngleToMatrix, rotationAbout, type Vec3 } from './math.js';

export interface HeadParams {
  identity: Float32Array; // [20] identity blendshape weights
  expression: Float32Array; // [53] ARKit expression weights, typically in [0, 1]
  jaw: Vec3; // axis-angle, radians, about the jaw joint
  neck: Vec3; // axis-angle, radians, about the neck joint
  translation: Vec3; // metres, applied last
}

export function neutralParams(identity?: ArrayLike<number>): HeadParams {
  return {
    identity: identity ? Float32Array.from(identity) : new Float32Array(N_IDENTITY),
    expression: new Float32Array(N_EXPRESSION),
    jaw: [0, 0, 0],
    neck: [0, 0, 0],
    translation: [0, 0, 0],
  };
}

export function cloneParams(p: HeadParams): HeadParams {
  return {
    identity: Float32Array.from(p.identity),
    expression: Float32Array.from(p.expression),
    jaw: [...p.jaw] as Vec3,
    neck: [...p.neck] as Vec3,
    translation: [...p.translation] as Vec3,
  };
}

export function checkParams(p: HeadParams, where = 'head params'): void {
  if (p.identity.length !== N_IDENTITY) throw new Error(`${where}: identity: expected ${N_IDENTITY} values, got ${p.identity.length}`);
  if (p.expression.length !== N_EXPRESSION) throw new Error(`${where}: expression: expected ${N_EXPRESSION} values, got ${p.expression.length}`);
  for (const k of ['jaw', 'neck', 'translation'] as const) {
    if (p[k].length !== 3) throw new Error(`${where}: ${k}: expected 3 values, got ${p[k].length}`);
  }
}

/** Blendshape coefficients of a frame in basis order: identities then expressions ([73]). */
export function blendCoefficients(p: HeadParams): Float32Array {
  const c = new Float32Array(N_IDENTITY + N_EXPRESSION);
  c.set(p.identity, 0);
  c.set(p.expression, N_IDENTITY);
  return c;
}

/**
 * CPU blendshapes in float32 (each accumulation step rounds to float32, as the GPU kernel does).
 * Zero coefficients are skipped.
 */
export function evalBlendshapes(model: HeadModel, identity: ArrayLike<number>, expression: ArrayLike<number>, out?: Float32Array): Float32Array {
  const n = model.vertexCount * 3;
  const v = out ?? new Float32Array(n);
  v.set(model.neutral);
  const add = (basis: Float32Array, coeffs: ArrayLike<number>) => {
    for (let k = 0; k < coeffs.length; k++) {
      const c = Math.fround(coeffs[k]!);
      if (c === 0) continue;
      const b = basis.subarray(k * n, (k + 1) * n);
      for (let i = 0; i < n; i++) v[i] = v[i]! + c * b[i]!;
    }
  };
  add(model.identities, identity);
  add(model.expressions, expression);
  return v;
}

export interface PoseTransforms {
  jaw: Float32Array; // [12] row-major 3×4 affine, model frame
  head: Float32Array; // [12] row-major 3×4 affine: neck rotation about N, then translation
}

export function poseTransforms(rig: HeadRig, p: HeadParams): PoseTransforms {
  const jaw = rotationAbout(axisAngleToMatrix(p.jaw), rig.jawPivot);
  const head = rotationAbout(axisAngleToMatrix(p.neck), rig.neckPivot, p.translation);
  return { jaw: Float32Array.from(jaw), head: Float32Array.from(head) };
}

/** Applies jaw skinning and the neck/head transform in place to blended vertices [V,3]. */
export function applyPose(rig: HeadRig, verts: Float32Array, p: HeadParams): Float32Array {
  const { jaw: A, head: H } = poseTransforms(rig, p);
  const w = rig.jawWeights;
  const V = verts.length / 3;
  for (let i = 0; i < V; i++) {
    let x = verts[3 * i]!,
      y = verts[3 * i + 1]!,
      z = verts[3 * i + 2]!;
    const wi = w[i]!;
    if (wi > 0) {
      const jx = A[0]! * x + A[1]! * y + A[2]! * z + A[3]!;
      const jy = A[4]! * x + A[5]! * y + A[6]! * z + A[7]!;
      const jz = A[8]! * x + A[9]! * y + A[10]! * z + A[11]!;
      x += wi * (jx - x);
      y += wi * (jy - y);
      z += wi * (jz - z);
    }
    verts[3 * i] = H[0]! * x + H[1]! * y + H[2]! * z + H[3]!;
    verts[3 * i + 1] = H[4]! * x + H[5]! * y + H[6]! * z + H[7]!;
    verts[3 * i + 2] = H[8]! * x + H[9]! * y + H[10]! * z + H[11]!;
  }
  return verts;
}

/** The posed mesh of a frame on the CPU: Float32Array [V,3], metres, world (= model) frame. */
export function poseHead(model: HeadModel, p: HeadParams, out?: Float32Array): Float32Array {
  checkParams(p);
  const v = evalBlendshapes(model, p.identity, p.expression, out);
  return applyPose(headRig(model), v, p);
}
