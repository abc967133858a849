/**
 * A complete stand-in for a user's GaussianAvatars material, for notebook 06 and the tests (FLAME and
 * NeRSemble cannot ship): a FLAME-format pickle (demo-flame.ts), a trained-looking avatar on its mesh
 * (Gaussians coloured by region), a subject folder whose images are that avatar's renders (demo-subject.ts),
 * and a second subject to drive cross-identity reenactment. Rendering here is the float64 reference
 * rasterizer on the CPU: small images only.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { initBoundGaussians, rgbToShDc, type BoundGaussians } from '../avatar/gaussians.js';
import type { Head } from '../head/head.js';
import { Region } from '../head/head.js';
import { FlameHead } from '../head/flame/head.js';
import { neutralFlameParams, type FlameParams } from '../head/flame/lbs.js';
import { parseFlame, type FlameModel } from '../head/flame/model.js';
import type { LipRings } from '../head/flame/teeth.js';
import { renderReference } from '../raster/reference/index.js';
import { rasterSettings, shCoeffs, type Camera } from '../raster/types.js';
import type { RgbImage } from '../util/image.js';
import { Rng } from '../util/random.js';
import { writeGaAvatar, worldGaussians } from './avatar.js';
import { cameraFromTransforms } from './camera.js';
import { tinyFlame, tinyFlamePickle } from './demo-flame.js';
import { writeGaSubject } from './demo-subject.js';

/** Region colours of the demo avatar (linear RGB in [0, 1]). */
export const DEMO_COLOURS: Record<number, [number, number, number]> = {
  [Region.skin]: [0.85, 0.64, 0.52],
  [Region.lips]: [0.75, 0.3, 0.32],
  [Region.teeth]: [0.95, 0.93, 0.86],
  [Region.eyes]: [0.95, 0.95, 0.97],
  [Region.hair]: [0.25, 0.17, 0.12],
};

/** An avatar on `head`: `perTriangle` Gaussians per triangle, flat colour per region, a little noise. */
export function demoAvatar<P>(head: Head<P>, perTriangle = 1, seed = 0): BoundGaussians {
  const g = initBoundGaussians(head.triangleCount, { perTriangle, shDegree: 3, seed, opacity: 0.9 });
  const regions = head.triangleRegions();
  const K = shCoeffs(g.shDegree);
  const rng = new Rng(seed + 1);
  for (let n = 0; n < g.count; n++) {
    const c = DEMO_COLOURS[regions[g.binding[n]!]!] ?? DEMO_COLOURS[Region.skin]!;
    for (let ch = 0; ch < 3; ch++) g.sh[n * K * 3 + ch] = rgbToShDc(c[ch]! + 0.03 * rng.normal());
    // Flat splats in the triangle's plane (local y is the normal), covering it.
    g.logScales.set([Math.log(0.6), Math.log(0.05), Math.log(0.6)], 3 * n);
  }
  return g;
}

/** Recolours the Gaussians bound to `region`'s triangles (an avatar-space edit, e.g. gold teeth). */
export function recolourRegion<P>(head: Head<P>, g: BoundGaussians, region: number, rgb: [number, number, number]): BoundGaussians {
  const regions = head.triangleRegions();
  const K = shCoeffs(g.shDegree);
  const sh = Float32Array.from(g.sh);
  for (let n = 0; n < g.count; n++) {
    if (regions[g.binding[n]!] !== region) continue;
    for (let ch = 0; ch < 3; ch++) {
      sh[n * K * 3 + ch] = rgbToShDc(rgb[ch]!);
      for (let k = 1; k < K; k++) sh[(n * K + k) * 3 + ch] = 0;
    }
  }
  return { ...g, sh };
}

/** One image of an avatar on the posed head (float64 reference rasterizer, CPU). */
export function renderAvatarReference<P>(
  head: Head<P>,
  g: BoundGaussians,
  p: P,
  cam: Camera,
  background: [number, number, number] = [1, 1, 1],
): { rgb: RgbImage; alpha: Float32Array } {
  const out = renderReference(worldGaussians(head, g, p), cam, rasterSettings({ shDegree: g.shDegree, background }));
  return { rgb: { width: cam.width, height: cam.height, data: Float32Array.from(out.color) }, alpha: Float32Array.from(out.alpha) };
}

export interface DemoFiles {
  flame: string; // the stand-in FLAME pickle
  lipRings: LipRings; // its lip rings (FLAME's own topology needs none)
  subject: string; // GaussianAvatars subject folder
  driver: string; // another subject, for --cross
  avatar: string; // point_cloud.ply (with flame_param.npz beside it)
}

function demoParams(model: FlameModel, rng: Rng, k: number): FlameParams {
  const p = neutralFlameParams(model);
  for (let i = 0; i < 10; i++) p.shape[i] = 0.5 * rng.normal();
  for (let i = 0; i < 10; i++) p.expr[i] = 0.5 * rng.normal();
  p.jaw = [0.15 * (k % 3), 0, 0];
  p.neck = [0.05 * rng.normal(), 0.15 * rng.normal(), 0];
  return p;
}

/** Writes the stand-in material under `root` (tiny images, two or three timesteps). */
export async function writeDemo(root: string, opts: { width?: number; height?: number } = {}): Promise<DemoFiles> {
  const width = opts.width ?? 48,
    height = opts.height ?? 40;
  await fs.mkdir(root, { recursive: true });
  const fx = tinyFlame();
  const flame = path.join(root, 'flame_stand_in.pkl');
  const bytes = tinyFlamePickle(fx);
  await fs.writeFile(flame, bytes);
  const model = parseFlame(bytes, flame, { lipRings: fx.lipRings });
  const head = new FlameHead(model, { lipRings: fx.lipRings });
  const g = demoAvatar(head, 2);
  const write = async (dir: string, seed: number) => {
    const rng = new Rng(seed);
    const trainParams = [0, 1].map((k) => demoParams(model, rng, k));
    const shape = trainParams[0]!.shape;
    const testParams = [0, 1, 2].map((k) => ({ ...demoParams(model, rng, k + 1), shape: Float32Array.from(shape) }));
    trainParams.forEach((p) => p.shape.set(shape));
    const params = { train: trainParams, val: trainParams, test: testParams } as Record<string, FlameParams[]>;
    await writeGaSubject({
      dir,
      width,
      height,
      trainAzimuths: [-35, 0, 35],
      valAzimuths: [20],
      distance: 0.55,
      fovXDeg: 30,
      intrinsics: 'fl',
      trainParams,
      testParams,
      image: (split, t, c2w, f) => {
        const m = [c2w.slice(0, 4), c2w.slice(4, 8), c2w.slice(8, 12), c2w.slice(12)];
        const cam = cameraFromTransforms({ transform_matrix: m, fl_x: f, fl_y: f, cx: width / 2, cy: height / 2 }, { w: width, h: height }, 'demo', 0);
        const { rgb, alpha } = renderAvatarReference(head, g, params[split]![t]!, cam, [1, 1, 1]);
        const rgba = new Uint8Array(width * height * 4);
        for (let i = 0; i < width * height; i++) {
          for (let c = 0; c < 3; c++) rgba[4 * i + c] = Math.round(255 * Math.min(1, Math.max(0, rgb.data[3 * i + c]!)));
          rgba[4 * i + 3] = Math.round(255 * alpha[i]!);
        }
        return rgba;
      },
    });
    return trainParams;
  };
  const subject = path.join(root, 'subject');
  const driver = path.join(root, 'driver');
  const trainParams = await write(subject, 1);
  await write(driver, 2);
  const avatarDir = path.join(root, 'avatar');
  await writeGaAvatar(avatarDir, g, { params: trainParams }, model.vertexCount);
  return { flame, lipRings: fx.lipRings, subject, driver, avatar: path.join(avatarDir, 'point_cloud.ply') };
}
