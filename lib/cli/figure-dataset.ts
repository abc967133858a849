/**
 * The dataset figure for the README: a grid of training cameras (columns) × rows of frames: the stored
 * images of a closed-mouth and an open-mouth timestep, ground-truth edits of them, and the region labels.
 *   gae figure-dataset [dataset dir] [out.png]
 * (the default renders data/synthetic/figure first, at 240x165).
 */
import { promises as fs } from 'node:fs';
import { getGpu, releaseGpu } from '../gpu/index.js';
import { loadDataset, loadFrameImages, type DatasetFrame } from '../data/dataset.js';
import { renderGroundTruth } from '../data/ground-truth.js';
import { synthConfig, writeDataset } from '../data/writer.js';
import { labelImage } from '../data/views.js';
import { rgbImage, writePng, type RgbImage } from '../util/image.js';

async function main() {
  const dir = process.argv[2] ?? 'data/synthetic/figure';
  const outFile = process.argv[3] ?? 'results/figures/synthetic-dataset.png';
  const ctx = await getGpu();
  if (!process.argv[2]) {
    await writeDataset(
      ctx,
      dir,
      synthConfig('tiny', { subject: 'figure', seed: 7, frames: 6, width: 240, height: 165, cameras: 6, heldOut: [2], tileSize: 256 }),
      { replace: true },
    );
  }
  const ds = await loadDataset(dir);
  const train = ds.splits.train;
  const cams = [...new Set(train.frames.map((f) => f.cameraIndex))].slice(0, 5);
  const cat = (c: string) => train.timesteps.find((t) => t.category === c)?.index;
  const closed = cat('neutral') ?? 0;
  const open = cat('surprise') ?? cat('open-smile') ?? cat('talk') ?? 1;
  const other = train.timesteps.find((t) => ![closed, open].includes(t.index))?.index ?? closed;
  const frame = (t: number, c: number) => train.frames.find((f) => f.timestep === t && f.cameraIndex === c)!;
  const rows: { t: number; edit: string | null; kind: 'image' | 'gt' | 'labels' }[] = [
    { t: closed, edit: null, kind: 'image' },
    { t: open, edit: null, kind: 'image' },
    { t: open, edit: 'gold-teeth', kind: 'gt' },
    { t: other, edit: 'red-lipstick', kind: 'gt' },
    { t: closed, edit: 'cheek-tattoo', kind: 'gt' },
    { t: open, edit: null, kind: 'labels' },
  ];
  const w = ds.meta.cameras[0]!.w,
    h = ds.meta.cameras[0]!.h;
  // The rig's images are landscape (NeRSemble's 802×550); the figure keeps the middle 60% of each.
  const cw = Math.round(w * 0.6),
    x0 = Math.floor((w - cw) / 2);
  const grid = rgbImage(cw * cams.length, h * rows.length, [1, 1, 1]);
  for (const [r, row] of rows.entries()) {
    for (const [c, cam] of cams.entries()) {
      const f: DatasetFrame = frame(row.t, cam);
      let tile: RgbImage;
      if (row.kind === 'image') tile = (await loadFrameImages(f)).rgb;
      else if (row.kind === 'labels') tile = labelImage((await loadFrameImages(f)).labels, w, h);
      else tile = (await renderGroundTruth(ctx, ds, f, row.edit)).rgb;
      for (let y = 0; y < h; y++) grid.data.set(tile.data.subarray(3 * (y * w + x0), 3 * (y * w + x0 + cw)), 3 * ((r * h + y) * grid.width + c * cw));
    }
  }
  await writePng(outFile, grid);
  const { size } = await fs.stat(outFile);
  console.log(
    `wrote ${outFile} (${grid.width}x${grid.height}, ${(size / 1024).toFixed(0)} KiB); rows: closed, open, gold-teeth, red-lipstick, cheek-tattoo, labels; timesteps ${closed}/${open}/${other}`,
  );
}

main()
  .then(() => releaseGpu())
  .catch(async (e) => {
    console.error(e);
    await releaseGpu();
    process.exit(1);
  });
