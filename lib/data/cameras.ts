/**
 * A NeRSemble-like camera rig: cameras on an arc in front of the head, about 1 m away, alternating
 * between two heights, all aimed at the middle of the face. A few are held out for novel-view evaluation.
 *
 * Intrinsics scale with the resolution: at 802×550 f ≈ 2500 px, so the face fills the image from the chin
 * to the upper forehead, as in NeRSemble's crops. The framing is what makes the mouth interior measurable:
 * in a frontal view with the mouth open it covers over 1% of the image (test/data/rig.test.ts), where a
 * looser framing (f ≈ 1400, the whole head and neck in view) left it a few hundred pixels (issue 13). Each camera gets a small seeded jitter of focal length (±1%), principal
 * point (±1% of the size), distance and aim, so consumers must honour per-camera intrinsics.
 */
import type { Camera } from '../raster/types.js';
import { lookAt, makeCamera, type Vec3 } from '../raster/camera.js';
import { Rng } from '../util/random.js';

export interface RigCamera {
  index: number;
  id: string; // "cam00"
  heldOut: boolean;
  camera: Camera;
  azimuthDeg: number; // 0 = frontal, > 0 toward the subject's left (+x)
  elevationDeg: number;
}

export interface RigOptions {
  count: number;
  width: number;
  height: number;
  heldOut: number[]; // camera indices
  seed: number;
  /** Azimuth span (degrees, total). Default 150 (NeRSemble covers roughly ±75°). */
  spanDeg?: number;
  distance?: number; // metres, default 1.0
}

/** The head's centre between chin and crown (model frame, metres): the centre of orbits and turntables. */
export const RIG_TARGET: Vec3 = [0, -0.005, 0.02];
/** The point the rig's cameras aim at (model frame, metres): the middle of the face, between eyes and mouth. */
export const RIG_AIM: Vec3 = [0, -0.03, 0.04];
/** Focal length in pixels at 802×550 (GaussianAvatars' NeRSemble size); other sizes scale it. */
export const RIG_FOCAL_802 = 2500;

export function cameraRig(o: RigOptions): RigCamera[] {
  if (o.count < 1) throw new Error(`cameraRig: count must be ≥ 1, got ${o.count}`);
  for (const h of o.heldOut) if (!Number.isInteger(h) || h < 0 || h >= o.count) throw new Error(`cameraRig: held-out camera ${h} is not in 0..${o.count - 1}`);
  if (o.heldOut.length >= o.count) throw new Error('cameraRig: at least one camera must be a training camera');
  const rng = new Rng(o.seed ^ 0xca3e);
  const span = o.spanDeg ?? 150;
  const dist = o.distance ?? 1.0;
  const f = RIG_FOCAL_802 * Math.min(o.width / 802, o.height / 550);
  const out: RigCamera[] = [];
  for (let i = 0; i < o.count; i++) {
    const az = o.count === 1 ? 0 : -span / 2 + (span * i) / (o.count - 1);
    const el = i % 2 === 0 ? 8 : -6;
    const a = (az * Math.PI) / 180, e = (el * Math.PI) / 180;
    const d = dist * (1 + 0.03 * (rng.next() - 0.5));
    const target: Vec3 = [RIG_AIM[0] + 0.01 * (rng.next() - 0.5), RIG_AIM[1] + 0.01 * (rng.next() - 0.5), RIG_AIM[2]];
    const eye: Vec3 = [target[0] + d * Math.sin(a) * Math.cos(e), target[1] + d * Math.sin(e), target[2] + d * Math.cos(a) * Math.cos(e)];
    const fx = f * (1 + 0.02 * (rng.next() - 0.5));
    const intr = {
      width: o.width,
      height: o.height,
      fx,
      fy: fx * (1 + 0.004 * (rng.next() - 0.5)),
      cx: o.width / 2 + 0.02 * o.width * (rng.next() - 0.5),
      cy: o.height / 2 + 0.02 * o.height * (rng.next() - 0.5),
    };
    out.push({
      index: i,
      id: `cam${String(i).padStart(2, '0')}`,
      heldOut: o.heldOut.includes(i),
      camera: makeCamera(intr, lookAt(eye, target), 0.05, 10),
      azimuthDeg: az,
      elevationDeg: el,
    });
  }
  return out;
}
