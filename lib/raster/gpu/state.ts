/**
 * What the GPU rasterizer's passes exchange: the Gaussians on the GPU, the state a forward pass leaves for
 * its backward pass, the gradient buffers, and the checks that every buffer a kernel indexes is large
 * enough (with Dawn's robustness off, lib/gpu/device.ts, nothing else would catch a short buffer).
 */
import type { Camera, RasterSettings, ShDegree } from '../types.js';
import type { FrameInfo } from './frame.js';
import { OUT_CHANNELS, type BlendVariant } from './rasterize.wgsl.js';

/** Gaussian parameters on the GPU, packed float32 as in `Gaussians` (types.ts). */
export interface GaussianBuffers {
  count: number;
  shDegree: ShDegree; // stored degree: sh holds (shDegree+1)² coefficients per channel
  means: GPUBuffer; // [N,3]
  logScales: GPUBuffer; // [N,3]
  quats: GPUBuffer; // [N,4]
  opacityLogits: GPUBuffer; // [N]
  sh: GPUBuffer; // [N,K,3]
}

/** Allocates a storage buffer of at least `bytes` (zero-initialised not required). */
export type Allocate = (bytes: number, label: string) => GPUBuffer;

/** Everything a forward pass leaves for its backward pass, plus its outputs. */
export interface ForwardState {
  n: number;
  shDegree: ShDegree;
  cam: Camera;
  settings: RasterSettings;
  variant: BlendVariant;
  info: FrameInfo;
  capacity: number; // keys the buffers hold
  frame: ArrayBuffer; // the uniform's bytes (rewritten before the backward)
  // Outputs.
  image: GPUBuffer; // [H,W,5] r, g, b, alpha, depth
  nContrib: GPUBuffer; // [H,W] u32
  radii: GPUBuffer; // [N] i32
  // For the backward pass (and the stage tests).
  proj: GPUBuffer; // [N] Proj (48 bytes)
  tilesTouched: GPUBuffer; // [N] u32
  rects: GPUBuffer; // [N] vec2u
  depthSorted: GPUBuffer; // [N] Gaussian ids by depth
  offsets: GPUBuffer; // [N+1] exclusive scan of tilesTouched in depth order; [N] = M
  keyGid: GPUBuffer; // [capacity] Gaussian id per sorted key
  emitBase: GPUBuffer; // [N] each Gaussian's first emit index (a key's is this plus its tile's place in the rectangle)
  ranges: GPUBuffer; // [numTiles] (start, end)
  finalT: GPUBuffer; // [H,W]
  lastIdx: GPUBuffer; // [H,W]
  wabeSums: GPUBuffer | null; // [H,W,4] renormalised WABE only
  /** Buffers this state allocated, in allocation order (for release / adoption as tensors). */
  owned: GPUBuffer[];
}

export interface GradBuffers {
  means: GPUBuffer; // [N,3]
  logScales: GPUBuffer; // [N,3]
  quats: GPUBuffer; // [N,4]
  opacityLogits: GPUBuffer; // [N]
  sh: GPUBuffer; // [N,K,3]
  means2D: GPUBuffer; // [N,2]
}

/** Bytes per Gaussian of each parameter (and gradient) buffer, K = SH coefficients per channel. */
function paramBytes(K: number) {
  return { means: 12, logScales: 12, quats: 16, opacityLogits: 4, sh: 12 * K, means2D: 8 } as const;
}

function need(where: string, field: string, b: GPUBuffer, bytes: number): void {
  if (b.size < bytes) throw new RangeError(`${where}: buffer '${field}' holds ${b.size} bytes, the kernels index ${bytes}`);
}

/** Throws unless each parameter buffer holds `count` Gaussians of `shDegree`. */
export function checkGaussianBuffers(g: GaussianBuffers, where: string): void {
  if (!Number.isInteger(g.count) || g.count < 0) throw new RangeError(`${where}: count ${g.count} is not a count of Gaussians`);
  const per = paramBytes((g.shDegree + 1) ** 2);
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) need(where, k, g[k], g.count * per[k]);
}

/** Throws unless the gradient buffers and the upstream gradient fit the state's sizes. */
export function checkBackwardBuffers(st: ForwardState, grads: GradBuffers, dOut: GPUBuffer, where: string): void {
  const per = paramBytes((st.shDegree + 1) ** 2);
  for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'means2D'] as const) need(where, `grads.${k}`, grads[k], st.n * per[k]);
  need(where, 'dOut', dOut, st.info.width * st.info.height * OUT_CHANNELS * 4);
}

/** The state's buffers and their sizes in bytes, for `count` Gaussians and `capacity` keys. */
export function stateSizes(count: number, info: FrameInfo, capacity: number, variant: BlendVariant): [keyof ForwardState, number][] {
  const npx = info.width * info.height;
  const n = Math.max(1, count); // bindings need room for one element even when there are no Gaussians
  const sizes: [keyof ForwardState, number][] = [
    ['image', npx * OUT_CHANNELS * 4],
    ['nContrib', npx * 4],
    ['radii', n * 4],
    ['proj', n * 48],
    ['tilesTouched', n * 4],
    ['rects', n * 8],
    ['depthSorted', n * 4],
    ['offsets', (n + 1) * 4],
    ['emitBase', n * 4],
    ['keyGid', capacity * 4],
    ['ranges', info.numTiles * 8],
    ['finalT', npx * 4],
    ['lastIdx', npx * 4],
  ];
  if (variant.renorm) sizes.push(['wabeSums', npx * 16]);
  return sizes;
}

/**
 * The state for one forward pass: `reuse`'s buffers when they are all large enough (its fields are then
 * updated in place), else fresh ones from `allocate` (and `reuse`'s are handed to `release`).
 */
export function forwardState(
  fields: Pick<ForwardState, 'n' | 'shDegree' | 'cam' | 'settings' | 'variant' | 'info' | 'capacity' | 'frame'>,
  allocate: Allocate,
  release: (st: ForwardState) => void,
  reuse?: ForwardState,
): ForwardState {
  const sizes = stateSizes(fields.n, fields.info, fields.capacity, fields.variant);
  if (reuse && sizes.every(([k, bytes]) => reuse[k] && (reuse[k] as GPUBuffer).size >= bytes)) return Object.assign(reuse, fields);
  if (reuse) release(reuse);
  const owned: GPUBuffer[] = [];
  const st = { ...fields, wabeSums: null, owned } as unknown as ForwardState;
  for (const [k, bytes] of sizes) {
    const b = allocate(bytes, `state-${k}`);
    (st as unknown as Record<string, GPUBuffer>)[k] = b;
    owned.push(b);
  }
  return st;
}
