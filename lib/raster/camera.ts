/** Camera construction and queries (OpenCV axes: x right, y down, z forward; see types.ts). */
import type { Camera } from './types.js';

export type Vec3 = [number, number, number];

/** Intrinsics for a horizontal field of view, principal point at the image centre, square pixels. */
export function intrinsicsFromFov(width: number, height: number, fovXDeg: number): Pick<Camera, 'width' | 'height' | 'fx' | 'fy' | 'cx' | 'cy'> {
  const fx = width / 2 / Math.tan((fovXDeg * Math.PI) / 360);
  return { width, height, fx, fy: fx, cx: width / 2, cy: height / 2 };
}

/** tan of half the field of view in x and y, from the intrinsics (3DGS's tanfovx/tanfovy). */
export function tanHalfFov(cam: Camera): [number, number] {
  return [cam.width / (2 * cam.fx), cam.height / (2 * cam.fy)];
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  if (n === 0) throw new Error('normalize: zero vector');
  return [a[0] / n, a[1] / n, a[2] / n];
}

/**
 * World → camera matrix (row-major [16]) of a camera at `eye` looking at `target`, with `up` the world
 * direction that should appear upward in the image (OpenCV's y axis points down, so y_cam = −up').
 */
export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, 1, 0]): Float64Array {
  const z = normalize(sub(target, eye)); // forward
  const x = normalize(cross(z, up)); // right  (z × up points right when y is down)
  const y = cross(z, x); // down
  return new Float64Array([x[0], x[1], x[2], -dot(x, eye), y[0], y[1], y[2], -dot(y, eye), z[0], z[1], z[2], -dot(z, eye), 0, 0, 0, 1]);
}

/** Camera centre in world coordinates: −Rᵀ t for W = [R | t]. */
export function cameraCentre(cam: Pick<Camera, 'worldToCamera'>): Vec3 {
  const m = cam.worldToCamera;
  const t: Vec3 = [m[3]!, m[7]!, m[11]!];
  return [-(m[0]! * t[0] + m[4]! * t[1] + m[8]! * t[2]), -(m[1]! * t[0] + m[5]! * t[1] + m[9]! * t[2]), -(m[2]! * t[0] + m[6]! * t[1] + m[10]! * t[2])];
}

/** Applies the world → camera transform to a point. */
export function toCamera(cam: Pick<Camera, 'worldToCamera'>, p: ArrayLike<number>, offset = 0): Vec3 {
  const m = cam.worldToCamera;
  const x = p[offset]!,
    y = p[offset + 1]!,
    z = p[offset + 2]!;
  return [m[0]! * x + m[1]! * y + m[2]! * z + m[3]!, m[4]! * x + m[5]! * y + m[6]! * z + m[7]!, m[8]! * x + m[9]! * y + m[10]! * z + m[11]!];
}

/** Pixel coordinates of a world point (no culling); pixel centres at integer + 0.5. */
export function projectPoint(cam: Camera, p: ArrayLike<number>, offset = 0): [number, number, number] {
  const [x, y, z] = toCamera(cam, p, offset);
  return [(cam.fx * x) / z + cam.cx, (cam.fy * y) / z + cam.cy, z];
}

/** A camera with the given intrinsics and pose; near/far default to 0.01 m / 100 m. */
export function makeCamera(
  intr: Pick<Camera, 'width' | 'height' | 'fx' | 'fy' | 'cx' | 'cy'>,
  worldToCamera: ArrayLike<number>,
  near = 0.01,
  far = 100,
): Camera {
  if (worldToCamera.length !== 16) throw new Error(`worldToCamera must have 16 entries, got ${worldToCamera.length}`);
  return { ...intr, worldToCamera: Float64Array.from(worldToCamera), near, far };
}
