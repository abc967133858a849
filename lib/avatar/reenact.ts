/**
 * Reenactment renders: an avatar driven by a sequence of head parameters (its own held-out performance or
 * another person's), seen from a fixed camera, through the real-time path (lib/avatar/gpu-render.ts). Used
 * by notebooks, `gae render` and the reports' animations.
 */
import type { GpuContext } from '../gpu/device.js';
import type { HeadModel } from '../head/model.js';
import type { HeadParams } from '../head/pose.js';
import type { Camera, RasterSettings } from '../raster/types.js';
import { cameraCentre } from '../raster/camera.js';
import type { RgbImage } from '../util/image.js';
import type { BoundGaussians } from './gaussians.js';
import { AvatarRenderer } from './gpu-render.js';

/** Frames of `g` driven by `params`, seen by `cam`: RGB images (background per `settings`). */
export async function renderSequence(
  ctx: GpuContext,
  head: HeadModel,
  g: BoundGaussians,
  params: HeadParams[],
  cam: Camera,
  settings: RasterSettings,
): Promise<RgbImage[]> {
  const r = new AvatarRenderer(ctx, head, g);
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
