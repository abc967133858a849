import { describe, expect, it, beforeAll } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cameraFromTransforms, worldToOpenCvToOpenGlCameraToWorld } from '../../lib/ga/camera.js';
import { importGa } from '../../lib/ga/import.js';
import { loadGaSubject } from '../../lib/ga/subject.js';
import { encodeNpz } from '../../lib/io/npy.js';
import { projectPoint } from '../../lib/raster/camera.js';
import { parseFlame, type FlameModel } from '../../lib/head/flame/model.js';
import { neutralFlameParams, type FlameParams } from '../../lib/head/flame/lbs.js';
import { tinyFlame, tinyFlamePickle } from '../../lib/ga/demo-flame.js';
import { ringCameraToWorld, writeGaSubject } from '../../lib/ga/demo-subject.js';

const fx = tinyFlame();
let tmp: string;
let flameFile: string;
let model: FlameModel;

function params(m: FlameModel, k: number): FlameParams {
  const p = neutralFlameParams(m);
  p.shape[0] = 0.5;
  p.expr[1] = 0.1 * k;
  p.jaw = [0.05 * k, 0, 0];
  p.translation = [0, 0.001 * k, 0];
  return p;
}

async function subject(name: string, intrinsics: 'camera_angle_x' | 'fl', seed = 0): Promise<string> {
  const dir = path.join(tmp, name);
  await writeGaSubject({
    dir,
    width: 40,
    height: 30,
    trainAzimuths: [-30, 0, 30],
    valAzimuths: [15],
    distance: 0.6,
    fovXDeg: 30,
    intrinsics,
    trainParams: [0, 1].map((k) => params(model, k + seed)),
    testParams: [2, 3, 4].map((k) => params(model, k + seed)),
    staticOffset: new Float32Array(model.vertexCount * 3).fill(1e-4),
  });
  return dir;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ga-import-'));
  flameFile = path.join(tmp, 'flame2023.pkl');
  await fs.writeFile(flameFile, tinyFlamePickle(fx));
  model = parseFlame(await fs.readFile(flameFile), flameFile, { lipRings: fx.lipRings });
});

describe('GaussianAvatars cameras', () => {
  it('a point lands on the same pixel through the imported OpenGL camera as through an OpenGL projection', () => {
    for (const style of ['camera_angle_x', 'fl'] as const) {
      for (const az of [-50, 0, 20, 170]) {
        const c2w = ringCameraToWorld(az, 0.7, 0.1);
        const W = 64,
          H = 48,
          f = 80;
        const frame = {
          transform_matrix: [c2w.slice(0, 4), c2w.slice(4, 8), c2w.slice(8, 12), c2w.slice(12)],
          ...(style === 'fl' ? { fl_x: f, fl_y: f * 1.1, cx: 30.5, cy: 25 } : {}),
        };
        const top = style === 'camera_angle_x' ? { camera_angle_x: 2 * Math.atan(W / 2 / f), w: W, h: H } : { w: W, h: H };
        const cam = cameraFromTransforms(frame, top, 't.json', 0);
        const [fxx, fyy, cx, cy] = style === 'fl' ? [f, f * 1.1, 30.5, 25] : [f, f, W / 2, H / 2];
        for (const p of [
          [0, 0, 0],
          [0.05, -0.03, 0.08],
          [-0.1, 0.12, -0.02],
        ]) {
          // OpenGL: camera coordinates R_glᵀ (p − eye); visible points have z < 0; image y grows downward.
          const d = [p[0]! - c2w[3]!, p[1]! - c2w[7]!, p[2]! - c2w[11]!];
          const q = [0, 1, 2].map((c) => c2w[c]! * d[0]! + c2w[4 + c]! * d[1]! + c2w[8 + c]! * d[2]!);
          const u = cx + (fxx * q[0]!) / -q[2]!,
            v = cy - (fyy * q[1]!) / -q[2]!;
          const [pu, pv, depth] = projectPoint(cam, p);
          expect(pu).toBeCloseTo(u, 9);
          expect(pv).toBeCloseTo(v, 9);
          expect(depth).toBeCloseTo(-q[2]!, 9);
        }
        // And back: our world → camera gives the file's camera → world.
        const back = worldToOpenCvToOpenGlCameraToWorld(cam.worldToCamera);
        back.forEach((x, i) => expect(x).toBeCloseTo(c2w[i]!, 12));
      }
    }
  });

  it('names the file and the field for malformed cameras', () => {
    const c2w = ringCameraToWorld(0, 0.7);
    const m = [c2w.slice(0, 4), c2w.slice(4, 8), c2w.slice(8, 12), c2w.slice(12)];
    expect(() => cameraFromTransforms({ transform_matrix: m }, { w: 4, h: 4 }, 't.json', 2)).toThrow(
      't.json: frames[2].fl_x: missing, and no camera_angle_x either',
    );
    expect(() => cameraFromTransforms({ camera_angle_x: 0.5 }, { w: 4, h: 4 }, 't.json', 1)).toThrow('t.json: frames[1].transform_matrix: missing');
    expect(() =>
      cameraFromTransforms(
        {
          camera_angle_x: 0.5,
          transform_matrix: [
            [1, 0, 0, 0],
            [0, 2, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
          ],
        },
        { w: 4, h: 4 },
        't.json',
        0,
      ),
    ).toThrow('t.json: frames[0].transform_matrix: rotation part is not orthonormal');
    expect(() => cameraFromTransforms({ camera_angle_x: 'wide', transform_matrix: m }, { w: 4, h: 4 }, 't.json', 0)).toThrow(
      't.json: frames[0].camera_angle_x: expected a positive number, got "wide"',
    );
    expect(() => cameraFromTransforms({ camera_angle_x: 0.5, transform_matrix: m }, {}, 't.json', 0)).toThrow('t.json: frames[0].w: missing');
  });
});

describe('gae import-ga', () => {
  it('indexes a subject and a cross-identity driver', async () => {
    const a = await subject('subjectA', 'camera_angle_x');
    const b = await subject('subjectB', 'fl', 7);
    const out = await importGa(a, { flame: flameFile, cross: b, lipRings: fx.lipRings, out: path.join(tmp, 'outA') });
    const idx = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(idx.format).toBe('gae-ga-subject');
    expect(idx.head.triangle_count).toBe(fx.T + 168);
    expect(idx.head.region_source).toMatch(/^geometry/);
    expect(idx.splits.train.frames.length).toBe(6);
    expect(idx.splits.val.frames.length).toBe(2);
    expect(idx.splits.test.frames.length).toBe(9);
    expect(idx.splits.cross.frames.length).toBe(9); // 3 driver timesteps × 3 training cameras
    const s = await loadGaSubject(a, model, { cross: b });
    const cross = s.splits.cross!.frames[0]!;
    const p = s.flame.get(cross.flameParamPath)!;
    expect(p.shape[0]).toBeCloseTo(0.5, 6); // this subject's shape
    expect(p.expr[1]).toBeCloseTo(0.1 * (2 + 7), 6); // the driver's expression
    expect(s.staticOffset?.[0]).toBeCloseTo(1e-4, 9);
  });

  it('names the file and the key for malformed subjects', async () => {
    const dir = await subject('bad', 'fl');
    const t = path.join(dir, 'transforms_train.json');
    const json = JSON.parse(await fs.readFile(t, 'utf8'));
    const npzFile = path.join(dir, json.frames[0].flame_param_path);
    const rewrite = (arrays: Parameters<typeof encodeNpz>[0]) => fs.writeFile(npzFile, encodeNpz(arrays));
    const good = await fs.readFile(npzFile);
    const f4 = (shape: number[]) => ({ dtype: 'f4', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const base = {
      shape: f4([300]),
      expr: f4([1, 100]),
      rotation: f4([1, 3]),
      neck_pose: f4([1, 3]),
      jaw_pose: f4([1, 3]),
      eyes_pose: f4([1, 6]),
      translation: f4([1, 3]),
    };
    const load = () => loadGaSubject(dir, model);

    const { expr: _e, ...noExpr } = base;
    await rewrite(noExpr);
    await expect(load()).rejects.toThrow(`${npzFile}: expr: missing (keys present: shape, rotation, neck_pose, jaw_pose, eyes_pose, translation)`);
    await rewrite({ ...base, eyes_pose: f4([1, 3]) });
    await expect(load()).rejects.toThrow(`${npzFile}: eyes_pose: expected shape (1, 6), got (1, 3)`);
    await rewrite({ ...base, static_offset: f4([1, 77, 3]) });
    await expect(load()).rejects.toThrow(`${npzFile}: static_offset: 77 vertices, expected ${model.vertexCount}`);
    await fs.writeFile(npzFile, good);

    const frames = structuredClone(json);
    frames.frames[1].camera_id = frames.frames[1].camera_index; // some files say camera_id
    delete frames.frames[1].camera_index;
    await fs.writeFile(t, JSON.stringify(frames));
    const ok = await load();
    expect(ok.splits.train!.frames[1]!.cameraIndex).toBe(json.frames[1].camera_index);

    delete frames.frames[1].camera_id;
    await fs.writeFile(t, JSON.stringify(frames));
    await expect(load()).rejects.toThrow(`${t}: frames[1].camera_index: missing (nor camera_id)`);
    frames.frames[1].camera_index = json.frames[1].camera_index;
    frames.frames[0].timestep_index = -1;
    await fs.writeFile(t, JSON.stringify(frames));
    await expect(load()).rejects.toThrow(`${t}: frames[0].timestep_index: expected a non-negative integer, got -1`);
    frames.frames[0].timestep_index = json.frames[0].timestep_index;
    delete frames.frames[2].flame_param_path;
    await fs.writeFile(t, JSON.stringify(frames));
    await expect(load()).rejects.toThrow(`${t}: frames[2].flame_param_path: missing`);
    frames.frames[2].flame_param_path = json.frames[2].flame_param_path;
    frames.frames[3].file_path = 'images/nowhere.png';
    await fs.writeFile(t, JSON.stringify(frames));
    await expect(load()).rejects.toThrow(`${path.join(dir, 'images/nowhere.png')}: missing (frames[3].file_path in ${t})`);
    await fs.writeFile(t, '{"frames": [');
    await expect(load()).rejects.toThrow(`${t}: not valid JSON`);
  });
});
