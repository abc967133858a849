import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthConfig, writeDataset } from '../../lib/data/writer.js';
import { loadDataset, loadFrameImages, SPLITS, type SyntheticDataset } from '../../lib/data/dataset.js';
import { renderGroundTruth } from '../../lib/data/ground-truth.js';
import { makeSequence } from '../../lib/data/sequences.js';
import { makeCamera, lookAt } from '../../lib/raster/camera.js';
import { Region } from '../../lib/head/regions.js';
import { expressionIndex, loadHeadModel } from '../../lib/head/model.js';
import { gpuFixture } from '../helpers/gpu.js';

const gpu = gpuFixture();

let tmp: string;
let dir: string;
let ds: SyntheticDataset;
const cfg = synthConfig('tiny', { subject: 'unit', seed: 3, frames: 2, testFrames: 2, crossFrames: 2, width: 48, height: 34, cameras: 3, heldOut: [1], tileSize: 48, supersample: 1 });

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'gae-data-'));
  dir = path.join(tmp, 'unit');
  await writeDataset(await gpu(), dir, cfg);
  ds = await loadDataset(dir);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function copyDataset(name: string): Promise<string> {
  const d = path.join(tmp, name);
  await fs.cp(dir, d, { recursive: true });
  return d;
}

// The tests corrupt arbitrary fields of parsed JSON: `any` is the honest type of that value.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function editJson(file: string, fn: (j: any) => void): Promise<void> {
  const j = JSON.parse(await fs.readFile(file, 'utf8'));
  fn(j);
  await fs.writeFile(file, JSON.stringify(j));
}

describe('dataset writer and loader', () => {
  it('round-trips: splits hold the documented cameras × sequences, with the generated head parameters', () => {
    const train = ds.splits.train, val = ds.splits.val, test = ds.splits.test, cross = ds.splits.cross;
    expect(train.frames.length).toBe(2 * 2); // 2 timesteps × 2 training cameras
    expect(val.frames.length).toBe(2 * 1);
    expect(test.frames.length).toBe(2 * 2);
    expect(cross.frames.length).toBe(2 * 2);
    expect(new Set(train.frames.map((f) => f.cameraIndex))).toEqual(new Set([0, 2]));
    expect(new Set(val.frames.map((f) => f.cameraIndex))).toEqual(new Set([1]));
    expect(val.sequence).toBe('train');
    expect(test.sequence).toBe('heldout');
    expect(cross.sequence).toBe('cross');
    expect(ds.meta.cameras.filter((c) => c.held_out).map((c) => c.camera_index)).toEqual([1]);
    // Head parameters: exactly what the sequence generator gives for the stored seeds.
    const seq = makeSequence({ frames: 2, seed: ds.meta.sequences.train.seed, identity: ds.meta.identity, kind: 'train' });
    for (const f of [...train.frames, ...val.frames]) {
      const p = seq.params[f.timestep]!;
      expect(Array.from(f.head.expression)).toEqual(Array.from(p.expression));
      expect(f.head.neck).toEqual(p.neck);
      expect(Array.from(f.head.identity)).toEqual(Array.from(p.identity));
    }
    // Cross-identity: the subject's identity with another person's performance.
    expect(cross.driverIdentity).toBeDefined();
    expect(Array.from(cross.frames[0]!.head.identity)).toEqual(ds.meta.identity);
    expect(Array.from(cross.driverIdentity!)).not.toEqual(ds.meta.identity);
    // Cameras: each frame's camera is the rig camera.
    for (const f of train.frames) {
      const c = ds.meta.cameras[f.cameraIndex]!;
      expect(f.camera.fx).toBe(c.fx);
      expect(Array.from(f.camera.worldToCamera)).toEqual(c.world_to_camera);
      expect(f.camera.width).toBe(48);
    }
  });

  it('stores images that the ground-truth renderer reproduces (original texture) up to 8-bit rounding', async () => {
    const ctx = await gpu();
    for (const split of SPLITS) {
      const f = ds.splits[split].frames[0]!;
      const stored = await loadFrameImages(f);
      const gt = await renderGroundTruth(ctx, ds, f, null);
      let worst = 0, covered = 0;
      for (let i = 0; i < gt.rgb.data.length; i++) worst = Math.max(worst, Math.abs(gt.rgb.data[i]! - stored.rgb.data[i]!));
      for (let p = 0; p < gt.alpha.length; p++) {
        expect(Math.abs(gt.alpha[p]! - stored.alpha[p]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
        expect(gt.labels[p]).toBe(stored.labels[p]);
        if (gt.alpha[p] === 1) covered++;
      }
      expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect(covered).toBeGreaterThan(100); // the head is in the picture
    }
  });

  it('renders edited ground truth that differs from the original where the edit applies', async () => {
    const ctx = await gpu();
    const model = await loadHeadModel();
    const head = ds.splits.train.frames[0]!.head;
    head.expression[expressionIndex(model, 'jawOpen')] = 0.8;
    for (const n of ['mouthUpperUp_L', 'mouthUpperUp_R', 'mouthLowerDown_L', 'mouthLowerDown_R']) head.expression[expressionIndex(model, n)] = 0.7;
    // A close frontal camera on the lower face, so lips and teeth cover many pixels.
    const camera = makeCamera({ width: 64, height: 64, fx: 560, fy: 560, cx: 32, cy: 32 }, lookAt([0, -0.03, 0.75], [0, -0.03, 0.05]));
    const frame = { camera, head };
    // A finer texture than the unit dataset's, so that a texel is smaller than a pixel of this camera.
    const fine = { meta: { ...ds.meta, texture_tile_size: 128 } };
    const orig = await renderGroundTruth(ctx, fine, frame, null);
    for (const [edit, region] of [['red-lipstick', Region.lips], ['gold-teeth', Region.teeth]] as const) {
      const ed = await renderGroundTruth(ctx, fine, frame, edit);
      let inRegion = 0, changedInRegion = 0, changedFar = 0;
      for (let p = 0; p < 64 * 64; p++) {
        const d = Math.abs(ed.rgb.data[3 * p]! - orig.rgb.data[3 * p]!) + Math.abs(ed.rgb.data[3 * p + 1]! - orig.rgb.data[3 * p + 1]!) + Math.abs(ed.rgb.data[3 * p + 2]! - orig.rgb.data[3 * p + 2]!);
        expect(ed.labels[p]).toBe(orig.labels[p]);
        if (orig.labels[p] === region) {
          inRegion++;
          if (d > 0.1) changedInRegion++;
        } else if (d > 0.02) {
          // Trilinear texture filtering may bleed the edit up to two pixels out of its region, no further.
          const x = p % 64, y = Math.floor(p / 64);
          let near = false;
          for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (orig.labels[(y + dy) * 64 + x + dx] === region) near = true;
          if (!near) changedFar++;
        }
      }
      expect(inRegion).toBeGreaterThan(10);
      expect(changedInRegion / inRegion).toBeGreaterThan(0.8);
      expect(changedFar).toBe(0);
    }
    await expect(renderGroundTruth(ctx, ds, frame, 'purple-hair')).rejects.toThrow(/unknown edit "purple-hair"/);
  });
});

describe('dataset errors', () => {
  it('names the file and field of a missing field', async () => {
    const d = await copyDataset('missing-field');
    await editJson(path.join(d, 'transforms_train.json'), (j) => delete j.frames[3].fx);
    await expect(loadDataset(d)).rejects.toThrow(/transforms_train\.json: frames\[3\]\.fx: .*expected number, received undefined/);
  });

  it('names the file and field of a wrong type', async () => {
    const d = await copyDataset('wrong-type');
    await editJson(path.join(d, 'transforms_test.json'), (j) => (j.frames[1].head.expression[5] = 'wide'));
    await expect(loadDataset(d)).rejects.toThrow(/transforms_test\.json: frames\[1\]\.head\.expression\[5\]: .*expected number, received string/);
    const d2 = await copyDataset('wrong-type-meta');
    await editJson(path.join(d2, 'dataset.json'), (j) => (j.cameras[0].w = -5));
    await expect(loadDataset(d2)).rejects.toThrow(/dataset\.json: cameras\[0\]\.w: .*>0/);
  });

  it('names a missing image and the frame that refers to it', async () => {
    const d = await copyDataset('missing-image');
    await fs.rm(path.join(d, 'images', 'heldout', 't0001_c02.png'));
    await expect(loadDataset(d)).rejects.toThrow(/images\/heldout\/t0001_c02\.png: missing \(frames\[3\]\.file_path in .*transforms_test\.json\)/);
    // Without the file check the dataset loads, and reading that frame's images fails with the path.
    const lazy = await loadDataset(d, { checkFiles: false });
    await expect(loadFrameImages(lazy.splits.test.frames[3]!)).rejects.toThrow(/t0001_c02\.png: cannot read \(ENOENT\)/);
  });

  it('rejects a frame that points to an unknown camera or timestep', async () => {
    const d = await copyDataset('bad-ref');
    await editJson(path.join(d, 'transforms_cross.json'), (j) => (j.frames[2].camera_index = 9));
    await expect(loadDataset(d)).rejects.toThrow(/transforms_cross\.json: frames\[2\]\.camera_index: 9 is not a camera/);
  });

  it('leaves no folder behind when the writer fails, and refuses to overwrite without replace', async () => {
    const ctx = await gpu();
    const out = path.join(tmp, 'failing');
    const small = { ...cfg, subject: 'failing' };
    await expect(
      writeDataset(ctx, out, small, {
        onProgress: (done) => {
          if (done === 3) throw new Error('disk full (simulated)');
        },
      }),
    ).rejects.toThrow(/disk full/);
    const left = (await fs.readdir(tmp)).filter((n) => n.includes('failing'));
    expect(left).toEqual([]);
    await expect(writeDataset(ctx, dir, cfg)).rejects.toThrow(/already exists/);
    await expect(writeDataset(ctx, path.join(tmp, 'x'), { ...cfg, subject: 'a b' })).rejects.toThrow(/subject: "a b" must be a plain name/);
  });
});
