/**
 * Writes a GaussianAvatars-format subject folder for the tests and notebook 06: transforms_{train,val,test}.json with
 * OpenGL camera-to-world matrices built here from first principles (not with lib/ga/camera.ts), per-timestep
 * FLAME parameter .npz files and canonical_flame_param.npz, and RGBA images (flat grey unless `image`
 * draws them).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { encodeGaFlameFrame, type GaFlameFrame } from './flame-params.js';
import type { FlameParams } from '../head/flame/lbs.js';

export interface GaSubjectSpec {
  dir: string;
  width: number;
  height: number;
  /** Camera azimuths (degrees) of the training and held-out rigs. */
  trainAzimuths: number[];
  valAzimuths: number[];
  distance: number; // metres from the origin
  fovXDeg: number;
  /** Intrinsics as camera_angle_x at the top level, or fl_x/fl_y/cx/cy per frame. */
  intrinsics: 'camera_angle_x' | 'fl';
  trainParams: FlameParams[];
  testParams: FlameParams[];
  staticOffset?: Float32Array;
  /** RGBA bytes [H,W,4] for a frame, if the test needs real pictures. */
  image?: (split: string, timestep: number, c2w: number[], fx: number) => Uint8Array;
}

/** Camera → world, OpenGL axes (looking down −z, y up), of a camera on a ring looking at the origin. */
export function ringCameraToWorld(azimuthDeg: number, distance: number, height = 0.05): number[] {
  const a = (azimuthDeg * Math.PI) / 180;
  const eye = [distance * Math.sin(a), height, distance * Math.cos(a)];
  const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const z = norm(eye); // backward = from the target to the eye
  const x = norm([1 * z[2]! - 0, 0, -(1 * z[0]!)]); // up × z with up = +y: (z.z, 0, −z.x)
  const y = [z[1]! * x[2]! - z[2]! * x[1]!, z[2]! * x[0]! - z[0]! * x[2]!, z[0]! * x[1]! - z[1]! * x[0]!]; // z × x
  return [x[0]!, y[0]!, z[0]!, eye[0]!, x[1]!, y[1]!, z[1]!, eye[1]!, x[2]!, y[2]!, z[2]!, eye[2]!, 0, 0, 0, 1];
}

export async function writeGaSubject(s: GaSubjectSpec): Promise<void> {
  await fs.mkdir(path.join(s.dir, 'images'), { recursive: true });
  await fs.mkdir(path.join(s.dir, 'flame_param'), { recursive: true });
  const fx = s.width / 2 / Math.tan((s.fovXDeg * Math.PI) / 360);
  const png = (rgba: Uint8Array) => {
    const p = new PNG({ width: s.width, height: s.height });
    p.data.set(rgba);
    return PNG.sync.write(p);
  };
  const grey = new Uint8Array(s.width * s.height * 4).fill(128);
  const paramFile = async (seq: string, t: number, p: FlameParams) => {
    const rel = `flame_param/${seq}_${String(t).padStart(5, '0')}.npz`;
    const f: GaFlameFrame = { params: p, ...(s.staticOffset ? { staticOffset: s.staticOffset } : {}) };
    await fs.writeFile(path.join(s.dir, rel), encodeGaFlameFrame(f));
    return rel;
  };
  const write = async (split: string, azimuths: number[], params: FlameParams[], seq: string, camOffset: number) => {
    const frames: Record<string, unknown>[] = [];
    for (const [t, p] of params.entries()) {
      const rel = await paramFile(seq, t, p);
      for (const [ci, az] of azimuths.entries()) {
        const c2w = ringCameraToWorld(az, s.distance);
        const file = `images/${split}_${String(t).padStart(5, '0')}_${ci + camOffset}.png`;
        await fs.writeFile(path.join(s.dir, file), png(s.image ? s.image(split, t, c2w, fx) : grey));
        frames.push({
          file_path: file,
          timestep_index: t,
          camera_index: ci + camOffset,
          flame_param_path: rel,
          transform_matrix: [c2w.slice(0, 4), c2w.slice(4, 8), c2w.slice(8, 12), c2w.slice(12)],
          ...(s.intrinsics === 'fl' ? { fl_x: fx, fl_y: fx, cx: s.width / 2, cy: s.height / 2, w: s.width, h: s.height } : {}),
        });
      }
    }
    const top = s.intrinsics === 'camera_angle_x' ? { camera_angle_x: (s.fovXDeg * Math.PI) / 180, w: s.width, h: s.height } : {};
    await fs.writeFile(path.join(s.dir, `transforms_${split}.json`), JSON.stringify({ ...top, frames }, null, 1));
  };
  await write('train', s.trainAzimuths, s.trainParams, 'train', 0);
  await write('val', s.valAzimuths, s.trainParams, 'train', s.trainAzimuths.length);
  await write('test', s.trainAzimuths, s.testParams, 'test', 0);
  const canon: GaFlameFrame = { params: s.trainParams[0]!, ...(s.staticOffset ? { staticOffset: s.staticOffset } : {}) };
  await fs.writeFile(path.join(s.dir, 'canonical_flame_param.npz'), encodeGaFlameFrame(canon));
}
