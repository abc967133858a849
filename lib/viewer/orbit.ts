/**
 * The viewer's orbit camera: azimuth and elevation about a target, a distance and a field of view,
 * turned into the rasterizer's Camera (OpenCV axes, lookAt in camera.ts). Pure state, no DOM.
 */
import { RIG_TARGET } from '../data/cameras.js';
import { intrinsicsFromFov, lookAt, makeCamera, type Vec3 } from '../raster/camera.js';
import type { Camera } from '../raster/types.js';

export interface Orbit {
  azimuth: number; // radians; 0 = in front of the face (+z), positive toward the subject's left (+x)
  elevation: number; // radians, positive above
  distance: number; // metres from the target
  fovX: number; // degrees
  target: Vec3; // metres, model frame
}

export const DEFAULT_ORBIT: Orbit = { azimuth: 0, elevation: 0.08, distance: 0.78, fovX: 24, target: [...RIG_TARGET] as Vec3 };

const LIMIT_EL = 1.45;

export function orbitCamera(o: Orbit, width: number, height: number): Camera {
  const ce = Math.cos(o.elevation);
  const eye: Vec3 = [
    o.target[0] + o.distance * ce * Math.sin(o.azimuth),
    o.target[1] + o.distance * Math.sin(o.elevation),
    o.target[2] + o.distance * ce * Math.cos(o.azimuth),
  ];
  return makeCamera(intrinsicsFromFov(width, height, o.fovX), lookAt(eye, o.target, [0, 1, 0]), 0.01, 100);
}

/** Drag by (dx, dy) pixels: 0.01 rad per pixel, elevation kept off the poles. */
export function dragOrbit(o: Orbit, dx: number, dy: number): Orbit {
  return { ...o, azimuth: o.azimuth - 0.01 * dx, elevation: Math.max(-LIMIT_EL, Math.min(LIMIT_EL, o.elevation + 0.01 * dy)) };
}

/** Wheel zoom: multiplicative, clamped to 0.15–3 m. */
export function zoomOrbit(o: Orbit, wheelDelta: number): Orbit {
  return { ...o, distance: Math.max(0.15, Math.min(3, o.distance * Math.exp(0.001 * wheelDelta))) };
}
