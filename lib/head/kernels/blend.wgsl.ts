/**
 * Batched blendshapes and pose (pose.ts has the same maths on the CPU): identities and expressions, then
 * the jaw rotation weighted per vertex and the rigid head transform.
 */
import { blendPoseWgsl } from './blend-pose.wgsl.js';

export const BLEND_WG = 64;

export const blendWgsl = blendPoseWgsl({
  workgroupSize: BLEND_WG,
  coeffNote: 'identities + expressions',
  neutralNote: '[V*3]',
  weights: 'jawWeights: array<f32>;   // [V]',
  transformsNote: '[F, 24]: jaw 3x4, head 3x4, row-major',
  pose: /* wgsl */ `  let t0 = f * 24u;
  let w = jawWeights[v];
  if (w > 0.0) { p = p + w * (affine(t0, p) - p); }
  p = affine(t0 + 12u, p);`,
  posed: 'p',
});
