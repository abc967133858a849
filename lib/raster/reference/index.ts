/**
 * The float64 reference rasterizer: what every WGSL kernel is tested against. Plain loops, readable, and
 * fast enough for small test scenes (tile lists, never a per-pixel scan of all Gaussians).
 */
import type { Camera, RasterSettings } from '../types.js';
import { projectBackwardReference, rasterizeBackwardReference, type ReferenceGrads } from './backward.js';
import { projectReference, type ReferenceGaussians } from './project.js';
import { rasterizeReference, type ReferenceRender } from './rasterize.js';
import { tileIntersectReference } from './tiles.js';

export * from './sh.js';
export * from './project.js';
export * from './tiles.js';
export * from './rasterize.js';
export * from './backward.js';

/** Projects, bins and blends: one image of `g` seen by `cam`. */
export function renderReference(g: ReferenceGaussians, cam: Camera, s: RasterSettings): ReferenceRender {
  const p = projectReference(g, cam, s);
  const tiles = tileIntersectReference(p, cam);
  return rasterizeReference(p, tiles, cam, s);
}

/**
 * The image and the gradients of L = Σ dLdColor·color + Σ dLdAlpha·alpha with respect to the stored
 * parameters (and means2D). dLdColor is [H,W,3], dLdAlpha [H,W] (omitted: 0).
 */
export function renderReferenceWithGrad(
  g: ReferenceGaussians,
  cam: Camera,
  s: RasterSettings,
  dLdColor: ArrayLike<number>,
  dLdAlpha?: ArrayLike<number>,
): { out: ReferenceRender; grads: ReferenceGrads } {
  const p = projectReference(g, cam, s);
  const tiles = tileIntersectReference(p, cam);
  const out = rasterizeReference(p, tiles, cam, s);
  const pg = rasterizeBackwardReference(p, tiles, cam, s, out, dLdColor, dLdAlpha);
  return { out, grads: projectBackwardReference(g, cam, s, p, pg) };
}
