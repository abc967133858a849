/**
 * Rendering the marched samples: the field at the kept canonical points, then front-to-back compositing
 * (composite.ts). Differentiable with respect to the field's parameters; the samples themselves are
 * constants of the step (march.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { composite, type Composited } from './composite.js';
import type { NerfField } from './field.js';
import type { MarchResult } from './march.js';

export function renderSamples(field: NerfField, m: MarchResult, background: [number, number, number], expression?: tf.Tensor1D): Composited {
  const { sigma, rgb } = field.query(m.points, expression);
  // sigma and rgb are not disposed here: under a gradient tape the backward pass still reads them (sigmoid
  // and exp save their outputs); callers wrap this in tf.tidy or tf.variableGrads.
  return composite(sigma, rgb, m.denseIndex, m.delta, m.samples, background);
}
