/**
 * The reconstruction method's typed config (nerfstudio-style: every field has a default, every run
 * records the resolved config). Defaults are GaussianAvatars' (docs/method.md §2), with the schedule
 * compressed: GaussianAvatars trains 600k iterations on NeRSemble; our synthetic scenes converge in a few
 * thousand, so the iteration-based intervals are fractions of `iterations` unless set explicitly.
 */
import { z } from 'zod';
import { wabeFieldsSchema } from '../raster/wabe-config.js';
import { mergeConfig, parseConfig, readConfigFile } from '../util/config.js';

const positive = z.number().positive();
const nonneg = z.number().nonnegative();

export const reconConfigSchema = z.object({
  name: z.string().default('recon'),
  seed: z.number().int().default(0),
  /** Dataset folder (lib/data layout). */
  data: z.string(),
  iterations: z.number().int().positive().default(3000),
  /** Highest SH degree; the active degree starts at 0 and rises by one every `shUpEvery` iterations. */
  shDegree: z.number().int().min(0).max(3).default(3),
  shUpEvery: z.number().int().positive().default(1000),
  /** RGB background the renders are composited on; null = the dataset's background. */
  background: z.tuple([nonneg, nonneg, nonneg]).nullable().default(null),
  init: z
    .object({
      perTriangle: z.number().int().positive().default(1),
      opacity: z.number().gt(0).lt(1).default(0.1),
    })
    .prefault({}),
  /**
   * Learning rates, one per parameter group (lib/avatar/model.ts PARAM_GROUPS), under the groups' own names;
   * any other key is an error, so a misspelt or old name cannot silently fall back to a default.
   */
  lr: z
    .object({
      /** Local means, in triangle units (GaussianAvatars scales 3DGS's rates up by the mean triangle size); the
       *  initial rate, decaying log-linearly to `lrFinal.means` over the run as 3DGS's position rate does. */
      means: positive.default(5e-3),
      shDc: nonneg.default(2.5e-3),
      /** 3DGS: feature_lr / 20. */
      shRest: nonneg.default(1.25e-4),
      opacityLogits: nonneg.default(0.05),
      logScales: nonneg.default(0.017),
      quats: nonneg.default(1e-3),
    })
    .strict()
    .prefault({}),
  /** Rates at the last iteration, for the groups whose rate decays (only the means). */
  lrFinal: z
    .object({ means: positive.default(5e-5) })
    .strict()
    .prefault({}),
  loss: z
    .object({
      lambdaDssim: nonneg.default(0.2),
      lambdaPosition: nonneg.default(0.01),
      thresholdPosition: nonneg.default(1),
      lambdaScale: nonneg.default(1),
      thresholdScale: nonneg.default(0.6),
    })
    .prefault({}),
  densify: z
    .object({
      enabled: z.boolean().default(true),
      /** Iterations; null = fractions of `iterations` (from 1/6, until 1/2, every 1/60, reset every 1/5). */
      from: z.number().int().nonnegative().nullable().default(null),
      until: z.number().int().nonnegative().nullable().default(null),
      every: z.number().int().positive().nullable().default(null),
      opacityResetEvery: z.number().int().positive().nullable().default(null),
      /** An opacity reset clamps every opacity to at most this (3DGS: 0.01), so occluded floaters fall below `minOpacity` and are pruned. */
      opacityResetMax: z.number().gt(0).lt(1).default(0.01),
      gradThreshold: positive.default(2e-4),
      percentDense: positive.default(0.01),
      minOpacity: positive.default(0.005),
      /** Screen-size pruning (px) after the first opacity reset, as 3DGS; null disables. */
      maxScreenSize: positive.nullable().default(20),
      /** A hard cap on the number of Gaussians (memory guard); densification stops growing past it. */
      maxGaussians: z.number().int().positive().default(2_000_000),
    })
    .prefault({}),
  /**
   * WABE during reconstruction (docs/method.md §4 reconstructs with plain blending): an avatar built for the
   * blending it is later edited with. Off by default; its options default to DEFAULT_WABE (lib/raster/types.ts).
   */
  wabe: z.object({ ...wabeFieldsSchema, enabled: z.boolean().default(false) }).prefault({}),
  log: z.object({ every: z.number().int().positive().default(50) }).prefault({}),
  checkpoint: z.object({ every: z.number().int().positive().default(1000), keep: z.number().int().positive().default(2) }).prefault({}),
  eval: z
    .object({
      /** Frames per split evaluated at the end (stratified over cameras × timesteps; 0 = all). */
      framesPerSplit: z.number().int().nonnegative().default(0),
      splits: z.array(z.enum(['val', 'test', 'cross', 'train'])).default(['val', 'test', 'cross']),
    })
    .prefault({}),
});

export type ReconConfig = z.infer<typeof reconConfigSchema>;
export type ReconConfigInput = z.input<typeof reconConfigSchema>;

/**
 * Schedules for our datasets. GaussianAvatars' colour rate (2.5e-3) is tuned for 600k iterations; on the
 * tiny preset it gains ~1 dB in 30 steps where 20× gains ~4 dB (measured on lavapipe, see
 * test/train/recon.test.ts), so the short schedules raise the SH rates.
 */
export const RECON_PRESETS = {
  /** CI and the demo: a few hundred steps on the tiny dataset. */
  tiny: {
    iterations: 300,
    shUpEvery: 100,
    lr: { shDc: 0.05, shRest: 2.5e-3 },
    log: { every: 25 },
    checkpoint: { every: 100, keep: 2 },
  },
  /**
   * The experiments' reconstruction on the full dataset (802×550, 16 cameras). ~11 it/s on an H100, so
   * 3000 iterations take under 5 minutes; at 2000 iterations novel view already reaches 36 dB PSNR
   * (results/recon/README.md).
   */
  full: {
    iterations: 3000,
    shUpEvery: 1000,
    lr: { shDc: 0.0125, shRest: 6.25e-4 },
    log: { every: 100 },
    checkpoint: { every: 2000, keep: 2 },
  },
} satisfies Record<string, Partial<ReconConfigInput>>;

export function reconConfig(input: ReconConfigInput, where = 'recon config'): ReconConfig {
  return parseConfig(reconConfigSchema, input, where);
}

/** A config file over `layers` (e.g. a preset), merged key by key (lib/util/config.ts). */
export async function loadReconConfig(file: string, ...layers: unknown[]): Promise<ReconConfig> {
  return reconConfig(mergeConfig(...layers, await readConfigFile(file)) as ReconConfigInput, file);
}

/** The densification schedule in iterations, with the fraction defaults resolved. */
export function densifySchedule(c: ReconConfig): { from: number; until: number; every: number; opacityResetEvery: number } {
  const n = c.iterations;
  return {
    from: c.densify.from ?? Math.round(n / 6),
    until: c.densify.until ?? Math.round(n / 2),
    every: c.densify.every ?? Math.max(1, Math.round(n / 60)),
    opacityResetEvery: c.densify.opacityResetEvery ?? Math.max(1, Math.round(n / 5)),
  };
}
