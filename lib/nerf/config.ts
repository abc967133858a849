/**
 * Every default of the INSTA-style NeRF avatar (field, marcher, occupancy grid, training) in one place.
 * Distances in metres. See lib/nerf/README.md for what each stage does.
 */
import { z } from 'zod';
import { hashGridSchema } from './hashgrid-config.js';

export const fieldSchema = z.object({
  hashGrid: hashGridSchema.default(hashGridSchema.parse({})),
  /** Hidden width of the density MLP (one hidden layer) and the colour MLP (two). */
  hidden: z.number().int().min(1).default(64),
  /** Geometry features passed from the density MLP to the colour MLP (besides the density logit). */
  geoFeatures: z.number().int().min(0).default(15),
  /** Condition the colour on the frame's expression code (INSTA does, for the mouth). */
  expressionConditioning: z.boolean().default(true),
  /** Initial bias of the density logit (σ = exp(logit), clipped at 15 as trunc_exp). */
  densityBias: z.number().default(-1),
});
export type FieldConfig = z.infer<typeof fieldSchema>;

export const marchSchema = z.object({
  /** Samples per ray between the ray's entry into and exit from the posed mesh's box (uniform, jittered in training). */
  samplesPerRay: z.number().int().min(1).default(128),
  /** A point farther than this from every posed triangle is empty (INSTA's distance threshold). */
  maxDist: z.number().positive().default(0.006),
});
export type MarchConfig = z.infer<typeof marchSchema>;

export const occupancySchema = z.object({
  /** Cells per axis of the canonical occupancy grid. */
  resolution: z.number().int().min(1).max(256).default(64),
  /**
   * A cell is skipped while its density estimate is at most this (σ in 1/m; at a 3 mm step, σ = 0.1 gives
   * α ≈ 3e-4). Below the initial density (exp(densityBias) ≈ 0.37), so nothing is skipped before it has learnt.
   */
  threshold: z.number().nonnegative().default(0.1),
  /** The estimate decays by this factor at every update before the max with the new density. */
  decay: z.number().min(0).max(1).default(0.95),
  /** Steps between updates, and steps before the first (until then every cell is occupied). */
  every: z.number().int().min(1).default(16),
  warmup: z.number().int().min(0).default(256),
});
export type OccupancyConfig = z.infer<typeof occupancySchema>;

export const nerfTrainSchema = z.object({
  iterations: z.number().int().min(1).default(6000),
  /** Rays per step, drawn from one training view (camera × timestep). */
  raysPerBatch: z.number().int().min(1).default(4096),
  lr: z.number().positive().default(1e-2),
  /** Learning rate of the MLPs relative to the tables (1, as instant-NGP: slower MLPs delay the density's growth). */
  mlpLrScale: z.number().positive().default(1),
  lrFinal: z.number().positive().default(1e-3),
  loss: z.enum(['l1', 'mse']).default('l1'),
  /** Weight of the mask term |alpha − mask| (INSTA's mask loss); 0 turns it off. */
  maskWeight: z.number().nonnegative().default(0.1),
  checkpointEvery: z.number().int().min(1).default(1000),
  logEvery: z.number().int().min(1).default(50),
  seed: z.number().int().default(0),
});

export const nerfConfigSchema = z.object({
  field: fieldSchema.default(fieldSchema.parse({})),
  march: marchSchema.default(marchSchema.parse({})),
  occupancy: occupancySchema.default(occupancySchema.parse({})),
  train: nerfTrainSchema.default(nerfTrainSchema.parse({})),
  /** Background colour; defaults to the dataset's. */
  background: z.tuple([z.number(), z.number(), z.number()]).optional(),
});
export type NerfConfig = z.infer<typeof nerfConfigSchema>;
export type NerfConfigInput = z.input<typeof nerfConfigSchema>;

/** Parses a config, naming `file` and the field on bad input. */
export function parseNerfConfig(value: unknown, file = 'nerf config'): NerfConfig {
  const r = nerfConfigSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** Evaluation after reconstruction: the three tasks of docs/method.md §6 (splits val, test, cross). */
export const nerfEvalSchema = z.object({
  splits: z.array(z.enum(['train', 'val', 'test', 'cross'])).default(['val', 'test', 'cross']),
  /** Frames per split, evenly spread (0 = all). */
  framesPerSplit: z.number().int().min(0).default(0),
  /** Rays per marcher launch when rendering whole images. */
  chunkRays: z
    .number()
    .int()
    .min(1)
    .default(1 << 14),
});

export const nerfReconSchema = nerfConfigSchema.extend({
  /** The synthetic dataset folder (lib/data). */
  data: z.string().min(1),
  evaluation: nerfEvalSchema.default(nerfEvalSchema.parse({})),
});
export type NerfReconConfig = z.infer<typeof nerfReconSchema>;
export type NerfReconConfigInput = z.input<typeof nerfReconSchema>;

/**
 * Presets matched to the synthetic dataset presets (lib/data PRESETS): `tiny` keeps lavapipe tests within a
 * minute (small tables, few samples, few rays), `full` is the H200 configuration.
 */
export const NERF_PRESETS: Record<'tiny' | 'full', NerfConfigInput> = {
  tiny: {
    field: { hashGrid: { levels: 8, log2TableSize: 14, baseResolution: 8, perLevelScale: 1.5 }, hidden: 32 },
    march: { samplesPerRay: 48, maxDist: 0.008 },
    occupancy: { resolution: 16, warmup: 40, every: 10 },
    train: { iterations: 200, raysPerBatch: 1024, lr: 1e-2, lrFinal: 1e-3, checkpointEvery: 100, logEvery: 10 },
  },
  full: {},
};

/** A resolved reconstruction config from a preset and overrides (deep-merged one level into each section). */
export function nerfReconConfig(preset: 'tiny' | 'full', over: Partial<NerfReconConfigInput> & { data: string }): NerfReconConfig {
  const p = NERF_PRESETS[preset] as Record<string, Record<string, unknown> | undefined>;
  const o = over as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...p, ...o };
  for (const k of ['field', 'march', 'occupancy', 'train', 'evaluation']) {
    if (p[k] || o[k]) merged[k] = { ...(p[k] ?? {}), ...((o[k] as object) ?? {}) };
  }
  const r = nerfReconSchema.safeParse(merged);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`nerf reconstruction config: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}
