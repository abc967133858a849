/** Helpers for the GPU rasterizer's tests: upload scenes, read outputs back, compare against the reference. */
import { download, upload, type GpuContext } from '../../lib/gpu/index.js';
import type { GaussianBuffers, GaussianRasterizer, ForwardState } from '../../lib/raster/gpu/rasterizer.js';
import type { ReferenceGaussians } from '../../lib/raster/reference/project.js';
import type { ShDegree } from '../../lib/raster/types.js';

/** The reference's float64 parameters rounded to float32, the inputs both sides then see. */
export function toFloat32(g: ReferenceGaussians): ReferenceGaussians {
  return {
    count: g.count,
    shDegree: g.shDegree,
    means: Float32Array.from(g.means),
    logScales: Float32Array.from(g.logScales),
    quats: Float32Array.from(g.quats),
    opacityLogits: Float32Array.from(g.opacityLogits),
    sh: Float32Array.from(g.sh),
  };
}

export function uploadGaussians(ctx: GpuContext, g: ReferenceGaussians): GaussianBuffers {
  const f = (a: ArrayLike<number>) => upload(ctx.device, Float32Array.from(a));
  return {
    count: g.count,
    shDegree: g.shDegree as ShDegree,
    means: f(g.means),
    logScales: f(g.logScales),
    quats: f(g.quats),
    opacityLogits: f(g.opacityLogits),
    sh: f(g.sh),
  };
}

export function destroyGaussians(b: GaussianBuffers): void {
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) b[k].destroy();
}

export interface GpuImage {
  color: Float32Array; // [H,W,3]
  alpha: Float32Array;
  depth: Float32Array;
  nContrib: Uint32Array;
  lastIdx: Uint32Array;
}

export async function readImage(ctx: GpuContext, st: ForwardState): Promise<GpuImage> {
  const npx = st.info.width * st.info.height;
  const out = await download(ctx.device, st.image, Float32Array, npx * 5);
  const color = new Float32Array(npx * 3),
    alpha = new Float32Array(npx),
    depth = new Float32Array(npx);
  for (let p = 0; p < npx; p++) {
    color[3 * p] = out[5 * p]!;
    color[3 * p + 1] = out[5 * p + 1]!;
    color[3 * p + 2] = out[5 * p + 2]!;
    alpha[p] = out[5 * p + 3]!;
    depth[p] = out[5 * p + 4]!;
  }
  return {
    color,
    alpha,
    depth,
    nContrib: await download(ctx.device, st.nContrib, Uint32Array, npx),
    lastIdx: await download(ctx.device, st.lastIdx, Uint32Array, npx),
  };
}

/** ‖a − b‖ / ‖b‖ over the entries where `keep` (default all) is true. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, keep?: (i: number) => boolean): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    if (keep && !keep(i)) continue;
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export async function withRasterizer<T>(r: GaussianRasterizer, f: (r: GaussianRasterizer) => Promise<T>): Promise<T> {
  try {
    return await f(r);
  } finally {
    r.destroy();
  }
}
