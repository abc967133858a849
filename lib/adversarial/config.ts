/**
 * Configuration of the conditional adversarial loss (docs/method.md §5). The paper fixes only hinge
 * loss, λ_adv = 0.01, Adam lr 2e-4, β = (0.5, 0.999) and a warm-up; the architecture and the real pool are
 * our choices, exposed here so they can be ablated.
 */
import { z } from 'zod';
import { parseConfig } from '../util/config.js';

export const discriminatorConfigSchema = z.object({
  /** Channels of the first strided block; each further block doubles them, up to 8× (pix2pix's ndf). */
  channels: z.number().int().positive().default(64),
  /** Strided 4×4 conv blocks (3–4 in pix2pix's PatchGAN); each halves the resolution. */
  layers: z.number().int().min(1).max(6).default(3),
  /** `spectral`: every conv (output included) divided by its largest singular value, estimated by power
   *  iteration; `instance`: instance norm after every block but the first; `none`. */
  norm: z.enum(['spectral', 'instance', 'none']).default('spectral'),
  /** Power iterations per discriminator step (spectral norm). */
  powerIterations: z.number().int().positive().default(1),
  leakySlope: z.number().min(0).max(1).default(0.2),
  /** Weights start N(0, initStd²) (pix2pix); biases at 0. */
  initStd: z.number().positive().default(0.02),
  /**
   * Each block (conv, bias, LeakyReLU) as one forward kernel and two backward kernels (conv.ts `convBlock`) instead
   * of tfjs's conv, add and activation around our gradient kernels: the same values up to float32 rounding (tested),
   * fewer dispatches and no pre-activation tensors. Off by default: Table 1's grid ran without it, and its speed on
   * a GPU is what `gae bench discriminator --fused` measures. Blocks with instance norm keep the separate ops.
   */
  fused: z.boolean().default(false),
});

export const realPoolConfigSchema = z.object({
  /** Entries (the latest edited target of one timestep) kept per camera; the least recently updated go first. */
  size: z.number().int().positive().default(16),
  /** Timesteps on each side of the fake's timestep whose targets count as real for it. */
  neighbourhood: z.number().int().nonnegative().default(2),
  /** Real samples per discriminator step (drawn with replacement from the neighbourhood). */
  batch: z.number().int().positive().default(4),
});

export const adversarialConfigSchema = z.object({
  enabled: z.boolean().default(true),
  /** Weight of the generator loss −mean D(fake) in the editing loss. */
  lambdaAdv: z.number().nonnegative().default(0.01),
  /** Discriminator Adam. */
  lr: z.number().positive().default(2e-4),
  beta1: z.number().min(0).lt(1).default(0.5),
  beta2: z.number().min(0).lt(1).default(0.999),
  /**
   * 2D edits of the iterative dataset update, counted from the end of the editing loop's initial pass,
   * before the generator term is on. D trains from the first step, so it is not random when the term starts.
   */
  warmupEdits: z.number().int().nonnegative().default(20),
  /** The loop trains D once every `dEvery` avatar optimisation steps once active. */
  dEvery: z.number().int().positive().default(1),
  /** Seeds the weight init and the pool's sampling. */
  seed: z.number().int().nonnegative().default(0),
  discriminator: discriminatorConfigSchema.default(discriminatorConfigSchema.parse({})),
  pool: realPoolConfigSchema.default(realPoolConfigSchema.parse({})),
});

export type DiscriminatorConfig = z.infer<typeof discriminatorConfigSchema>;
export type RealPoolConfig = z.infer<typeof realPoolConfigSchema>;
export type AdversarialConfig = z.infer<typeof adversarialConfigSchema>;
export type AdversarialConfigInput = z.input<typeof adversarialConfigSchema>;

/** Parses a config with defaults; errors name the field (`where` names the file or caller). */
export function parseAdversarialConfig(input: unknown, where = 'adversarial config'): AdversarialConfig {
  return parseConfig(adversarialConfigSchema, input ?? {}, where);
}
