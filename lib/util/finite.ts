/**
 * Refuses avatars with non-finite parameters on load: a NaN position or opacity renders a silently broken
 * image or GIF instead of an error. (The training loops check their tensors after every step:
 * lib/train/finite.ts.)
 */

/** The fields of a Gaussian avatar checked on load, with their per-Gaussian widths. */
const FIELDS = ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const;

/** Throws `<name>: <field>[<gaussian>] is NaN` for the first non-finite parameter of `g`. */
export function assertFiniteGaussians(g: { count: number } & Record<(typeof FIELDS)[number], Float32Array>, name: string): void {
  for (const f of FIELDS) {
    const a = g[f];
    const per = g.count > 0 ? a.length / g.count : 1;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!)) throw new Error(`${name}: ${f} of Gaussian ${Math.floor(i / per)} is ${a[i]} (non-finite parameters are refused)`);
    }
  }
}
