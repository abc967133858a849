/**
 * Issue 17 §3–§4: every input is checked before a run directory is created, and every image's size is
 * checked against its camera when the dataset is opened.
 */
import { describe, expect, it } from 'vitest';
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadDataset } from '../../lib/data/dataset.js';
import { reconConfig } from '../../lib/train/config.js';
import { runReconstruction } from '../../lib/train/recon.js';
import { methodConfig, runEdit } from '../../lib/edit/run.js';
import { encodePng, rgbImage } from '../../lib/util/image.js';
import { gpuFixture } from '../helpers/gpu.js';
import { microDatasetFixture } from '../helpers/tiny-avatar.js';

gpuFixture();

const fx = microDatasetFixture('gae-preflight-', 'pre');

describe('validate before create (§3)', () => {
  it('a missing dataset fails before the reconstruction run directory exists', async () => {
    const runDir = path.join(fx.root, 'runs', 'recon-missing');
    await expect(runReconstruction(reconConfig({ data: path.join(fx.root, 'nope'), iterations: 2 }), { runDir })).rejects.toThrow(
      /nope[\\/]dataset\.json: cannot read \(ENOENT\)/,
    );
    expect(existsSync(runDir)).toBe(false);
  });

  it('an unknown edit id and a missing avatar fail before the edit run directory exists; the corrected run may reuse it', async () => {
    const runDir = path.join(fx.root, 'runs', 'edit');
    const bad = methodConfig('ours', 'tiny', { data: fx.data, avatar: path.join(fx.root, 'no-avatar'), edit: { id: 'purple-hair' } });
    await expect(runEdit(bad, { runDir })).rejects.toThrow(/dataset\.json: edits: no edit "purple-hair" \(known: gold-teeth, /);
    expect(existsSync(runDir)).toBe(false);
    const noAvatar = methodConfig('ours', 'tiny', { data: fx.data, avatar: path.join(fx.root, 'no-avatar'), edit: { id: 'gold-teeth' } });
    await expect(runEdit(noAvatar, { runDir })).rejects.toThrow(/no-avatar: no such file or directory/);
    expect(existsSync(runDir)).toBe(false);
  });
});

describe('image sizes on dataset open (§4)', () => {
  it('a wrong-size validation image fails when the dataset is opened, naming the file, both sizes and the frame', async () => {
    const d = path.join(fx.root, 'wrong-size');
    await fs.cp(fx.data, d, { recursive: true });
    const ds = await loadDataset(d);
    const frame = ds.splits.val.frames[1]!;
    await fs.writeFile(frame.image, encodePng(rgbImage(33, 24)));
    const rel = path.relative(d, frame.image).split(path.sep).join('/');
    await expect(loadDataset(d)).rejects.toThrow(
      `${frame.image}: size 33×24 does not match the camera's 32×24 (frames[1].file_path in ${path.join(d, 'transforms_val.json')})`,
    );
    expect(rel.startsWith('images/')).toBe(true);
    // Not a PNG at all: named too.
    await fs.writeFile(frame.image, 'not a png');
    await expect(loadDataset(d)).rejects.toThrow(`${frame.image}: not a PNG file (frames[1].file_path in`);
  });

  it('a wrong-size label map of a training frame is caught too', async () => {
    const d = path.join(fx.root, 'wrong-labels');
    await fs.cp(fx.data, d, { recursive: true });
    const ds = await loadDataset(d);
    await fs.writeFile(ds.splits.train.frames[0]!.labels, encodePng(rgbImage(32, 23)));
    await expect(loadDataset(d)).rejects.toThrow(/size 32×23 does not match the camera's 32×24 \(frames\[0\]\.label_path in .*transforms_train\.json\)/);
  });
});
