/**
 * GaussianAvatars' trained avatars, in and out:
 *
 *   point_cloud.ply   3DGS vertex properties (x y z nx ny nz f_dc_* f_rest_* opacity scale_* rot_*) in the
 *                     triangle-local parameterisation, plus `binding_0`: the FLAME(+teeth) triangle of each
 *                     Gaussian, written by GaussianAvatars as a float
 *   flame_param.npz   the FLAME parameters it was trained with, one row per timestep: shape (300), expr
 *                     (T,100), rotation/neck_pose/jaw_pose/translation (T,3), eyes_pose (T,6),
 *                     static_offset (1,V,3), dynamic_offset (T,V,3)
 *
 * Our avatar .ply (lib/avatar/io.ts) is the same layout, so reading is the avatar reader with FLAME's
 * triangle count and no triangle required to keep a Gaussian; writing stores the binding as a float, as
 * GaussianAvatars' loader and viewer expect, and the parameters beside it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readPly, writePly } from '../raster/ply.js';
import type { Gaussians } from '../raster/types.js';
import type { BoundGaussians } from '../avatar/gaussians.js';
import { assertEveryTriangleBound } from '../avatar/densify.js';
import { bindToWorldReference } from '../avatar/binding.js';
import { triangleFrames } from '../head/frames.js';
import type { Head } from '../head/head.js';
import { asFloat64, type NdArray } from '../io/ndarray.js';
import { encodeNpz, npzKey, readNpz } from '../io/npy.js';
import type { FlameParams } from '../head/flame/lbs.js';
import type { FlameModel } from '../head/flame/model.js';
import { writeFileAtomic } from '../util/atomic.js';

export const GA_PLY = 'point_cloud.ply';
export const GA_PARAMS = 'flame_param.npz';

/** Parses a point_cloud.ply; `triangleCount` is the FLAME(+teeth) mesh's. Errors name the file and the key. */
export function parseGaAvatar(bytes: Uint8Array, file: string, triangleCount: number): BoundGaussians {
  const { gaussians, extra } = readPly(bytes, file);
  const key = extra['binding_0'] ? 'binding_0' : extra['binding'] ? 'binding' : undefined;
  if (!key) throw new Error(`${file}: binding_0: missing (a GaussianAvatars point cloud binds each Gaussian to a FLAME triangle)`);
  const raw = extra[key]!;
  const binding = new Int32Array(raw.length);
  for (let n = 0; n < raw.length; n++) {
    const b = raw[n]!;
    if (!Number.isInteger(b)) throw new Error(`${file}: ${key}[${n}] = ${b} is not a triangle index`);
    binding[n] = b;
  }
  const g: BoundGaussians = { ...gaussians, binding };
  assertEveryTriangleBound(g, triangleCount, file, []);
  return g;
}

export async function readGaAvatar(file: string, triangleCount: number): Promise<BoundGaussians> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  return parseGaAvatar(new Uint8Array(bytes), file, triangleCount);
}

/** A GaussianAvatars point_cloud.ply of `g` (binding as float, as GaussianAvatars writes it). */
export function encodeGaAvatar(g: BoundGaussians): Uint8Array {
  const { binding, ...rest } = g;
  return writePly(rest as Gaussians, { binding_0: Float32Array.from(binding) });
}

export interface GaSequence {
  params: FlameParams[]; // one per timestep
  staticOffset?: Float32Array; // [V,3]
}

type Dims = Pick<FlameModel, 'shapeCount' | 'exprCount' | 'vertexCount' | 'baseVertexCount'>;

/** flame_param.npz's arrays as one FlameParams per timestep. */
export function gaSequence(npz: Map<string, NdArray>, model: Dims, file: string): GaSequence {
  const rows = (key: string, width: number, maxWidth = width): { T: number; data: Float64Array; w: number } => {
    const a = npzKey(npz, key, file);
    if (a.shape.length !== 2 || a.shape[1]! > maxWidth || (width === maxWidth && a.shape[1] !== width)) {
      throw new Error(`${file}: ${key}: expected shape (T, ${width}), got (${a.shape.join(', ')})`);
    }
    return { T: a.shape[0]!, data: asFloat64(a), w: a.shape[1]! };
  };
  const expr = rows('expr', model.exprCount, model.exprCount);
  const T = expr.T;
  const vec = (key: string, n: number) => {
    const r = rows(key, n);
    if (r.T !== T) throw new Error(`${file}: ${key}: ${r.T} timesteps, but expr has ${T}`);
    return r;
  };
  const [rot, neck, jaw, trans, eyes] = [vec('rotation', 3), vec('neck_pose', 3), vec('jaw_pose', 3), vec('translation', 3), vec('eyes_pose', 6)];
  const shapeArr = npzKey(npz, 'shape', file);
  const shapeVals = asFloat64(shapeArr);
  if (shapeVals.length > model.shapeCount) throw new Error(`${file}: shape: ${shapeVals.length} components, but the FLAME model has ${model.shapeCount}`);
  const shape = new Float32Array(model.shapeCount);
  shape.set(shapeVals);
  const v3 = (r: { data: Float64Array }, t: number): [number, number, number] => [r.data[3 * t]!, r.data[3 * t + 1]!, r.data[3 * t + 2]!];
  const params: FlameParams[] = [];
  for (let t = 0; t < T; t++) {
    const e = new Float32Array(model.exprCount);
    e.set(expr.data.subarray(t * expr.w, (t + 1) * expr.w));
    params.push({
      shape: Float32Array.from(shape),
      expr: e,
      rotation: v3(rot, t),
      neck: v3(neck, t),
      jaw: v3(jaw, t),
      eyes: Array.from(eyes.data.subarray(6 * t, 6 * t + 6)) as FlameParams['eyes'],
      translation: v3(trans, t),
    });
  }
  const so = npz.get('static_offset');
  if (!so) return { params };
  const V = so.shape[so.shape.length - 2];
  if (so.shape[so.shape.length - 1] !== 3 || (V !== model.vertexCount && V !== model.baseVertexCount)) {
    throw new Error(`${file}: static_offset: expected shape (1, ${model.vertexCount}, 3), got (${so.shape.join(', ')})`);
  }
  const staticOffset = new Float32Array(model.vertexCount * 3);
  staticOffset.set(asFloat64(so));
  return { params, staticOffset };
}

export async function readGaSequence(file: string, model: Dims): Promise<GaSequence> {
  return gaSequence(await readNpz(file), model, file);
}

export function encodeGaSequence(seq: GaSequence, vertexCount: number): Uint8Array {
  const T = seq.params.length;
  const stack = (get: (p: FlameParams) => ArrayLike<number>, w: number) => {
    const data = new Float32Array(T * w);
    seq.params.forEach((p, t) => data.set(get(p), t * w));
    return { dtype: 'f4', shape: [T, w], data };
  };
  const p0 = seq.params[0];
  if (!p0) throw new Error('encodeGaSequence: no timesteps');
  return encodeNpz({
    shape: { dtype: 'f4', shape: [p0.shape.length], data: Float32Array.from(p0.shape) },
    expr: stack((p) => p.expr, p0.expr.length),
    rotation: stack((p) => p.rotation, 3),
    neck_pose: stack((p) => p.neck, 3),
    jaw_pose: stack((p) => p.jaw, 3),
    eyes_pose: stack((p) => p.eyes, 6),
    translation: stack((p) => p.translation, 3),
    static_offset: {
      dtype: 'f4',
      shape: [1, vertexCount, 3],
      data: seq.staticOffset ? Float32Array.from(seq.staticOffset) : new Float32Array(vertexCount * 3),
    },
    // GaussianAvatars' viewer indexes dynamic_offset per timestep; we keep none.
    dynamic_offset: { dtype: 'f4', shape: [T, vertexCount, 3], data: new Float32Array(T * vertexCount * 3) },
  });
}

/** Writes `dir/point_cloud.ply` and `dir/flame_param.npz` (atomically), ready for GaussianAvatars' viewer. */
export async function writeGaAvatar(dir: string, g: BoundGaussians, seq: GaSequence, vertexCount: number): Promise<void> {
  await writeFileAtomic(path.join(dir, GA_PLY), encodeGaAvatar(g));
  await writeFileAtomic(path.join(dir, GA_PARAMS), encodeGaSequence(seq, vertexCount));
}

/** World-space Gaussians of an avatar on a posed head, on the CPU (float64 binding; small avatars, tests). */
export function worldGaussians<P>(head: Head<P>, g: BoundGaussians, p: P): Gaussians {
  const tri = triangleFrames(head.pose(p), head.faces);
  const N = g.count;
  const out: Gaussians = {
    count: N,
    shDegree: g.shDegree,
    means: new Float32Array(N * 3),
    logScales: new Float32Array(N * 3),
    quats: new Float32Array(N * 4),
    opacityLogits: Float32Array.from(g.opacityLogits),
    sh: Float32Array.from(g.sh),
  };
  for (let n = 0; n < N; n++) {
    const t = g.binding[n]!;
    const w = bindToWorldReference(
      g.means.subarray(3 * n, 3 * n + 3),
      g.logScales.subarray(3 * n, 3 * n + 3),
      g.quats.subarray(4 * n, 4 * n + 4),
      tri.centres.subarray(3 * t, 3 * t + 3),
      tri.rotations.subarray(9 * t, 9 * t + 9),
      tri.scales[t]!,
    );
    out.means.set(w.mean, 3 * n);
    out.logScales.set(w.logScale, 3 * n);
    out.quats.set(w.quat, 4 * n);
  }
  return out;
}
