/**
 * A toy scene the real editing loop can open: a hand-placed handful of Gaussians (world positions, sizes,
 * opacities, colours) seen by cameras on a circle around them, written as a dataset (training split only:
 * one timestep, every camera) and an avatar `.ply`. The avatar must bind a Gaussian to every rendered
 * triangle of the head model; those fillers are invisible (opacity ~1e-13, below the rasterizer's 1/255
 * cut-off, so they get no gradient), and the toy sits 3 m in front of the head with the cameras' far plane
 * close, so the fillers are culled before tiling and cost only their projection. The toy Gaussians are
 * bound to one triangle with local parameters that put them where asked at the neutral pose, which every
 * frame uses.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadHeadModel } from '../../lib/head/model.js';
import { poseHead, neutralParams } from '../../lib/head/pose.js';
import { triangleFrames } from '../../lib/head/frames.js';
import { renderedTriangles } from '../../lib/head/atlas.js';
import { rgbToShDc, type BoundGaussians } from '../../lib/avatar/gaussians.js';
import { readAvatarPly, writeAvatarPly } from '../../lib/avatar/io.js';
import { AvatarModel, FrameCache } from '../../lib/avatar/model.js';
import { renderModel } from '../../lib/train/evaluate.js';
import { DATASET_FORMAT, DATASET_VERSION, headToJson, stringifyCompact } from '../../lib/data/dataset.js';
import { prepareRasterize } from '../../lib/raster/rasterize.js';
import { rasterSettings, type Camera } from '../../lib/raster/types.js';
import { writeGrayPng, writePng, type RgbImage } from '../../lib/util/image.js';
import { N_IDENTITY } from '../../lib/head/model.js';

export interface ToyGaussian {
  name: string;
  position: [number, number, number]; // metres, relative to the scene centre
  sigma: [number, number, number]; // metres, world axes
  opacity: number;
  rgb: [number, number, number];
}

export interface ToyScene {
  root: string;
  data: string;
  avatar: string; // .ply
  cameras: Camera[];
  /** Index in the avatar of each toy Gaussian, by name. */
  index: Record<string, number>;
  background: [number, number, number];
  /** Renders (alpha blending) another avatar file of the same scene, e.g. an edited one. */
  renderFile(file: string, camera: number): Promise<{ color: RgbImage; alpha: Float32Array }>;
  /** Renders (alpha blending) the toy avatar with some Gaussians' colours or opacities replaced. */
  render(camera: number, over?: Record<string, { rgb?: [number, number, number]; opacity?: number }>): Promise<{ color: RgbImage; alpha: Float32Array }>;
  dispose(): void;
}

/** OpenCV world → camera for a camera at `eye` looking at `at` (y down, world y up). */
function lookAt(eye: number[], at: number[]): number[] {
  const z = [at[0]! - eye[0]!, at[1]! - eye[1]!, at[2]! - eye[2]!];
  const zl = Math.hypot(...z);
  z.forEach((_, i) => (z[i] = z[i]! / zl));
  // x = down × z with down = (0, -1, 0): right-handed, x to the image's right.
  const down = [0, -1, 0];
  const x = [down[1]! * z[2]! - down[2]! * z[1]!, down[2]! * z[0]! - down[0]! * z[2]!, down[0]! * z[1]! - down[1]! * z[0]!];
  const xl = Math.hypot(...x);
  x.forEach((_, i) => (x[i] = x[i]! / xl));
  const y = [z[1]! * x[2]! - z[2]! * x[1]!, z[2]! * x[0]! - z[0]! * x[2]!, z[0]! * x[1]! - z[1]! * x[0]!];
  const t = (r: number[]) => -(r[0]! * eye[0]! + r[1]! * eye[1]! + r[2]! * eye[2]!);
  return [...x, t(x), ...y, t(y), ...z, t(z), 0, 0, 0, 1];
}

/**
 * Writes the scene into `root`: cameras at `anglesDeg` (about the vertical axis; 0 looks along +z, so a
 * Gaussian at larger z is behind one at smaller z) at `radius` metres from the centre.
 */
export async function writeToyScene(
  root: string,
  gaussians: ToyGaussian[],
  o: { anglesDeg: number[]; radius: number; size: number; focal: number; background: [number, number, number] },
): Promise<ToyScene> {
  const head = await loadHeadModel();
  const params = neutralParams();
  const frames = triangleFrames(poseHead(head, params), head.faces);
  const bindable = renderedTriangles(head);
  const tri = bindable[0]!;
  const centre = [frames.centres[3 * tri]!, frames.centres[3 * tri + 1]!, frames.centres[3 * tri + 2]!];
  const c = [centre[0]!, centre[1]!, centre[2]! - 3]; // the scene centre, away from the head
  const R = frames.rotations.subarray(9 * tri, 9 * tri + 9); // row-major, columns = frame axes
  const k = frames.scales[tri]!;
  const N = bindable.length + gaussians.length;
  const g: BoundGaussians = {
    count: N,
    shDegree: 0,
    binding: new Int32Array(N),
    means: new Float32Array(N * 3),
    logScales: new Float32Array(N * 3).fill(Math.log(0.1)),
    quats: new Float32Array(N * 4),
    opacityLogits: new Float32Array(N).fill(-30),
    sh: new Float32Array(N * 3),
  };
  for (let n = 0; n < N; n++) g.quats[4 * n] = 1;
  bindable.forEach((t, n) => (g.binding[n] = t));
  const index: Record<string, number> = {};
  // Local axes are the triangle frame's: a world-axis-aligned Gaussian needs the local rotation Rᵀ.
  const toQuat = (m: number[]): [number, number, number, number] => {
    const tr = m[0]! + m[4]! + m[8]!;
    const s = Math.sqrt(Math.max(0, 1 + tr)) * 2;
    if (s > 1e-6) return [0.25 * s, (m[7]! - m[5]!) / s, (m[2]! - m[6]!) / s, (m[3]! - m[1]!) / s];
    return [0, 1, 0, 0];
  };
  const Rt = [R[0]!, R[3]!, R[6]!, R[1]!, R[4]!, R[7]!, R[2]!, R[5]!, R[8]!];
  gaussians.forEach((q, j) => {
    const n = bindable.length + j;
    index[q.name] = n;
    g.binding[n] = tri;
    const d = q.position;
    // μ_local = Rᵀ (p − centre) / k with p = c + position.
    const e = [0, 1, 2].map((a) => c[a]! - centre[a]! + d[a]!);
    for (let a = 0; a < 3; a++) g.means[3 * n + a] = (R[a]! * e[0]! + R[3 + a]! * e[1]! + R[6 + a]! * e[2]!) / k;
    // An isotropic Gaussian does not care about the rotation; an anisotropic one is aligned to world axes.
    g.quats.set(toQuat(Rt), 4 * n);
    for (let a = 0; a < 3; a++) g.logScales[3 * n + a] = Math.log(q.sigma[a]! / k);
    g.opacityLogits[n] = Math.log(q.opacity / (1 - q.opacity));
    for (let ch = 0; ch < 3; ch++) g.sh[3 * n + ch] = rgbToShDc(q.rgb[ch]!);
  });

  const data = path.join(root, 'data');
  await fs.mkdir(path.join(data, 'images'), { recursive: true });
  const avatarFile = path.join(root, 'avatar.ply');
  await fs.writeFile(avatarFile, writeAvatarPly(g));
  const cameras: Camera[] = o.anglesDeg.map((deg) => {
    const a = (deg * Math.PI) / 180;
    const eye = [c[0]! + o.radius * Math.sin(a), c[1]!, c[2]! - o.radius * Math.cos(a)];
    return {
      width: o.size,
      height: o.size,
      fx: o.focal,
      fy: o.focal,
      cx: o.size / 2,
      cy: o.size / 2,
      worldToCamera: lookAt(eye, c),
      near: 0.05,
      far: 2 * o.radius,
    };
  });

  const model = new AvatarModel(g);
  const frameCache = new FrameCache(1);
  const pose = frameCache.get('neutral', () => frames);
  const settings = rasterSettings({ shDegree: 0, background: o.background });
  await prepareRasterize(settings);
  const render: ToyScene['render'] = async (camera, over = {}) => {
    const saved = { sh: model.vars.shDc.clone(), op: model.vars.opacityLogits.clone() };
    for (const [name, v] of Object.entries(over)) {
      const n = index[name]!;
      tf.tidy(() => {
        if (v.rgb)
          model.vars.shDc.assign(tf.tensorScatterUpdate(model.vars.shDc, tf.tensor2d([[n]], [1, 1], 'int32'), tf.tensor3d(v.rgb.map(rgbToShDc), [1, 1, 3])));
        if (v.opacity !== undefined)
          model.vars.opacityLogits.assign(
            tf.tensorScatterUpdate(
              model.vars.opacityLogits,
              tf.tensor2d([[n]], [1, 1], 'int32'),
              tf.tensor2d([[Math.log(v.opacity / (1 - v.opacity))]], [1, 1]),
            ),
          );
      });
    }
    const out = await renderModel(model, pose, cameras[camera]!, settings);
    model.vars.shDc.assign(saved.sh);
    model.vars.opacityLogits.assign(saved.op);
    tf.dispose([saved.sh, saved.op]);
    return out;
  };

  const renderFile: ToyScene['renderFile'] = async (file, camera) => {
    const m = new AvatarModel(readAvatarPly(new Uint8Array(await fs.readFile(file)), file, head.triangleCount, bindable));
    try {
      return await renderModel(m, pose, cameras[camera]!, settings);
    } finally {
      m.dispose();
    }
  };

  const headJ = headToJson(params);
  const camJson = cameras.map((cam, i) => ({
    camera_index: i,
    camera_id: `cam${i}`,
    held_out: false,
    azimuth_deg: o.anglesDeg[i]!,
    elevation_deg: 0,
    fx: cam.fx,
    fy: cam.fy,
    cx: cam.cx,
    cy: cam.cy,
    w: cam.width,
    h: cam.height,
    world_to_camera: Array.from(cam.worldToCamera),
    near: cam.near,
    far: cam.far,
  }));
  const frameRows = [];
  for (const [i, cj] of camJson.entries()) {
    const img = await render(i);
    const rel = (kind: string) => `images/${kind}_c${i}.png`;
    await writePng(path.join(data, rel('rgb')), img.color);
    await writeGrayPng(path.join(data, rel('mask')), { width: o.size, height: o.size, data: img.alpha });
    await writeGrayPng(path.join(data, rel('labels')), { width: o.size, height: o.size, data: new Float32Array(o.size * o.size) });
    const { camera_index, camera_id, fx, fy, cx, cy, w, h, world_to_camera, near, far } = cj;
    frameRows.push({
      file_path: rel('rgb'),
      fg_mask_path: rel('mask'),
      label_path: rel('labels'),
      timestep_index: 0,
      camera_index,
      camera_id,
      fx,
      fy,
      cx,
      cy,
      w,
      h,
      world_to_camera,
      near,
      far,
      head: headJ,
    });
  }
  const seq = { seed: 0, timesteps: 1, seconds_per_timestep: 1 };
  const zeros = Array(N_IDENTITY).fill(0);
  const split = (name: string, sequence: string, rows: unknown[]) => ({
    split: name,
    sequence,
    subject: 'toy',
    identity: zeros,
    texture_seed: 0,
    background: o.background,
    edits: [],
    timesteps: [{ timestep_index: 0, time: 0, category: 'neutral', head: headJ }],
    frames: rows,
  });
  const files = { train: ['train', frameRows], val: ['train', []], test: ['heldout', []], cross: ['cross', []] } as const;
  for (const [name, [sequence, rows]] of Object.entries(files))
    await fs.writeFile(path.join(data, `transforms_${name}.json`), stringifyCompact(split(name, sequence, [...rows])));
  const meta = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    subject: 'toy',
    preset: 'toy',
    seed: 0,
    identity: zeros,
    texture_seed: 0,
    texture_tile_size: 1,
    render: { supersample: 1, background: o.background, shading: { ambient: 1, diffuse: 0, light_dir: [0, 0, 1], occlusion: false } },
    head_model: { name: 'ict-facekit', license: '', vertex_count: head.vertexCount, triangle_count: head.triangleCount },
    world: { units: 'metres', axes: 'y up' },
    cameras: camJson,
    sequences: { train: seq, heldout: seq, cross: { ...seq, driver_identity: zeros } },
    splits: Object.fromEntries(
      Object.entries(files).map(([name, [sequence]]) => [
        name,
        { file: `transforms_${name}.json`, sequence, cameras: camJson.map((x) => x.camera_index), description: 'toy' },
      ]),
    ),
    edits: [],
    original_caption: 'a toy',
  };
  await fs.writeFile(path.join(data, 'dataset.json'), stringifyCompact(meta));
  return {
    root,
    data,
    avatar: avatarFile,
    cameras,
    index,
    background: o.background,
    render,
    renderFile,
    dispose: () => {
      frameCache.clear();
      model.dispose();
    },
  };
}
