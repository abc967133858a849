/**
 * Silences tfjs's "looks like you are running TensorFlow.js in Node.js … install our node backend" banner,
 * printed by the CPU backend on its first use into every run and test log. The advice does not apply here
 * (tfjs-node cannot be installed offline; the work runs on the webgpu backend, which forwards small ops to
 * the CPU backend). Only the banner goes: tfjs's other warnings stay.
 */
import * as tf from '@tensorflow/tfjs';

export function quietTfjs(): void {
  // The banner is printed once, on the CPU backend's first write, guarded by this field.
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}
