import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gpuFixture } from '../helpers/gpu.js';
import { loadFrameImages, type SyntheticDataset } from '../../lib/data/dataset.js';
import { ensureDataset } from '../../lib/data/ensure.js';
import { renderGroundTruth } from '../../lib/data/ground-truth.js';
import {
  boundingBox,
  datasetCameras,
  datasetSummary,
  labelImage,
  overviewGrid,
  pixelBox,
  posedHead,
  REGION_COLOURS,
  regionLegend,
  showcaseTimesteps,
  spreadCameras,
  unionBox,
} from '../../lib/data/views.js';
import { synthConfig } from '../../lib/data/writer.js';
import type { RgbImage } from '../../lib/util/image.js';

describe('pixel boxes and labels (no GPU)', () => {
  it('pixelBox: the tight box of selected pixels, grown by a margin and clamped; null when none', () => {
    const w = 10, h = 8;
    const on = new Set([3 * w + 4, 5 * w + 6, 4 * w + 5]);
    expect(pixelBox(w, h, (p) => on.has(p))).toEqual({ x: 4, y: 3, width: 3, height: 3 });
    expect(pixelBox(w, h, (p) => on.has(p), 1)).toEqual({ x: 1, y: 0, width: 9, height: 8 }); // margin 3 px, clamped
    expect(pixelBox(w, h, () => false)).toBeNull();
    expect(unionBox([{ x: 1, y: 2, width: 2, height: 2 }, null, { x: 4, y: 0, width: 1, height: 1 }])).toEqual({ x: 1, y: 0, width: 4, height: 4 });
    expect(unionBox([null])).toBeNull();
  });

  it('labelImage colours each region id; the legend lists them in id order', () => {
    const labels = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 9]);
    const img = labelImage(labels, 4, 2);
    labels.forEach((id, p) => expect(Array.from(img.data.subarray(3 * p, 3 * p + 3))).toEqual(Array.from(Float32Array.from(REGION_COLOURS[id] ?? [0, 0, 0]))));
    expect(regionLegend().map((r) => [r.region, r.id])).toEqual([['background', 0], ['skin', 1], ['lips', 2], ['teeth', 3], ['tongue', 4], ['eyes', 5], ['hair', 6]]);
    expect(regionLegend()[2]!.colour).toBe('rgb(217, 38, 51)');
    expect(() => labelImage(labels, 3, 3)).toThrow('labelImage: 8 labels for a 3×3 image');
  });

  it('spreadCameras: evenly spaced azimuths in ±60°, nearest unused camera each, left to right', () => {
    // A 6-camera rig at −75…75° with camera 2 held out, as the tiny preset has it.
    const az = [-75, -45, -15, 15, 45, 75];
    const fake = {
      meta: { cameras: az.map((a, i) => ({ camera_index: i, azimuth_deg: a })) },
      splits: { train: { frames: [0, 1, 3, 4, 5].map((c) => ({ cameraIndex: c })) } },
    } as unknown as SyntheticDataset;
    expect(spreadCameras(fake, 'train', 4)).toEqual([0, 1, 3, 4]); // targets −60, −20, 20, 60
    expect(spreadCameras(fake, 'train', 1)).toEqual([3]); // the most frontal training camera
    expect(spreadCameras(fake, 'train', 9)).toEqual([0, 1, 3, 4, 5]);
  });

  it('boundingBox of [N,3] points', () => {
    expect(boundingBox(Float32Array.of(1, 2, 3, -1, 5, 0))).toEqual({ min: [-1, 2, 0], max: [1, 5, 3] });
    expect(() => boundingBox(new Float32Array(4))).toThrow('boundingBox: expected [N,3] points');
  });
});

describe('a dataset on disk: ensureDataset and the overview grid (GPU)', () => {
  const gpu = gpuFixture();
  // Small, and without supersampling so that labels and colours agree pixel for pixel.
  const cfg = synthConfig('tiny', { subject: 'views', frames: 2, width: 72, height: 50, cameras: 3, heldOut: [1], tileSize: 64, supersample: 1 });
  let dir: string;
  let ds: SyntheticDataset;

  beforeAll(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'gae-views-')), 'views');
    const first = await ensureDataset(await gpu(), dir, cfg);
    expect(first.created).toBe(true);
    ds = first;
  });

  it('ensureDataset loads what is there, and refuses a folder holding something else', async () => {
    const again = await ensureDataset(await gpu(), dir, cfg);
    expect(again.created).toBe(false);
    expect(again.meta).toEqual(ds.meta);
    await expect(ensureDataset(await gpu(), dir, { ...cfg, width: 48, cameras: 4 })).rejects.toThrow(
      `${path.join(dir, 'dataset.json')}: a different dataset is already here (width: 72 on disk, 48 wanted; cameras: 3 on disk, 4 wanted)`,
    );
    const other = path.join(path.dirname(dir), 'not-a-dataset');
    await mkdir(other);
    await expect(ensureDataset(await gpu(), other, cfg)).rejects.toThrow(`${other}: exists but has no dataset.json`);
  });

  it('summary, cameras, showcase timesteps and camera spread', () => {
    expect(datasetSummary(ds).map((r) => [r.split, r.sequence, r.cameras, r.timesteps, r.frames])).toEqual([
      ['train', 'train', 'cam00 cam02', 2, 4],
      ['val', 'train', 'cam01', 2, 2],
      ['test', 'heldout', 'cam00 cam02', 2, 4],
      ['cross', 'cross', 'cam00 cam02', 2, 4],
    ]);
    expect(datasetCameras(ds).map((c) => [c.id, c.heldOut, c.camera.width])).toEqual([['cam00', false, 72], ['cam01', true, 72], ['cam02', false, 72]]);
    expect(showcaseTimesteps(ds, 'train', 2)).toEqual([0, 1]); // the train sequence starts neutral
    expect(spreadCameras(ds, 'train', 4)).toEqual([0, 2]); // fewer cameras than asked for: all of them
  });

  it('the overview grid: stored frames cropped to the head without losing any of it, the GT edit, labels, mouth close-ups', async () => {
    const ctx = await gpu();
    const spec = await overviewGrid(ctx, ds, { cameras: [0, 1], timesteps: [0, 1], split: 'val' }).catch(() => null);
    expect(spec).toBeNull(); // camera 0 is not in the val split: an error, not a silent gap

    const g = await overviewGrid(ctx, ds, { cameras: [0, 2], timesteps: [0, 1] });
    expect(g.columns).toEqual(['cam00', 'cam02']);
    const cat = ds.splits.train.timesteps[1]!.category;
    expect(g.rows.map((r) => r.label)).toEqual(['t0 neutral', `t1 ${cat}`, 't1 GT gold-teeth', 't1 labels', 't1 mouth', 't1 GT mouth']);

    for (const [j, cam] of [0, 2].entries()) {
      const frame = (t: number) => ds.splits.train.frames.find((f) => f.timestep === t && f.cameraIndex === cam)!;
      const stored = [await loadFrameImages(frame(0)), await loadFrameImages(frame(1))];
      // Find each tile in its stored image; outside the tile the stored image must be background only.
      const tile0 = g.rows[0]!.images[j]!;
      const at = locate(stored[0]!.rgb, tile0);
      expect(at, `cam${cam}: tile is a crop of the stored frame`).not.toBeNull();
      for (const [r, s] of stored.entries()) {
        const tile = g.rows[r]!.images[j]!;
        expect(sameBlock(s.rgb, tile, at!)).toBe(true);
        for (let y = 0; y < s.rgb.height; y++) {
          for (let x = 0; x < s.rgb.width; x++) {
            const inside = x >= at!.x && x < at!.x + tile.width && y >= at!.y && y < at!.y + tile.height;
            if (!inside) expect(s.alpha[y * s.rgb.width + x], `cam${cam} t${r}: head pixel (${x}, ${y}) cropped away`).toBe(0);
          }
        }
      }
      // Labels row: the label colours of the same crop.
      expect(sameBlock(labelImage(stored[1]!.labels, 72, 50), g.rows[3]!.images[j]!, at!)).toBe(true);
      // The GT row is the same crop of the edit's ground-truth render (not of the stored frame: it differs).
      const gt = g.rows[2]!.images[j]!;
      expect(sameBlock((await renderGroundTruth(ctx, ds, frame(1), 'gold-teeth')).rgb, gt, at!)).toBe(true);
      expect(sameBlock(stored[1]!.rgb, gt, at!)).toBe(false);
      // Close-ups: integer enlargements (constant blocks) of a box around the mouth.
      for (const r of [4, 5]) {
        const c = g.rows[r]!.images[j];
        expect(c, `cam${cam}: mouth close-up`).not.toBeNull();
        expect(blockFactor(c!)).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('posedHead: the mesh of a timestep, head-sized', async () => {
    const v = await posedHead(await gpu(), ds, 'train', 1);
    const b = boundingBox(v);
    const size = b.max.map((m, k) => m - b.min[k]!);
    for (const s of size) expect(s).toBeGreaterThan(0.15);
    for (const s of size) expect(s).toBeLessThan(0.5);
    await expect(posedHead(await gpu(), ds, 'train', 7)).rejects.toThrow('has no timestep 7');
  });
});

/** Where `tile` sits in `img` (exact pixel match), or null. */
function locate(img: RgbImage, tile: RgbImage): { x: number; y: number } | null {
  for (let y = 0; y + tile.height <= img.height; y++) for (let x = 0; x + tile.width <= img.width; x++) if (sameBlock(img, tile, { x, y })) return { x, y };
  return null;
}

function sameBlock(img: RgbImage, tile: RgbImage, at: { x: number; y: number }): boolean {
  for (let y = 0; y < tile.height; y++) {
    for (let x = 0; x < tile.width * 3; x++) if (tile.data[y * tile.width * 3 + x] !== img.data[((at.y + y) * img.width + at.x) * 3 + x]) return false;
  }
  return true;
}

/** The largest k such that the image is made of constant k×k blocks. */
function blockFactor(img: RgbImage): number {
  for (let k = Math.min(img.width, img.height); k > 1; k--) {
    if (img.width % k || img.height % k) continue;
    let ok = true;
    for (let y = 0; y < img.height && ok; y++) {
      for (let x = 0; x < img.width && ok; x++) {
        const s = 3 * (Math.floor(y / k) * k * img.width + Math.floor(x / k) * k), d = 3 * (y * img.width + x);
        for (let c = 0; c < 3; c++) if (img.data[s + c] !== img.data[d + c]) ok = false;
      }
    }
    if (ok) return k;
  }
  return 1;
}
