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

/** What the failing step was doing, for the error message: it is often all a killed GPU run leaves behind. */
export interface StepContext {
  /** This step's gradients by parameter group (still alive when the check runs). */
  grads?: Record<string, tf.Tensor | undefined>;
  /** The view trained on (`frameId`, lib/data/dataset.ts). */
  view?: string;
}

/** Non-finite entries of `x`, and its largest finite magnitude. */
async function census(x: tf.Tensor): Promise<{ bad: number; maxAbs: number }> {
  const [bad, maxAbs] = tf.tidy(() => {
    const finite = tf.isFinite(x);
    return [tf.sum(tf.cast(tf.logicalNot(finite), 'int32')), tf.max(tf.where(finite, tf.abs(x), tf.zerosLike(x)))];
  });
  const [b, m] = await Promise.all([bad!.data(), maxAbs!.data()]);
  tf.dispose([bad!, maxAbs!]);
  return { bad: b[0]!, maxAbs: m[0]! };
}

/**
 * Checks tfjs parameter groups after optimiser step `step` (1-based, as logged); throws a NonFiniteError
 * naming the step, the groups holding NaN or ±Inf and how many, and, from `context`, whether this step's
 * gradients were already non-finite (the renderer's backward, the loss) or only the update made them so (the
 * optimiser), the largest gradient, and the view. `where` names the run.
 */
export async function assertFiniteVars(vars: Record<string, tf.Tensor>, step: number, where: string, context: StepContext = {}): Promise<void> {
  // Empty groups (SH degree 0 leaves shRest [N,0,3]) are skipped: tfjs-webgpu cannot reduce a zero-size tensor.
  const names = Object.keys(vars).filter((n) => vars[n]!.size > 0);
  if (names.length === 0) return;
  const total = tf.tidy(() => tf.addN(names.map((n) => tf.sum(vars[n]!))) as tf.Scalar);
  const v = (await total.data())[0]!;
  total.dispose();
  if (Number.isFinite(v)) return;
  const bad: string[] = [];
  for (const n of names) {
    const c = await census(vars[n]!);
    if (c.bad > 0) bad.push(`${n} (${c.bad} of ${vars[n]!.size})`);
  }
  const notes: string[] = [];
  const grads = Object.entries(context.grads ?? {}).filter((e): e is [string, tf.Tensor] => e[1] !== undefined && e[1].size > 0);
  if (grads.length > 0) {
    const badGrads: string[] = [];
    let largest = { name: '', maxAbs: 0 };
    for (const [n, g] of grads) {
      const c = await census(g);
      if (c.bad > 0) badGrads.push(`${n} (${c.bad} of ${g.size})`);
      if (c.maxAbs >= largest.maxAbs) largest = { name: n, maxAbs: c.maxAbs };
    }
    notes.push(
      badGrads.length > 0
        ? `this step's gradients were already non-finite in ${badGrads.join(', ')}`
        : `this step's gradients were finite (largest |g| ${largest.maxAbs.toExponential(2)}, ${largest.name}): the update made them non-finite`,
    );
  }
  if (context.view) notes.push(`view ${context.view}`);
  throw new NonFiniteError(
    `${where}: step ${step}: non-finite values in parameter group${bad.length > 1 ? 's' : ''} ${bad.join(', ') || '(sum overflow)'}` +
      notes.map((x) => `; ${x}`).join('') +
      '; lower the learning rates or resume from an earlier checkpoint',
  );
}
