/**
 * GaussianAvatars' per-timestep FLAME parameter files (`flame_param/*.npz`, `canonical_flame_param.npz`):
 *
 *   shape (300) or (1,300)   expr (1,100)   rotation, neck_pose, jaw_pose, translation (1,3)
 *   eyes_pose (1,6)          static_offset (1,V,3), V = FLAME's 5023 or 5143 with the teeth (optional)
 *
 * Fewer shape/expression components than the model has are padded with zeros; more is an error. Every
 * error names the file and the key.
 */
import { asFloat64, expectShape, type NdArray } from '../io/ndarray.js';
import { encodeNpz, npzKey, readNpz } from '../io/npy.js';
import type { FlameParams } from '../head/flame/lbs.js';
import type { FlameModel } from '../head/flame/model.js';

export interface GaFlameFrame {
  params: FlameParams;
  /** [V,3] metres for the model's V (zero-padded for the teeth when the file has FLAME's 5023), if present. */
  staticOffset?: Float32Array;
}

const VEC3 = ['rotation', 'neck_pose', 'jaw_pose', 'translation'] as const;

function coeffs(npz: Map<string, NdArray>, key: string, want: number, file: string): Float32Array {
  const a = npzKey(npz, key, file);
  const n = a.shape[a.shape.length - 1] ?? 0;
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[0] === 1)))
    throw new Error(`${file}: ${key}: expected shape (1, ${want}) or (${want}), got (${a.shape.join(', ')})`);
  if (n > want) throw new Error(`${file}: ${key}: ${n} components, but the FLAME model has ${want}`);
  const out = new Float32Array(want);
  out.set(asFloat64(a));
  return out;
}

function vec(npz: Map<string, NdArray>, key: string, n: number, file: string): number[] {
  const a = npzKey(npz, key, file);
  const ok = (a.shape.length === 2 && a.shape[0] === 1 && a.shape[1] === n) || (a.shape.length === 1 && a.shape[0] === n);
  if (!ok) throw new Error(`${file}: ${key}: expected shape (1, ${n}), got (${a.shape.join(', ')})`);
  const d = Array.from(asFloat64(a));
  d.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new Error(`${file}: ${key}: entry ${i} is not finite (${x})`);
  });
  return d;
}

/** Parses one parameter file's arrays against `model`. */
export function gaFlameFrame(
  npz: Map<string, NdArray>,
  model: Pick<FlameModel, 'shapeCount' | 'exprCount' | 'vertexCount' | 'baseVertexCount'>,
  file: string,
): GaFlameFrame {
  const [rotation, neck, jaw, translation] = VEC3.map((k) => vec(npz, k, 3, file) as [number, number, number]);
  const eyes = vec(npz, 'eyes_pose', 6, file) as FlameParams['eyes'];
  const params: FlameParams = {
    shape: coeffs(npz, 'shape', model.shapeCount, file),
    expr: coeffs(npz, 'expr', model.exprCount, file),
    rotation: rotation!,
    neck: neck!,
    jaw: jaw!,
    eyes,
    translation: translation!,
  };
  const so = npz.get('static_offset');
  if (!so) return { params };
  expectShape(so, [1, -1, 3], `${file}: static_offset`);
  const V = so.shape[1]!;
  if (V !== model.vertexCount && V !== model.baseVertexCount) {
    throw new Error(`${file}: static_offset: ${V} vertices, expected ${model.vertexCount} (FLAME with teeth) or ${model.baseVertexCount}`);
  }
  const staticOffset = new Float32Array(model.vertexCount * 3);
  staticOffset.set(asFloat64(so));
  return { params, staticOffset };
}

export async function readGaFlameFrame(
  file: string,
  model: Pick<FlameModel, 'shapeCount' | 'exprCount' | 'vertexCount' | 'baseVertexCount'>,
): Promise<GaFlameFrame> {
  return gaFlameFrame(await readNpz(file), model, file);
}

/** A parameter file's bytes, as GaussianAvatars writes them (float32, leading batch dimension of 1). */
export function encodeGaFlameFrame(f: GaFlameFrame): Uint8Array {
  const row = (v: ArrayLike<number>) => ({ dtype: 'f4', shape: [1, v.length], data: Float32Array.from(v) });
  const p = f.params;
  return encodeNpz({
    shape: { dtype: 'f4', shape: [p.shape.length], data: Float32Array.from(p.shape) },
    expr: row(p.expr),
    rotation: row(p.rotation),
    neck_pose: row(p.neck),
    jaw_pose: row(p.jaw),
    eyes_pose: row(p.eyes),
    translation: row(p.translation),
    ...(f.staticOffset ? { static_offset: { dtype: 'f4', shape: [1, f.staticOffset.length / 3, 3], data: Float32Array.from(f.staticOffset) } } : {}),
  });
}
