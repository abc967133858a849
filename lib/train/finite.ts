/**
 * Refuses non-finite parameters: a NaN in one Gaussian spreads through densification and every render
 * after it. Avatars read from disk are checked in lib/util/finite.ts; this checks the parameters after every
 * optimiser step (one scalar read back per step: the sum of every group's sum, which is
 * non-finite exactly when some parameter is, barring float32 overflow of values far beyond any avatar's).
 */
import * as tf from '@tensorflow/tfjs';

/** Thrown when an optimiser step leaves a non-finite parameter. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/**
 * Checks tfjs parameter groups after optimiser step `step` (1-based, as logged); throws a NonFiniteError
 * naming the step and the groups holding NaN or ±Inf. `where` names the run.
 */
export async function assertFiniteVars(vars: Record<string, tf.Tensor>, step: number, where: string): Promise<void> {
  // Empty groups (SH degree 0 leaves shRest [N,0,3]) are skipped: tfjs-webgpu cannot reduce a zero-size tensor.
  const names = Object.keys(vars).filter((n) => vars[n]!.size > 0);
  if (names.length === 0) return;
  const total = tf.tidy(() => tf.addN(names.map((n) => tf.sum(vars[n]!))) as tf.Scalar);
  const v = (await total.data())[0]!;
  total.dispose();
  if (Number.isFinite(v)) return;
  const bad: string[] = [];
  for (const n of names) {
    const s = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(vars[n]!))));
    const [anyBad] = await s.data();
    s.dispose();
    if (anyBad) bad.push(n);
  }
  throw new NonFiniteError(
    `${where}: step ${step}: non-finite values in parameter group${bad.length > 1 ? 's' : ''} ${bad.join(', ') || '(sum overflow)'}; lower the learning rates or resume from an earlier checkpoint`,
  );
}
