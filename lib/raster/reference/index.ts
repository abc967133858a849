/**
 * The float64 reference rasterizer: what every WGSL kernel is tested against. Plain loops, readable, and
 * fast enough for small test scenes (tile lists, never a per-pixel scan of all Gaussians).
 */
import type { Camera, RasterSettings } from '../types.js';
import { projectReference, type ReferenceGaussians } from './project.js';
import { rasterizeReference, type ReferenceRender } from './rasterize.js';
import { tileIntersectReference } from './tiles.js';

export * from './sh.js';
export * from './project.js';
export * from './tiles.js';
export * from './rasterize.js';

/** Projects, bins and blends: one image of `g` seen by `cam`. */
export function renderReference(g: ReferenceGaussians, cam: Camera, s: RasterSettings): ReferenceRender {
  const p = projectReference(g, cam, s);
  const tiles = tileIntersectReference(p, cam);
  return rasterizeReference(p, tiles, cam, s);
}
