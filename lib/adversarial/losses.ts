/// <reference types="@webgpu/types" />
// (First, so that tfjs-core's older nested @webgpu/types does not shadow the project's when this file is compiled first.)
/** Hinge losses of the adversarial term (docs/method.md §5), on patch logits of any shape. */
import * as tf from '@tensorflow/tfjs';

/** L_D = mean(relu(1 − D(real))) + mean(relu(1 + D(fake))). */
export function hingeDiscriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mean(tf.relu(tf.sub(1, realLogits))), tf.mean(tf.relu(tf.add(1, fakeLogits)))) as tf.Scalar);
}

/** L_G = −mean(D(fake)) (unweighted; the adversary multiplies by λ_adv). */
export function hingeGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(fakeLogits)) as tf.Scalar);
}
