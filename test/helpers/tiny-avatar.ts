import { afterAll, beforeAll } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { getGpu } from '../../lib/gpu/index.js';
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

/** Paths of a test file's micro dataset; filled in by `beforeAll`. */
export interface MicroDataset {
  root: string;
  data: string;
}

/**
 * The smallest dataset the CLI and the loops accept (3 cameras at 32×24, 2 frames per split), for tests of
 * errors, signals and pre-flight checks that need real files but no head worth looking at. Built once per test
 * file in a temporary folder and removed after it.
 */
export function microDatasetFixture(prefix: string, subject: string): MicroDataset {
  const fx: MicroDataset = { root: '', data: '' };
  beforeAll(async () => {
    fx.root = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    fx.data = path.join(fx.root, 'data');
    const cfg = synthConfig('tiny', {
      subject,
      seed: 3,
      frames: 2,
      testFrames: 2,
      crossFrames: 2,
      width: 32,
      height: 24,
      cameras: 3,
      heldOut: [1],
      tileSize: 32,
      supersample: 1,
    });
    await writeDataset(await getGpu(), fx.data, cfg);
  }, 120_000);
  afterAll(async () => {
    if (fx.root) await fs.rm(fx.root, { recursive: true, force: true });
  });
  return fx;
}
