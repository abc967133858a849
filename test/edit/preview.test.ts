/**
 * Notebook helpers of the editing API on the tiny dataset (lavapipe in CI): 2D-edit previews make exactly the
 * loop's initial-pass requests (the loop then hits the cache), the comparison grid of edited avatars, the
 * mouth-open frame choice and the score rows.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { loadDataset, loadFrameImages } from '../../lib/data/dataset.js';
import { mouthOpenness } from '../../lib/data/views.js';
import { RECON_PRESETS } from '../../lib/train/config.js';
import { editAvatar } from '../../lib/edit/loop.js';
import { methodConfig } from '../../lib/edit/run.js';
import { previewEdits, previewGrid } from '../../lib/edit/preview.js';
import { compareEditedAvatars, editScoreRows, mouthOpenFrames } from '../../lib/edit/compare.js';
import type { EditTaskScores } from '../../lib/edit/evaluate.js';
import { notebookReconstruction } from '../../lib/notebook/recon.js';
import { reenactmentGrid } from '../../lib/avatar/reenact.js';
import { loadHeadModel } from '../../lib/head/model.js';
import { loadAvatar } from '../../lib/avatar/load.js';
import { getGpu } from '../../lib/gpu/index.js';
import { gpuFixture } from '../helpers/gpu.js';
import { tinyAvatarFixture } from '../helpers/tiny-avatar.js';

gpuFixture();
// Two steps: an avatar to render, not a good one.
const fx = tinyAvatarFixture('gae-preview-', 2, 240_000);

const config = (over: Record<string, unknown> = {}) =>
  methodConfig('ours-no-adv', 'tiny', {
    data: fx.data,
    avatar: fx.recon,
    edit: { id: 'green-skin' },
    iterations: 1,
    views: { maxViews: 4 },
    editor: { kind: 'oracle', cacheDir: path.join(fx.root, 'cache') },
    ...over,
  });

describe('previewEdits', () => {
  it('shows render, captured, 2D edit and GT per view; the loop then finds those edits in the cache', async () => {
    const c = config();
    const p = await previewEdits(c, { count: 2 });
    // The default views are stratified (lib/data/sampling.ts): two views, two cameras, two timesteps.
    expect(new Set(p.map((x) => x.view)).size).toBe(2);
    expect(new Set(p.map((x) => x.frame.cameraIndex)).size).toBe(2);
    expect(new Set(p.map((x) => x.frame.timestep)).size).toBe(2);
    let changed = 0;
    for (const x of p) {
      expect((await loadFrameImages(x.frame)).rgb.data).toEqual(x.captured.data);
      expect(x.strength).toBeGreaterThanOrEqual(0.7);
      expect(x.strength).toBeLessThanOrEqual(0.98);
      // The oracle's edit is the GT edit (8-bit through the cache), so wherever it differs from the render it is the GT.
      for (let i = 0; i < x.edit.data.length; i++) {
        if (Math.abs(x.edit.data[i]! - x.render.data[i]!) > 2 / 255) {
          changed++;
          expect(Math.abs(x.edit.data[i]! - x.groundTruth.data[i]!), `value ${i}`).toBeLessThanOrEqual(1 / 255 + 1e-6);
        }
      }
    }
    expect(changed).toBeGreaterThan(500); // green skin covers much of the head
    const g = previewGrid(p);
    expect(g.columns.length).toBe(4);
    expect(g.rows.map((r) => r.images.length)).toEqual([4, 4]);
    await expect(previewEdits(c, { views: [9] })).rejects.toThrow(/views: 9 is not a view of the edited dataset \(0\.\.3\)/);

    const run = await editAvatar(c, { runDir: path.join(fx.root, 'edit-a') });
    expect(run.edits).toBe(4); // the initial pass
    expect(run.cache.hits).toBe(2); // the two previewed views
  }, 240_000);

  it('compares edited avatars on mouth-open frames with close-ups, and checks that the runs match', async () => {
    const ds = await loadDataset(fx.data);
    const frames = mouthOpenFrames(ds, 'test', 2);
    expect(frames.length).toBe(2);
    expect(new Set(frames.map((f) => f.cameraIndex)).size).toBe(1);
    expect(frames[0]!.timestep).toBeLessThan(frames[1]!.timestep);
    const others = ds.splits.test.frames.filter((f) => f.cameraIndex === frames[0]!.cameraIndex && !frames.includes(f));
    for (const o of others) expect(mouthOpenness(o.head)).toBeLessThanOrEqual(Math.min(...frames.map((f) => mouthOpenness(f.head))));

    const a = config();
    const b = config({ wabe: { enabled: false } });
    const g = await compareEditedAvatars(
      [
        { name: 'a', config: a, runDir: path.join(fx.root, 'edit-a') },
        { name: 'b', config: b, runDir: fx.recon },
      ],
      { frames },
    );
    expect(g.columns).toEqual(['unedited', 'a', 'b', 'GT edit']);
    expect(g.rows.length).toBe(2);
    for (const r of g.rows) expect(r.images.every((im) => im !== null && im.width === frames[0]!.camera.width)).toBe(true);
    // b is the unedited avatar rendered with plain alpha blending: the same image as the first column.
    expect(g.rows[0]!.images[2]!.data).toEqual(g.rows[0]!.images[0]!.data);
    expect(g.rows.some((r) => r.crop !== undefined)).toBe(true);
    await expect(
      compareEditedAvatars([
        { name: 'a', config: a, runDir: fx.recon },
        { name: 'c', config: config({ edit: { id: 'gold-teeth' } }), runDir: fx.recon },
      ]),
    ).rejects.toThrow(/c: config\.edit\.id is "gold-teeth", a has "green-skin"/);
  }, 120_000);
});

describe('reenactmentGrid', () => {
  it('puts the stored frames of a split above the avatar driven by them, from the most frontal camera', async () => {
    const ds = await loadDataset(fx.data);
    const g = await reenactmentGrid(await getGpu(), ds, await loadHeadModel(), await loadAvatar(fx.recon), { shDegree: 0, count: 2, split: 'cross' });
    expect(g.rows.map((r) => r.label)).toEqual(['ground truth', 'avatar']);
    expect(g.columns.length).toBe(2);
    const t = Number(g.columns[0]!.slice(1));
    const cams = new Set(ds.splits.cross.frames.map((f) => f.cameraIndex));
    const stored = await Promise.all(
      [...cams].map(async (c) => (await loadFrameImages(ds.splits.cross.frames.find((f) => f.cameraIndex === c && f.timestep === t)!)).rgb.data),
    );
    expect(stored.some((d) => d.every((v, i) => v === g.rows[0]!.images[0]!.data[i]))).toBe(true);
    const a = g.rows[1]!.images[0]!;
    expect([a.width, a.height]).toEqual([g.rows[0]!.images[0]!.width, g.rows[0]!.images[0]!.height]);
    const half = await reenactmentGrid(await getGpu(), ds, await loadHeadModel(), await loadAvatar(fx.recon), { shDegree: 0, count: 1, downsample: 2 });
    expect(half.rows[0]!.images[0]!.width).toBe(Math.ceil(a.width / 2));
  }, 60_000);
});

describe('editScoreRows and the notebook reconstruction', () => {
  it('flattens task scores into one row per method and task', () => {
    const s = (task: string, psnr: number): EditTaskScores => ({
      split: 'test',
      task,
      frames: 3,
      mouthOpenFrames: 1,
      psnr,
      ssim: 0.9,
      regions: { head: { psnr: psnr - 1, ssim: 0.8, pixels: 10 }, mouthInterior: { psnr: 15, ssim: 0.5, pixels: 2 } },
      mouthOpen: { psnr: 20, ssim: 0.7, regions: { mouthInterior: { psnr: 14, ssim: 0.4, pixels: 1 } } },
      flicker: 0.01,
      clipS: null,
      clipC: null,
      leakage: 0.02,
      leakageRegions: { lips: 0.02 },
      preservation: 30,
      editStrength: 0.8,
      perFrame: [],
    });
    const rows = editScoreRows([
      { name: 'ours', eval: [s('self-reenactment', 25)] },
      { name: 'ours-no-wabe', eval: [s('self-reenactment', 24), s('novel-view', 23)] },
    ]);
    expect(rows.map((r) => `${r.method}/${r.task}`)).toEqual(['ours/self-reenactment', 'ours-no-wabe/self-reenactment', 'ours-no-wabe/novel-view']);
    expect(rows[0]).toMatchObject({
      'PSNR (dB)': 25,
      'PSNR head': 24,
      'PSNR mouth int.': 15,
      'PSNR lips': null,
      'PSNR mouth int. (open)': 14,
      flicker: 0.01,
      leakage: 0.02,
      'preservation (dB)': 30,
      'edit strength': 0.8,
    });
  });

  it('trains the same avatar in 02 and 03: one config and run directory per preset', () => {
    const t = notebookReconstruction('tiny');
    expect(t.config.iterations).toBe(60);
    expect(t.config.data).toBe('data/synthetic/alice-tiny');
    expect(t.runDir).toBe('results/runs/notebooks/02-reconstruct-tiny');
    expect(notebookReconstruction('full').config.iterations).toBe(RECON_PRESETS.full.iterations);
  });
});
