/**
 * The per-frame uniform block shared by every rasterizer kernel: camera, image size, SH degrees, blending
 * constants. One layout on both sides (`frameWgsl` and `packFrame`) so that a field cannot drift.
 */
import { cameraCentre, tanHalfFov } from '../camera.js';
import type { Camera, RasterSettings } from '../types.js';

export const TILE = 16;

export const frameWgsl = /* wgsl */ `
struct Frame {
  view0: vec4f,   // rows of world → camera [R | t]
  view1: vec4f,
  view2: vec4f,
  campos: vec4f,  // camera centre in world (xyz)
  intr: vec4f,    // fx, fy, cx, cy (pixels)
  clip: vec4f,    // 1.3·tan(half fov x), 1.3·tan(half fov y), near, far
  bg: vec4f,      // background rgb, lowpass (px²)
  blend: vec4f,   // WABE β, 0, 0, 0
  dims: vec4u,    // width, height, gridW, gridH
  sizes: vec4u,   // N, K (stored SH coefficients per channel), active SH degree, key capacity
}
`;

export const FRAME_BYTES = 160;

export interface FrameInfo {
  width: number;
  height: number;
  gridW: number;
  gridH: number;
  numTiles: number;
}

export function frameInfo(cam: Pick<Camera, 'width' | 'height'>): FrameInfo {
  const gridW = Math.ceil(cam.width / TILE);
  const gridH = Math.ceil(cam.height / TILE);
  return { width: cam.width, height: cam.height, gridW, gridH, numTiles: gridW * gridH };
}

/** The uniform's bytes for one camera / settings / Gaussian set. */
export function packFrame(cam: Camera, s: RasterSettings, n: number, storedDegree: number, capacity: number): ArrayBuffer {
  const buf = new ArrayBuffer(FRAME_BYTES);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  const m = cam.worldToCamera;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) f[4 * r + c] = m[4 * r + c]!;
  const cc = cameraCentre(cam);
  f.set(cc, 12);
  f.set([cam.fx, cam.fy, cam.cx, cam.cy], 16);
  const [tx, ty] = tanHalfFov(cam);
  f.set([1.3 * tx, 1.3 * ty, cam.near, cam.far], 20);
  f.set([s.background[0], s.background[1], s.background[2], s.lowpass], 24);
  f.set([s.wabe.beta, 0, 0, 0], 28);
  const fi = frameInfo(cam);
  u.set([cam.width, cam.height, fi.gridW, fi.gridH], 32);
  const active = Math.max(0, Math.min(s.shDegree, storedDegree));
  u.set([n, (storedDegree + 1) * (storedDegree + 1), active, capacity], 36);
  return buf;
}
