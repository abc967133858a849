/**
 * The multiresolution hash encoding's shape (instant-NGP): L levels of resolution N_l = ⌊N_min · b^l⌋,
 * each a table of T = 2^log2T entries of F features. A level whose (N_l + 1)³ grid vertices fit in the
 * table is indexed densely (no collisions); finer levels hash the vertex coordinates. Every default of the
 * encoding lives here.
 */
import { z } from 'zod';

export const hashGridSchema = z.object({
  levels: z.number().int().min(1).max(32).default(16),
  log2TableSize: z.number().int().min(4).max(24).default(19),
  features: z.number().int().min(1).max(4).default(2),
  baseResolution: z.number().int().min(2).default(16),
  /** Growth factor b between levels; INSTA / instant-NGP choose it so the finest level reaches ~2048. */
  perLevelScale: z.number().min(1).default(1.447),
  /** Half-width of the uniform initialisation of the tables (instant-NGP: 1e-4). */
  initScale: z.number().nonnegative().default(1e-4),
});
export type HashGridConfig = z.infer<typeof hashGridSchema>;
export type HashGridConfigInput = z.input<typeof hashGridSchema>;

/** Primes of the spatial hash (the first is 1 so that the x coordinate stays coherent in memory). */
export const HASH_PRIMES = [1, 2654435761, 805459861] as const;

export interface HashLevel {
  resolution: number; // N_l: cells per axis; vertices per axis are N_l + 1
  dense: boolean; // (N_l + 1)³ ≤ T: index = x + y (N+1) + z (N+1)², no hashing
}

export function hashLevels(c: HashGridConfig): HashLevel[] {
  const T = 2 ** c.log2TableSize;
  return Array.from({ length: c.levels }, (_, l) => {
    const resolution = Math.floor(c.baseResolution * c.perLevelScale ** l);
    return { resolution, dense: (resolution + 1) ** 3 <= T };
  });
}

/** Number of float parameters of the tables: L · T · F (layout [L, T, F]). */
export function hashParamCount(c: HashGridConfig): number {
  return c.levels * 2 ** c.log2TableSize * c.features;
}

/** Width of the encoding: L · F features per point (layout [L, F]). */
export function hashOutputWidth(c: HashGridConfig): number {
  return c.levels * c.features;
}
