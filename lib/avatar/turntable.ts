/**
 * Turntable cameras: a ring around the head at the capture rig's distance and intrinsics, for animations
 * of an avatar (`gae render --turntable`, reports). Azimuth 0 looks at the face (+z toward −z).
 */
import { cameraCentre, lookAt, makeCamera } from '../raster/camera.js';
import type { Camera } from '../raster/types.js';
import { RIG_TARGET } from '../data/cameras.js';

export function turntableCameras(like: Camera, frames: number, spanDeg = 360, elevationDeg = 5): Camera[] {
  if (!(frames >= 1)) throw new Error(`turntableCameras: frames must be ≥ 1, got ${frames}`);
  const c = cameraCentre(like);
  const d = Math.hypot(c[0] - RIG_TARGET[0], c[1] - RIG_TARGET[1], c[2] - RIG_TARGET[2]);
  const e = (elevationDeg * Math.PI) / 180;
  const out: Camera[] = [];
  for (let i = 0; i < frames; i++) {
    // A full circle does not repeat its first view; a partial sweep ends on its last.
    const t = spanDeg >= 360 ? i / frames : frames === 1 ? 0.5 : i / (frames - 1);
    const a = (((spanDeg >= 360 ? 0 : -spanDeg / 2) + spanDeg * t) * Math.PI) / 180;
    const eye: [number, number, number] = [
      RIG_TARGET[0] + d * Math.sin(a) * Math.cos(e),
      RIG_TARGET[1] + d * Math.sin(e),
      RIG_TARGET[2] + d * Math.cos(a) * Math.cos(e),
    ];
    out.push(makeCamera(like, lookAt(eye, [...RIG_TARGET]), like.near, like.far));
  }
  return out;
}
