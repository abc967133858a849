/**
 * Reenactment renders: an avatar driven by a sequence of head parameters (its own held-out performance or
 * another person's), seen from a fixed camera, through the real-time path (lib/avatar/gpu-render.ts). Used
 * by notebooks, `gae render` and the reports' animations.
 */
import type { GpuContext } from '../gpu/device.js';
import type { HeadModel } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import type { Head } from '../head/head.js';
import type { Camera, RasterSettings } from '../raster/types.js';
import { cameraCentre } from '../raster/camera.js';
import { downsample, type RgbImage } from '../util/image.js';
import { rasterSettings } from '../raster/types.js';
import { loadFrameImages, type SplitName, type SyntheticDataset } from '../data/dataset.js';
import type { GridSpec } from '../image/grid.js';
import type { BoundGaussians } from './gaussians.js';
import { AvatarRenderer } from './gpu-render.js';

/** Frames of `g` driven by `params`, seen by `cam`: RGB images (background per `settings`). Any head: ICT-FaceKit or FLAME. */
export async function renderSequence<P = HeadParams>(
  ctx: GpuContext,
  head: HeadModel | Head<P>,
  g: BoundGaussians,
  params: P[],
  cam: Camera,
  settings: RasterSettings,
): Promise<RgbImage[]> {
  const r = new AvatarRenderer<P>(ctx, head, g);
  try {
    await r.prepare(settings);
    const out: RgbImage[] = [];
    for (const p of params) {
      await r.render(p, cam, settings);
      const { rgb } = await r.readImage(cam);
      out.push({ width: cam.width, height: cam.height, data: rgb });
    }
    return out;
  } finally {
    r.destroy();
  }
}

/** The camera among `cams` closest to looking straight at the face (+z in the head's frame, toward −z). */
export function frontalCamera<T extends { camera: Camera }>(cams: T[]): T {
  if (cams.length === 0) throw new Error('frontalCamera: no cameras');
  let best = cams[0]!;
  let bestScore = -Infinity;
  for (const c of cams) {
    const [x, y, z] = cameraCentre(c.camera);
    const score = z / Math.hypot(x, y, z); // cosine to the face's forward axis
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/**
 * Ground truth beside the avatar for `count` timesteps of a split (default: cross-identity, another person's
 * performance), spread over the sequence and seen from its most frontal camera, rendered through the
 * real-time path; `downsample` shrinks both rows (full-size data in a notebook).
 */
export async function reenactmentGrid(
  ctx: GpuContext,
  ds: SyntheticDataset,
  head: HeadModel,
  g: BoundGaussians,
  opts: { split?: SplitName; count?: number; shDegree: number; downsample?: number },
): Promise<GridSpec> {
  const frames = ds.splits[opts.split ?? 'cross'].frames;
  if (frames.length === 0) throw new Error(`reenactmentGrid: split ${opts.split ?? 'cross'} has no frames`);
  const cam = frontalCamera(frames);
  const seq = frames.filter((f) => f.cameraIndex === cam.cameraIndex).sort((a, b) => a.timestep - b.timestep);
  const count = opts.count ?? 4;
  const picks = seq.filter((_, i) => i % Math.max(1, Math.floor(seq.length / count)) === 0).slice(0, count);
  const settings = rasterSettings({ shDegree: opts.shDegree, background: ds.meta.render.background as [number, number, number] });
  const renders = await renderSequence(
    ctx,
    head,
    g,
    picks.map((f) => f.head),
    cam.camera,
    settings,
  );
  const truths = await Promise.all(picks.map(async (f) => (await loadFrameImages(f)).rgb));
  const f = opts.downsample ?? 1;
  return {
    columns: picks.map((p) => `t${p.timestep}`),
    rows: [
      { label: 'ground truth', images: truths.map((t) => downsample(t, f)) },
      { label: 'avatar', images: renders.map((r) => downsample(r, f)) },
    ],
  };
}
