/**
 * FLAME per-vertex sums for batches of frames (lbs.ts has the same maths in float64): blendshapes and
 * pose correctives in one basis, then linear blend skinning over FLAME's 5 joints and the translation.
 * The joint transforms come from the CPU (flameFrame).
 */
import { blendPoseWgsl } from '../../kernels/blend-pose.wgsl.js';

export const FLAME_LBS_WG = 64;

export const flameLbsWgsl = blendPoseWgsl({
  workgroupSize: FLAME_LBS_WG,
  coeffNote: 'shape + expression + 36 pose-corrective coefficients',
  neutralNote: '[V*3] template + static offset',
  weights: 'weights: array<f32>;      // [V, 5]',
  transformsNote: '[F, 64]: 5 × (3x4 row-major), translation, pad',
  pose: /* wgsl */ `  let t0 = f * 64u;
  var q = vec3f(0.0);
  for (var j = 0u; j < 5u; j++) {
    let w = weights[5u * v + j];
    if (w != 0.0) { q = q + w * affine(t0 + 12u * j, p); }
  }
  q = q + vec3f(transforms[t0 + 60u], transforms[t0 + 61u], transforms[t0 + 62u]);`,
  posed: 'q',
});
