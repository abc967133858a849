/**
 * Which CLIP embedder a run uses, as a config field (zod) with an environment fallback, so cell runners and
 * the CLI build it the same way. No configuration means no embedder: CLIP columns are then reported missing.
 *   { "kind": "local", "modelDir": "data/models/clip-vit-large-patch14" }
 *   { "kind": "hf", "model": "openai/clip-vit-large-patch14", "endpointUrl": "https://...", "tokenEnv": "HF_TOKEN" }
 *   { "kind": "none" }
 * Environment (when the config says nothing): GAE_CLIP_MODEL_DIR → local; else GAE_CLIP_ENDPOINT (+ HF_TOKEN,
 * GAE_CLIP_MODEL) → hf; else none.
 */
import { z } from 'zod';
import type { Embedder } from './clip.js';

export const ClipConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('local'),
    modelDir: z.string().min(1),
    model: z.string().optional(),
    dtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4']).optional(),
  }),
  z.strictObject({
    kind: z.literal('hf'),
    model: z.string().min(1),
    endpointUrl: z.string().url().optional(),
    /** Environment variable holding the token (never the token itself in a config file). */
    tokenEnv: z.string().default('HF_TOKEN'),
  }),
]);
export type ClipConfig = z.input<typeof ClipConfigSchema>;

export function clipConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClipConfig {
  if (env.GAE_CLIP_MODEL_DIR) return { kind: 'local', modelDir: env.GAE_CLIP_MODEL_DIR };
  if (env.GAE_CLIP_ENDPOINT) return { kind: 'hf', model: env.GAE_CLIP_MODEL ?? 'openai/clip-vit-large-patch14', endpointUrl: env.GAE_CLIP_ENDPOINT };
  return { kind: 'none' };
}

/** Builds the configured embedder, or null for 'none'. `where` names the config in errors. */
export async function createEmbedder(config: unknown = undefined, env: NodeJS.ProcessEnv = process.env, where = 'clip'): Promise<Embedder | null> {
  const parsed = ClipConfigSchema.safeParse(config ?? clipConfigFromEnv(env));
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${where}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`).join('\n'));
  const c = parsed.data;
  if (c.kind === 'none') return null;
  if (c.kind === 'local') {
    const { createLocalClipEmbedder } = await import('./clip-local.js');
    return createLocalClipEmbedder({ modelDir: c.modelDir, ...(c.model ? { model: c.model } : {}), ...(c.dtype ? { dtype: c.dtype } : {}) });
  }
  const token = env[c.tokenEnv];
  if (!token && !c.endpointUrl) throw new Error(`${where}: the HF CLIP embedder needs a token in $${c.tokenEnv} (or an endpointUrl of an open server)`);
  const { createHfClipEmbedder } = await import('./clip-hf.js');
  return createHfClipEmbedder({ token: token ?? '', model: c.model, ...(c.endpointUrl ? { endpointUrl: c.endpointUrl } : {}) });
}
