/**
 * The `insta-in2n` cell runner end to end on the tiny preset: it reconstructs the NeRF avatar, edits it with
 * the Instruct-NeRF2NeRF loop and the offline editor ("give him green skin"), and reports lib/edit's metrics;
 * the edited field is closer to the ground-truth edit than the unedited one on skin (the edited region).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { releaseGpu } from '../../lib/gpu/device.js';
import { useTfjsWebGpu } from '../../lib/gpu/tfjs.js';
import { synthConfig, writeDataset } from '../../lib/data/writer.js';
import { getCellRunner } from '../../lib/experiments/registry.js';
import '../../lib/experiments/runners.js'; // registers the built-in cell runners
import type { CellContext } from '../../lib/experiments/registry.js';
import { metricNames } from '../../lib/metrics/names.js';
import { loadNerfAvatar, backgroundOf } from '../../lib/nerf/recon.js';
import { evaluateNerfEdit } from '../../lib/nerf/edit.js';

let root = '';
let data = '';

beforeAll(async () => {
  const ctx = await useTfjsWebGpu();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-nerf-cell-'));
  data = path.join(root, 'data');
  await writeDataset(ctx, data, synthConfig('tiny', { subject: 'tiny', seed: 1 }));
}, 600_000);

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
  await releaseGpu();
});

describe('insta-in2n cell runner', () => {
  it('is registered, runs a cell, and moves the skin toward the ground-truth edit', async () => {
    const runner = getCellRunner('insta-in2n');
    expect(runner).toBeDefined();
    const dir = path.join(root, 'grid', 'insta-in2n', 'tiny', 'green-skin', 'seed-0');
    await fs.mkdir(dir, { recursive: true });
    const reconDir = path.join(root, 'grid', '_recon-nerf', 'tiny-tiny');
    const ctx: CellContext = {
      cell: {
        grid: 'nerf-test',
        method: { name: 'insta-in2n', runner: 'insta-in2n', params: {} },
        subject: 'tiny',
        edit: { id: 'green-skin', instruction: 'give him green skin' },
        seed: 0,
        tasks: ['novel-view', 'self-reenactment'],
        params: {
          preset: 'tiny',
          data,
          nerfIterations: 120,
          nerfLr: 5e-3,
          config: { iterations: 60, editEvery: 10, views: { maxViews: 4 }, eval: { splits: ['val', 'test'], framesPerSplit: 1 } },
        },
      } as unknown as CellContext['cell'],
      dir,
      attempt: 1,
      resume: false,
      log: () => {},
      progress: () => {},
      signal: new AbortController().signal,
    };
    const res = await runner!.run(ctx);
    expect(Object.keys(res.metrics).sort()).toEqual(['novel-view', 'self-reenactment']);
    const edited = res.metrics['novel-view']![metricNames.psnr('skin')]!;
    expect(Number.isFinite(edited)).toBe(true);
    expect(res.metrics['novel-view']![metricNames.clipS]).toBeNull();

    // The unedited reconstruction scored against the same ground-truth edit.
    const { avatar, config, dataset } = await loadNerfAvatar(reconDir);
    const gpu = await useTfjsWebGpu();
    const before = await evaluateNerfEdit(gpu, avatar, dataset, {
      editId: 'green-skin',
      splits: ['val'],
      framesPerSplit: 1,
      mouthOpenFraction: 0.002,
      background: backgroundOf(config, dataset),
      chunkRays: config.evaluation.chunkRays,
    });
    avatar.dispose();
    const unedited = before[0]!.regions.skin!.psnr;
    console.log(`skin PSNR against the GT edit: unedited ${unedited.toFixed(2)} dB, edited ${edited.toFixed(2)} dB`);
    expect(edited).toBeGreaterThan(unedited + 1);
  });
});
