/**
 * WABE as a config block (docs/method.md §4), shared by the edit and the reconstruction configs, and the one
 * map from that block to the rasterizer's blending. Its defaults are `DEFAULT_WABE` (types.ts).
 */
import { z } from 'zod';
import { DEFAULT_WABE, type RasterSettings } from './types.js';

export const wabeFieldsSchema = {
  enabled: z.boolean(),
  /** w_k = exp(−β (1 − T_k)). */
  beta: z.number().nonnegative().default(DEFAULT_WABE.beta),
  /** Treat w as a constant in the backward pass. */
  stopGradient: z.boolean().default(DEFAULT_WABE.stopGradient),
  /** Divide by Σ w_k α_k T_k, keeping alpha blending's coverage. */
  renormalize: z.boolean().default(DEFAULT_WABE.renormalize),
};

export interface WabeBlock {
  enabled: boolean;
  beta: number;
  stopGradient: boolean;
  renormalize: boolean;
}

/** The blending a WABE block asks for: WABE with its options when enabled, else plain alpha blending. */
export function wabeBlend(w: WabeBlock): Pick<RasterSettings, 'blend' | 'wabe'> {
  return { blend: w.enabled ? 'wabe' : 'alpha', wabe: { beta: w.beta, stopGradient: w.stopGradient, renormalize: w.renormalize } };
}
