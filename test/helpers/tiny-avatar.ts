import { afterAll, beforeAll } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { synthConfig, writeDataset } from '../../lib/data/writer.js';
import { reconConfig, RECON_PRESETS } from '../../lib/train/config.js';
import { trainAvatar } from '../../lib/train/recon.js';

/** Paths of a test file's tiny dataset and reconstruction run; filled in by `beforeAll`. */
export interface TinyAvatar {
  root: string;
  data: string;
  recon: string;
}

/**
 * A tiny synthetic dataset (subject 'tiny', seed 3) and a reconstruction without densification, built once per
 * test file in a temporary folder and removed after it. `iterations` sets how good a head the edits start from.
 */
export function tinyAvatarFixture(prefix: string, iterations: number, timeoutMs: number): TinyAvatar {
  const fx: TinyAvatar = { root: '', data: '', recon: '' };
  beforeAll(async () => {
    const ctx = await useTfjsWebGpu();
    fx.root = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    fx.data = path.join(fx.root, 'data');
    await writeDataset(ctx, fx.data, synthConfig('tiny', { subject: 'tiny', seed: 3 }));
    fx.recon = path.join(fx.root, 'recon');
    await trainAvatar(
      reconConfig({
        data: fx.data,
        iterations,
        seed: 1,
        lr: RECON_PRESETS.tiny.lr,
        log: { every: Math.max(1, Math.floor(iterations / 2)) },
        checkpoint: { every: iterations },
        densify: { enabled: false },
      }),
      { runDir: fx.recon },
    );
  }, timeoutMs);
  afterAll(async () => {
    if (fx.root) await fs.rm(fx.root, { recursive: true, force: true });
  });
  return fx;
}
